"""The harness on the Cortex-A boards: mtsrnn-device cross-built for aarch64
and armv7-a (ci/aarch64.sh) under QEMU user mode, reached over TCP: demo
models, model files, int8 models and the CLI."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from harness_devices import (  # noqa: E402
    CORTEX_A_BOARDS,
    CORTEX_A_CORES,
    _alive,
    _check_against_host,
    _check_bad_variant,
    _check_every_variant,
    _check_faults,
    _check_int8_models,
    _check_selftest_and_bench,
    _check_whole_model_demos,
    _cortex_a_program,
    _device_dirs,
    _golden,
    _host_models,
    _qemu_pids,
    _save_models,
    _test_models,
)
from harness_peer import (  # noqa: E402
    TOL,
    _frames,
)
from mtsrnn.harness import (  # noqa: E402
    BOARDS,
    open_board,
)


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_demo_models(board):
    """What the Cortex-M boards go through (golden comparison over several T,
    streaming, reset, selftest, bench, faults), with the cross-built program
    under qemu user mode over TCP; the emulator is gone afterwards."""
    program = _cortex_a_program(board)
    emulator = BOARDS[board].emulator
    before = _qemu_pids(emulator)
    with open_board(board) as session:
        pid = session.pid
        assert pid in _qemu_pids(emulator)
        dev = session.device
        info = dev.identify()
        assert (info.board_name, info.board["core"]) == ("linux", CORTEX_A_CORES[board])
        assert info.counters.get("ns")
        twins = _host_models(dev, _device_dirs(str(program)))
        assert _check_against_host(dev, twins) >= 2, f"no .mts twins next to {program}"
        worst = _check_whole_model_demos(dev, twins)
        print(f"{board}: whole-model demos, max |device - host| per variant: {worst}")
        _check_selftest_and_bench(dev)
        _check_faults(dev)
        kernels = _check_every_variant(dev, twins)
        if program.parts[-4].endswith("-neon"):  # build/<cpu>-neon/firmware/linux/...
            assert kernels[0] == "neon", kernels
        assert "reference" in kernels and "tiled" in kernels
        _check_bad_variant(dev)
    assert pid not in _qemu_pids(emulator) and not _alive(pid)
    assert _qemu_pids(emulator) <= before


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_with_model_files(board, tmp_path):
    """Several SRU and QRNN models loaded from .mts files by the emulated
    program, each against the host."""
    _cortex_a_program(board)
    models = _test_models()
    args = []
    for path in _save_models(tmp_path, models):
        args += ["--model", str(path)]
    with open_board(board, device_args=args) as session:
        dev = session.device
        names = [m.name for m in dev.identify().models]
        assert set(models) <= set(names), names
        assert _check_against_host(dev, models) == len(models)


def test_cortex_a_cli(tmp_path, capsys):
    """mtsrnn selftest / run / bench on the qemu-aarch64 board, the bench
    through the `mtsrnn bench --board` shorthand: the table says emulated
    timings are not performance."""
    from mtsrnn import cli

    _cortex_a_program("qemu-aarch64")
    assert cli.main(["selftest", "--board", "qemu-aarch64"]) == 0
    assert "self-test passed" in capsys.readouterr().out
    model = mtsrnn.random_qrnn(7, 9, num_layers=2, window=2, seed=21)
    model_path = tmp_path / "q.mts"
    mtsrnn.mtsfile.save(model, str(model_path))
    x = _frames(np.random.default_rng(9), 30, 7)
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["run", "--board", "qemu-aarch64", "--model", str(model_path),
                     "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                     "--block", "4"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _golden(model, x), atol=TOL,
                               rtol=0)
    capsys.readouterr()
    assert cli.main(["bench", "--board", "qemu-aarch64", "--block", "1,4", "--steps", "8",
                     "--repeat", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "qemu-aarch64" in text and "ns/step" in text
    assert "timings under emulation are not performance" in text


def test_cortex_a_program_reached_by_port(capsys):
    """A Cortex-A board as a user runs one: the program started by hand with
    `--tcp 0 --bind 0.0.0.0 --once`, the host reaching it by URL through the
    `mtsrnn bench --port` shorthand (the program reports only `ns`, so the
    table is not marked emulated: it cannot know, as on real hardware)."""
    from mtsrnn import cli

    program = _cortex_a_program("qemu-aarch64")
    process = subprocess.Popen([BOARDS["qemu-aarch64"].emulator, str(program), "--tcp", "0",
                                "--bind", "0.0.0.0", "--once"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        assert banner.startswith("mtsrnn-device: listening on 0.0.0.0:"), banner
        port = int(banner.rsplit(":", 1)[1])
        assert cli.main(["bench", "--port", f"socket://127.0.0.1:{port}", "--block", "1,2",
                         "--steps", "4", "--repeat", "1", "--no-progress"]) == 0
        assert "ns/step" in capsys.readouterr().out
        assert process.wait(timeout=20) == 0  # --once: it ends with the connection
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_int8_models(board):
    program = _cortex_a_program(board)
    with open_board(board) as session:
        dev = session.device
        products = _check_int8_models(dev, program, _host_models(dev, _device_dirs(str(program))))
    if program.parts[-4].endswith("-neon"):  # build/<cpu>-neon/firmware/linux/...
        assert products["int8-w"][0] == "neon", products
        # aarch64 Linux chooses SDOT at run time (kernels/src/isa.h): QEMU's
        # default CPU, "max", has it; another QEMU_CPU may not.
        cpu = os.environ.get("QEMU_CPU", "max")
        expected = ("neon",) if not program.parts[-4].startswith("aarch64") else \
            ("neon-sdot",) if cpu == "max" else ("neon-sdot", "neon")
        assert products["int8-wa"][0] in expected, (cpu, products)
