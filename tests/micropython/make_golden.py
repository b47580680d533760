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
docs/spec.md alone), never from the C kernels. Then quantised models
(docs/quantization.md: int8-w and int8-wa, SRU and QRNN, several option sets)
saved by mtsrnn.quantize as .mts 1.1 files, with expected outputs from the
reference's arithmetic of the same scheme (`quantization=`, which quantises
the float model's weights itself); two int8-wa cases get input frames whose
quantisation lands exactly on .5 ties (tie_frames), so that rounding half to
even and every float32 step of the quantiser are tested. It also writes
malformed files (float and quantised) for the bad-input checks, and
manifest.txt, one line per item:

    case NAME CELL INPUT_SIZE OUTPUT_SIZE NUM_LAYERS STEPS BIDIRECTIONAL SCHEME
    bad NAME REASON
"""

import sys
from pathlib import Path

import mtsrnn
import numpy as np
from mtsrnn import reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from conftest import RANDOM_QRNN_KWARGS, RANDOM_SRU_KWARGS  # noqa: E402
from test_hostile_files import HEADER, TENSOR, get, patch, record_base  # noqa: E402

STEPS = 21  # not a multiple of 8 or 3: every block size ends on a partial block
SEED = 20240607
# Beyond the Python golden test's list: a one-layer bidirectional model (its
# workspace does not grow with the sequence, so a stream needs no max_steps).
EXTRA_SRU_KWARGS = [dict(input_size=8, hidden_size=4, bidirectional=True, use_tanh=True)]


# Quantised cases: (cell, option set, scheme, tie inputs). Layer 0 of the tie
# cases multiplies the raw input frames (no norm, no projection), so there the
# int8-wa quantiser sees exact .5 ties.
QUANTIZED_CASES = [
    ("sru", RANDOM_SRU_KWARGS[0], "int8-w", False),
    ("sru", RANDOM_SRU_KWARGS[2], "int8-w", False),  # projection: two int8 products
    ("sru", RANDOM_SRU_KWARGS[3], "int8-w", False),
    ("qrnn", RANDOM_QRNN_KWARGS[1], "int8-w", False),
    ("sru", RANDOM_SRU_KWARGS[0], "int8-wa", True),
    ("sru", RANDOM_SRU_KWARGS[1], "int8-wa", False),  # bidirectional, layer norm before
    ("sru", RANDOM_SRU_KWARGS[2], "int8-wa", False),
    ("qrnn", RANDOM_QRNN_KWARGS[0], "int8-wa", False),  # window 2: rows [x_t | x_{t-1}]
    ("qrnn", RANDOM_QRNN_KWARGS[2], "int8-wa", True),
    # Depth 41 (five 8-lane passes and a tail) and 123 rows (4-row tiles and
    # 3 single rows): a C build whose compiler contracts the tiled int8-w
    # product's multiply-adds into FMAs for some tile shapes only (GCC 12 at
    # -O3 -march=native on x86 without -ffp-contract=off) gives other bits
    # at T = 1 and 3 than at 8 and 16; the smaller models above do not show it.
    ("sru", dict(input_size=41, hidden_size=41), "int8-w", False),
]


def expected_outputs(model, x, quantization=None):
    """h from the float64 reference; `model` is the float model, and a scheme
    makes the reference quantise its weights and products as specified."""
    config = model.config
    if model.cell == "sru":
        h, _c = reference.sru_forward(model.state_dict(), x, quantization=quantization,
                                      **config)
    else:
        h, _c, _prev = reference.qrnn_forward(model.state_dict(), x,
                                              quantization=quantization, **config)
    return h


def near_tie_values(absmax):
    """float32 x in (0, absmax) whose product with inv = float32(127 / absmax),
    rounded to float32 as docs/quantization.md specifies, is exactly k + 0.5,
    while the exact product is not, and rounding the exact product instead
    would give another integer than rounding k + 0.5 half to even. So an
    implementation that skips a float32 step (inv or x * inv in float64)
    quantises these values wrongly."""
    a = np.float32(absmax)
    inv = np.float32(127) / a
    values = []
    for k in range(126):
        x = np.float32((k + 0.5) / float(inv))
        for _ in range(4):
            x = np.nextafter(x, np.float32(0), dtype=np.float32)
        for _ in range(9):
            exact = float(x) * float(inv)  # exact: float32 * float32 fits float64
            rounded = float(np.float32(x * inv))
            if rounded == k + 0.5 and exact != k + 0.5 and np.rint(rounded) != np.rint(exact):
                values.append(x)
            x = np.nextafter(x, a, dtype=np.float32)
    return np.array(values, dtype=np.float32)


def tie_frames(rng, steps, width):
    """Even steps: max |x| = 127/128 (so 127 / a = 128 exactly in float32) and
    every other entry (k + 0.5)/128: x * inv is exactly k + 0.5. Odd steps:
    max |x| = 3 and every other entry a near_tie_values(3) value."""
    x = (rng.integers(0, 127, (steps, width)) + 0.5) / 128.0
    x[np.arange(steps), rng.integers(0, width, steps)] = 127.0 / 128.0
    near = near_tie_values(3.0)
    odd = np.arange(1, steps, 2)
    x[odd] = rng.choice(near, (len(odd), width))
    x[odd, rng.integers(0, width, len(odd))] = 3.0
    return (x * rng.choice([-1.0, 1.0], (steps, width))).astype(np.float32)


def write_case(out_dir, name, model, saved, x, quantization=None):
    """NAME.mts (`saved`), NAME.x.f32, NAME.y.f32 and the manifest line."""
    y = expected_outputs(model, x, quantization).astype(np.float32)
    saved.save(out_dir / f"{name}.mts")
    (out_dir / f"{name}.x.f32").write_bytes(x.astype("<f4").tobytes())
    (out_dir / f"{name}.y.f32").write_bytes(y.astype("<f4").tobytes())
    bidirectional = int(bool(model.config.get("bidirectional", False)))
    return (f"case {name} {model.cell} {model.input_size} {model.output_size} "
            f"{model.num_layers} {STEPS} {bidirectional} {quantization or 'float32'}")


def write_cases(out_dir, rng):
    lines = []
    builders = [("sru", mtsrnn.random_sru, kw) for kw in RANDOM_SRU_KWARGS + EXTRA_SRU_KWARGS]
    builders += [("qrnn", mtsrnn.random_qrnn, kw) for kw in RANDOM_QRNN_KWARGS]
    for index, (cell, build, kwargs) in enumerate(builders):
        model = build(**kwargs, seed=index + 1)
        x = rng.standard_normal((STEPS, model.input_size)).astype(np.float32)
        lines.append(write_case(out_dir, f"{cell}{index}", model, model, x))
    for index, (cell, kwargs, scheme, ties) in enumerate(QUANTIZED_CASES):
        build = mtsrnn.random_sru if cell == "sru" else mtsrnn.random_qrnn
        model = build(**kwargs, seed=100 + index)
        if ties:
            x = tie_frames(rng, STEPS, model.input_size)
        else:
            x = rng.standard_normal((STEPS, model.input_size)).astype(np.float32)
        name = f"{cell}{index}_{scheme.replace('-', '')}"
        lines.append(write_case(out_dir, name, model, mtsrnn.quantize(model, scheme), x,
                                scheme))
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
    bad.update(quantized_bad_files())
    lines = []
    for name, (data, reason) in bad.items():
        (out_dir / f"{name}.mts").write_bytes(bytes(data))
        lines.append(f"bad {name} {reason}")
    return lines


def quantized_bad_files():
    """Malformed format 1.1 files (each with a right CRC, so that the check
    behind it must reject them)."""
    qrnn = mtsrnn.mtsfile.to_bytes(mtsrnn.quantize(mtsrnn.random_qrnn(3, 4, seed=98), "int8-w"))
    # SRU with a projection: tensors weight, weight_proj, weight_c, bias,
    # weight_scale, weight_proj_scale (the last record).
    sru = mtsrnn.mtsfile.to_bytes(mtsrnn.quantize(
        mtsrnn.random_sru(6, 5, projection_size=3, seed=97), "int8-wa"))
    weight = record_base(qrnn, "tensor", 0)
    rows, cols = get(qrnn, TENSOR, weight, "dim0"), get(qrnn, TENSOR, weight, "dim1")
    return {
        "q_int8_nbytes_as_float": (patch(qrnn, "tensor", 0, nbytes=rows * cols * 4),
                                   "int8-weight-nbytes"),
        "q_missing_scales": (patch(qrnn, "header", num_tensors=2), "missing-weight-scales"),
        "q_scales_wrong_length": (patch(qrnn, "tensor", 2, dim0=rows - 1, nbytes=4 * (rows - 1)),
                                  "scales-wrong-length"),
        "q_int8_bias": (patch(qrnn, "tensor", 1, dtype=2, nbytes=rows), "int8-bias"),
        "q_dtype_3": (patch(qrnn, "tensor", 0, dtype=3), "unknown-dtype"),
        "q_float_layer_int8_weight": (patch(qrnn, "layer", 0, reserved16=0),
                                      "int8-weight-in-float-layer"),
        "q_quant_3": (patch(qrnn, "layer", 0, reserved16=3), "unknown-quant"),
        "q_sru_missing_proj_scales": (
            patch(sru, "header", num_tensors=get(sru, HEADER, 0, "num_tensors") - 1),
            "missing-weight_proj-scales"),
        "q_sru_int8_weight_c": (patch(sru, "tensor", 2, dtype=2, nbytes=10), "int8-weight_c"),
    }


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
