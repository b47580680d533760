"""A small writer of .mts 2.0 images (docs/model-format.md, "Format 2.0"),
written from the format document for the tests, independently of the
package's writer: the fuzzer's 2.0 seeds, the binding's whole-model test and
the MicroPython checks build their files with it.

`image(stages)` takes a list of (kind, fields, tensors): kind one of
"sru", "qrnn", "norm", "dense", "softmax", "mingru", "minlstm", "indrnn";
fields the kind's record fields (missing ones are 0); tensors {tensor kind
name: ndarray} (float32, or int8 for a quantised product weight).
"""

import struct
import zlib

import numpy as np

MAGIC = b"\x89MTS\r\n\x1a\n"
HEADER_SIZE, STAGE_RECORD_SIZE, TENSOR_RECORD_SIZE, ALIGN = 64, 48, 48, 64
KIND_CODES = {"sru": 1, "qrnn": 2, "norm": 3, "dense": 4, "softmax": 5, "mingru": 6,
              "minlstm": 7, "indrnn": 8}
TENSOR_KINDS = {
    "sru": {"weight": 1, "weight_proj": 2, "weight_c": 3, "bias": 4, "norm_weight": 5,
            "norm_bias": 6, "weight_scale": 7, "weight_proj_scale": 8},
    "qrnn": {"weight": 1, "bias": 2, "weight_scale": 3},
    "norm": {"weight": 1, "bias": 2},
    "dense": {"weight": 1, "bias": 2, "weight_scale": 3},
    "softmax": {},
    "mingru": {"weight": 1, "weight_out": 2, "weight_scale": 3, "weight_out_scale": 4},
    "minlstm": {"weight": 1, "weight_out": 2, "weight_scale": 3, "weight_out_scale": 4},
    "indrnn": {"weight": 1, "bias": 2, "weight_scale": 3, "weight_hh": 4},
}
# The 40 bytes of kind fields at offset 8 of a stage record.
FIELDS = {
    "sru": ("<4I4B2f4x8x", ("input_size", "hidden_size", "num_directions", "projection_size",
                            "activation", "skip", "norm", "quant", "scale_x", "norm_eps")),
    "qrnn": ("<3I3Bxf12x8x", ("input_size", "hidden_size", "window", "input_gate",
                              "output_gate", "quant", "zoneout")),
    "norm": ("<IB3xf28x", ("size", "mode", "eps")),
    "dense": ("<IIBB30x", ("input_size", "output_size", "activation", "quant")),
    "softmax": ("<IB35x", ("size", "log")),
    "mingru": ("<3I2B26x", ("input_size", "hidden_size", "output_size", "has_output", "quant")),
    "minlstm": ("<3I2B26x", ("input_size", "hidden_size", "output_size", "has_output", "quant")),
    "indrnn": ("<2I2B30x", ("input_size", "hidden_size", "activation", "quant")),
}
for _fmt, _names in FIELDS.values():
    assert struct.calcsize(_fmt) == STAGE_RECORD_SIZE - 8, _fmt


def stage_record(kind: str, fields: dict) -> bytes:
    fmt, names = FIELDS[kind]
    return struct.pack("<II", KIND_CODES[kind], 0) + struct.pack(
        fmt, *(fields.get(name, 0) for name in names))


def image(stages: list) -> bytes:
    """The .mts 2.0 image of the stages, CRC and all."""
    records = b"".join(stage_record(kind, fields) for kind, fields, _ in stages)
    tensors = [(index, TENSOR_KINDS[kind][name], np.asarray(array))
               for index, (kind, _, arrays) in enumerate(stages)
               for name, array in arrays.items()]
    tensor_table = HEADER_SIZE + len(records)
    offset = tensor_table + TENSOR_RECORD_SIZE * len(tensors)
    table, data = b"", b""
    for index, kind, array in tensors:
        offset = -(-offset // ALIGN) * ALIGN
        int8 = array.dtype == np.int8
        raw = (array.astype(np.int8) if int8 else array.astype("<f4")).tobytes()
        dims = array.shape if array.ndim == 2 else (array.shape[0], 1)
        table += struct.pack("<4I4Q", index, kind, 2 if int8 else 1, array.ndim, *dims, offset,
                             len(raw))
        data += b"\0" * (offset - tensor_table - TENSOR_RECORD_SIZE * len(tensors) - len(data))
        data += raw
        offset += len(raw)
    body = records + table + data
    file_size = HEADER_SIZE + len(body)
    header = bytearray(struct.pack("<8sHHIIIIIQIIII8x", MAGIC, 2, 0, 0x01020304, HEADER_SIZE,
                                   0, len(stages), len(tensors), file_size, HEADER_SIZE,
                                   tensor_table, 0, 0))
    crc = zlib.crc32(bytes(header) + body)
    struct.pack_into("<I", header, 48, crc)
    return bytes(header) + body


def whole_model(rng: np.random.Generator, n: int = 5, hidden: int = 8, mid: int = 6,
                out: int = 4, quant: int = 0, log: int = 0) -> list:
    """norm (affine) -> SRU (scaled skip when n == hidden, else none; weight_c)
    -> dense(relu) -> dense -> softmax, random weights; quant 1 or 2 makes
    the dense stages int8 (per-row scales, max |w| / 127)."""
    def dense(m: int, k: int, act: int) -> tuple:
        w = rng.uniform(-0.8, 0.8, (m, k)).astype(np.float32)
        tensors = {"bias": rng.uniform(-0.3, 0.3, m).astype(np.float32)}
        if quant:
            scale = (np.abs(w).max(axis=1) / 127).astype(np.float32)
            tensors["weight"] = np.round(w / scale[:, None]).astype(np.int8)
            tensors["weight_scale"] = scale
        else:
            tensors["weight"] = w
        return ("dense", {"input_size": k, "output_size": m, "activation": act,
                          "quant": quant}, tensors)

    skip = 1 if n == hidden else 0
    return [
        ("norm", {"size": n, "mode": 0, "eps": 0.0},
         {"weight": rng.uniform(0.5, 1.5, n).astype(np.float32),
          "bias": rng.uniform(-0.5, 0.5, n).astype(np.float32)}),
        ("sru", {"input_size": n, "hidden_size": hidden, "num_directions": 1,
                 "activation": 1, "skip": skip, "scale_x": 0.75, "norm_eps": 1e-5},
         {"weight": rng.uniform(-0.6, 0.6, (3 * hidden, n)).astype(np.float32),
          "weight_c": rng.uniform(-0.5, 0.5, 2 * hidden).astype(np.float32),
          "bias": rng.uniform(-0.5, 0.5, 2 * hidden).astype(np.float32)}),
        dense(mid, hidden, 1),
        dense(out, mid, 0),
        ("softmax", {"size": out, "log": log}, {}),
    ]


def cells_model(rng: np.random.Generator, quant: int = 0) -> list:
    """Issue 20's cells: minGRU 5 -> hidden 6 with to_out 4 -> minLSTM (hidden
    4) -> IndRNN tanh 4 -> 5 -> IndRNN relu 5 -> 3, random weights; quant 1 or
    2 makes every product weight int8 (per-row scales, max |w| / 127)."""
    def weight(name: str, rows: int, cols: int) -> dict:
        w = rng.uniform(-0.8, 0.8, (rows, cols)).astype(np.float32)
        if not quant:
            return {name: w}
        scale = (np.abs(w).max(axis=1) / 127).astype(np.float32)
        return {name: np.round(w / scale[:, None]).astype(np.int8),
                ("weight_scale" if name == "weight" else name + "_scale"): scale}

    def indrnn(n: int, hidden: int, act: int) -> tuple:
        return ("indrnn", {"input_size": n, "hidden_size": hidden, "activation": act,
                           "quant": quant},
                {**weight("weight", hidden, n),
                 "bias": rng.uniform(-0.2, 0.2, hidden).astype(np.float32),
                 "weight_hh": rng.uniform(-0.95, 0.95, hidden).astype(np.float32)})

    return [
        ("mingru", {"input_size": 5, "hidden_size": 6, "output_size": 4, "has_output": 1,
                    "quant": quant}, {**weight("weight", 12, 5), **weight("weight_out", 4, 6)}),
        ("minlstm", {"input_size": 4, "hidden_size": 4, "output_size": 4, "quant": quant},
         weight("weight", 12, 4)),
        indrnn(4, 5, 2),
        indrnn(5, 3, 1),
    ]
