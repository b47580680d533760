"""The `.mts` model file (docs/model-format.md): reading, writing, and files as Models.

`save(model, path)` writes a model's image: its stages (mtsrnn.stages) with
their tensors in the kernels' layout, each 64-byte aligned, the CRC-32 over
the whole file. The bytes depend on the model alone: saving one model twice
gives identical files.

`read(source)` validates a file with the C loader itself (`mts_file_load`
through `_core.load_file`, what every device runs), so a file is judged
alike on the host and on a device by construction, then parses the records
into stages without checking them again. A rejected file raises
`ModelFileError`, whose `.status` names the C status code
("MTS_ERR_FILE_CRC", ...) and whose message says what is wrong, as far as
the loader's report and a cheap look at the file tell. Two differences from
the C loader, by design:

- the data must be exactly `file_size` bytes long: trailing bytes (which the
  C loader ignores, as a flash partition holds more than the file) raise
  MTS_ERR_FILE_HEADER. This is checked after the C loader, so that on any
  file the C loader rejects both report the same status;
- the alignment check (MTS_ERR_MISALIGNED) concerns a device's buffer, not
  the file, and does not apply: the reader hands the loader an aligned copy.

Version 1.x files hold a stack of one cell, 2.0 files any sequence of
stages (issue 14); `read` parses both into stages, and `load` makes a Model
of them: consecutive layers of one cell become one stack part, each norm,
dense and softmax stage a part of its own (mtsrnn.heads).

The file records only what the kernels need. The Python `Model` is built
from a PyTorch-layout state dict with one configuration for the whole stack
(`from_sru_state_dict`, `from_qrnn_state_dict`), so a file the C loader
accepts but whose layers differ in an option PyTorch sets per stack (for
example one tanh and one identity layer, or an SRU layer with a projected
skip term whose input size equals its output size) raises
`UnsupportedModelError`, a `ModelFileError` whose status "UNSUPPORTED" is not
a C status: the C loader accepts such a file.

`read(source)` returns the validated stages (`ModelFile`) without building a
model; `encode(cell, layers)` is the low-level writer of records and
tensors by kind code, for tools and tests (it validates nothing).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core
from .heads import part_from_stage
from .model import Model, from_qrnn_state_dict, from_sru_state_dict, sru_weight_from_kernel
from .mtsimage import aligned_buffer, crc32, write_image
from .stages import (
    BYTE_ORDER_MARK,
    DTYPE_I8,
    HEADER,
    HEADER_FIELDS,
    HEADER_SIZE,
    LAYER_RECORD_SIZE,
    MAGIC,
    SCHEME_NAMES,
    SRU,
    STAGE_KINDS_BY_CODE,
    STAGE_RECORD_HEAD,
    STAGE_RECORD_SIZE,
    STATUS_CODES,
    STATUS_NAMES,
    TENSOR_FIELDS,
    TENSOR_RECORD,
    TENSOR_RECORD_SIZE,
    VERSION_MAJOR,
    VERSION_MAJOR_STAGES,
    Stage,
    StageKind,
)

__all__ = [
    "ModelFile",
    "ModelFileError",
    "STATUS_CODES",
    "STATUS_NAMES",
    "UnsupportedModelError",
    "crc32",
    "encode",
    "kernel_layers",
    "load",
    "model_from_contents",
    "parse_image",
    "read",
    "save",
    "to_bytes",
]

# Tensor kind codes of the file's records, from the stage table.
KIND_WEIGHT = SRU.tensor("weight").code
SRU_KIND_WEIGHT_PROJ = SRU.tensor("weight_proj").code


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


@dataclass
class ModelFile:
    """The validated contents of an .mts file: its stages (mtsrnn.stages.Stage,
    tensors as float32 or int8 arrays of the records' shapes, 1-D tensors as
    1-D arrays), the header's facts, the tensor records in file order, and
    `kernel`, the model the C loader made of the file (`_core.load_file`)."""

    cell: str
    version: tuple[int, int]
    stages: tuple[Stage, ...]
    file_size: int
    crc32: int
    records: list[dict[str, int]] = field(default_factory=list)
    kernel: Any = None

    @property
    def layers(self) -> list[dict[str, Any]]:
        """One dict of record fields per stage."""
        return [dict(stage.fields) for stage in self.stages]

    @property
    def tensors(self) -> list[dict[int, np.ndarray]]:
        """Per stage, its tensors keyed by the records' kind codes."""
        return [stage.by_code() for stage in self.stages]

    @property
    def input_size(self) -> int:
        return self.stages[0].input_size

    @property
    def output_size(self) -> int:
        return self.stages[-1].output_size

    @property
    def parameter_count(self) -> int:
        return sum(stage.parameter_count for stage in self.stages)

    @property
    def tensor_bytes(self) -> int:
        return sum(stage.weight_bytes for stage in self.stages)


# ---- reading an image's records (after the C loader has validated it) ---------------

def header_fields(data: Any) -> dict[str, Any]:
    """The header of an image, by HEADER_FIELDS name (num_layers is the 2.0
    num_stages, cell is 0 in 2.0)."""
    return dict(zip(HEADER_FIELDS, HEADER.unpack_from(data, 0), strict=True))


def stage_records(data: Any, header: Mapping[str, Any] | None = None,
                  with_reserved: bool = False) -> list[tuple[StageKind, dict[str, Any]]]:
    """(kind, record fields) of every stage of a 1.x or 2.0 image (a 1.x layer
    is a stage of the header's cell). It checks nothing the C loader checks;
    only an unknown kind raises ValueError."""
    header = header_fields(data) if header is None else header
    result = []
    for index in range(header["num_layers"]):
        if header["version_major"] == VERSION_MAJOR_STAGES:
            start = HEADER_SIZE + STAGE_RECORD_SIZE * index
            code, reserved = STAGE_RECORD_HEAD.unpack_from(data, start)
            start += STAGE_RECORD_HEAD.size
        else:
            code, reserved = header["cell"], 0
            start = HEADER_SIZE + LAYER_RECORD_SIZE * index
        kind = STAGE_KINDS_BY_CODE.get(code)
        if kind is None:
            raise ValueError(f"stage {index} has unknown kind {code}")
        fields = kind.unpack(data, start, with_reserved)
        if with_reserved and header["version_major"] == VERSION_MAJOR_STAGES:
            fields["reserved bytes 4-7"] = reserved
        result.append((kind, fields))
    return result


def tensor_records(data: Any, header: Mapping[str, Any]) -> list[dict[str, int]]:
    start = header["tensor_table_offset"]
    return [dict(zip(TENSOR_FIELDS, TENSOR_RECORD.unpack_from(
        data, start + TENSOR_RECORD_SIZE * index), strict=True))
        for index in range(header["num_tensors"])]


def parse_image(data: bytes) -> tuple[tuple[int, int], tuple[Stage, ...], list[dict[str, int]]]:
    """(version, stages, tensor records) of an image the C loader accepted:
    the records parsed into stages, the tensors copied out (float32, or int8
    for int8 records). Nothing is checked again (the C loader did)."""
    header = header_fields(data)
    records = tensor_records(data, header)
    kinds = stage_records(data, header)
    tensors: list[dict[str, np.ndarray]] = [{} for _ in kinds]
    for record in sorted(records, key=lambda r: (r["layer"], r["kind"])):
        int8 = record["dtype"] == DTYPE_I8
        shape = (record["dim0"],) if record["ndim"] == 1 else (record["dim0"], record["dim1"])
        array = np.frombuffer(data, dtype="i1" if int8 else "<f4",
                              count=record["dim0"] * record["dim1"], offset=record["offset"])
        kind = kinds[record["layer"]][0]
        tensors[record["layer"]][kind.tensor(record["kind"]).name] = (
            array.astype(np.int8 if int8 else np.float32).reshape(shape))
    stages = tuple(Stage(kind.name, fields, arrays)
                   for (kind, fields), arrays in zip(kinds, tensors, strict=True))
    return (header["version_major"], header["version_minor"]), stages, records


# ---- writer ----------------------------------------------------------------

def kernel_layers(model: Model) -> list[tuple[dict[str, Any], dict[int, np.ndarray]]]:
    """The model's stages as (record fields, {kind code: array}) per layer,
    the form `encode` takes: float32, and for a quantised model int8 product
    weights plus their float32 scales, in the kernels' layout."""
    if not isinstance(model, Model):
        raise TypeError(f"expected a mtsrnn.Model, got {type(model).__name__}")
    return [(dict(stage.fields), stage.by_code()) for stage in model.stages]


def encode(cell: str, layers: Sequence[tuple[Mapping[str, Any], Mapping[int, Any]]]) -> bytes:
    """The .mts image of records and tensors, (fields, {kind code: array}) per
    layer, as `kernel_layers` returns them (mtsrnn.mtsimage.write_image: nothing
    is validated beyond the record formats, so a test can write an invalid
    file on purpose)."""
    image, _views = write_image(cell, layers)
    return image.tobytes()


def to_bytes(model: Model) -> bytes:
    """The .mts image of a model (what `save` writes)."""
    if not isinstance(model, Model):
        raise TypeError(f"expected a mtsrnn.Model, got {type(model).__name__}")
    return bytes(model.image)


def save(model: Model, path_or_file: Any) -> None:
    """Write `model` as an .mts file to a path or a binary file object."""
    if not isinstance(model, Model):
        raise TypeError(f"expected a mtsrnn.Model, got {type(model).__name__}")
    model.save(path_or_file)


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


_header = header_fields
_tensor_records = tensor_records


def _layer_fields(data: bytes, header: Mapping[str, Any], with_reserved: bool = False
                  ) -> list[dict[str, Any]]:
    return [fields for _kind, fields in stage_records(data, header, with_reserved)]


def _file_error(error: Exception, data: bytes) -> ModelFileError:
    """A ModelFileError for a file the C loader rejected: its status, and the
    loader's own one-line message (mts_file_error_text: where the file is
    wrong, what was found and expected). Python adds only what it can say
    better: the header values behind truncation, magic, version, byte order
    and CRC errors, and the configuration of the stage at fault."""
    status = error.status_name
    size = len(data)
    if status == "MTS_ERR_FILE_TRUNCATED":
        if size < HEADER_SIZE:
            return ModelFileError(f"the data is {size} bytes long, shorter than the "
                                  f"{HEADER_SIZE}-byte header", status)
        return ModelFileError(f"the header says the file is {_header(data)['file_size']} "
                              f"bytes, but the data is only {size} bytes long", status)
    header = _header(data)
    if status == "MTS_ERR_FILE_MAGIC":
        return ModelFileError(f"not an .mts model file: the magic is "
                              f"{header['magic'].hex(' ')}, expected {MAGIC.hex(' ')}", status)
    if status == "MTS_ERR_FILE_VERSION":
        return ModelFileError(f"format version {header['version_major']}."
                              f"{header['version_minor']}: this reader reads versions "
                              f"{VERSION_MAJOR}.x and {VERSION_MAJOR_STAGES}.0 "
                              f"({error.message})", status)
    if status == "MTS_ERR_FILE_BYTE_ORDER":
        return ModelFileError(f"byte_order is 0x{header['byte_order']:08x}, expected "
                              f"0x{BYTE_ORDER_MARK:08x} (a little-endian file); the file has "
                              "another byte order or is corrupt", status)
    if status == "MTS_ERR_FILE_CRC":
        actual = crc32(data, header["file_size"])
        return ModelFileError(f"CRC-32 mismatch: the header says 0x{header['crc32']:08x}, "
                              f"the data gives 0x{actual:08x} (the file is corrupt)", status)
    message = error.message
    layer = error.detail.get("layer")
    if layer is not None and status != "MTS_ERR_FILE_LAYER":
        try:  # the configuration of the stage at fault, when its record parses
            kind, fields = stage_records(data, {**header, "num_layers": layer + 1})[layer]
            word = "stage" if header["version_major"] == VERSION_MAJOR_STAGES else "layer"
            message += f" [{word} {layer}: {kind.describe(fields)}]"
        except (ValueError, KeyError, struct.error):
            pass
    return ModelFileError(message, status)


def read(source: Any) -> ModelFile:
    """Validate an .mts file (a path, bytes or a binary file object) with the
    C loader and return its stages. Raises ModelFileError."""
    data = _source_bytes(source)
    # The loader reads the weights in place: hand it an aligned copy (a device's
    # buffer alignment, MTS_ERR_MISALIGNED, is no property of the file).
    image = aligned_buffer(len(data))
    image[:] = np.frombuffer(data, np.uint8)
    try:
        kernel = _core.load_file(image)
    except _core.ModelFileError as error:
        raise _file_error(error, data) from None
    header = _header(data)
    if len(data) != header["file_size"]:
        raise ModelFileError(
            f"the data is {len(data)} bytes long, but the header says the file is "
            f"{header['file_size']} bytes ({len(data) - header['file_size']} trailing bytes); "
            "the Python reader needs the exact file", "MTS_ERR_FILE_HEADER")
    version, stages, records = parse_image(data)
    cells = {stage.cell for stage in stages}
    cell = stages[0].cell if len(cells) == 1 and stages[0].kind.recurrent else "model"
    return ModelFile(cell=cell, version=version, stages=stages, file_size=header["file_size"],
                     crc32=header["crc32"], records=records, kernel=kernel)


# ---- from the file to a Model ----------------------------------------------

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


def _float_tensor(stage: Stage, name: str) -> np.ndarray:
    """A tensor as float32: an int8 product weight as Wq * s, the float weights a
    quantised file implies."""
    array = stage.tensors[name]
    scale = stage.kind.tensor(name).scale
    if array.dtype != np.int8 or scale is None:
        return array
    return np.ascontiguousarray(array.astype(np.float32) * stage.tensors[scale][:, None],
                                dtype=np.float32)


def _quantization(stages: Sequence[Stage]
                  ) -> tuple[str | None, list[dict[str, np.ndarray]] | None]:
    """The scheme of stages with product weights and their int8 tensors (None,
    None: float32); norm and softmax stages have no scheme."""
    quant = _one_value([stage.fields["quant"] for stage in stages
                        if "quant" in stage.kind.fields] or [0], "quantisation")
    if quant == 0:
        return None, None
    quantized = []
    for stage in stages:
        arrays = {}
        for tensor in stage.kind.tensors:
            if tensor.scale and tensor.name in stage.tensors:
                arrays[tensor.name + "_q"] = stage.tensors[tensor.name]
                arrays[tensor.scale] = stage.tensors[tensor.scale]
        quantized.append(arrays)
    return SCHEME_NAMES[quant], quantized


def _sru_model(stages: Sequence[Stage]) -> Model:
    layers = [dict(stage.fields) for stage in stages]
    quantization, quantized_tensors = _quantization(stages)
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
    for index, stage in enumerate(stages):
        layer, tensors = stage.fields, stage.tensors
        n, hidden = layer["input_size"], layer["hidden_size"]
        out = directions * hidden
        k = 4 if layer["skip"] == 2 else 3
        if has_skip and k != (4 if n != out else 3):
            raise UnsupportedModelError(
                f"layer {index}: skip {layer['skip']} with input size {n} and output size "
                f"{out}: the file is valid for the kernels, but PyTorch's sru uses a projected "
                "skip term (skip 2) exactly when the input and output sizes differ")
        prefix = f"rnn_lst.{index}."
        state[prefix + "weight"] = sru_weight_from_kernel(_float_tensor(stage, "weight"),
                                                           directions, hidden, k)
        if "weight_proj" in tensors:
            state[prefix + "weight_proj"] = np.ascontiguousarray(
                _float_tensor(stage, "weight_proj").T)
        if "weight_c" in tensors:
            state[prefix + "weight_c"] = tensors["weight_c"]
        state[prefix + "bias"] = tensors["bias"]
        state[prefix + "scale_x"] = np.array([layer["scale_x"]], dtype=np.float32)
        if "norm_weight" in tensors:
            state[prefix + "layer_norm.weight"] = tensors["norm_weight"]
            state[prefix + "layer_norm.bias"] = tensors["norm_bias"]
    try:
        return from_sru_state_dict(state, use_tanh=use_tanh, bidirectional=directions == 2,
                                   has_skip_term=has_skip, normalize_after=normalize_after,
                                   layer_norm_eps=_decimal(layer_norm_eps),
                                   quantization=quantization,
                                   quantized_tensors=quantized_tensors)
    except (TypeError, ValueError) as error:
        raise UnsupportedModelError(f"the kernels accept the file, but a Model cannot be "
                                    f"built from it: {error}") from error


def _qrnn_model(stages: Sequence[Stage]) -> Model:
    layers = [dict(stage.fields) for stage in stages]
    window = _one_value([layer["window"] for layer in layers], "window")
    input_gate = _one_value([layer["input_gate"] for layer in layers], "input_gate")
    output_gate = _one_value([layer["output_gate"] for layer in layers], "output_gate")
    zoneout = _one_value([layer["zoneout"] for layer in layers], "zoneout")
    quantization, quantized_tensors = _quantization(stages)
    state = {}
    for index, stage in enumerate(stages):
        state[f"layers.{index}.linear.weight"] = _float_tensor(stage, "weight")
        state[f"layers.{index}.linear.bias"] = stage.tensors["bias"]
    try:
        return from_qrnn_state_dict(state, window=window, output_gate=bool(output_gate),
                                    zoneout=_decimal(zoneout),
                                    pooling="ifo" if input_gate else "fo",
                                    quantization=quantization,
                                    quantized_tensors=quantized_tensors)
    except (TypeError, ValueError) as error:
        raise UnsupportedModelError(f"the kernels accept the file, but a Model cannot be "
                                    f"built from it: {error}") from error


_MODEL_BUILDERS = {"sru": _sru_model, "qrnn": _qrnn_model}


def _runs(stages: Sequence[Stage]) -> list[list[Stage]]:
    """The stages grouped into parts: consecutive stages of one cell form a
    stack; every norm, dense and softmax stage is a part of its own."""
    runs: list[list[Stage]] = []
    for stage in stages:
        if runs and stage.kind.recurrent and runs[-1][0].cell == stage.cell:
            runs[-1].append(stage)
        else:
            runs.append([stage])
    return runs


def model_from_contents(contents: ModelFile) -> Model:
    """The Model of validated file contents (raises UnsupportedModelError)."""
    runs = _runs(contents.stages)
    if len(runs) == 1 and runs[0][0].kind.recurrent:
        return _MODEL_BUILDERS[runs[0][0].cell](runs[0])
    quantization, _tensors = _quantization(contents.stages)
    parts = []
    for run in runs:
        if run[0].kind.recurrent:
            parts.append(_MODEL_BUILDERS[run[0].cell](run).parts[0])
        else:
            parts.append(part_from_stage(run[0]))
    return Model(parts, quantization)


def load(source: Any) -> Model:
    """Read an .mts model file (a path, bytes or a binary file object).

    The C loader validates the file (see the module docstring); a rejected
    file raises ModelFileError. The model's state dict uses the `sru` stack
    keys (`rnn_lst.{i}.*`, with `scale_x` always present) or the torchqrnn
    keys (`layers.{i}.linear.*`); a QRNN without input gate gets pooling "fo"
    (with output_gate False: f-pooling)."""
    return model_from_contents(read(source))
