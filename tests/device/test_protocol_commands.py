"""The device protocol's commands (docs/protocol.md, "Commands") against
the real mtsrnn-device: id, model, reset, infer, bench, selftest, models
loaded at run time (conftest.py says how it is run)."""

from __future__ import annotations

import os
import platform
import subprocess

import numpy as np
import pytest

from .conftest import (
    ABS_TOL,
    DEMOS,
    DEVICE,
    MAX_BLOCK,
    MAX_STEPS,
    NEEDS_DEVICE,
    TIMEOUT,
    assert_ok_afterwards,
    crc_hex,
    encode_payload,
    fields,
    frames,
    infer,
    kernel_weight_bytes,
    start_pipe_device,
    stop,
)

pytestmark = NEEDS_DEVICE


def test_boot_ready_and_handshake(device):
    assert device.command("") == []          # an empty line: m-ready alone
    assert device.command("\r") == []        # \r before \n is ignored


def test_id_fields(device, demo_models):
    reply = device.command("id")
    assert fields(reply[0], "m-fw") == {"name": "mtsrnn", "version": "0.1.0", "protocol": "2",
                                        "protocol_minor": "2"}
    board = fields(reply[1], "m-board")
    # MTSRNN_DEVICE_CORE: the device's machine when it runs under an emulator.
    assert board["name"] == "linux"
    assert board["core"] == os.environ.get("MTSRNN_DEVICE_CORE", platform.machine())
    assert int(board["clock_hz"]) >= 0
    counters = fields(reply[2], "m-counters")
    assert list(counters) == ["cycles", "instructions", "ns"]
    assert set(counters.values()) <= {"available", "unavailable"}
    assert counters["ns"] == "available"
    limits = fields(reply[3], "m-limits")
    assert list(limits) == ["max_block", "max_steps", "built_in", "arena", "stage_descriptor",
                            "workspace_bytes", "state_floats", "input_floats",
                            "output_floats"]  # protocol 2.1 (docs/protocol.md)
    assert (limits["max_block"], limits["max_steps"]) == (str(MAX_BLOCK), str(MAX_STEPS))
    assert limits["built_in"] == str(len(DEMOS))
    assert int(limits["arena"]) > 0 and int(limits["arena"]) % 64 == 0
    assert int(limits["stage_descriptor"]) > 0
    # The buffers hold every built-in model at max_block and max_steps.
    for name in DEMOS:
        model = demo_models[name]
        assert model.workspace_bytes(MAX_BLOCK, MAX_STEPS) <= int(limits["workspace_bytes"])
        assert model.state_floats <= int(limits["state_floats"])
        assert model.input_size * MAX_STEPS <= int(limits["input_floats"])
    model_lines = reply[4:-1]
    assert len(model_lines) == len(DEMOS)
    for index, (name, line) in enumerate(zip(DEMOS, model_lines, strict=True)):
        model = demo_models[name]
        # docs/protocol.md: cell= the cell of the recurrent stages (mixed when
        # they differ, none without any), layers= how many there are.
        recurrent = [stage.cell for stage in model.stages
                     if stage.cell in ("sru", "qrnn", "mingru", "minlstm", "indrnn")]
        cells = set(recurrent)
        cell = cells.pop() if len(cells) == 1 else ("mixed" if cells else "none")
        assert fields(line, "m-model") == {
            "index": str(index), "name": name, "cell": cell,
            "layers": str(len(recurrent)), "input": str(model.input_size),
            "output": str(model.output_size),
            "weight_bytes": str(kernel_weight_bytes(model)), "dtype": "f32",
            "weights": model.quantization or "float32",
            "stages": ",".join(stage.cell for stage in model.stages)}
    assert reply[-1] == "m-selected index=0"


def test_demo_models_are_the_requested_ones(demo_models):
    sru, qrnn = demo_models["demo_sru"], demo_models["demo_qrnn"]
    assert sru.cell == "sru" and sru.num_layers == 2 and sru.output_size == 64
    assert qrnn.cell == "qrnn" and qrnn.config["window"] == 2


@pytest.mark.parametrize("index,name", list(enumerate(DEMOS)))
def test_infer_streams_and_matches_host(device, demo_models, index, name):
    from mtsrnn import reference
    model = demo_models[name]
    assert device.command(f"model {index}") == [f"m-selected index={index}"]
    rng = np.random.default_rng(index)
    # Pieces of several lengths and block sizes, including T > steps, T = 1
    # and the largest T and step count; the state carries between calls.
    pieces = [(5, 1), (17, 4), (1, 3), (40, 64), (MAX_STEPS, 7), (9, 9)]
    x = frames(rng, sum(steps for steps, _ in pieces), model.input_size)
    outputs, at = [], 0
    for steps, block in pieces:
        h, counters = infer(device, x[at:at + steps], block, model.output_size)
        assert set(counters) == {"ns"} and int(counters["ns"]) >= 0
        outputs.append(h)
        at += steps
    h_device = np.concatenate(outputs)
    h_host, _state = model.forward(x, block=8)
    np.testing.assert_allclose(h_device, h_host, rtol=0, atol=ABS_TOL)
    config = model.config
    # The reference of the model's own arithmetic (int8 schemes included).
    if model.cell == "model":  # a whole model (demo_head): stage by stage
        h_ref = reference.model_forward(model.reference_parts(), x,
                                        quantization=model.quantization)
    elif model.cell == "sru":
        h_ref, _c = reference.sru_forward(
            model.state_dict(), x, use_tanh=config["use_tanh"],
            bidirectional=config["bidirectional"], has_skip_term=config["has_skip_term"],
            normalize_after=config["normalize_after"], layer_norm_eps=config["layer_norm_eps"],
            quantization=model.quantization)
    else:
        h_ref, _c, _prev = reference.qrnn_forward(
            model.state_dict(), x, window=config["window"], output_gate=config["output_gate"],
            zoneout=config["zoneout"], pooling=config["pooling"],
            quantization=model.quantization)
    h_ref = np.asarray(h_ref, np.float64)
    if model.cell == "model" and model.quantization == "int8-wa":
        # docs/spec.md 5.1: an int8-wa product input within float32 rounding
        # of a rounding tie may take the neighbouring code on the device
        # (float32) and in the reference (float64). Every frame matches the
        # reference, or the reference with that stage's near-tie inputs
        # moved across the tie, to ABS_TOL; nothing else may differ.
        candidates = tie_flipped_references(model.reference_parts(), x)
        gaps = np.stack([np.abs(h_device - candidate).max(axis=1)
                         for candidate in [h_ref, *candidates]])
        assert np.all(gaps.min(axis=0) <= ABS_TOL), (
            np.flatnonzero(gaps.min(axis=0) > ABS_TOL), gaps.min(axis=0).max())
    else:
        np.testing.assert_allclose(h_device, h_ref, rtol=0, atol=ABS_TOL)


def tie_flipped_references(parts, x):
    """The float64 int8-wa references of a whole model with one stage's
    near-tie product inputs rounded the other way: one per stage that has
    any (SRU and dense stages, whose product reads the stage input). An
    input row x_t is quantised as rint(x_t * 127 / a_t), a_t = max |x_t|; a
    value whose scaled form lies within 127 ABS_TOL / a_t codes of a tie
    (k + 1/2) is within the float32 model's agreement with the reference
    (ABS_TOL) of it, so either code is the model's arithmetic. The
    alternative moves those values just across the tie (1e-4 codes past it,
    beyond float32 rounding of the quantiser's product; at most ABS_TOL +
    1e-4 a_t / 127 away) and runs the stages from there."""
    from mtsrnn import reference
    candidates = []
    y = np.asarray(x, np.float64)
    for index, part in enumerate(parts):
        if part[0] in ("sru", "dense"):
            scale = 127.0 / np.maximum(np.abs(y).max(axis=1, keepdims=True), 1e-30)
            scaled = y * scale
            tie = np.floor(scaled) + 0.5
            near = np.abs(scaled - tie) <= ABS_TOL * scale
            if near.any():
                across = tie - np.where(scaled >= tie, 1e-4, -1e-4)
                moved = np.where(near, across / scale, y)
                candidates.append(reference.model_forward(parts[index:], moved,
                                                          quantization="int8-wa"))
        y = reference.model_forward([part], y, quantization="int8-wa")
    return candidates


def test_reset_and_model_select_restart_the_stream(device, demo_models):
    model = demo_models["demo_qrnn"]
    x = frames(np.random.default_rng(7), 6, model.input_size)
    device.command("model 1")
    first, _ = infer(device, x, 2, model.output_size)
    continued, _ = infer(device, x, 2, model.output_size)
    assert not np.array_equal(first, continued), "the state did not carry over"
    assert device.command("reset") == ["m-reset"]
    again, _ = infer(device, x, 2, model.output_size)
    np.testing.assert_array_equal(again, first)
    assert device.command("model 1") == ["m-selected index=1"]
    np.testing.assert_array_equal(infer(device, x, 5, model.output_size)[0], first)
    assert device.command("id")[-1] == "m-selected index=1"


@pytest.mark.parametrize("text", ["model", f"model {len(DEMOS)}", "model -1", "model x",
                                  "model 0 1",
                                  "model 99999999999", "reset now", "id x", "selftest 1"])
def test_bad_args_of_simple_commands(device, text):
    reply = device.command(text)
    assert len(reply) == 1 and reply[0].startswith("e-bad-args "), reply
    assert_ok_afterwards(device)


def test_bench(device, demo_models):
    reply = device.command("bench 1,2,4,8,64 steps=32")
    assert len(reply) == 5
    for block, line in zip((1, 2, 4, 8, 64), reply, strict=True):
        values = fields(line, "m-bench")
        assert values["block"] == str(block) and values["steps"] == "32"
        assert int(values["ns"]) > 0
        assert "cycles" not in values or int(values["cycles"]) > 0
    default = device.command("bench 16")
    assert len(default) == 1 and fields(default[0], "m-bench")["steps"] == str(MAX_STEPS)


def test_bench_product_only_counts_the_first_layers_macs(device, demo_models):
    # product=1 runs the first layer's product alone: rows x depth per step,
    # from the layer's shapes (SRU: 3 gate rows per unit over the input; QRNN
    # window 2 fo-pooling with an output gate: 3 gate rows over 2 frames)
    sru, qrnn = demo_models["demo_sru"], demo_models["demo_qrnn"]
    expected = {"demo_sru": 3 * sru.output_size * sru.input_size,
                "demo_qrnn": 3 * qrnn.output_size * 2 * qrnn.input_size}
    for index, name in enumerate(DEMOS):
        if name not in expected:
            continue
        device.command(f"model {index}")
        reply = device.command("bench 1,4,16 steps=32 product=1")
        assert len(reply) == 3
        for block, line in zip((1, 4, 16), reply, strict=True):
            values = fields(line, "m-bench")
            assert values["block"] == str(block) and values["steps"] == "32"
            assert int(values["macs"]) == 32 * expected[name]
            assert int(values["ns"]) > 0
    device.command("model 0")
    plain = fields(device.command("bench 4 steps=8")[0], "m-bench")
    assert "macs" not in plain


def test_bench_and_selftest_leave_the_state_reset(device, demo_models):
    model = demo_models["demo_sru"]
    x = frames(np.random.default_rng(3), 4, model.input_size)
    fresh, _ = infer(device, x, 4, model.output_size)
    device.command("bench 2 steps=8")
    np.testing.assert_array_equal(infer(device, x, 4, model.output_size)[0], fresh)
    device.command("selftest")
    np.testing.assert_array_equal(infer(device, x, 4, model.output_size)[0], fresh)


@pytest.mark.parametrize("text", ["bench", "bench 0", "bench 65", "bench 1,,2", "bench 1,",
                                  "bench 1 steps=0", "bench 1 steps=257", "bench 1 step=4",
                                  "bench 1 steps=4 x", "bench a", "bench 1 product=2",
                                  "bench 1 product=1 product=1"])
def test_bench_bad_args(device, text):
    reply = device.command(text)
    assert len(reply) == 1 and reply[0].startswith("e-bad-args "), reply
    assert_ok_afterwards(device)


def test_selftest_passes(device):
    reply = device.command("selftest")
    assert len(reply) == len(DEMOS)
    for index, (name, line) in enumerate(zip(DEMOS, reply, strict=True)):
        values = fields(line, "m-selftest")
        assert values["index"] == str(index) and values["name"] == name
        assert values["result"] == "pass"
        assert float(values["max_abs_err"]) <= float(values["tolerance"]) == pytest.approx(1e-4)


def test_models_loaded_at_run_time(tmp_path):
    import mtsrnn
    extra = mtsrnn.random_qrnn(12, 20, num_layers=2, window=3, pooling="ifo", seed=5)
    path = tmp_path / "extra model.mts"
    extra.save(path)
    dev, process = start_pipe_device("--model", str(path), "--max-block", "8",
                                     "--max-steps", "16")
    try:
        reply = dev.command("id")
        limits = fields(reply[3], "m-limits")
        assert (limits["max_block"], limits["max_steps"]) == ("8", "16")
        assert limits["built_in"] == str(len(DEMOS) + 1)  # the --model file is built in
        extra_index = len(DEMOS)  # after the built-in demo models
        assert fields(reply[4 + extra_index], "m-model") == {
            "index": str(extra_index), "name": "extra_model", "cell": "qrnn", "layers": "2",
            "input": "12", "output": "20", "weight_bytes": str(kernel_weight_bytes(extra)),
            "dtype": "f32", "weights": "float32", "stages": "qrnn,qrnn"}
        assert dev.command(f"model {extra_index}") == [f"m-selected index={extra_index}"]
        x = frames(np.random.default_rng(11), 16, 12)
        h1, _ = infer(dev, x[:10], 8, 20)   # 800 bytes: 12 chunks of 64 and one of 32
        h2, _ = infer(dev, x[10:], 3, 20)
        h_host, _ = extra.forward(x, block=16)
        np.testing.assert_allclose(np.concatenate([h1, h2]), h_host, rtol=0, atol=ABS_TOL)
        # Limits of this run: T 1..8, steps 1..16.
        data = x[:1].astype("<f4").tobytes()
        assert dev.command(f"infer 1 9 {len(data)} {crc_hex(data)}", encode_payload(data)) == \
            ["e-bad-args block out of 1..max_block"]
        assert dev.command("bench 8 steps=17")[0].startswith("e-bad-args")
        selftest = dev.command("selftest")
        assert [fields(line, "m-selftest")["result"] for line in selftest] == \
            ["pass"] * len(DEMOS) + ["skip"]
    finally:
        assert stop(process) == 0


def test_bad_model_file_is_refused(tmp_path):
    path = tmp_path / "broken.mts"
    path.write_bytes(b"MTSRNN\0\0" + bytes(100))
    result = subprocess.run([DEVICE, "--model", str(path)], input=b"", capture_output=True,
                            timeout=TIMEOUT)
    assert result.returncode == 2 and b"broken.mts" in result.stderr


def test_eof_ends_the_program():
    dev, process = start_pipe_device()
    dev.send(b"id")                          # a partial line, then EOF
    assert stop(process) == 0


def test_whole_model_loaded_at_run_time(tmp_path):
    """A whole model (format 2.0: norm -> SRU -> dense(relu) -> dense ->
    softmax, float32 and int8-wa heads), loaded with --model: id lists its
    stages, infer returns the last stage's outputs, the host's (<= ABS_TOL),
    streamed in two pieces."""
    import sys
    from pathlib import Path

    from mtsrnn import _core
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    import stage_files

    rng = np.random.default_rng(14)
    paths = []
    for quant in (0, 2):
        path = tmp_path / f"head{quant}.mts"
        path.write_bytes(stage_files.image(stage_files.whole_model(rng, n=6, hidden=6,
                                                                   quant=quant)))
        paths += ["--model", str(path)]
    dev, process = start_pipe_device(*paths, "--max-block", "8", "--max-steps", "16")
    try:
        reply = dev.command("id")
        for offset, quant in enumerate((0, 2)):
            index = len(DEMOS) + offset
            line = fields(reply[4 + index], "m-model")
            assert (line["stages"], line["cell"], line["layers"], line["input"],
                    line["output"]) == ("norm,sru,dense,dense,softmax", "sru", "1", "6", "4")
            assert line["weights"] == ("float32" if quant == 0 else "float32+int8-wa")
            assert dev.command(f"model {index}") == [f"m-selected index={index}"]
            core = _core.load_file(Path(paths[2 * offset + 1]).read_bytes())
            x = frames(rng, 16, 6)
            h_host = np.empty((16, 4), np.float32)
            core.forward(x, 16, np.zeros(core.state_floats, np.float32), h_host, 4)
            h1, _ = infer(dev, x[:5], 4, 4)
            h2, _ = infer(dev, x[5:], 8, 4)
            np.testing.assert_allclose(np.concatenate([h1, h2]), h_host, rtol=0, atol=ABS_TOL)
            np.testing.assert_allclose(h_host.sum(axis=1), 1.0, atol=1e-5)  # probabilities
    finally:
        assert stop(process) == 0
