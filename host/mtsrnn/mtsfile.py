"""The `.mts` model file (docs/model-format.md): writer and validating reader.

`save(model, path)` writes a model with its weights in the kernels' layout
(the layout `kernels/include/mtsrnn/sru.h` and `qrnn.h` describe), each
tensor 64-byte aligned, the CRC-32 over the whole file. The bytes depend on
the model alone: saving one model twice gives identical files.

`load(source)` validates a file with the checks of the C loader
(`mts_file_load`, kernels/src/file.c), in the same order and with the same
status, so that a file is judged alike on the host and on the device; a
rejected file raises `ModelFileError` whose `.status` names the C status
code ("MTS_ERR_FILE_CRC", ...) and whose message says what was found and
what was expected. Where file.c and the document differ in the status a
file gets (the xfail tests at the end of tests/python/test_hostile_files.py),
this reader follows file.c. Two differences from the C loader, by design:

- the data must be exactly `file_size` bytes long: trailing bytes (which the
  C loader ignores, as a flash partition holds more than the file) raise
  MTS_ERR_FILE_HEADER. This is checked last, after every check the C loader
  makes, so that on any file the C loader rejects both report the same
  status;
- the alignment check (MTS_ERR_MISALIGNED) concerns a device's buffer, not
  the file, and does not apply: the reader copies the weights.

The file records only what the kernels need. The Python `Model` is built
from a PyTorch-layout state dict with one configuration for the whole stack
(`from_sru_state_dict`, `from_qrnn_state_dict`), so a file the C loader
accepts but whose layers differ in an option PyTorch sets per stack (for
example one tanh and one identity layer, or an SRU layer with a projected
skip term whose input size equals its output size) raises
`UnsupportedModelError`, a `ModelFileError` whose status "UNSUPPORTED" is not
a C status: the C loader accepts such a file.

`read(source)` returns the validated kernel-level contents (`ModelFile`)
without building a model; `encode(cell, layers)` is the low-level writer of
kernel-level layers, for tools and tests.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .model import (
    Model,
    from_qrnn_state_dict,
    from_sru_state_dict,
    sru_weight_from_kernel,
    sru_weight_to_kernel,
)

__all__ = [
    "ModelFile",
    "ModelFileError",
    "STATUS_CODES",
    "STATUS_NAMES",
    "UnsupportedModelError",
    "crc32",
    "describe_layer",
    "encode",
    "kernel_layers",
    "load",
    "model_from_contents",
    "read",
    "save",
    "to_bytes",
]

MAGIC = b"\x89MTS\r\n\x1a\n"
VERSION_MAJOR = 1
VERSION_MINOR = 1  # 1.1: int8 weights (written only for quantised models)
BYTE_ORDER_MARK = 0x01020304
HEADER_SIZE = 64
LAYER_RECORD_SIZE = 32
TENSOR_RECORD_SIZE = 48
DATA_ALIGNMENT = 64
CRC_OFFSET = 48
DTYPE_F32 = 1
DTYPE_I8 = 2  # the products' weights of quantised layers only
# Layer record `quant` (mts_quant): 0 float32, 1 int8-w, 2 int8-wa.
QUANT_NAMES = {1: "int8-w", 2: "int8-wa"}
QUANT_CODES = {name: code for code, name in QUANT_NAMES.items()}
MAX_INT8_WA_DEPTH = 133144  # MTS_I8_MAX_DEPTH: int32 sums cannot overflow

CELL_SRU, CELL_QRNN = 1, 2
CELL_NAMES = {CELL_SRU: "sru", CELL_QRNN: "qrnn"}
CELL_CODES = {name: code for code, name in CELL_NAMES.items()}

# Tensor kinds (format table).
KIND_WEIGHT = 1
SRU_KIND_WEIGHT_PROJ, SRU_KIND_WEIGHT_C, SRU_KIND_BIAS = 2, 3, 4
SRU_KIND_NORM_WEIGHT, SRU_KIND_NORM_BIAS = 5, 6
QRNN_KIND_BIAS = 2
SRU_KIND_WEIGHT_SCALE, SRU_KIND_WEIGHT_PROJ_SCALE = 7, 8
QRNN_KIND_WEIGHT_SCALE = 3
KIND_NAMES = {
    CELL_SRU: {1: "weight", 2: "weight_proj", 3: "weight_c", 4: "bias", 5: "norm_weight",
               6: "norm_bias", 7: "weight_scale", 8: "weight_proj_scale"},
    CELL_QRNN: {1: "weight", 2: "bias", 3: "weight_scale"},
}
# Kinds that may hold int8 (with the scale kind that goes with each).
INT8_KINDS = {
    CELL_SRU: {KIND_WEIGHT: SRU_KIND_WEIGHT_SCALE,
               SRU_KIND_WEIGHT_PROJ: SRU_KIND_WEIGHT_PROJ_SCALE},
    CELL_QRNN: {KIND_WEIGHT: QRNN_KIND_WEIGHT_SCALE},
}

# Limits of the kernels (kernels/include/mtsrnn/model.h, kernels/src/internal.h).
MAX_DIM = 0x1000000
MAX_LAYERS = 64
MAX_WINDOW = 64
_UINT64_MAX = 2**64 - 1
_SIZE_MAX = sys.maxsize * 2 + 1  # this host's size_t, as the C loader in _core sees it

# mts_status (kernels/include/mtsrnn/status.h).
STATUS_CODES = {
    "MTS_OK": 0,
    "MTS_ERR_NULL_POINTER": 1,
    "MTS_ERR_BAD_SIZE": 2,
    "MTS_ERR_OVERFLOW": 3,
    "MTS_ERR_BAD_CONFIG": 4,
    "MTS_ERR_WORKSPACE_TOO_SMALL": 5,
    "MTS_ERR_BAD_STATE_SIZE": 6,
    "MTS_ERR_OVERLAP": 7,
    "MTS_ERR_MISALIGNED": 8,
    "MTS_ERR_FILE_TRUNCATED": 9,
    "MTS_ERR_FILE_MAGIC": 10,
    "MTS_ERR_FILE_VERSION": 11,
    "MTS_ERR_FILE_BYTE_ORDER": 12,
    "MTS_ERR_FILE_HEADER": 13,
    "MTS_ERR_FILE_CRC": 14,
    "MTS_ERR_FILE_LAYER": 15,
    "MTS_ERR_FILE_TENSOR": 16,
    "MTS_ERR_FILE_SHAPE": 17,
    "MTS_ERR_DESCRIPTORS_TOO_SMALL": 18,
    "MTS_ERR_BUFFER_TOO_SMALL": 19,
}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}

# Little-endian records, no padding (sizes asserted below).
_HEADER = struct.Struct("<8sHHIIIIIQIIII8s")
_SRU_RECORD = struct.Struct("<IIIIBBBBffI")
_QRNN_RECORD = struct.Struct("<IIIBBBBf12s")
_TENSOR_RECORD = struct.Struct("<IIIIQQQQ")
assert _HEADER.size == HEADER_SIZE
assert _SRU_RECORD.size == _QRNN_RECORD.size == LAYER_RECORD_SIZE
assert _TENSOR_RECORD.size == TENSOR_RECORD_SIZE

_ACTIVATIONS = {0: "identity", 1: "tanh"}
_SKIPS = {0: "none", 1: "scaled input", 2: "projected (u3)"}
_NORMS = {0: "none", 1: "before", 2: "after"}


class ModelFileError(ValueError):
    """A model file the reader rejects. `.status` is the name of the C status
    code the C loader returns for the same file (see STATUS_CODES), `.code`
    its value."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = STATUS_CODES.get(status)

    def __str__(self) -> str:
        return f"{self.message} [{self.status}]"


class UnsupportedModelError(ModelFileError):
    """A valid file (the C loader accepts it) that the Python `Model` cannot
    represent: its layers differ in an option that a PyTorch-layout model sets
    for the whole stack. `.status` is "UNSUPPORTED" (no C status)."""

    def __init__(self, message: str):
        super().__init__(message, "UNSUPPORTED")


def _fail(status: str, message: str) -> ModelFileError:
    return ModelFileError(message, status)


@dataclass
class ModelFile:
    """The validated kernel-level contents of an .mts file.

    layers: one dict per layer with the record's fields (SRU: input_size,
    hidden_size, num_directions, projection_size, activation, skip, norm,
    scale_x, norm_eps; QRNN: input_size, hidden_size, window, input_gate,
    output_gate, zoneout). tensors: one dict per layer, kind -> float32 array
    of the record's shape (1-D tensors as 1-D arrays), kernel layout."""

    cell: str
    version: tuple[int, int]
    layers: list[dict[str, Any]]
    tensors: list[dict[int, np.ndarray]]
    file_size: int
    crc32: int
    records: list[dict[str, int]] = field(default_factory=list)  # tensor records, file order

    @property
    def input_size(self) -> int:
        return int(self.layers[0]["input_size"])

    @property
    def output_size(self) -> int:
        return _layer_output(self.cell, self.layers[-1])

    @property
    def parameter_count(self) -> int:
        return sum(array.size for layer in self.tensors for array in layer.values())

    @property
    def tensor_bytes(self) -> int:
        return sum(array.nbytes for layer in self.tensors for array in layer.values())


def _layer_output(cell: str, layer: Mapping[str, Any]) -> int:
    if cell == "sru":
        return int(layer["num_directions"]) * int(layer["hidden_size"])
    return int(layer["hidden_size"])


def crc32(data: bytes | bytearray | memoryview, file_size: int | None = None) -> int:
    """The CRC-32 of an .mts image (its first file_size bytes, all of data by
    default) with the crc32 field taken as zero."""
    view = memoryview(data).cast("B")
    end = len(view) if file_size is None else file_size
    crc = zlib.crc32(view[:CRC_OFFSET])
    crc = zlib.crc32(b"\0\0\0\0", crc)
    return zlib.crc32(view[CRC_OFFSET + 4:end], crc)


# ---- writer ----------------------------------------------------------------

def _f32(value: Any) -> np.ndarray:
    return np.ascontiguousarray(value, dtype=np.float32)


def _sru_kernel_layers(model: Model) -> list[tuple[dict[str, Any], dict[int, np.ndarray]]]:
    state = model.state_dict()
    config = model.config
    directions = 2 if config["bidirectional"] else 1
    if any(key.startswith("rnn_lst.") for key in state):
        prefixes = [f"rnn_lst.{i}." for i in range(model.num_layers)]
    else:  # an SRUCell state dict
        prefixes = [""]
    layers = []
    for prefix in prefixes:
        weight = state[prefix + "weight"]
        bias = state[prefix + "bias"]
        out = bias.size // 2
        hidden = out // directions
        proj = state.get(prefix + "weight_proj")
        n = proj.shape[0] if proj is not None else weight.shape[0]
        k = weight.shape[1] // out
        skip = 0 if not config["has_skip_term"] else 2 if k == 4 else 1
        has_norm = prefix + "layer_norm.weight" in state
        norm = 0 if not has_norm else 2 if config["normalize_after"] else 1
        scale_x = state.get(prefix + "scale_x")
        fields = dict(
            input_size=n, hidden_size=hidden, num_directions=directions,
            projection_size=proj.shape[1] if proj is not None else 0,
            activation=1 if config["use_tanh"] else 0, skip=skip, norm=norm,
            scale_x=float(np.float32(scale_x.reshape(()) if scale_x is not None else 1.0)),
            norm_eps=float(np.float32(config["layer_norm_eps"])),
            quant=QUANT_CODES.get(model.quantization, 0))
        tensors = {KIND_WEIGHT: sru_weight_to_kernel(weight, directions, hidden, k)}
        if proj is not None:
            tensors[SRU_KIND_WEIGHT_PROJ] = _f32(proj.T)
        if model.quantization is not None:
            quantized = model.quantized_tensors[len(layers)]
            tensors[KIND_WEIGHT] = quantized["weight_q"]
            tensors[SRU_KIND_WEIGHT_SCALE] = quantized["weight_scale"]
            if proj is not None:
                tensors[SRU_KIND_WEIGHT_PROJ] = quantized["weight_proj_q"]
                tensors[SRU_KIND_WEIGHT_PROJ_SCALE] = quantized["weight_proj_scale"]
        if prefix + "weight_c" in state:
            tensors[SRU_KIND_WEIGHT_C] = _f32(state[prefix + "weight_c"])
        tensors[SRU_KIND_BIAS] = _f32(bias)
        if has_norm:
            tensors[SRU_KIND_NORM_WEIGHT] = _f32(state[prefix + "layer_norm.weight"])
            tensors[SRU_KIND_NORM_BIAS] = _f32(state[prefix + "layer_norm.bias"])
        layers.append((fields, tensors))
    return layers


def _qrnn_kernel_layers(model: Model) -> list[tuple[dict[str, Any], dict[int, np.ndarray]]]:
    state = model.state_dict()
    config = model.config
    layers = []
    for i in range(model.num_layers):
        weight = _f32(state[f"layers.{i}.linear.weight"])
        bias = _f32(state[f"layers.{i}.linear.bias"])
        gates = 2 + (config["pooling"] == "ifo") + bool(config["output_gate"])
        fields = dict(
            input_size=weight.shape[1] // config["window"], hidden_size=weight.shape[0] // gates,
            window=config["window"], input_gate=int(config["pooling"] == "ifo"),
            output_gate=int(bool(config["output_gate"])),
            zoneout=float(np.float32(config["zoneout"])),
            quant=QUANT_CODES.get(model.quantization, 0))
        tensors = {KIND_WEIGHT: weight, QRNN_KIND_BIAS: bias}
        if model.quantization is not None:
            tensors[KIND_WEIGHT] = model.quantized_tensors[i]["weight_q"]
            tensors[QRNN_KIND_WEIGHT_SCALE] = model.quantized_tensors[i]["weight_scale"]
        layers.append((fields, tensors))
    return layers


def kernel_layers(model: Model) -> list[tuple[dict[str, Any], dict[int, np.ndarray]]]:
    """The model's layers at kernel level: per layer the record's fields (as in
    `ModelFile.layers`) and its tensors, kind -> array in the kernel layout
    (what the file stores and the C descriptors point to): float32, and for a
    quantised model int8 product weights plus their float32 scales."""
    if not isinstance(model, Model):
        raise TypeError(f"expected a mtsrnn.Model, got {type(model).__name__}")
    if model.cell == "sru":
        return _sru_kernel_layers(model)
    return _qrnn_kernel_layers(model)


def _pack_layer(cell: int, fields: Mapping[str, Any]) -> bytes:
    if cell == CELL_SRU:
        return _SRU_RECORD.pack(
            fields["input_size"], fields["hidden_size"], fields["num_directions"],
            fields["projection_size"], fields["activation"], fields["skip"], fields["norm"],
            fields.get("quant", 0), fields["scale_x"], fields["norm_eps"], 0)
    return _QRNN_RECORD.pack(
        fields["input_size"], fields["hidden_size"], fields["window"], fields["input_gate"],
        fields["output_gate"], fields.get("quant", 0), 0, fields["zoneout"], bytes(12))


def _align(offset: int) -> int:
    return -(-offset // DATA_ALIGNMENT) * DATA_ALIGNMENT


def encode(cell: str, layers: Sequence[tuple[Mapping[str, Any], Mapping[int, Any]]]) -> bytes:
    """The .mts image of kernel-level layers: (fields, {kind: array}) per layer,
    as `kernel_layers` returns them. Tensors are written layer by layer in
    increasing kind, each at the next multiple of 64 bytes; 1-D arrays get
    ndim 1, 2-D arrays ndim 2; int8 arrays dtype 2, all others float32. The
    minor version is 1 when a layer is quantised, else 0 (a 1.0 file, byte
    for byte what 1.0 writers wrote). Nothing is validated here beyond the
    record formats (a test can write an invalid file on purpose)."""
    cell_code = CELL_CODES[cell]
    num_layers = len(layers)
    entries = [(index, kind, np.ascontiguousarray(
                   array, dtype="i1" if np.asarray(array).dtype == np.int8 else "<f4"))
               for index, (_fields, tensors) in enumerate(layers)
               for kind, array in sorted(tensors.items())]
    minor = 1 if any(fields.get("quant", 0) for fields, _tensors in layers) else 0
    tensor_table = HEADER_SIZE + LAYER_RECORD_SIZE * num_layers
    offset = tensor_table + TENSOR_RECORD_SIZE * len(entries)
    records = []
    chunks = []
    for index, kind, array in entries:
        if array.ndim not in (1, 2):
            raise ValueError(f"layer {index} tensor kind {kind}: expected 1 or 2 dimensions, "
                             f"got shape {array.shape}")
        offset = _align(offset)
        dim0 = array.shape[0]
        dim1 = array.shape[1] if array.ndim == 2 else 1
        dtype = DTYPE_I8 if array.dtype == np.int8 else DTYPE_F32
        records.append(_TENSOR_RECORD.pack(index, kind, dtype, array.ndim, dim0, dim1,
                                           offset, array.nbytes))
        chunks.append((offset, array.tobytes()))
        offset += array.nbytes
    file_size = offset
    image = bytearray(file_size)
    image[0:HEADER_SIZE] = _HEADER.pack(
        MAGIC, VERSION_MAJOR, minor, BYTE_ORDER_MARK, HEADER_SIZE, cell_code,
        num_layers, len(entries), file_size, HEADER_SIZE, tensor_table, 0, 0, bytes(8))
    for index, (fields, _tensors) in enumerate(layers):
        start = HEADER_SIZE + LAYER_RECORD_SIZE * index
        image[start:start + LAYER_RECORD_SIZE] = _pack_layer(cell_code, fields)
    for index, record in enumerate(records):
        start = tensor_table + TENSOR_RECORD_SIZE * index
        image[start:start + TENSOR_RECORD_SIZE] = record
    for start, payload in chunks:
        image[start:start + len(payload)] = payload
    struct.pack_into("<I", image, CRC_OFFSET, crc32(image))
    return bytes(image)


def to_bytes(model: Model) -> bytes:
    """The .mts image of a model (what `save` writes)."""
    return encode(model.cell, kernel_layers(model))


def save(model: Model, path_or_file: Any) -> None:
    """Write `model` as an .mts file to a path or a binary file object."""
    image = to_bytes(model)
    if hasattr(path_or_file, "write"):
        path_or_file.write(image)
        return
    with open(path_or_file, "wb") as f:
        f.write(image)


# ---- reader ----------------------------------------------------------------

def _source_bytes(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("the file object must be opened in binary mode")
        return bytes(data)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return f.read()
    raise TypeError(f"expected a path, bytes or a binary file object, got "
                    f"{type(source).__name__}")


def _read_header(data: bytes) -> dict[str, int]:
    """Checks 1-5 (as read_header in kernels/src/file.c)."""
    size = len(data)
    if size < HEADER_SIZE:
        raise _fail("MTS_ERR_FILE_TRUNCATED",
                    f"the data is {size} bytes long, shorter than the {HEADER_SIZE}-byte header")
    (magic, major, minor, byte_order, header_size, cell, num_layers, num_tensors, file_size,
     layer_table, tensor_table, crc, flags, reserved) = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise _fail("MTS_ERR_FILE_MAGIC",
                    f"not an .mts model file: the magic is {magic.hex(' ')}, expected "
                    f"{MAGIC.hex(' ')}")
    if major != VERSION_MAJOR:
        raise _fail("MTS_ERR_FILE_VERSION",
                    f"format version {major}.{minor}: this reader reads major version "
                    f"{VERSION_MAJOR} only")
    if byte_order != BYTE_ORDER_MARK:
        raise _fail("MTS_ERR_FILE_BYTE_ORDER",
                    f"byte_order is 0x{byte_order:08x}, expected 0x{BYTE_ORDER_MARK:08x} "
                    "(a little-endian file); the file has another byte order or is corrupt")
    if file_size > size:
        raise _fail("MTS_ERR_FILE_TRUNCATED",
                    f"the header says the file is {file_size} bytes, but the data is only "
                    f"{size} bytes long")
    kinds = len(KIND_NAMES.get(cell, ()))
    expected_tensor_table = HEADER_SIZE + LAYER_RECORD_SIZE * num_layers
    problems = []
    if header_size != HEADER_SIZE:
        problems.append(f"header_size is {header_size}, expected {HEADER_SIZE}")
    if flags != 0:
        problems.append(f"flags is 0x{flags:08x}, expected 0 (reserved)")
    if reserved != bytes(8):
        problems.append(f"reserved header bytes are {reserved.hex(' ')}, expected zeros")
    if cell not in CELL_NAMES:
        problems.append(f"cell is {cell}, expected 1 (SRU) or 2 (QRNN)")
    if not 1 <= num_layers <= MAX_LAYERS:
        problems.append(f"num_layers is {num_layers}, expected 1 to {MAX_LAYERS}")
    if cell in CELL_NAMES and not 1 <= num_tensors <= kinds * num_layers:
        problems.append(f"num_tensors is {num_tensors}, expected 1 to {kinds} * num_layers "
                        f"= {kinds * num_layers}")
    if layer_table != HEADER_SIZE:
        problems.append(f"layer_table_offset is {layer_table}, expected {HEADER_SIZE}")
    if tensor_table != expected_tensor_table:
        problems.append(f"tensor_table_offset is {tensor_table}, expected "
                        f"{HEADER_SIZE} + {LAYER_RECORD_SIZE} * num_layers = "
                        f"{expected_tensor_table}")
    if problems:
        raise _fail("MTS_ERR_FILE_HEADER", "invalid header: " + "; ".join(problems))
    tables_end = tensor_table + TENSOR_RECORD_SIZE * num_tensors
    if file_size < tables_end:
        raise _fail("MTS_ERR_FILE_HEADER",
                    f"file_size is {file_size} bytes, too small for the header and tables "
                    f"({tables_end} bytes)")
    return dict(major=major, minor=minor, cell=cell, num_layers=num_layers,
                num_tensors=num_tensors, file_size=file_size, layer_table=layer_table,
                tensor_table=tensor_table, tables_end=tables_end, crc=crc)


def _read_layer(cell: int, data: bytes, offset: int, index: int) -> dict[str, Any]:
    """Check 8 for one layer record."""
    if cell == CELL_SRU:
        (n, hidden, directions, projection, activation, skip, norm, quant, scale_x,
         norm_eps, reserved32) = _SRU_RECORD.unpack_from(data, offset)
        if reserved32 != 0:
            raise _fail("MTS_ERR_FILE_LAYER",
                        f"layer {index}: reserved bytes are set (bytes 28-31 = "
                        f"0x{reserved32:08x}), expected zeros")
        return dict(input_size=n, hidden_size=hidden, num_directions=directions,
                    projection_size=projection, activation=activation, skip=skip, norm=norm,
                    scale_x=scale_x, norm_eps=norm_eps, quant=quant)
    (n, hidden, window, input_gate, output_gate, quant, reserved8, zoneout,
     reserved12) = _QRNN_RECORD.unpack_from(data, offset)
    if reserved8 != 0 or reserved12 != bytes(12):
        raise _fail("MTS_ERR_FILE_LAYER",
                    f"layer {index}: reserved bytes are set (byte 15 = {reserved8}, "
                    f"bytes 20-31 = {reserved12.hex(' ')}), expected zeros")
    return dict(input_size=n, hidden_size=hidden, window=window, input_gate=input_gate,
                output_gate=output_gate, zoneout=zoneout, quant=quant)


def _read_tensor(data: bytes, header: Mapping[str, int], index: int) -> dict[str, int]:
    """Check 9 for one tensor record (as read_tensor in kernels/src/file.c)."""
    cell = header["cell"]
    kinds = len(KIND_NAMES[cell])
    offset_in_table = header["tensor_table"] + TENSOR_RECORD_SIZE * index
    (layer, kind, dtype, ndim, dim0, dim1, offset,
     nbytes) = _TENSOR_RECORD.unpack_from(data, offset_in_table)
    where = f"tensor record {index} (layer {layer}, kind {kind})"
    if layer >= header["num_layers"]:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: layer index {layer} out of range, the "
                    f"file has {header['num_layers']} layer(s)")
    if not 1 <= kind <= kinds:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: unknown kind {kind}, expected 1 to "
                    f"{kinds} in an {CELL_NAMES[cell].upper()} file")
    int8_kinds = INT8_KINDS[cell]
    if dtype != DTYPE_F32 and not (dtype == DTYPE_I8 and kind in int8_kinds):
        allowed = (f"{DTYPE_F32} (float32) or {DTYPE_I8} (int8)" if kind in int8_kinds
                   else f"{DTYPE_F32} (float32): only " + " and ".join(
                       KIND_NAMES[cell][k] for k in int8_kinds) + " may be int8")
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: dtype {dtype}, expected {allowed}")
    if ndim not in (1, 2):
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: ndim {ndim}, expected 1 or 2")
    if ndim == 1 and dim1 != 1:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: a 1-D tensor with dim1 = {dim1}, "
                    "expected 1")
    if dim0 == 0 or dim1 == 0:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: empty shape ({dim0}, {dim1}), expected "
                    "dimensions >= 1")
    item = 1 if dtype == DTYPE_I8 else 4
    expected = dim0 * dim1 * item  # exact: Python integers do not overflow
    if expected != nbytes:
        detail = ("the product overflows 64 bits" if expected > _UINT64_MAX
                  else f"expected dim0 * dim1 * {item} = {expected}")
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: nbytes is {nbytes} for shape "
                    f"({dim0}, {dim1}): {detail}")
    if offset % DATA_ALIGNMENT:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: data offset {offset} is not a multiple "
                    f"of {DATA_ALIGNMENT}")
    if offset < header["tables_end"]:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: data at offset {offset} overlaps the "
                    f"header and tables (bytes 0 to {header['tables_end']})")
    if nbytes > header["file_size"] or offset > header["file_size"] - nbytes:
        raise _fail("MTS_ERR_FILE_TENSOR", f"{where}: data [{offset}, {offset} + {nbytes}) "
                    f"runs past the end of the file ({header['file_size']} bytes)")
    return dict(layer=layer, kind=kind, dtype=dtype, ndim=ndim, dim0=dim0, dim1=dim1,
                offset=offset, nbytes=nbytes)


def _f32_text(value: float) -> str:
    return str(np.float32(value))


def _in_dim_range(value: int) -> bool:
    return 1 <= value <= MAX_DIM


def _check_sru_config(layer: Mapping[str, Any], index: int) -> dict[str, int]:
    """mts_sru_layer_array_sizes: element counts of each array, or the status
    the kernels give the record."""
    where = f"layer {index}"
    n, hidden = layer["input_size"], layer["hidden_size"]
    directions, projection = layer["num_directions"], layer["projection_size"]
    if not _in_dim_range(n) or not _in_dim_range(hidden) or projection > MAX_DIM:
        raise _fail("MTS_ERR_BAD_SIZE", f"{where}: input_size {n}, hidden_size {hidden}, "
                    f"projection_size {projection}: sizes must be in [1, {MAX_DIM}] "
                    f"(projection_size in [0, {MAX_DIM}])")
    if directions not in (1, 2):
        raise _fail("MTS_ERR_BAD_CONFIG", f"{where}: num_directions is {directions}, "
                    "expected 1 or 2")
    if layer["activation"] > 1 or layer["skip"] > 2 or layer["norm"] > 2:
        raise _fail("MTS_ERR_BAD_CONFIG", f"{where}: activation {layer['activation']}, skip "
                    f"{layer['skip']}, norm {layer['norm']}: expected activation 0-1, skip "
                    "0-2, norm 0-2")
    out = directions * hidden
    if layer["skip"] == 1 and n != out:
        raise _fail("MTS_ERR_BAD_CONFIG", f"{where}: a scaled-input skip term (skip 1) needs "
                    f"input_size == num_directions * hidden_size, got {n} != {out}")
    if layer["norm"] != 0 and not layer["norm_eps"] > 0:
        raise _fail("MTS_ERR_BAD_CONFIG", f"{where}: norm_eps is {_f32_text(layer['norm_eps'])}, "
                    "expected > 0 with layer norm")
    _check_quant(layer, index, max(n, projection))
    k = 4 if layer["skip"] == 2 else 3
    depth = projection or n
    weight = k * out * depth
    weight_proj = projection * n
    if weight * 4 > _SIZE_MAX or weight_proj * 4 > _SIZE_MAX:
        raise _fail("MTS_ERR_OVERFLOW", f"{where}: the weight byte counts overflow size_t")
    norm_size = n if layer["norm"] == 1 else out if layer["norm"] == 2 else 0
    return dict(weight=weight, weight_proj=weight_proj, weight_c=2 * out, bias=2 * out,
                norm_weight=norm_size, norm_bias=norm_size, depth=depth,
                weight_rows=k * out, weight_proj_rows=projection)


def _check_quant(layer: Mapping[str, Any], index: int, depth: int) -> None:
    """The quant byte of a layer record: known, and int8-wa within the int32 depth."""
    quant = layer.get("quant", 0)
    if quant not in (0, *QUANT_NAMES):
        raise _fail("MTS_ERR_BAD_CONFIG", f"layer {index}: quant is {quant}, expected 0 "
                    "(float32), 1 (int8-w) or 2 (int8-wa)")
    if quant == QUANT_CODES["int8-wa"] and depth > MAX_INT8_WA_DEPTH:
        raise _fail("MTS_ERR_BAD_CONFIG", f"layer {index}: int8-wa with a product depth of "
                    f"{depth}, more than {MAX_INT8_WA_DEPTH} (the int32 sums could overflow)")


def _check_qrnn_config(layer: Mapping[str, Any], index: int) -> dict[str, int]:
    """mts_qrnn_layer_array_sizes."""
    where = f"layer {index}"
    n, hidden, window = layer["input_size"], layer["hidden_size"], layer["window"]
    if not _in_dim_range(n) or not _in_dim_range(hidden):
        raise _fail("MTS_ERR_BAD_SIZE", f"{where}: input_size {n}, hidden_size {hidden}: "
                    f"sizes must be in [1, {MAX_DIM}]")
    if not 1 <= window <= MAX_WINDOW:
        raise _fail("MTS_ERR_BAD_SIZE", f"{where}: window is {window}, expected 1 to "
                    f"{MAX_WINDOW}")
    zoneout = layer["zoneout"]
    if layer["input_gate"] > 1 or layer["output_gate"] > 1 or not 0.0 <= zoneout <= 1.0:
        raise _fail("MTS_ERR_BAD_CONFIG", f"{where}: input_gate {layer['input_gate']}, "
                    f"output_gate {layer['output_gate']}, zoneout {_f32_text(zoneout)}: "
                    "expected gates 0 or 1 and zoneout in [0, 1]")
    _check_quant(layer, index, window * n)
    gates = 2 + layer["input_gate"] + layer["output_gate"]
    weight = gates * hidden * window * n
    if weight * 4 > _SIZE_MAX:
        raise _fail("MTS_ERR_OVERFLOW", f"{where}: the weight byte count overflows size_t")
    return dict(weight=weight, bias=gates * hidden, depth=window * n,
                weight_rows=gates * hidden)


def _shape_text(record: Mapping[str, int] | None) -> str:
    if record is None:
        return "absent"
    if record["ndim"] == 1:
        return f"({record['dim0']},)"
    return f"({record['dim0']}, {record['dim1']})"


def _check_shapes(cell: int, layer: Mapping[str, Any], index: int,
                  found: Mapping[int, dict[str, int]]) -> None:
    """Check 10 for one layer (attach_sru / attach_qrnn in kernels/src/file.c):
    exactly the tensors the configuration needs, with its shapes."""
    if cell == CELL_SRU:
        sizes = _check_sru_config(layer, index)
        depth = sizes["depth"]
        expected = {KIND_WEIGHT: (2, sizes["weight"] // depth, depth),
                    SRU_KIND_BIAS: (1, sizes["bias"], 1)}
        optional = {SRU_KIND_WEIGHT_C: (1, sizes["weight_c"], 1)}
        if sizes["weight_proj"]:
            expected[SRU_KIND_WEIGHT_PROJ] = (2, layer["projection_size"], layer["input_size"])
        if sizes["norm_weight"]:
            expected[SRU_KIND_NORM_WEIGHT] = (1, sizes["norm_weight"], 1)
            expected[SRU_KIND_NORM_BIAS] = (1, sizes["norm_bias"], 1)
    else:
        sizes = _check_qrnn_config(layer, index)
        depth = sizes["depth"]
        expected = {KIND_WEIGHT: (2, sizes["weight"] // depth, depth),
                    QRNN_KIND_BIAS: (1, sizes["bias"], 1)}
        optional = {}
    quantized = layer.get("quant", 0) != 0
    if quantized:
        # Each int8 weight comes with its per-row scales.
        scale_rows = {KIND_WEIGHT: sizes["weight_rows"],
                      SRU_KIND_WEIGHT_PROJ: sizes.get("weight_proj_rows", 0)}
        for kind, scale_kind in INT8_KINDS[cell].items():
            if kind in expected:
                expected[scale_kind] = (1, scale_rows[kind], 1)
    names = KIND_NAMES[cell]
    for kind in INT8_KINDS[cell]:
        record = found.get(kind)
        if record is not None and (record["dtype"] == DTYPE_I8) != quantized:
            raise _fail("MTS_ERR_FILE_SHAPE", f"layer {index} {names[kind]}: dtype "
                        f"{record['dtype']}, expected "
                        + (f"{DTYPE_I8} (int8): the layer is quantised "
                           f"({QUANT_NAMES[layer['quant']]})" if quantized
                           else f"{DTYPE_F32} (float32): the layer is not quantised"))
    for kind in sorted(set(expected) | set(optional) | set(found)):
        record = found.get(kind)
        want = expected.get(kind) or optional.get(kind)
        got = None if record is None else (record["ndim"], record["dim0"], record["dim1"])
        if got == want or (record is None and kind in optional):
            continue
        if want is None:
            wanted = "none: this configuration has no such tensor"
        else:
            wanted = f"({want[1]},)" if want[0] == 1 else f"({want[1]}, {want[2]})"
            wanted = ("absent or " if kind in optional else "") + wanted
        raise _fail("MTS_ERR_FILE_SHAPE", f"layer {index} {names[kind]}: "
                    f"{_shape_text(record)}, expected {wanted} "
                    f"({_describe_layer(CELL_NAMES[cell], layer)})")


def _check_chain(cell: int, layers: Sequence[Mapping[str, Any]]) -> None:
    """The chaining rules of mts_model_check."""
    name = CELL_NAMES[cell]
    first_out = _layer_output(name, layers[0])
    previous = first_out
    for index, layer in enumerate(layers[1:], start=1):
        out = _layer_output(name, layer)
        if layer["input_size"] != previous:
            raise _fail("MTS_ERR_BAD_CONFIG", f"layer {index}: input_size "
                        f"{layer['input_size']}, expected {previous} (layer {index - 1}'s "
                        "output size)")
        if out != first_out:
            raise _fail("MTS_ERR_BAD_CONFIG", f"layer {index}: output size {out}, expected "
                        f"{first_out}: all layers must have one output size")
        previous = out


def _parse(data: bytes) -> ModelFile:
    header = _read_header(data)
    stored_crc = header["crc"]
    actual_crc = crc32(data, header["file_size"])
    if actual_crc != stored_crc:
        raise _fail("MTS_ERR_FILE_CRC", f"CRC-32 mismatch: the header says 0x{stored_crc:08x}, "
                    f"the data gives 0x{actual_crc:08x} (the file is corrupt)")
    cell = header["cell"]
    layers = [_read_layer(cell, data, HEADER_SIZE + LAYER_RECORD_SIZE * index, index)
              for index in range(header["num_layers"])]
    records = [_read_tensor(data, header, index) for index in range(header["num_tensors"])]
    found: list[dict[int, dict[str, int]]] = [{} for _ in layers]
    for index, record in enumerate(records):
        slot = found[record["layer"]]
        if record["kind"] in slot:
            raise _fail("MTS_ERR_FILE_TENSOR",
                        f"tensor record {index}: a second {KIND_NAMES[cell][record['kind']]} "
                        f"of layer {record['layer']}; each (layer, kind) may appear once")
        slot[record["kind"]] = record
    for index, layer in enumerate(layers):
        _check_shapes(cell, layer, index, found[index])
    _check_chain(cell, layers)
    if len(data) != header["file_size"]:
        raise _fail("MTS_ERR_FILE_HEADER",
                    f"the data is {len(data)} bytes long, but the header says the file is "
                    f"{header['file_size']} bytes ({len(data) - header['file_size']} trailing "
                    "bytes); the Python reader needs the exact file")
    tensors = []
    for slot in found:
        arrays = {}
        for kind, record in sorted(slot.items()):
            count = record["dim0"] * record["dim1"]
            int8 = record["dtype"] == DTYPE_I8
            array = np.frombuffer(data, dtype="i1" if int8 else "<f4", count=count,
                                  offset=record["offset"])
            shape = (record["dim0"],) if record["ndim"] == 1 else (record["dim0"],
                                                                    record["dim1"])
            arrays[kind] = array.astype(np.int8 if int8 else np.float32).reshape(shape)
        tensors.append(arrays)
    return ModelFile(cell=CELL_NAMES[cell], version=(header["major"], header["minor"]),
                     layers=layers, tensors=tensors, file_size=header["file_size"],
                     crc32=stored_crc, records=records)


def read(source: Any) -> ModelFile:
    """Validate an .mts file (a path, bytes or a binary file object) and
    return its kernel-level contents. Raises ModelFileError."""
    return _parse(_source_bytes(source))


# ---- from the file to a Model ----------------------------------------------

def _describe_layer(cell: str, layer: Mapping[str, Any]) -> str:
    if cell == "sru":
        return (f"SRU input {layer['input_size']}, hidden {layer['hidden_size']} x "
                f"{layer['num_directions']} direction(s), projection "
                f"{layer['projection_size'] or 'none'}, activation "
                f"{_ACTIVATIONS.get(layer['activation'], layer['activation'])}, skip "
                f"{_SKIPS.get(layer['skip'], layer['skip'])}, norm "
                f"{_NORMS.get(layer['norm'], layer['norm'])}")
    pooling = "ifo" if layer["input_gate"] else "fo" if layer["output_gate"] else "f"
    return (f"QRNN input {layer['input_size']}, hidden {layer['hidden_size']}, window "
            f"{layer['window']}, {pooling}-pooling, output gate "
            f"{'on' if layer['output_gate'] else 'off'}, zoneout {_f32_text(layer['zoneout'])}")


def describe_layer(cell: str, layer: Mapping[str, Any]) -> str:
    """One line describing a kernel-level layer record."""
    return _describe_layer(cell, layer)


def _decimal(value: float) -> float:
    """The shortest decimal that rounds to the same float32 (the file stores
    float32; a value a user typed, such as 0.1 or 1e-5, comes back as typed)."""
    return float(str(np.float32(value)))


def _one_value(values: Sequence[Any], option: str) -> Any:
    if any(value != values[0] for value in values[1:]):
        raise UnsupportedModelError(
            f"the layers differ in {option} ({', '.join(map(str, values))}): the file is valid "
            "for the kernels, but a mtsrnn.Model (a PyTorch-layout stack) takes one "
            f"{option} for all layers")
    return values[0]


def _dequantized(tensors: Mapping[int, np.ndarray], kind: int, scale_kind: int) -> np.ndarray:
    """float32 Wq * s of an int8 tensor (the float weights a quantised file implies)."""
    return _f32(tensors[kind].astype(np.float32) * tensors[scale_kind][:, None])


def _quantization(contents: ModelFile) -> tuple[str | None, list[dict[str, np.ndarray]] | None]:
    """The scheme of a file's layers and their int8 tensors (None, None: float32)."""
    quant = _one_value([layer.get("quant", 0) for layer in contents.layers], "quantisation")
    if quant == 0:
        return None, None
    cell = CELL_CODES[contents.cell]
    quantized = []
    for tensors in contents.tensors:
        arrays = {}
        for kind, scale_kind in INT8_KINDS[cell].items():
            if kind in tensors:
                name = KIND_NAMES[cell][kind]
                arrays[name + "_q"] = tensors[kind]
                arrays[name + "_scale"] = tensors[scale_kind]
        quantized.append(arrays)
    return QUANT_NAMES[quant], quantized


def _sru_model(contents: ModelFile) -> Model:
    layers = contents.layers
    quantization, quantized_tensors = _quantization(contents)
    use_tanh = _one_value([layer["activation"] == 1 for layer in layers], "use_tanh")
    directions = _one_value([layer["num_directions"] for layer in layers], "num_directions")
    has_skip = _one_value([layer["skip"] != 0 for layer in layers], "has_skip_term")
    normed = [layer for layer in layers if layer["norm"] != 0]
    normalize_after = _one_value([layer["norm"] == 2 for layer in normed] or [False],
                                 "layer norm placement (norm 1 and 2)")
    eps_values = [layer["norm_eps"] for layer in normed]
    if eps_values:
        layer_norm_eps = _one_value(eps_values, "layer_norm_eps")
    else:
        first = layers[0]["norm_eps"]
        layer_norm_eps = first if np.isfinite(first) and first > 0 else 1e-5
    state: dict[str, np.ndarray] = {}
    for index, (layer, tensors) in enumerate(zip(layers, contents.tensors, strict=True)):
        n, hidden = layer["input_size"], layer["hidden_size"]
        out = directions * hidden
        k = 4 if layer["skip"] == 2 else 3
        if has_skip and k != (4 if n != out else 3):
            raise UnsupportedModelError(
                f"layer {index}: skip {layer['skip']} with input size {n} and output size "
                f"{out}: the file is valid for the kernels, but PyTorch's sru uses a projected "
                "skip term (skip 2) exactly when the input and output sizes differ")
        prefix = f"rnn_lst.{index}."
        if quantization is not None:
            tensors = dict(tensors)
            tensors[KIND_WEIGHT] = _dequantized(tensors, KIND_WEIGHT, SRU_KIND_WEIGHT_SCALE)
            if SRU_KIND_WEIGHT_PROJ in tensors:
                tensors[SRU_KIND_WEIGHT_PROJ] = _dequantized(tensors, SRU_KIND_WEIGHT_PROJ,
                                                             SRU_KIND_WEIGHT_PROJ_SCALE)
        state[prefix + "weight"] = sru_weight_from_kernel(tensors[KIND_WEIGHT], directions,
                                                           hidden, k)
        if SRU_KIND_WEIGHT_PROJ in tensors:
            state[prefix + "weight_proj"] = _f32(tensors[SRU_KIND_WEIGHT_PROJ].T)
        if SRU_KIND_WEIGHT_C in tensors:
            state[prefix + "weight_c"] = tensors[SRU_KIND_WEIGHT_C]
        state[prefix + "bias"] = tensors[SRU_KIND_BIAS]
        state[prefix + "scale_x"] = np.array([layer["scale_x"]], dtype=np.float32)
        if SRU_KIND_NORM_WEIGHT in tensors:
            state[prefix + "layer_norm.weight"] = tensors[SRU_KIND_NORM_WEIGHT]
            state[prefix + "layer_norm.bias"] = tensors[SRU_KIND_NORM_BIAS]
    try:
        return from_sru_state_dict(state, use_tanh=use_tanh, bidirectional=directions == 2,
                                   has_skip_term=has_skip, normalize_after=normalize_after,
                                   layer_norm_eps=_decimal(layer_norm_eps),
                                   quantization=quantization,
                                   quantized_tensors=quantized_tensors)
    except (TypeError, ValueError) as error:
        raise UnsupportedModelError(f"the kernels accept the file, but a Model cannot be "
                                    f"built from it: {error}") from error


def _qrnn_model(contents: ModelFile) -> Model:
    layers = contents.layers
    window = _one_value([layer["window"] for layer in layers], "window")
    input_gate = _one_value([layer["input_gate"] for layer in layers], "input_gate")
    output_gate = _one_value([layer["output_gate"] for layer in layers], "output_gate")
    zoneout = _one_value([layer["zoneout"] for layer in layers], "zoneout")
    quantization, quantized_tensors = _quantization(contents)
    state = {}
    for index, tensors in enumerate(contents.tensors):
        state[f"layers.{index}.linear.weight"] = (
            tensors[KIND_WEIGHT] if quantization is None
            else _dequantized(tensors, KIND_WEIGHT, QRNN_KIND_WEIGHT_SCALE))
        state[f"layers.{index}.linear.bias"] = tensors[QRNN_KIND_BIAS]
    try:
        return from_qrnn_state_dict(state, window=window, output_gate=bool(output_gate),
                                    zoneout=_decimal(zoneout),
                                    pooling="ifo" if input_gate else "fo",
                                    quantization=quantization,
                                    quantized_tensors=quantized_tensors)
    except (TypeError, ValueError) as error:
        raise UnsupportedModelError(f"the kernels accept the file, but a Model cannot be "
                                    f"built from it: {error}") from error


def model_from_contents(contents: ModelFile) -> Model:
    """The Model of validated file contents (raises UnsupportedModelError)."""
    if contents.cell == "sru":
        return _sru_model(contents)
    return _qrnn_model(contents)


def load(source: Any) -> Model:
    """Read an .mts model file (a path, bytes or a binary file object).

    The file is validated as the C loader validates it (see the module
    docstring); a rejected file raises ModelFileError. The model's state dict
    uses the `sru` stack keys (`rnn_lst.{i}.*`, with `scale_x` always present)
    or the torchqrnn keys (`layers.{i}.linear.*`); a QRNN without input gate
    gets pooling "fo" (with output_gate False: f-pooling)."""
    return model_from_contents(read(source))
