"""Golden vectors for the MicroPython tests, computed on the CPython side.

    python tests/micropython/make_golden.py OUT_DIR

For each model configuration of the Python golden test (tests/python/conftest.py
RANDOM_SRU_KWARGS / RANDOM_QRNN_KWARGS: every SRU skip kind, tanh, projection,
layer norm before/after, the original form, bidirectional, several layers;
QRNN f/fo/ifo pooling, windows 1-3, zoneout) it writes

    NAME.mts      the model (mtsrnn.mtsfile, the format's Python writer)
    NAME.x.f32    STEPS input frames, float32 little-endian
    NAME.y.f32    the expected outputs from a zero state, float32

with the expected outputs from mtsrnn.reference (float64 NumPy, written from
the SPEC alone), never from the C kernels. It also writes malformed files for
the bad-input checks, and manifest.txt, one line per item:

    case NAME CELL INPUT_SIZE OUTPUT_SIZE NUM_LAYERS STEPS BIDIRECTIONAL
    bad NAME REASON
"""

import sys
from pathlib import Path

import mtsrnn
import numpy as np
from mtsrnn import reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from conftest import RANDOM_QRNN_KWARGS, RANDOM_SRU_KWARGS  # noqa: E402

STEPS = 21  # not a multiple of 8 or 3: every block size ends on a partial block
SEED = 20240607
# Beyond the Python golden test's list: a one-layer bidirectional model (its
# workspace does not grow with the sequence, so a stream needs no max_steps).
EXTRA_SRU_KWARGS = [dict(input_size=8, hidden_size=4, bidirectional=True, use_tanh=True)]


def expected_outputs(model, x):
    config = model.config
    if model.cell == "sru":
        h, _c = reference.sru_forward(model.state_dict(), x, **config)
    else:
        h, _c, _prev = reference.qrnn_forward(model.state_dict(), x, **config)
    return h


def write_cases(out_dir, rng):
    lines = []
    builders = [("sru", mtsrnn.random_sru, kw) for kw in RANDOM_SRU_KWARGS + EXTRA_SRU_KWARGS]
    builders += [("qrnn", mtsrnn.random_qrnn, kw) for kw in RANDOM_QRNN_KWARGS]
    for index, (cell, build, kwargs) in enumerate(builders):
        name = f"{cell}{index}"
        model = build(**kwargs, seed=index + 1)
        x = rng.standard_normal((STEPS, model.input_size)).astype(np.float32)
        y = expected_outputs(model, x).astype(np.float32)
        model.save(out_dir / f"{name}.mts")
        (out_dir / f"{name}.x.f32").write_bytes(x.astype("<f4").tobytes())
        (out_dir / f"{name}.y.f32").write_bytes(y.astype("<f4").tobytes())
        bidirectional = int(bool(model.config.get("bidirectional", False)))
        lines.append(f"case {name} {cell} {model.input_size} {model.output_size} "
                     f"{model.num_layers} {STEPS} {bidirectional}")
    return lines


def write_bad_files(out_dir):
    """Malformed .mts files, each with the reason the loader must give."""
    good = bytearray(mtsrnn.mtsfile.to_bytes(mtsrnn.random_sru(4, 4, seed=99)))
    corrupt = bytearray(good)
    corrupt[-1] ^= 0x40  # a weight bit: only the CRC can tell
    bad_magic = bytearray(good)
    bad_magic[1:4] = b"XYZ"
    bad = {
        "truncated": (good[:len(good) // 2], "truncated"),
        "header_only": (good[:40], "truncated"),
        "corrupt": (corrupt, "crc"),
        "bad_magic": (bad_magic, "magic"),
        "empty": (b"", "truncated"),
    }
    lines = []
    for name, (data, reason) in bad.items():
        (out_dir / f"{name}.mts").write_bytes(bytes(data))
        lines.append(f"bad {name} {reason}")
    return lines


def main(argv):
    if len(argv) != 2:
        raise SystemExit(f"usage: {argv[0]} OUT_DIR")
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    lines = [f"# tests/micropython/make_golden.py: mtsrnn.reference (float64), numpy "
             f"{np.__version__}, seed {SEED}"]
    lines += write_cases(out_dir, rng)
    lines += write_bad_files(out_dir)
    (out_dir / "manifest.txt").write_text("\n".join(lines) + "\n")
    print(f"make_golden: {sum(line.startswith('case') for line in lines)} models, "
          f"{sum(line.startswith('bad') for line in lines)} bad files in {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
