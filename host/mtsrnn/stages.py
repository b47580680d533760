"""What a kernel stage is: one table per stage kind (the writer of an image is mtsimage.py).

A *stage* is the kernel-level unit of a model: one SRU, QRNN, minGRU,
minLSTM or IndRNN layer, one input normalisation, dense layer or softmax as
the C kernels run it (`mts_sru_layer`, `mts_qrnn_layer`, `mts_min_layer`,
`mts_indrnn_layer`, `mts_norm_stage`, `mts_dense_layer`,
`mts_softmax_stage`, each in an `mts_stage`), with its record fields and its
tensors in the kernels' layout, exactly what an .mts file stores
(docs/model-format.md). A stack of one cell is written as version 1.0 / 1.1
(byte for byte as before issue 14); anything else as 2.0, whose stage table
holds 48-byte records: u32 kind, u32 reserved, then the kind's 40 bytes of
fields (a 1.x layer record and 8 zero bytes for sru and qrnn). This module
is the bottom of the package's import graph (it imports the standard
library, NumPy and `_core` only); every other module learns what a stage holds from the table here:

- `STAGE_KINDS`: per stage kind its record (fields in file order, binary
  layout), its tensor kinds (name, file kind code, whether it may be int8 and
  which scale kind then goes with it), and the facts derived from the
  fields: the expected shape of every tensor (`tensor_specs`, the one place a
  stage's layout is derived), the output size, the state it carries, a
  one-line description, and the names the C API gives its descriptor.
  Adding a stage kind means adding one `StageKind` entry.
- `Stage`: one stage (kind name, record fields, tensors by kind name).
- the record and table formats of the file (`HEADER`, `TENSOR_RECORD`, ...),
  which the writer (`mtsrnn.mtsimage.write_image`: header, tables, 64-byte
  aligned data, CRC, into a buffer that `_core.load_file` runs in place) and
  the reader (`mtsrnn.mtsfile`, 1.x and 2.0) share.
- `quantize_rows` and `Stage.quantized`: the int8 form of a stage's product
  weights (docs/quantization.md); the scheme names are the values of the
  record's `quant` field.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from . import _core

# ---- the file format (docs/model-format.md) ---------------------------------------

MAGIC = b"\x89MTS\r\n\x1a\n"
# The constants of the C kernels, defined once there (mtsrnn/file.h, model.h,
# qrnn.h, status.h) and exported by the binding.
VERSION_MAJOR = _core.FILE_VERSION_MAJOR
VERSION_MINOR = _core.FILE_VERSION_MINOR  # 1.1: int8 weights (written only when quantised)
BYTE_ORDER_MARK = _core.FILE_BYTE_ORDER_MARK
HEADER_SIZE = _core.FILE_HEADER_SIZE
LAYER_RECORD_SIZE = _core.FILE_LAYER_RECORD_SIZE
TENSOR_RECORD_SIZE = _core.FILE_TENSOR_RECORD_SIZE
DATA_ALIGNMENT = _core.FILE_DATA_ALIGNMENT
CRC_OFFSET = _core.FILE_CRC_OFFSET
DTYPE_F32 = _core.DTYPE_F32
DTYPE_I8 = _core.DTYPE_I8  # the product weights of quantised stages only

# Little-endian records, no padding (sizes asserted below).
HEADER = struct.Struct("<8sHHIIIIIQIIII8s")
TENSOR_RECORD = struct.Struct("<IIIIQQQQ")
HEADER_FIELDS = ("magic", "version_major", "version_minor", "byte_order", "header_size", "cell",
                 "num_layers", "num_tensors", "file_size", "layer_table_offset",
                 "tensor_table_offset", "crc32", "flags", "reserved")
TENSOR_FIELDS = ("layer", "kind", "dtype", "ndim", "dim0", "dim1", "offset", "nbytes")
assert HEADER.size == HEADER_SIZE and TENSOR_RECORD.size == TENSOR_RECORD_SIZE



# Version 2.0 (docs/model-format.md): a stage table of 48-byte records, each the
# stage kind (u32), a reserved u32, then 40 bytes of the kind's fields.
VERSION_MAJOR_STAGES = _core.FILE_STAGES_VERSION_MAJOR
STAGE_RECORD_SIZE = _core.FILE_STAGE_RECORD_SIZE
STAGE_FIELDS_SIZE = STAGE_RECORD_SIZE - 8
STAGE_RECORD_HEAD = struct.Struct("<II")

MAX_DIM = _core.MAX_DIM
MAX_LAYERS = _core.MAX_LAYERS
MAX_STAGES = _core.MAX_STAGES
MAX_WINDOW = _core.MAX_WINDOW
STATUS_CODES: dict[str, int] = dict(_core.STATUS_CODES)
STATUS_NAMES: dict[int, str] = {code: name for name, code in STATUS_CODES.items()}


# ---- weight schemes: the record's quant field (mts_quant) ---------------------------

SCHEMES = ("int8-w", "int8-wa")
SCHEME_CODES = {"int8-w": _core.QUANT_INT8_W, "int8-wa": _core.QUANT_INT8_WA}
SCHEME_NAMES = {code: name for name, code in SCHEME_CODES.items()}


def check_scheme(scheme: Any) -> str:
    """The scheme name, or ValueError naming the ones that exist."""
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"quantisation scheme must be one of {SCHEMES}, got {scheme!r}")
    return scheme


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and per-row float32 scales of a (rows, depth) weight matrix whose
    row r produces output r (the kernels' layout):

        s_r = float32(max_i |W[r][i]| / 127)
        Wq[r][i] = clip(round_half_even(W[r][i] / s_r), -127, 127), 0 where s_r == 0
    """
    weight = np.asarray(weight)
    if weight.ndim != 2 or weight.dtype != np.float32:
        raise ValueError(f"weight must be a 2-D float32 array, got {weight.dtype} "
                         f"{weight.shape}")
    if not np.all(np.isfinite(weight)):
        raise ValueError("weight holds NaN or inf values, which int8 cannot represent")
    absmax = np.abs(weight.astype(np.float64)).max(axis=1)
    scale = (absmax / 127.0).astype(np.float32)
    divisor = np.where(scale > 0, scale.astype(np.float64), 1.0)[:, None]
    quantized = np.clip(np.rint(weight.astype(np.float64) / divisor), -127, 127)
    quantized[scale == 0] = 0
    return np.ascontiguousarray(quantized.astype(np.int8)), scale


# ---- the table ---------------------------------------------------------------------

# SRU field values (kernels/include/mtsrnn/sru.h).
ACTIVATION_IDENTITY, ACTIVATION_TANH = _core.ACTIVATION_IDENTITY, _core.ACTIVATION_TANH
SKIP_NONE, SKIP_SCALED_INPUT, SKIP_PROJECTED = (_core.SKIP_NONE, _core.SKIP_SCALED_INPUT,
                                                _core.SKIP_PROJECTED)
NORM_NONE, NORM_BEFORE, NORM_AFTER = _core.NORM_NONE, _core.NORM_BEFORE, _core.NORM_AFTER


@dataclass(frozen=True)
class TensorKind:
    """A tensor a stage may hold: its name, its kind code in the file's tensor
    records and, for a product weight that may be int8, the kind of the
    per-row float32 scales that come with it."""

    name: str
    code: int
    scale: str | None = None


@dataclass(frozen=True)
class TensorSpec:
    """What a stage's fields say about one of its tensors."""

    shape: tuple[int, ...]
    required: bool = True
    int8: bool = False  # a product weight of a quantised stage


@dataclass(frozen=True)
class StageKind:
    """Everything about one kind of stage that is not its values.

    record_fields: the record's field names in record order (the struct
    `record`), None for reserved bytes, written as the `reserved` values.
    shapes(fields): the
    float tensors the fields imply, name -> TensorSpec (the scales of a
    quantised stage are added by `tensor_specs`). state(fields): (cell-state
    floats, previous-input frames, width of a frame) carried between calls.
    c_*: the names of the C API (mtsrnn/model.h) for export_c."""

    name: str
    code: int
    title: str
    record: struct.Struct
    record_fields: tuple[str | None, ...]
    reserved: tuple[Any, ...]
    tensors: tuple[TensorKind, ...]
    shapes: Callable[[Mapping[str, Any]], dict[str, TensorSpec]]
    output_size: Callable[[Mapping[str, Any]], int]
    state: Callable[[Mapping[str, Any]], tuple[int, int, int]]
    describe: Callable[[Mapping[str, Any]], str]
    c_type: str
    c_member: str
    c_cell: str
    c_enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    input_size: Callable[[Mapping[str, Any]], int] = lambda f: f["input_size"]
    recurrent: bool = True  # a cell (sru, qrnn), which a 1.x file can hold

    @property
    def c_kind(self) -> str:
        """The kind's name in the C enum mts_stage_kind."""
        return f"MTS_STAGE_{self.name.upper()}"

    @property
    def fields(self) -> tuple[str, ...]:
        """The record's field names, reserved bytes left out."""
        return tuple(name for name in self.record_fields if name is not None)

    def tensor(self, name_or_code: str | int) -> TensorKind:
        for kind in self.tensors:
            if name_or_code in (kind.name, kind.code):
                return kind
        raise KeyError(f"{self.title} has no tensor kind {name_or_code!r}")

    @property
    def scale_kinds(self) -> frozenset[str]:
        return frozenset(kind.scale for kind in self.tensors if kind.scale)

    def pack(self, fields: Mapping[str, Any]) -> bytes:
        """The record of `fields` (quant defaults to 0, float32)."""
        reserved = iter(self.reserved)
        return self.record.pack(*(
            next(reserved) if name is None else fields.get(name, 0) if name == "quant"
            else fields[name] for name in self.record_fields))

    @property
    def byte_ranges(self) -> tuple[tuple[int, int], ...]:
        """[first, last] byte of each record field, in record order."""
        ranges, start = [], 0
        for count, code in re.findall(r"(\d*)([a-zA-Z?])", self.record.format):
            size = struct.calcsize(f"<{count}{code}")
            ranges.append((start, start + size - 1))
            start += size
        return tuple(ranges)

    def unpack(self, data: Any, offset: int = 0,
               with_reserved: bool = False) -> dict[str, Any]:
        """The fields of the record at `offset`, and when asked the reserved
        ones, keyed "reserved bytes F-L" (or "reserved byte F")."""
        values = self.record.unpack_from(data, offset)
        fields = {}
        for name, value, (first, last) in zip(self.record_fields, values, self.byte_ranges,
                                              strict=True):
            if name is not None:
                fields[name] = value
            elif with_reserved:
                where = f"byte {first}" if first == last else f"bytes {first}-{last}"
                fields[f"reserved {where}"] = value
        return fields


def _enum_text(names: Mapping[int, str], value: int) -> str:
    return names.get(value, str(value))


def _f32_text(value: float) -> str:
    return str(np.float32(value))


_ACTIVATIONS = {ACTIVATION_IDENTITY: "identity", ACTIVATION_TANH: "tanh"}
_SKIPS = {SKIP_NONE: "none", SKIP_SCALED_INPUT: "scaled input", SKIP_PROJECTED: "projected (u3)"}
_NORMS = {NORM_NONE: "none", NORM_BEFORE: "before", NORM_AFTER: "after"}


def _sru_shapes(f: Mapping[str, Any]) -> dict[str, TensorSpec]:
    n, d, directions, p = (f["input_size"], f["hidden_size"], f["num_directions"],
                           f["projection_size"])
    k = 4 if f["skip"] == SKIP_PROJECTED else 3
    out = directions * d
    specs = {"weight": TensorSpec((directions * k * d, p or n))}
    if p:
        specs["weight_proj"] = TensorSpec((p, n))
    specs["weight_c"] = TensorSpec((2 * out,), required=False)  # absent: the original form
    specs["bias"] = TensorSpec((2 * out,))
    if f["norm"] != NORM_NONE:
        size = n if f["norm"] == NORM_BEFORE else out
        specs["norm_weight"] = TensorSpec((size,))
        specs["norm_bias"] = TensorSpec((size,))
    return specs


def _sru_describe(f: Mapping[str, Any]) -> str:
    return (f"SRU input {f['input_size']}, hidden {f['hidden_size']} x "
            f"{f['num_directions']} direction(s), projection {f['projection_size'] or 'none'}, "
            f"activation {_enum_text(_ACTIVATIONS, f['activation'])}, skip "
            f"{_enum_text(_SKIPS, f['skip'])}, norm {_enum_text(_NORMS, f['norm'])}")


def _qrnn_gates(f: Mapping[str, Any]) -> int:
    return 2 + f["input_gate"] + f["output_gate"]


def _qrnn_shapes(f: Mapping[str, Any]) -> dict[str, TensorSpec]:
    rows = _qrnn_gates(f) * f["hidden_size"]
    return {"weight": TensorSpec((rows, f["window"] * f["input_size"])),
            "bias": TensorSpec((rows,))}


def _qrnn_describe(f: Mapping[str, Any]) -> str:
    pooling = "ifo" if f["input_gate"] else "fo" if f["output_gate"] else "f"
    return (f"QRNN input {f['input_size']}, hidden {f['hidden_size']}, window {f['window']}, "
            f"{pooling}-pooling, output gate {'on' if f['output_gate'] else 'off'}, zoneout "
            f"{_f32_text(f['zoneout'])}")


SRU = StageKind(
    name="sru", code=_core.CELL_SRU, title="SRU",
    record=struct.Struct("<IIIIBBBBffI"),
    record_fields=("input_size", "hidden_size", "num_directions", "projection_size",
                   "activation", "skip", "norm", "quant", "scale_x", "norm_eps", None),
    reserved=(0,),
    tensors=(TensorKind("weight", _core.SRU_KIND_WEIGHT, scale="weight_scale"),
             TensorKind("weight_proj", _core.SRU_KIND_WEIGHT_PROJ, scale="weight_proj_scale"),
             TensorKind("weight_c", _core.SRU_KIND_WEIGHT_C),
             TensorKind("bias", _core.SRU_KIND_BIAS),
             TensorKind("norm_weight", _core.SRU_KIND_NORM_WEIGHT),
             TensorKind("norm_bias", _core.SRU_KIND_NORM_BIAS),
             TensorKind("weight_scale", _core.SRU_KIND_WEIGHT_SCALE),
             TensorKind("weight_proj_scale", _core.SRU_KIND_WEIGHT_PROJ_SCALE)),
    shapes=_sru_shapes,
    output_size=lambda f: f["num_directions"] * f["hidden_size"],
    state=lambda f: (f["num_directions"] * f["hidden_size"], 0, 0),
    describe=_sru_describe,
    c_type="mts_sru_layer", c_member="sru", c_cell="MTS_CELL_SRU",
    c_enums={"activation": ("MTS_ACTIVATION_IDENTITY", "MTS_ACTIVATION_TANH"),
             "skip": ("MTS_SKIP_NONE", "MTS_SKIP_SCALED_INPUT", "MTS_SKIP_PROJECTED"),
             "norm": ("MTS_NORM_NONE", "MTS_NORM_BEFORE", "MTS_NORM_AFTER"),
             "quant": ("MTS_QUANT_NONE", "MTS_QUANT_INT8_W", "MTS_QUANT_INT8_WA")},
)

QRNN = StageKind(
    name="qrnn", code=_core.CELL_QRNN, title="QRNN",
    record=struct.Struct("<IIIBBBBf12s"),
    record_fields=("input_size", "hidden_size", "window", "input_gate", "output_gate", "quant",
                   None, "zoneout", None),
    reserved=(0, bytes(12)),
    tensors=(TensorKind("weight", _core.QRNN_KIND_WEIGHT, scale="weight_scale"),
             TensorKind("bias", _core.QRNN_KIND_BIAS),
             TensorKind("weight_scale", _core.QRNN_KIND_WEIGHT_SCALE)),
    shapes=_qrnn_shapes,
    output_size=lambda f: f["hidden_size"],
    state=lambda f: (f["hidden_size"], f["window"] - 1, f["input_size"]),
    describe=_qrnn_describe,
    c_type="mts_qrnn_layer", c_member="qrnn", c_cell="MTS_CELL_QRNN",
    c_enums={"quant": ("MTS_QUANT_NONE", "MTS_QUANT_INT8_W", "MTS_QUANT_INT8_WA")},
)

# Norm, dense and softmax stages (issue 14): a 2.0 file only; their record is
# the 40 bytes at offset 8 of the stage record.
NORM_AFFINE, NORM_LAYER = 0, 1
NORM_MODES = ("affine", "layer")
DENSE_ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")


def _norm_describe(f: Mapping[str, Any]) -> str:
    mode = _enum_text(dict(enumerate(NORM_MODES)), f["mode"])
    eps = f", eps {_f32_text(f['eps'])}" if f["mode"] == NORM_LAYER else ""
    return f"norm {mode} over {f['size']} features{eps}"


def _dense_describe(f: Mapping[str, Any]) -> str:
    return (f"dense input {f['input_size']}, output {f['output_size']}, activation "
            f"{_enum_text(dict(enumerate(DENSE_ACTIVATIONS)), f['activation'])}")


def _no_state(_fields: Mapping[str, Any]) -> tuple[int, int, int]:
    return (0, 0, 0)


NORM = StageKind(
    name="norm", code=_core.STAGE_NORM, title="norm",
    record=struct.Struct("<IB3sf28s"),
    record_fields=("size", "mode", None, "eps", None),
    reserved=(bytes(3), bytes(28)),
    tensors=(TensorKind("weight", _core.NORM_KIND_WEIGHT),
             TensorKind("bias", _core.NORM_KIND_BIAS)),
    shapes=lambda f: {"weight": TensorSpec((f["size"],)), "bias": TensorSpec((f["size"],))},
    output_size=lambda f: f["size"],
    state=_no_state,
    describe=_norm_describe,
    c_type="mts_norm_stage", c_member="norm", c_cell="MTS_STAGE_NORM",
    c_enums={"mode": ("MTS_NORM_MODE_AFFINE", "MTS_NORM_MODE_LAYER")},
    input_size=lambda f: f["size"], recurrent=False,
)

DENSE = StageKind(
    name="dense", code=_core.STAGE_DENSE, title="dense",
    record=struct.Struct("<IIBB2s28s"),
    record_fields=("input_size", "output_size", "activation", "quant", None, None),
    reserved=(bytes(2), bytes(28)),
    tensors=(TensorKind("weight", _core.DENSE_KIND_WEIGHT, scale="weight_scale"),
             TensorKind("bias", _core.DENSE_KIND_BIAS),
             TensorKind("weight_scale", _core.DENSE_KIND_WEIGHT_SCALE)),
    shapes=lambda f: {"weight": TensorSpec((f["output_size"], f["input_size"])),
                      "bias": TensorSpec((f["output_size"],), required=False)},
    output_size=lambda f: f["output_size"],
    state=_no_state,
    describe=_dense_describe,
    c_type="mts_dense_layer", c_member="dense", c_cell="MTS_STAGE_DENSE",
    c_enums={"activation": ("MTS_DENSE_IDENTITY", "MTS_DENSE_RELU", "MTS_DENSE_TANH",
                            "MTS_DENSE_SIGMOID"),
             "quant": ("MTS_QUANT_NONE", "MTS_QUANT_INT8_W", "MTS_QUANT_INT8_WA")},
    recurrent=False,
)

SOFTMAX = StageKind(
    name="softmax", code=_core.STAGE_SOFTMAX, title="softmax",
    record=struct.Struct("<IB35s"),
    record_fields=("size", "log", None),
    reserved=(bytes(35),),
    tensors=(),
    shapes=lambda f: {},
    output_size=lambda f: f["size"],
    state=_no_state,
    describe=lambda f: f"{'log-softmax' if f['log'] else 'softmax'} over {f['size']} features",
    c_type="mts_softmax_stage", c_member="softmax", c_cell="MTS_STAGE_SOFTMAX",
    input_size=lambda f: f["size"], recurrent=False,
)

# minGRU, minLSTM (one table: G gate blocks of H rows, mtsrnn/min_layer.h) and
# IndRNN (issue 20): a 2.0 file only, their record the 40 bytes at offset 8.
INDRNN_ACTIVATIONS = {_core.INDRNN_RELU: "relu", _core.INDRNN_TANH: "tanh"}
MIN_GATES = {"mingru": _core.MINGRU_GATES, "minlstm": _core.MINLSTM_GATES}


def _min_kind(name: str, code: int, title: str) -> StageKind:
    gates = MIN_GATES[name]

    def shapes(f: Mapping[str, Any]) -> dict[str, TensorSpec]:
        specs = {"weight": TensorSpec((gates * f["hidden_size"], f["input_size"]))}
        if f["has_output"]:
            specs["weight_out"] = TensorSpec((f["output_size"], f["hidden_size"]))
        return specs

    def describe(f: Mapping[str, Any]) -> str:
        out = f"output projection to {f['output_size']}" if f["has_output"] else "no projection"
        return f"{title} input {f['input_size']}, hidden {f['hidden_size']}, {out}"

    return StageKind(
        name=name, code=code, title=title,
        record=struct.Struct("<IIIBB26s"),
        record_fields=("input_size", "hidden_size", "output_size", "has_output", "quant", None),
        reserved=(bytes(26),),
        tensors=(TensorKind("weight", _core.MIN_KIND_WEIGHT, scale="weight_scale"),
                 TensorKind("weight_out", _core.MIN_KIND_WEIGHT_OUT, scale="weight_out_scale"),
                 TensorKind("weight_scale", _core.MIN_KIND_WEIGHT_SCALE),
                 TensorKind("weight_out_scale", _core.MIN_KIND_WEIGHT_OUT_SCALE)),
        shapes=shapes,
        output_size=lambda f: f["output_size"],
        state=lambda f: (f["hidden_size"], 0, 0),
        describe=describe,
        c_type="mts_min_layer", c_member="min", c_cell=f"MTS_STAGE_{name.upper()}",
        c_enums={"quant": ("MTS_QUANT_NONE", "MTS_QUANT_INT8_W", "MTS_QUANT_INT8_WA")},
        recurrent=False,
    )


MINGRU = _min_kind("mingru", _core.STAGE_MINGRU, "minGRU")
MINLSTM = _min_kind("minlstm", _core.STAGE_MINLSTM, "minLSTM")

INDRNN = StageKind(
    name="indrnn", code=_core.STAGE_INDRNN, title="IndRNN",
    record=struct.Struct("<IIBB30s"),
    record_fields=("input_size", "hidden_size", "activation", "quant", None),
    reserved=(bytes(30),),
    tensors=(TensorKind("weight", _core.INDRNN_KIND_WEIGHT, scale="weight_scale"),
             TensorKind("bias", _core.INDRNN_KIND_BIAS),
             TensorKind("weight_scale", _core.INDRNN_KIND_WEIGHT_SCALE),
             TensorKind("weight_hh", _core.INDRNN_KIND_WEIGHT_HH)),
    shapes=lambda f: {"weight": TensorSpec((f["hidden_size"], f["input_size"])),
                      "bias": TensorSpec((f["hidden_size"],)),
                      "weight_hh": TensorSpec((f["hidden_size"],))},
    output_size=lambda f: f["hidden_size"],
    state=lambda f: (f["hidden_size"], 0, 0),
    describe=lambda f: (f"IndRNN input {f['input_size']}, hidden {f['hidden_size']}, "
                        f"activation {_enum_text(INDRNN_ACTIVATIONS, f['activation'])}"),
    c_type="mts_indrnn_layer", c_member="indrnn", c_cell="MTS_STAGE_INDRNN",
    c_enums={"activation": ("0", "MTS_INDRNN_RELU", "MTS_INDRNN_TANH"),
             "quant": ("MTS_QUANT_NONE", "MTS_QUANT_INT8_W", "MTS_QUANT_INT8_WA")},
    recurrent=False,
)

STAGE_KINDS: dict[str, StageKind] = {
    kind.name: kind for kind in (SRU, QRNN, NORM, DENSE, SOFTMAX, MINGRU, MINLSTM, INDRNN)}
STAGE_KINDS_BY_CODE: dict[int, StageKind] = {kind.code: kind for kind in STAGE_KINDS.values()}
for _kind in STAGE_KINDS.values():
    assert _kind.record.size == (LAYER_RECORD_SIZE if _kind.recurrent else STAGE_FIELDS_SIZE), \
        _kind.name


def stage_kind(name: str) -> StageKind:
    try:
        return STAGE_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown stage kind {name!r}; expected one of "
                         f"{tuple(STAGE_KINDS)}") from None


def tensor_specs(cell: str, fields: Mapping[str, Any]) -> dict[str, TensorSpec]:
    """Every tensor a stage with these record fields may hold, name -> TensorSpec:
    the one place where a stage's layout is derived from its fields. In a
    quantised stage (quant != 0) each product weight is int8 and comes with
    its per-row scales."""
    kind = stage_kind(cell)
    specs = kind.shapes(fields)
    if fields.get("quant", 0):
        for tensor in kind.tensors:
            if tensor.scale and tensor.name in specs:
                weight = specs[tensor.name]
                specs[tensor.name] = TensorSpec(weight.shape, weight.required, int8=True)
                specs[tensor.scale] = TensorSpec(weight.shape[:1])
    return specs


# ---- a stage ---------------------------------------------------------------------------

def _given_int8(given: Mapping[str, np.ndarray], name: str, weight: np.ndarray,
                layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Precomputed int8 rows of `weight` and their scales, checked."""
    weight_q = np.ascontiguousarray(given[name + "_q"])
    scale = np.ascontiguousarray(given[name + "_scale"])
    if weight_q.dtype != np.int8 or weight_q.shape != weight.shape:
        raise ValueError(f"layer {layer} {name}_q must be int8 of shape {weight.shape}, got "
                         f"{weight_q.dtype} {weight_q.shape}")
    if scale.dtype != np.float32 or scale.shape != (weight.shape[0],):
        raise ValueError(f"layer {layer} {name}_scale must be float32 of shape "
                         f"({weight.shape[0]},), got {scale.dtype} {scale.shape}")
    return weight_q, scale


@dataclass(frozen=True, eq=False)
class Stage:
    """One kernel stage: `cell` names its kind in STAGE_KINDS, `fields` are
    exactly its .mts record fields, `tensors` maps tensor-kind names to arrays
    in the kernels' layout (float32; in a quantised stage the product weights
    are int8 and their float32 scales are present)."""

    cell: str
    fields: Mapping[str, Any]
    tensors: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        # Read-only views of private copies: a stage does not change under its image.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "tensors", MappingProxyType(dict(self.tensors)))

    @property
    def kind(self) -> StageKind:
        return stage_kind(self.cell)

    @property
    def input_size(self) -> int:
        return int(self.kind.input_size(self.fields))

    @property
    def output_size(self) -> int:
        return int(self.kind.output_size(self.fields))

    @property
    def quantization(self) -> str | None:
        """None (float32) or the scheme of the stage's int8 product weights."""
        return SCHEME_NAMES.get(self.fields.get("quant", 0))

    @property
    def state_layout(self) -> tuple[int, int, int]:
        """(cell-state floats, previous-input frames, frame width) it carries."""
        return self.kind.state(self.fields)

    @property
    def state_floats(self) -> int:
        c, frames, width = self.state_layout
        return c + frames * width

    @property
    def weight_bytes(self) -> int:
        """Bytes of its tensors: what one pass over the weights streams."""
        return sum(array.nbytes for array in self.tensors.values())

    @property
    def parameter_count(self) -> int:
        return sum(array.size for array in self.tensors.values())

    def describe(self) -> str:
        """One line: the kind and its configuration."""
        return self.kind.describe(self.fields)

    def by_code(self) -> dict[int, np.ndarray]:
        """The tensors keyed by their file kind codes."""
        kind = self.kind
        return {kind.tensor(name).code: array for name, array in self.tensors.items()}

    def quantized(self, scheme: str, given: Mapping[str, np.ndarray] | None = None,
                  layer: int = 0) -> Stage:
        """This float stage with int8 product weights under `scheme`, quantised
        by quantize_rows, or taken from `given` (name_q and name_scale per
        product weight, checked; `layer` names the stage in messages)."""
        scheme = check_scheme(scheme)
        if "quant" not in self.kind.fields:
            return self  # norm and softmax stay float (no product weights)
        if self.quantization is not None:
            raise ValueError(f"layer {layer} is already quantised ({self.quantization!r})")
        tensors = dict(self.tensors)
        for tensor in self.kind.tensors:
            if tensor.scale is None or tensor.name not in tensors:
                continue
            weight = np.ascontiguousarray(tensors[tensor.name], dtype=np.float32)
            if given is None:
                weight_q, scale = quantize_rows(weight)
            else:
                weight_q, scale = _given_int8(given, tensor.name, weight, layer)
            tensors[tensor.name] = weight_q
            tensors[tensor.scale] = scale
        return Stage(self.cell, {**self.fields, "quant": SCHEME_CODES[scheme]}, tensors)
