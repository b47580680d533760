"""The harness against the Linux device program (MTSRNN_DEVICE=/path/to/
mtsrnn-device): identify, infer against the host, streaming, reset, bench,
selftest, faults, every product variant, and the model files it refuses."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from harness_devices import (  # noqa: E402
    DEVICE_PROGRAM,
    _check_against_host,
    _check_bad_variant,
    _check_every_variant,
    _check_faults,
    _check_selftest_and_bench,
    _check_whole_model_demos,
    _corrupt_scale_files,
    _device_argv,
    _device_dirs,
    _host_models,
    _save_models,
    _test_models,
    needs_device,
)
from harness_peer import _frames  # noqa: E402
from mtsrnn.harness import (  # noqa: E402
    BOARDS,
    live_children,
    start_host,
)


@needs_device
def test_device_program_over_pipe():
    with start_host(DEVICE_PROGRAM) as session:
        dev = session.device
        dev.identify()
        twins = _host_models(dev, _device_dirs(DEVICE_PROGRAM))
        assert _check_against_host(dev, twins) >= 2
        worst = _check_whole_model_demos(dev, twins)
        print(f"mtsrnn-device: whole-model demos, max |device - host| per variant: {worst}")
        _check_selftest_and_bench(dev)
        pid = session.pid
    assert pid not in live_children()


@needs_device
def test_device_program_with_model_files(tmp_path):
    models = _test_models()
    args = []
    for path in _save_models(tmp_path, models):
        args += ["--model", str(path)]
    with start_host(DEVICE_PROGRAM, args=args) as session:
        dev = session.device
        names = [m.name for m in dev.identify().models]
        assert set(models) <= set(names), names
        assert _check_against_host(dev, models) == len(models)


@needs_device
def test_device_program_over_tcp_with_faults():
    with start_host(DEVICE_PROGRAM, tcp=True) as session:
        dev = session.device
        _check_faults(dev)
        _check_selftest_and_bench(dev)


@needs_device
def test_device_program_every_variant():
    """mtsrnn-device offers the kernels' variant table through the same
    commands (firmware/common), each checked like the firmware's."""
    with start_host(DEVICE_PROGRAM) as session:
        dev = session.device
        names = _check_every_variant(dev, _host_models(dev, _device_dirs(DEVICE_PROGRAM)))
        assert "reference" in names and "cmsis-dsp-matvec" not in names
        _check_bad_variant(dev)


@needs_device
def test_the_kernel_alias_answers_in_protocol_1_0_words():
    """Protocol 2 keeps `kernel` and `bench ... kernel=` (protocol 1.0's
    words for `variant`), answering with m-kernel lines, the same variants
    and the same choice; the host itself sends `variant`."""
    with start_host(DEVICE_PROGRAM) as session:
        dev = session.device
        info = dev.identify()
        assert info.firmware["protocol"] == "2"
        listed, selected = dev.variants()
        names = [v.name for v in listed]
        assert selected.index == 0 and len(names) >= 2
        lines = dev.command("kernel")
        assert [line.raw for line in lines] == [
            *(f"m-kernel index={v.index} name={v.name}" for v in listed),
            f"m-selected-kernel index=0 name={names[0]}"]
        lines = dev.command(f"kernel {names[1]}")
        assert [line.raw for line in lines] == [f"m-selected-kernel index=1 name={names[1]}"]
        assert dev.variants()[1].name == names[1]   # the same choice, seen through `variant`
        lines = dev.command(f"bench 1,2 steps=4 kernel={names[0]}")
        assert [line.fields["variant"] for line in lines] == [names[0], names[0]]
        dev.select_variant(names[0])


def test_device_refuses_a_corrupt_scale_table(tmp_path):
    argv = _device_argv()
    if argv is None:
        pytest.skip("no mtsrnn-device: set MTSRNN_DEVICE or build build/aarch64-neon")
    for name, path in _corrupt_scale_files(tmp_path).items():
        result = subprocess.run([*argv, "--model", str(path)], input=b"id\n",
                                capture_output=True, timeout=60)
        # exit status 2 with the reason on stderr: no crash (a signal), no
        # protocol served with the damaged model
        assert result.returncode == 2, (name, result)
        assert path.name in result.stderr.decode() and b"m-ready" not in result.stdout, name


def test_device_model_mixing_schemes(tmp_path):
    """A model whose layers mix schemes (float32, then int8-wa), loaded by the
    device program from a hand-made .mts: `id` says so, it is offered the
    names common to both tables (in the float table's order), and its
    output is that of its two layers run one after the other on the host."""
    from mtsrnn import mtsfile

    argv = _device_argv()
    if argv is None:
        pytest.skip("no mtsrnn-device: set MTSRNN_DEVICE or build build/aarch64-neon")
    float_model = mtsrnn.random_sru(12, 12, num_layers=2, seed=43)
    int8_model = mtsrnn.quantize(float_model, "int8-wa")
    first, second = mtsfile.kernel_layers(float_model)[0], mtsfile.kernel_layers(int8_model)[1]
    mixed = tmp_path / "mixed.mts"
    mixed.write_bytes(mtsfile.encode("sru", [first, second]))
    halves = []
    for name, layer in (("first", first), ("second", second)):
        (tmp_path / f"{name}.mts").write_bytes(mtsfile.encode("sru", [layer]))
        halves.append(mtsrnn.load(str(tmp_path / f"{name}.mts")))
    if DEVICE_PROGRAM:
        session = start_host(DEVICE_PROGRAM, args=["--model", str(mixed)])
    else:
        session = start_host(argv[1], tcp=True, args=["--model", str(mixed)],
                             board=BOARDS["qemu-aarch64"])
    with session:
        dev = session.device
        info = dev.identify()
        model = next(m for m in info.models if m.name == "mixed")
        assert model.weights == "float32+int8-wa"
        dev.select(0)
        float_names = [k.name for k in dev.variants()[0]]
        dev.select(next(m.index for m in info.models if m.weights == "int8-wa"))
        int8_names = [k.name for k in dev.variants()[0]]
        dev.select(model.index)
        names = [k.name for k in dev.variants()[0]]
        assert names == [k for k in float_names if k in int8_names], (names, float_names)
        x = _frames(np.random.default_rng(44), 10, 12)
        expected = halves[1].forward(halves[0].forward(x, block=4)[0], block=4)[0]
        for name in names:
            dev.select_variant(name)
            dev.reset()
            np.testing.assert_allclose(dev.infer(x, block=4)[0], expected, atol=1e-5, rtol=0,
                                       err_msg=name)
        assert [r["device_verdict"] for r in dev.selftest() if r["name"] == "mixed"] == ["skip"]
