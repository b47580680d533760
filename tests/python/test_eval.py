"""`mtsrnn eval` (issue 15): data-file errors, scoring against a computation
written here from the definitions (argmax of the last valid step, every
valid step, confusion counts, F1 = 2TP / (2TP + FP + FN)), and eval on the
real device program and a QEMU board against the host."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import mtsrnn
import numpy as np
import pytest
from mtsrnn.evaluate import DataFileError, dataset, host_outputs, load_data, save_data, score

INPUT, CLASSES, L, N = 5, 4, 23, 17


def model():
    """A whole classifier: norm, SRU, dense relu, dense (random weights)."""
    rng = np.random.default_rng(3)
    return mtsrnn.sequential(
        mtsrnn.norm(rng.uniform(0.5, 2, INPUT), rng.normal(size=INPUT)),
        mtsrnn.random_sru(INPUT, 8, seed=4),
        mtsrnn.dense(rng.normal(size=(8, 8)) * 0.5, rng.normal(size=8) * 0.1, activation="relu"),
        mtsrnn.dense(rng.normal(size=(CLASSES, 8)) * 0.5, np.zeros(CLASSES)))


def data(per_step: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, L + 1, N)
    x = np.zeros((N, L, INPUT), np.float32)
    for i, n in enumerate(lengths):
        x[i, :n] = rng.normal(size=(n, INPUT))
    y = rng.integers(0, CLASSES, (N, L) if per_step else N)
    return x, y, lengths


def mtsrnn_cli(*args):
    return subprocess.run([sys.executable, "-m", "mtsrnn", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


# ---- scoring, against a computation of our own ---------------------------

def expected_scores(m, x, y, lengths, per_step):
    """Each sequence alone from a zero state (forward of its valid steps);
    predictions and scores by plain loops."""
    labels, predicted = [], []
    for i, n in enumerate(lengths):
        h = m.forward(np.ascontiguousarray(x[i, :n]), block=1)[0].astype(np.float64)
        steps = range(n) if per_step else [n - 1]
        for t in steps:
            predicted.append(max(range(CLASSES), key=lambda k: (h[t, k], -k)))
            labels.append(int(y[i, t] if per_step else y[i]))
    confusion = [[0] * CLASSES for _ in range(CLASSES)]
    for a, b in zip(labels, predicted, strict=True):
        confusion[a][b] += 1
    f1 = []
    for k in range(CLASSES):
        tp = confusion[k][k]
        fn = sum(confusion[k]) - tp
        fp = sum(row[k] for row in confusion) - tp
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None)
    return sum(a == b for a, b in zip(labels, predicted, strict=True)) / len(labels), \
        confusion, f1


@pytest.mark.parametrize("per_step", [False, True])
def test_scores_match_an_independent_computation(per_step, tmp_path):
    m = model()
    x, y, lengths = data(per_step)
    x[0, lengths[0]:] = 1e6 if lengths[0] < L else 0  # padding is never read
    save_data(tmp_path / "d.npz", x, y, lengths)
    loaded = load_data(tmp_path / "d.npz")
    result = score(host_outputs(m, loaded, block=7), loaded, CLASSES)
    accuracy, confusion, f1 = expected_scores(m, x, y, lengths, per_step)
    assert result["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert result["confusion"] == confusion
    if per_step:
        assert result["f1"] == pytest.approx(f1)
        assert result["scored"] == int(np.sum(lengths))
    else:
        assert "f1" not in result and result["scored"] == N


def test_cli_host_writes_what_it_scored(tmp_path):
    m = model()
    m.save(tmp_path / "m.mts")
    x, y, lengths = data(False, seed=1)
    save_data(tmp_path / "d.npz", x, y, lengths)
    result = mtsrnn_cli("eval", "--host", "--model", tmp_path / "m.mts", "--data",
                        tmp_path / "d.npz", "--json", tmp_path / "r.json", "--block", 4,
                        "--confusion", tmp_path / "c.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = json.loads((tmp_path / "r.json").read_text())
    accuracy, confusion, _ = expected_scores(m, x, y, lengths, False)
    assert written["accuracy"] == pytest.approx(accuracy) and written["confusion"] == confusion
    assert f"accuracy {100 * accuracy:.2f} %" in result.stdout
    result = mtsrnn_cli("eval", "--host", "--model", tmp_path / "m.mts", "--data",
                        tmp_path / "d.npz", "--min-accuracy", min(1.0, accuracy + 0.01))
    assert result.returncode == 1 and "below --min-accuracy" in result.stderr


# ---- data files that eval refuses ------------------------------------------

def bad_files():
    x, y, lengths = data(False)
    return {
        "x missing": ({"y": y}, "no array x"),
        "y missing": ({"x": x}, "no array y"),
        "extra array": ({"x": x, "y": y, "z": y}, "unknown array(s) z"),
        "x float64": ({"x": x.astype(np.float64), "y": y}, "x must be float32, got float64"),
        "x 2-D": ({"x": x[:, 0], "y": y}, "x must have shape (N, L, input_size)"),
        "y float": ({"x": x, "y": y.astype(np.float32)}, "y must be integers"),
        "y wrong shape": ({"x": x, "y": y[:-1]}, f"y must have shape ({N},)"),
        "lengths float": ({"x": x, "y": y, "lengths": lengths * 1.0}, "lengths must be integers"),
        "lengths zero": ({"x": x, "y": y, "lengths": np.where(np.arange(N) == 2, 0, lengths)},
                         "lengths[2] = 0 is outside 1..23"),
        "lengths too long": ({"x": x, "y": y, "lengths": lengths + L},
                             "is outside 1..23"),
        "lengths wrong shape": ({"x": x, "y": y, "lengths": lengths[:3]},
                                f"lengths must have shape ({N},)"),
        "negative label": ({"x": x, "y": -y - 1}, "labels must be >= 0"),
        "NaN in x": ({"x": np.where(np.arange(L)[None, :, None] == 0, np.nan, x)
                      .astype(np.float32), "y": y}, "NaN or infinity"),
    }


@pytest.mark.parametrize("case", sorted(bad_files()))
def test_bad_data_files_are_named(case, tmp_path):
    arrays, message = bad_files()[case]
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataFileError) as error:
        load_data(tmp_path / "d.npz")
    assert message in str(error.value) and "d.npz" in str(error.value)


def test_labels_and_frames_must_fit_the_model(tmp_path):
    x, y, lengths = data(False)
    with pytest.raises(DataFileError, match=r"label 3 in y is outside the model's 3 outputs"):
        dataset(x, np.maximum(y, 3), lengths).check_model(INPUT, 3)
    with pytest.raises(DataFileError, match="frames of 5 values, the model takes 6"):
        dataset(x, y, lengths).check_model(6, CLASSES)
    # per-step labels past a sequence's end are not labels: never checked
    y2 = np.zeros((N, L), np.int64)
    y2[0, lengths[0]:] = 99
    dataset(x, y2, lengths).check_model(INPUT, CLASSES)


def test_cli_refuses_bad_files_in_one_line(tmp_path):
    model().save(tmp_path / "m.mts")
    x, y, lengths = data(False)
    np.savez(tmp_path / "d.npz", x=x, y=y + CLASSES, lengths=lengths)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for data_file, message in ((tmp_path / "d.npz", "outside the model's 4 outputs"),
                               (tmp_path / "junk.npz", "junk.npz: not an .npz file"),
                               (tmp_path / "none.npz", "none.npz: no such file")):
        result = mtsrnn_cli("eval", "--host", "--model", tmp_path / "m.mts", "--data", data_file)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


# ---- devices: the real mtsrnn-device and a QEMU board -----------------------

def device_run(tmp_path, quantization, *target):
    m = model() if quantization is None else mtsrnn.quantize(model(), quantization)
    path = tmp_path / f"clf_{quantization or 'float32'}.mts".replace("-", "_")
    m.save(path)
    x, y, lengths = data(True, seed=2)
    save_data(tmp_path / "d.npz", x, y, lengths)
    result = mtsrnn_cli("eval", *target, "--model", path, "--data", tmp_path / "d.npz",
                        "--json", tmp_path / "r.json", "--block", 5, "--no-progress",
                        "--timeout", 60)
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "r.json").read_text())
    accuracy, _, _ = expected_scores(m, x, y, lengths, True)
    assert written["accuracy"] == pytest.approx(accuracy)
    assert written["host"]["accuracy"] == pytest.approx(accuracy)
    assert written["agreement"]["disagreements"] == 0
    assert written["agreement"]["max_abs_diff"] <= 1e-4
    return written


@pytest.mark.skipif(not os.environ.get("MTSRNN_DEVICE"),
                    reason="set MTSRNN_DEVICE=/path/to/mtsrnn-device to test it")
@pytest.mark.parametrize("quantization", [None, "int8-wa"])
def test_eval_on_the_device_program(tmp_path, quantization):
    written = device_run(tmp_path, quantization, "--board", "host", "--firmware",
                         os.environ["MTSRNN_DEVICE"])
    assert written["target"] == "host" and written["per_step"]


@pytest.mark.skipif(not os.environ.get("MTSRNN_FIRMWARE_DIR")
                    or shutil.which("qemu-system-arm") is None
                    or shutil.which("arm-none-eabi-gcc") is None,
                    reason="needs MTSRNN_FIRMWARE_DIR, qemu-system-arm and arm-none-eabi-gcc")
def test_eval_on_the_default_qemu_board(tmp_path):
    written = device_run(tmp_path, None, "--board", "qemu-mps2-an386")
    assert written["per_step"]["instructions"] > 0


@pytest.mark.skipif(shutil.which("micropython") is None,
                    reason="the micropython (unix) interpreter is missing")
@pytest.mark.parametrize("quantization", [None, "int8-wa"])
def test_eval_on_micropython(tmp_path, quantization):
    """Every MicroPython build there is: the pure-Python module always, the
    C module on the test port when ci/micropython.sh has built it; each run
    scored against the labels and compared with the host, and named by the
    module's own `mtsrnn.implementation`."""
    written = device_run(tmp_path, quantization, "--micropython")
    runs = written.get("runs", [written])
    implementations = [run["implementation"] for run in runs]
    port = os.path.join(os.path.dirname(__file__), "..", "..", "build", "micropython", "port",
                        "mtsrnn-micropython")
    assert implementations == (["c", "python"] if os.access(port, os.X_OK) else ["python"])
    accuracy, _, _ = expected_scores(
        model() if quantization is None else mtsrnn.quantize(model(), quantization),
        *data(True, seed=2), True)
    for run in runs:
        assert run["target"].startswith("micropython (")
        assert run["accuracy"] == pytest.approx(accuracy)
        assert run["agreement"]["disagreements"] == 0
        assert run["agreement"]["max_abs_diff"] <= 1e-4
    assert written["implementation"] == implementations[0]


@pytest.mark.skipif(shutil.which("micropython") is None,
                    reason="the micropython (unix) interpreter is missing")
def test_an_int8_wa_rounding_tie_is_reported_and_traced(tmp_path):
    """A norm stage's output x * w + b lands on a quantiser tie: rounded
    twice in float32 (product, then sum: the host library on x86-64) it is
    10.5 exactly, code 10 (ties to even); computed in one rounding (a fused
    multiply-add, or MicroPython's float64 arithmetic stored as float32)
    it is 10.500001, code 11, as in the float64 reference. The identity
    dense stage after it (a_t = 127, so code = value) shows the code. Both
    are the model's arithmetic (docs/spec.md 5.1): the eval report says so,
    and examples/real_data/ties.py finds that one flip."""
    x1, w1, b1 = np.float32(1.0283197), np.float32(1.1242833), np.float32(9.343878)
    assert np.float32(np.float32(x1 * w1) + b1) == np.float32(10.5)
    assert np.float32(float(x1) * float(w1) + float(b1)) > np.float32(10.5)
    m = mtsrnn.quantize(mtsrnn.sequential(
        mtsrnn.norm(np.array([1, w1], np.float32), np.array([0, b1], np.float32)),
        mtsrnn.dense(np.eye(2, dtype=np.float32), np.zeros(2, np.float32))), "int8-wa")
    m.save(tmp_path / "tie.mts")
    frame = np.array([[[127, x1]]], np.float32)
    if m.forward(frame[0], block=1)[0][0, 1] != 10.0:
        pytest.skip("this host library fuses x * w + b (an FMA target): no tie against "
                    "MicroPython here")
    save_data(tmp_path / "tie.npz", frame, np.array([0]))
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    result = mtsrnn_cli("eval", "--micropython", "--model", tmp_path / "tie.mts", "--data",
                        tmp_path / "tie.npz", "--json", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "r.json").read_text())
    python = [run for run in written.get("runs", [written]) if run["implementation"] == "python"]
    assert python[0]["agreement"]["max_abs_diff"] == 1.0  # code 11 against the host's 10
    assert python[0]["agreement"]["disagreements"] == 0
    assert "rounding tie" in python[0]["note"] and "rounding tie" in result.stdout
    traced = subprocess.run([sys.executable, os.path.join(root, "examples", "real_data",
                                                          "ties.py"),
                             tmp_path / "tie.mts", tmp_path / "tie.npz", "--micropython"],
                            capture_output=True, text=True, timeout=600)
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "stage 1 (dense) step 0 input 1:" in traced.stdout
    assert "host float32 10.5 (code 10)" in traced.stdout
    assert "0 side(s) unexplained" in traced.stdout
