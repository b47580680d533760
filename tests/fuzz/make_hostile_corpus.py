"""A hostile corpus of .mts files for the readers' one-verdict test
(tests/python/test_reader_verdicts.py): from a few valid files (SRU and QRNN,
float and int8, bidirectional, projected), seeded mutations of every kind a
damaged or malicious file shows: truncations, bit flips with and without a
recomputed CRC, relabelled tensor shapes (ndim, dims) and kinds, absurd
dimensions and offsets, header and layer-record fields set to extremes,
non-finite and absurd scalar fields (scale_x, eps, zoneout, int8 scales).
Built with struct and zlib alone from the header's own offsets (format 1:
header 64 bytes, layer records of 32, tensor records of 48; the CRC-32 at
48 over the file with the field zeroed).

    python tests/fuzz/make_hostile_corpus.py OUT [COUNT]   # OUT/<name>.mts
"""

from __future__ import annotations

import random
import struct
import sys
import zlib
from pathlib import Path

CRC_AT = 48
TENSOR_RECORD = 48
LAYER_RECORD = 64  # where the layer records start
# Tensor record fields (offset, format): layer, kind, dtype, ndim, dim0, dim1,
# offset, nbytes.
TENSOR_FIELDS = {"layer": (0, "<I"), "kind": (4, "<I"), "dtype": (8, "<I"), "ndim": (12, "<I"),
                 "dim0": (16, "<Q"), "dim1": (24, "<Q"), "offset": (32, "<Q"),
                 "nbytes": (40, "<Q")}
ABSURD_U64 = (0, 1, 2, 3, 7, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 4, 2**62,
              2**63, 2**64 - 1)
ABSURD_F32 = (float("nan"), float("inf"), float("-inf"), 3e38, -3e38, 1e-45, 0.0, -1.0, 1e30)


def base_files() -> dict[str, bytes]:
    import mtsrnn
    import numpy as np
    from mtsrnn import mtsfile

    models = {
        "sru": mtsrnn.random_sru(3, 2, num_layers=2, projection_size=1, layer_norm=True, seed=1),
        "sru_bidir": mtsrnn.random_sru(2, 2, bidirectional=True, use_tanh=True, seed=2),
        "qrnn": mtsrnn.random_qrnn(2, 2, num_layers=2, window=2, pooling="ifo", zoneout=0.25,
                                   seed=3),
        "sru_i8w": mtsrnn.quantize(mtsrnn.random_sru(3, 3, seed=4), "int8-w"),
        "qrnn_i8wa": mtsrnn.quantize(mtsrnn.random_qrnn(3, 2, window=2, seed=5), "int8-wa"),
    }
    # Issue 20's cells (format 2.0): minGRU with to_out, minLSTM, IndRNN.
    rng = np.random.default_rng(6)
    cells = mtsrnn.sequential(
        mtsrnn.mingru(rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (2, 2))),
        mtsrnn.minlstm(rng.uniform(-1, 1, (6, 2))),
        mtsrnn.indrnn(rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2),
                      "tanh"))
    models["cells"] = cells
    models["cells_i8w"] = mtsrnn.quantize(cells, "int8-w")
    return {name: mtsfile.to_bytes(model) for name, model in models.items()}


def fix_crc(data: bytearray) -> bytes:
    size = struct.unpack_from("<Q", data, 32)[0]
    end = min(size, len(data))
    crc = zlib.crc32(bytes(data[:CRC_AT]) + bytes(4) + bytes(data[CRC_AT + 4:end]))
    struct.pack_into("<I", data, CRC_AT, crc)
    return bytes(data)


def _tensor_base(data: bytes, index: int) -> int:
    return struct.unpack_from("<I", data, 44)[0] + TENSOR_RECORD * index


def _tensors(data: bytes) -> int:
    return struct.unpack_from("<I", data, 28)[0]


def _layers(data: bytes) -> int:
    return struct.unpack_from("<I", data, 24)[0]


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One hostile file from a valid one: (what was done, the bytes)."""
    out = bytearray(data)
    kind = rng.choice(["truncate", "flip", "flip-crc", "shape", "kind", "dims", "offset",
                       "header", "layer", "scalar", "scale"])
    if kind == "truncate":
        cut = rng.choice([rng.randrange(0, 64), rng.randrange(64, len(data)), len(data) - 1])
        return f"truncate@{cut}", bytes(out[:cut])
    if kind in ("flip", "flip-crc"):
        flips = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            at = rng.randrange(len(out))
            bit = rng.randrange(8)
            out[at] ^= 1 << bit
            flips.append(f"{at}.{bit}")
        name = f"{kind}@{'+'.join(flips)}"
        return name, fix_crc(out) if kind == "flip-crc" else bytes(out)
    tensor = rng.randrange(_tensors(data))
    base = _tensor_base(data, tensor)
    if kind == "shape":  # relabel ndim and the dims (a 1-D tensor as 2-D, ...)
        ndim, dim0, dim1 = struct.unpack_from("<IQQ", out, base + 12)
        choice = rng.choice(["1to2", "2to1", "swap", "split"])
        if choice == "1to2" or (choice == "split" and ndim == 1):
            factor = rng.choice([1, 2])
            new = (2, max(1, dim0 // factor), factor)
        elif choice == "2to1":
            new = (1, dim0 * max(dim1, 1), 0)
        elif choice == "swap":
            new = (ndim, dim1 if ndim == 2 else dim0, dim0 if ndim == 2 else dim1)
        else:
            new = (2, dim0 * dim1, 1)
        struct.pack_into("<I", out, base + 12, new[0])
        struct.pack_into("<QQ", out, base + 16, new[1], new[2])
        return f"shape[{tensor}]{choice}", fix_crc(out)
    if kind == "kind":
        field = rng.choice(["kind", "layer", "dtype"])
        offset, fmt = TENSOR_FIELDS[field]
        value = rng.choice([0, 1, 2, 3, 4, 5, 7, 8, 9, 2**32 - 1])
        struct.pack_into(fmt, out, base + offset, value)
        return f"relabel[{tensor}].{field}={value}", fix_crc(out)
    if kind in ("dims", "offset"):
        field = rng.choice(["dim0", "dim1"] if kind == "dims" else ["offset", "nbytes"])
        offset, fmt = TENSOR_FIELDS[field]
        value = rng.choice(ABSURD_U64 + (len(data), len(data) - 4, len(data) + 64))
        struct.pack_into(fmt, out, base + offset, value)
        return f"{kind}[{tensor}].{field}={value}", fix_crc(out)
    if kind == "header":
        at, fmt = rng.choice([(8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"),
                              (28, "<I"), (32, "<Q"), (40, "<I"), (44, "<I"), (52, "<I")])
        value = rng.choice([0, 1, 2, 3, 9, 64, 65, 2**16 - 1]) if fmt == "<H" else \
            rng.choice([v for v in ABSURD_U64 if v < (2**32 if fmt == "<I" else 2**64)])
        struct.pack_into(fmt, out, at, value)
        return f"header@{at}={value}", fix_crc(out)
    if kind == "layer":  # an integer field of a layer record
        layer = rng.randrange(_layers(data))
        at = LAYER_RECORD + 32 * layer + rng.choice([0, 4, 8, 12])
        value = rng.choice([0, 1, 2, 3, 2**31, 2**32 - 1])
        struct.pack_into("<I", out, at, value)
        return f"layer[{layer}]@{at}={value}", fix_crc(out)
    if kind == "scalar":  # scale_x / norm_eps (SRU), zoneout (QRNN)
        layer = rng.randrange(_layers(data))
        cell = struct.unpack_from("<I", data, 20)[0]
        at = LAYER_RECORD + 32 * layer + (rng.choice([20, 24]) if cell == 1 else 16)
        value = rng.choice(ABSURD_F32)
        struct.pack_into("<f", out, at, value)
        return f"scalar[{layer}]@{at}={value}", fix_crc(out)
    # an element of a float tensor (an int8 scale among them) set to an extreme
    offset, nbytes = struct.unpack_from("<QQ", data, base + 32)
    if nbytes < 4 or offset + nbytes > len(data):
        return "noop", bytes(out)
    at = offset + 4 * rng.randrange(nbytes // 4)
    value = rng.choice(ABSURD_F32)
    struct.pack_into("<f", out, at, value)
    return f"element[{tensor}]@{at}={value}", fix_crc(out)


def hostile_corpus(count: int = 400, seed: int = 19) -> dict[str, bytes]:
    """`count` hostile files (plus the valid bases), named by what was done."""
    rng = random.Random(seed)
    bases = base_files()
    corpus = {f"{name}.valid": data for name, data in bases.items()}
    names = sorted(bases)
    while len(corpus) < count + len(bases):
        base = rng.choice(names)
        what, data = mutate(bases[base], rng)
        corpus.setdefault(f"{base}.{what}", data)
    return corpus


def main(out_dir: str, count: int = 400) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = hostile_corpus(count)
    for index, (name, data) in enumerate(sorted(corpus.items())):
        (out / f"{index:05d}.mts").write_bytes(data)
        (out / f"{index:05d}.txt").write_text(name + "\n")
    print(f"wrote {len(corpus)} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/hostile",
                  int(sys.argv[2]) if len(sys.argv) > 2 else 400))
