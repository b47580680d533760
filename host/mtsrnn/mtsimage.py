"""The .mts image of a list of stages: the writer (docs/model-format.md).

`write_image` lays records and tensors out as the format says (header,
stage or layer table, tensor table, 64-byte aligned data, CRC) in a 64-byte
aligned buffer that `_core.load_file` runs in place; `stages_image` does so
for `Stage`s and hands back the stages with their tensors as views into the
image. What a stage holds and the record formats are `mtsrnn.stages`'; the
reader is `mtsrnn.mtsfile`'s.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .stages import (
    BYTE_ORDER_MARK,
    CRC_OFFSET,
    DATA_ALIGNMENT,
    DTYPE_F32,
    DTYPE_I8,
    HEADER,
    HEADER_SIZE,
    LAYER_RECORD_SIZE,
    MAGIC,
    MAX_STAGES,
    STAGE_RECORD_HEAD,
    STAGE_RECORD_SIZE,
    TENSOR_RECORD,
    TENSOR_RECORD_SIZE,
    VERSION_MAJOR,
    VERSION_MAJOR_STAGES,
    Stage,
    StageKind,
    stage_kind,
)


def crc32(data: Any, file_size: int | None = None) -> int:
    """The CRC-32 of an .mts image (its first file_size bytes, all of data by
    default) with the crc32 field taken as zero."""
    view = memoryview(data).cast("B")
    end = len(view) if file_size is None else file_size
    crc = zlib.crc32(view[:CRC_OFFSET])
    crc = zlib.crc32(b"\0\0\0\0", crc)
    return zlib.crc32(view[CRC_OFFSET + 4:end], crc)


def aligned_buffer(nbytes: int, alignment: int = DATA_ALIGNMENT) -> np.ndarray:
    """A zeroed uint8 array of nbytes whose data starts on an `alignment` boundary.
    The kernels read the weights of an image in place (_core.load_file); their
    vector loads of a weight row straddle cache lines unless the rows start on
    a 64-byte boundary (1.5x slower with AVX-512), and the file aligns each
    tensor to 64 bytes from the start of the image."""
    raw = np.zeros(nbytes + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start:start + nbytes]


def _align(offset: int) -> int:
    return -(-offset // DATA_ALIGNMENT) * DATA_ALIGNMENT


def _kinds_of(cell: str | Sequence[str], count: int) -> list[StageKind]:
    if isinstance(cell, str):
        return [stage_kind(cell)] * count
    kinds = [stage_kind(name) for name in cell]
    if len(kinds) != count:
        raise ValueError(f"{len(kinds)} stage kinds for {count} stages")
    return kinds


def image_version(kinds: Sequence[StageKind], quantized: bool) -> tuple[int, int]:
    """The oldest format version that holds stages of these kinds: 1.0 (float)
    or 1.1 (int8) for a stack of one cell, 2.0 for anything else."""
    if kinds and kinds[0].recurrent and all(kind is kinds[0] for kind in kinds):
        return VERSION_MAJOR, 1 if quantized else 0
    return VERSION_MAJOR_STAGES, 0


def stage_record(kind: StageKind, fields: Mapping[str, Any]) -> bytes:
    """The 48-byte 2.0 stage record: kind, reserved 0, the kind's fields (a 1.x
    layer record for sru/qrnn, padded with zeros)."""
    return (STAGE_RECORD_HEAD.pack(kind.code, 0) + kind.pack(fields)).ljust(
        STAGE_RECORD_SIZE, b"\0")


def write_image(cell: str | Sequence[str],
                layers: Sequence[tuple[Mapping[str, Any], Mapping[int, Any]]],
                major: int | None = None) -> tuple[np.ndarray, list[dict[int, np.ndarray]]]:
    """The .mts image of records and tensors, (fields, {kind code: array}) per
    stage, and per stage read-only views of its tensors inside the image.

    `cell` is the kind of every stage, or a sequence of kind names, one per
    stage. The version is the oldest that holds the stages (`image_version`)
    unless `major` forces one (2: a stack written as 2.0, for tests). The image
    is a read-only 64-byte aligned uint8 array. Tensors are written stage by
    stage in increasing kind code, each at the next multiple of 64 bytes; 1-D
    arrays get ndim 1, 2-D arrays ndim 2; int8 arrays dtype 2, all others
    float32. A 1.x image is byte for byte what 1.x writers wrote. Nothing is
    validated beyond the record formats (a test can write an invalid file on
    purpose): `_core.load_file` judges the image."""
    kinds = _kinds_of(cell, len(layers))
    entries = []
    for index, (_fields, tensors) in enumerate(layers):
        for code, array in sorted(tensors.items()):
            array = np.asarray(array)
            array = np.ascontiguousarray(array, dtype="i1" if array.dtype == np.int8 else "<f4")
            if array.ndim not in (1, 2):
                raise ValueError(f"layer {index} tensor kind {code}: expected 1 or 2 "
                                 f"dimensions, got shape {array.shape}")
            entries.append((index, code, array))
    version = image_version(kinds, any(fields.get("quant", 0) for fields, _t in layers))
    if major is not None and major != version[0]:
        if major != VERSION_MAJOR_STAGES:
            raise ValueError(f"these stages ({', '.join(k.name for k in kinds)}) need format "
                             f"{version[0]}.{version[1]}, not {major}.x")
        version = (VERSION_MAJOR_STAGES, 0)
    staged = version[0] == VERSION_MAJOR_STAGES
    record_size = STAGE_RECORD_SIZE if staged else LAYER_RECORD_SIZE
    tensor_table = HEADER_SIZE + record_size * len(layers)
    offset = tensor_table + TENSOR_RECORD_SIZE * len(entries)
    placed = []
    for index, code, array in entries:
        offset = _align(offset)
        placed.append((index, code, array, offset))
        offset += array.nbytes
    file_size = offset
    image = aligned_buffer(file_size)
    HEADER.pack_into(image, 0, MAGIC, version[0], version[1], BYTE_ORDER_MARK, HEADER_SIZE,
                     0 if staged else kinds[0].code, len(layers), len(entries), file_size,
                     HEADER_SIZE, tensor_table, 0, 0, bytes(8))
    for index, (kind, (fields, _tensors)) in enumerate(zip(kinds, layers, strict=True)):
        start = HEADER_SIZE + record_size * index
        record = stage_record(kind, fields) if staged else kind.pack(fields)
        image[start:start + record_size] = np.frombuffer(record, np.uint8)
    views: list[dict[int, np.ndarray]] = [{} for _ in layers]
    for number, (index, code, array, start) in enumerate(placed):
        dim1 = array.shape[1] if array.ndim == 2 else 1
        dtype = DTYPE_I8 if array.dtype == np.int8 else DTYPE_F32
        TENSOR_RECORD.pack_into(image, tensor_table + TENSOR_RECORD_SIZE * number, index, code,
                                dtype, array.ndim, array.shape[0], dim1, start, array.nbytes)
        target = image[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
        target[...] = array
        target.flags.writeable = False
        views[index][code] = target
    struct.pack_into("<I", image, CRC_OFFSET, crc32(image))
    image.flags.writeable = False
    return image, views


def stages_image(stages: Sequence[Stage]) -> tuple[np.ndarray, tuple[Stage, ...]]:
    """The .mts image of `stages` (1.x for a stack of one cell, else 2.0) and
    the same stages with their tensors as read-only views into the image."""
    if not stages:
        raise ValueError("a model needs at least one stage")
    if len(stages) > MAX_STAGES:
        raise ValueError(f"a model has at most {MAX_STAGES} stages, got {len(stages)}")
    image, views = write_image([stage.cell for stage in stages],
                               [(stage.fields, stage.by_code()) for stage in stages])
    placed = tuple(
        Stage(stage.cell, dict(stage.fields),
              {stage.kind.tensor(code).name: view for code, view in tensors.items()})
        for stage, tensors in zip(stages, views, strict=True))
    return image, placed
