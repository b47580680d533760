"""The model-file commands, run as a user runs them (`python -m mtsrnn ...` in a
subprocess): convert, inspect, export-c, and one clear line with exit status 2
for a missing or corrupt file."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
from mtsrnn import mtsfile

ROOT = Path(__file__).resolve().parents[2]
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_SRU = importlib.util.find_spec("sru") is not None
# As in test_torch_import.py: where CI installs torch and sru, a missing one fails.
TORCH_REQUIRED = bool(os.environ.get("CI")) or os.environ.get("MTSRNN_WITH_TORCH") == "1"
needs_torch = pytest.mark.skipif(not (HAVE_TORCH or TORCH_REQUIRED),
                                 reason="torch is not installed")
needs_sru = pytest.mark.skipif(not ((HAVE_TORCH and HAVE_SRU) or TORCH_REQUIRED),
                               reason="torch and sru are not installed")
CC = shutil.which("gcc")
# `python -m mtsrnn` in an interpreter where `import torch` fails.
WITHOUT_TORCH = ("import runpy, sys; sys.modules['torch'] = None; sys.argv[0] = 'mtsrnn'; "
                 "runpy.run_module('mtsrnn', run_name='__main__')")


def run(*args, torch=True):
    env = dict(os.environ)
    env.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / "build" / "torch_extensions"))
    command = [sys.executable, "-m", "mtsrnn"] if torch else [sys.executable, "-c",
                                                              WITHOUT_TORCH]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def assert_user_error(result, *fragments):
    """Exit status 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    # (convert may first note that it unpickles a module: not an error line)
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith("mtsrnn convert: note: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("mtsrnn ") and ": error: " in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def frames(width, length=13):
    return np.random.default_rng(width).standard_normal((length, width)).astype(np.float32)


def assert_same_model(path, model):
    loaded = mtsrnn.load(path)
    x = frames(model.input_size)
    np.testing.assert_array_equal(loaded.forward(x)[0], model.forward(x)[0])
    assert Path(path).read_bytes() == mtsfile.to_bytes(model)


# ---- convert ---------------------------------------------------------------------------

def test_convert_sru_npz(tmp_path):
    model = mtsrnn.random_sru(6, 3, num_layers=2, bidirectional=True, layer_norm=True,
                              normalize_after=True, use_tanh=True, seed=1)
    np.savez(tmp_path / "sru.npz", **model.state_dict())
    out = tmp_path / "sru.mts"
    result = run("convert", tmp_path / "sru.npz", "--cell", "sru", "--bidirectional",
                 "--use-tanh", "--normalize-after", "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout and "SRU, 2 layer(s)" in result.stdout
    assert_same_model(out, model)


def test_convert_sru_no_skip_term(tmp_path):
    model = mtsrnn.random_sru(3, 5, num_layers=2, has_skip_term=False, seed=2)
    np.savez(tmp_path / "m.npz", **model.state_dict())
    result = run("convert", tmp_path / "m.npz", "--cell", "sru", "--no-skip-term",
                 "-o", tmp_path / "m.mts")
    assert result.returncode == 0, result.stderr
    assert_same_model(tmp_path / "m.mts", model)


@pytest.mark.parametrize("pooling,gate,window,zoneout", [
    ("fo", True, 2, 0.25), ("ifo", False, 3, 0.0), ("f", False, 1, 0.5)])
def test_convert_qrnn_npz(tmp_path, pooling, gate, window, zoneout):
    model = mtsrnn.random_qrnn(4, 3, num_layers=2, window=window, pooling=pooling,
                               output_gate=gate, zoneout=zoneout, seed=3)
    np.savez(tmp_path / "q.npz", **model.state_dict())
    args = ["convert", tmp_path / "q.npz", "--cell", "qrnn", "--window", window,
            "--pooling", pooling, "--zoneout", zoneout, "-o", tmp_path / "q.mts"]
    if not gate and pooling != "f":  # f-pooling implies --no-output-gate
        args.append("--no-output-gate")
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert_same_model(tmp_path / "q.mts", model)


@needs_torch
def test_convert_torch_state_dict(tmp_path):
    import torch

    model = mtsrnn.random_qrnn(5, 4, window=2, seed=4)
    torch.save({key: torch.from_numpy(value) for key, value in model.state_dict().items()},
               tmp_path / "q.pt")
    result = run("convert", tmp_path / "q.pt", "--cell", "qrnn", "--window", 2,
                 "-o", tmp_path / "q.mts")
    assert result.returncode == 0, result.stderr
    # weights_only loading: no note about pickled code; the options the state dict
    # does not record are printed as assumed (issue 14: never silently).
    assert "pickled" not in result.stderr
    assert "assumed, a state dict does not record output_gate, zoneout, pooling" in result.stderr
    assert_same_model(tmp_path / "q.mts", model)
    # A training checkpoint that nests the state dict.
    torch.save({"epoch": 3, "state_dict": {key: torch.from_numpy(value) for key, value
                                           in model.state_dict().items()}}, tmp_path / "c.pt")
    result = run("convert", tmp_path / "c.pt", "--cell", "qrnn", "--window", 2,
                 "-o", tmp_path / "c.mts")
    assert result.returncode == 0, result.stderr
    assert_same_model(tmp_path / "c.mts", model)
    # A damaged file: one line, and no attempt to unpickle code from it.
    (tmp_path / "bad.pt").write_bytes(b"garbage, not a checkpoint\n")
    result = run("convert", tmp_path / "bad.pt", "--cell", "qrnn", "-o", tmp_path / "b.mts")
    assert_user_error(result, "bad.pt", "not a readable torch.save file")
    assert "weights_only=False" not in result.stderr


@needs_sru
def test_convert_torch_module(tmp_path):
    """A pickled sru.SRU: the configuration comes from the module itself."""
    import warnings

    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sru
    from mtsrnn.torch_import import from_torch

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # use_tanh is deprecated in sru 2.6
        module = sru.SRU(4, 3, num_layers=2, bidirectional=True, use_tanh=True,
                         layer_norm=True).eval()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-0.5, 0.5)
    torch.save(module, tmp_path / "sru.pt")
    result = run("convert", tmp_path / "sru.pt", "-o", tmp_path / "sru.mts")
    assert result.returncode == 0, result.stderr
    assert "weights_only=False" in result.stderr  # the note about unpickling code
    assert_same_model(tmp_path / "sru.mts", from_torch(module))
    assert mtsrnn.load(tmp_path / "sru.mts").config["bidirectional"] is True
    result = run("convert", tmp_path / "sru.pt", "--cell", "qrnn", "-o", tmp_path / "x.mts")
    assert_user_error(result, "an SRU module", "--cell qrnn")


def test_convert_errors(tmp_path):
    model = mtsrnn.random_qrnn(4, 3, window=2, seed=5)
    np.savez(tmp_path / "q.npz", **model.state_dict())
    out = tmp_path / "q.mts"
    assert_user_error(run("convert", tmp_path / "missing.npz", "--cell", "qrnn", "-o", out),
                      "missing.npz", "no such file")
    # --cell is optional (issue 14: the keys show the cell) but must agree with them.
    inferred = run("convert", tmp_path / "q.npz", "--window", 2, "-o", tmp_path / "i.mts")
    assert inferred.returncode == 0 and "QRNN" in inferred.stdout, inferred.stderr
    assert_user_error(run("convert", tmp_path / "q.npz", "--cell", "qrnn", "--use-tanh",
                          "-o", out), "--use-tanh", "--cell qrnn")
    assert_user_error(run("convert", tmp_path / "q.npz", "--cell", "sru", "--window", 2,
                          "--zoneout", 0.1, "-o", out), "--window, --zoneout", "--cell sru")
    # The state dict does not fit the options: the message says what was expected.
    assert_user_error(run("convert", tmp_path / "q.npz", "--cell", "qrnn", "--window", 3,
                          "-o", out), "window=3")
    assert_user_error(run("convert", tmp_path / "q.npz", "--cell", "sru", "-o", out),
                      "--cell sru, but the keys show qrnn")
    (tmp_path / "bad.npz").write_bytes(b"not a zip archive")
    assert_user_error(run("convert", tmp_path / "bad.npz", "--cell", "qrnn", "-o", out),
                      "bad.npz")
    assert not out.exists()


def test_convert_without_torch(tmp_path):
    """A .npz needs no torch; a torch checkpoint then fails with a clear line."""
    model = mtsrnn.random_sru(4, 4, seed=10)
    np.savez(tmp_path / "m.npz", **model.state_dict())
    result = run("convert", tmp_path / "m.npz", "--cell", "sru", "-o", tmp_path / "m.mts",
                 torch=False)
    assert result.returncode == 0, result.stderr
    assert_same_model(tmp_path / "m.mts", model)
    (tmp_path / "m.pt").write_bytes(b"whatever")
    assert_user_error(run("convert", tmp_path / "m.pt", "--cell", "sru", "-o",
                          tmp_path / "x.mts", torch=False), "needs torch", ".npz")


# ---- inspect ---------------------------------------------------------------------------

def table_rows(stdout):
    """{T: (weight bytes per step, workspace, state bytes)} from the inspect table."""
    rows = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"\s*(\d+)\s+([\d.]+)\s+(\d+(?: \+ \d+/frame)?)\s+(\d+)", line)
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3), int(match.group(4)))
    return rows


def test_inspect_sru(tmp_path):
    model = mtsrnn.random_sru(8, 6, num_layers=3, projection_size=3, layer_norm=True, seed=6)
    path = tmp_path / "m.mts"
    model.save(path)
    data = path.read_bytes()
    contents = mtsfile.read(data)
    result = run("inspect", path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{len(data)} bytes, format 1.0, CRC-32 0x{contents.crc32:08x} ok" in out
    assert "C loader (mts_file_load): accepted" in out
    assert "cell: SRU, 3 layer(s), input 8, output 6" in out
    assert "layer 0: SRU input 8, hidden 6 x 1 direction(s), projection 3" in out
    assert "skip projected (u3), norm before" in out
    assert "layer 2: SRU input 6" in out and "skip scaled input" in out
    assert f"parameters: {contents.parameter_count}\n" in out
    weight_bytes = 4 * contents.parameter_count
    assert f"weight bytes: {weight_bytes} " in out
    assert f"state: {model.state_floats} floats = {4 * model.state_floats} bytes" in out
    rows = table_rows(out)
    assert sorted(rows) == [1, 4, 16]
    for block, (per_step, workspace, state_bytes) in rows.items():
        assert float(per_step) == pytest.approx(weight_bytes / block, abs=0.005)
        assert int(workspace) == model.workspace_bytes(block)
        assert state_bytes == 4 * model.state_floats


def test_inspect_blocks_and_bidirectional_stack(tmp_path):
    model = mtsrnn.random_sru(4, 2, num_layers=2, bidirectional=True, seed=7)
    model.save(tmp_path / "b.mts")
    result = run("inspect", tmp_path / "b.mts", "--block", "2,8")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert sorted(rows) == [2, 8]
    for block, (_per_step, workspace, _state) in rows.items():
        # the kernels' sequence buffer per frame (rows padded to whole cache lines)
        per_frame = model.workspace_bytes(block, 101) - model.workspace_bytes(block, 100)
        assert per_frame >= 4 * model.output_size
        assert workspace == f"{model.workspace_bytes(block, 0)} + {per_frame}/frame"
    result = run("inspect", tmp_path / "b.mts", "--block", "8", "--seq-len", "50")
    rows = table_rows(result.stdout)
    assert rows[8][1] == str(model.workspace_bytes(8, 50))


def test_inspect_qrnn(tmp_path):
    model = mtsrnn.random_qrnn(5, 4, num_layers=2, window=3, pooling="ifo", zoneout=0.1)
    model.save(tmp_path / "q.mts")
    result = run("inspect", tmp_path / "q.mts", "--block", "1,32")
    assert result.returncode == 0, result.stderr
    assert "layer 0: QRNN input 5, hidden 4, window 3, ifo-pooling, output gate on, " \
           "zoneout 0.1" in result.stdout
    assert "tensors: weight 16x15, bias 16" in result.stdout
    rows = table_rows(result.stdout)
    assert int(rows[32][1]) == model.workspace_bytes(32)
    assert rows[1][2] == 4 * model.state_floats


def test_inspect_whole_model_per_stage(tmp_path):
    """A whole model: per stage its parameters, weight bytes per step, state and
    its own workspace rows (the kernels' mts_model_stage_workspace_size), and
    which stage sets the peak of the model's workspace (mts_model_workspace_size)."""
    rng = np.random.default_rng(11)
    model = mtsrnn.sequential(
        mtsrnn.norm(rng.uniform(0.5, 2.0, 6), rng.normal(0.0, 0.1, 6)),
        mtsrnn.random_sru(6, 20, num_layers=1, seed=2),
        mtsrnn.dense(rng.normal(0.0, 0.3, (40, 20)), rng.normal(0.0, 0.1, 40),
                     activation="relu"),
        mtsrnn.dense(rng.normal(0.0, 0.3, (3, 40)), np.zeros(3)),
        mtsrnn.softmax(3))
    path = tmp_path / "w.mts"
    model.save(path)
    core = mtsfile.read(path.read_bytes()).kernel
    result = run("inspect", path, "--block", "1,16")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "stages: norm, sru, dense, dense, softmax, input 6, output 3" in out
    # dense 20 -> 40: 40 x 20 weights + 40 biases, read once per block
    assert "stage 2: dense input 20, output 40, activation relu" in out
    assert "parameters 840, weight bytes 3360 (per step T=1: 3360, T=16: 210), " \
           "state 0 bytes" in out
    own = {1: [], 16: []}
    for match in re.finditer(r"workspace \(its own rows, mts_model_stage_workspace_size\): "
                             r"T=1: (\d+), T=16: (\d+) bytes", out):
        own[1].append(int(match.group(1)))
        own[16].append(int(match.group(2)))
    for block in (1, 16):
        assert own[block] == [core.stage_workspace_size(s, block) for s in range(5)]
        # norm and softmax run in place; a dense stage holds at least its
        # input and output rows for the block
        assert own[block][0] == own[block][4] == 0
        assert own[block][2] >= 4 * block * (20 + 40)
        peak = int(np.argmax(own[block]))
        total = model.workspace_bytes(block)
        assert total >= own[block][peak] + 64
        line = next(line for line in out.splitlines()
                    if line.startswith(f"workspace peak at T={block}:"))
        assert f": stage {peak} " in line and f"{own[block][peak]} of the model's {total} " in line
        assert table_rows(out)[block][1] == str(total)


def test_inspect_a_file_the_python_model_cannot_express(tmp_path):
    """Valid for the kernels (layers with different activations): inspect works
    and says why it is not a mtsrnn.Model."""
    first = mtsfile.kernel_layers(mtsrnn.random_sru(4, 4, num_layers=2, seed=1))
    second = mtsfile.kernel_layers(mtsrnn.random_sru(4, 4, num_layers=2, use_tanh=True))
    (tmp_path / "mixed.mts").write_bytes(mtsfile.encode("sru", [first[0], second[1]]))
    result = run("inspect", tmp_path / "mixed.mts")
    assert result.returncode == 0, result.stderr
    assert "C loader (mts_file_load): accepted" in result.stdout
    assert "not a mtsrnn.Model" in result.stdout and "use_tanh" in result.stdout


# ---- export-c --------------------------------------------------------------------------

@pytest.mark.skipif(CC is None, reason="gcc is not installed")
def test_export_c_output_compiles(tmp_path):
    model = mtsrnn.random_sru(5, 4, num_layers=2, projection_size=2, seed=8)
    model.save(tmp_path / "m.mts")
    out = tmp_path / "firmware"
    result = run("export-c", tmp_path / "m.mts", "-o", out, "--name", "kws",
                 "--golden-steps", 4, "--block", 2)
    assert result.returncode == 0, result.stderr
    assert "kws.h" in result.stdout and "kws.c" in result.stdout
    header = (out / "kws.h").read_text()
    assert "#define KWS_GOLDEN_STEPS 4u" in header and "#define KWS_BLOCK 2u" in header
    compile_ = subprocess.run(
        ["gcc", "-std=c99", "-Wall", "-Wextra", "-Wdouble-promotion", "-Wfloat-conversion",
         "-Werror", "-I", str(ROOT / "kernels" / "include"), "-c", str(out / "kws.c"),
         "-o", str(tmp_path / "kws.o")], capture_output=True, text=True)
    assert compile_.returncode == 0, compile_.stderr


# ---- missing and corrupt files ---------------------------------------------------------

@pytest.fixture()
def corrupt(tmp_path):
    data = bytearray(mtsfile.to_bytes(mtsrnn.random_sru(4, 4, seed=9)))
    data[-3] ^= 0x10
    path = tmp_path / "corrupt.mts"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("command", ["inspect", "export-c"])
def test_corrupt_file(command, corrupt, tmp_path):
    args = [command, corrupt] + (["-o", tmp_path / "out"] if command == "export-c" else [])
    line = assert_user_error(run(*args), "corrupt.mts", "CRC-32 mismatch",
                             "MTS_ERR_FILE_CRC")
    assert line.startswith(f"mtsrnn {command}: error: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["inspect", "export-c"])
def test_missing_and_foreign_files(command, tmp_path):
    extra = ["-o", tmp_path / "out"] if command == "export-c" else []
    assert_user_error(run(command, tmp_path / "nope.mts", *extra), "nope.mts")
    (tmp_path / "notes.txt").write_text("just some text, long enough to fill a header " * 3)
    assert_user_error(run(command, tmp_path / "notes.txt", *extra), "not an .mts model file",
                      "MTS_ERR_FILE_MAGIC")
    (tmp_path / "short.mts").write_bytes(mtsfile.to_bytes(mtsrnn.random_sru(2, 2))[:100])
    assert_user_error(run(command, tmp_path / "short.mts", *extra), "MTS_ERR_FILE_TRUNCATED")


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("convert", "inspect", "export-c"):
        assert command in result.stdout
