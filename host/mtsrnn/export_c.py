"""Firmware export: a model as C source the kernels run directly.

`export_c(model, out_dir, name)` writes `<name>.h` and `<name>.c`:

- the weights as `static const float` arrays in the kernels' layout (the
  layout of the .mts file), `const` so that a microcontroller keeps them in
  flash, 16-byte aligned under GCC and Clang;
- the stage descriptors (an `mts_stage` array: `.kind` and `.as.<kind>`, the
  kind's descriptor `mts_sru_layer`, `mts_qrnn_layer`, `mts_norm_stage`,
  `mts_dense_layer` or `mts_softmax_stage`) and an `mts_model` named
  `<name>_model` to pass to `mts_model_forward`;
- golden self-test vectors: `<name>_golden_input[STEPS][INPUT]`, a
  deterministic input, and `<name>_golden_output[STEPS][OUTPUT]`, the output
  of the float64 reference (`mtsrnn.reference`) from the zero state, rounded
  to float32, with the largest absolute error a device should accept;
- macros with the sizes a device needs: input and output sizes, state
  floats, the block size T and the workspace bytes for it.

Every float is written exactly, as a C99 hexadecimal literal (0x1.8p-3f), so
the C arrays hold the very bits of the model. The code compiles as C99 with
`-Wall -Wextra -Wdouble-promotion -Wfloat-conversion -Werror`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import mtsfile, reference
from .model import Model, product_variants
from .stages import Stage, StageKind

__all__ = ["c_float", "export_c", "golden_input", "golden_vectors"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while _Bool _Complex _Imaginary".split())
_PER_LINE = 6


def c_float(value: Any) -> str:
    """An exact C99 float literal for a float32 value (hexadecimal, `f` suffix)."""
    value = float(np.float32(value))
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    if value == 0.0:
        return "-0.0f" if math.copysign(1.0, value) < 0 else "0.0f"
    text = value.hex()  # [-]0x1.<13 hex digits>p<exp>: exact for a double
    mantissa, exponent = text.split("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}f"


def golden_input(steps: int, size: int) -> np.ndarray:
    """A deterministic input in [-1, 1), the same on every machine: a 32-bit
    linear congruential sequence whose top 24 bits are exact float32 values."""
    values = np.empty(steps * size, dtype=np.float32)
    state = 0x2545F491
    for index in range(values.size):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        values[index] = np.float32((state >> 8) / float(1 << 23) - 1.0)
    return values.reshape(steps, size)


def golden_vectors(model: Model, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The golden input and the float64 reference output (rounded to float32)
    from the zero state."""
    x = golden_input(steps, model.input_size)
    h = reference.model_forward(model.reference_parts(), x, quantization=model.quantization)
    return x, np.asarray(h, dtype=np.float64).astype(np.float32)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"name must be a C identifier (letters, digits, _), got {name!r}")
    if name in _C_KEYWORDS:
        raise ValueError(f"name {name!r} is a C keyword")
    if name.lower() == "mts" or name.lower().startswith("mts_"):
        raise ValueError(f"name {name!r} would clash with the kernels' mts_ identifiers")
    return name


def _float_lines(values: Iterable[Any], indent: str) -> list[str]:
    literals = [c_float(v) for v in values]
    return [indent + ", ".join(literals[i:i + _PER_LINE]) + ","
            for i in range(0, len(literals), _PER_LINE)]


def _array(name: str, array: np.ndarray, align: str) -> list[str]:
    flat = np.ascontiguousarray(array, dtype=np.float32).reshape(-1)
    shape = " x ".join(str(d) for d in array.shape)
    return [f"/* {shape} */",
            f"static const float {name}[{flat.size}] {align} = {{",
            *_float_lines(flat, "    "),
            "};", ""]


def _int8_array(name: str, array: np.ndarray, align: str) -> list[str]:
    flat = np.ascontiguousarray(array, dtype=np.int8).reshape(-1)
    shape = " x ".join(str(d) for d in array.shape)
    per_line = 16
    return [f"/* {shape}, int8 */",
            f"static const int8_t {name}[{flat.size}] {align} = {{",
            *("    " + ", ".join(str(int(v)) for v in flat[i:i + per_line]) + ","
              for i in range(0, flat.size, per_line)),
            "};", ""]


def _matrix(name: str, rows_macro: str, cols_macro: str, array: np.ndarray) -> list[str]:
    lines = [f"const float {name}[{rows_macro}][{cols_macro}] = {{"]
    for row in array:
        lines.append("    {")
        lines.extend(_float_lines(row, "        "))
        lines.append("    },")
    return lines + ["};", ""]


def _c_value(kind: StageKind, name: str, value: Any) -> str:
    """A record field as a C initialiser: an enum name, a float literal or an
    unsigned integer."""
    if name in kind.c_enums:
        return kind.c_enums[name][value]
    if isinstance(value, float):
        return c_float(value)
    return f"{value}u"


def _descriptor(stage: Stage, arrays: dict[str, str]) -> list[str]:
    """The C descriptor of a stage, an mts_stage (mtsrnn/model.h): its kind and
    in `.as.<kind>` (mts_sru_layer, mts_qrnn_layer, mts_norm_stage,
    mts_dense_layer, mts_softmax_stage) its record fields, then its float
    tensors (NULL when absent), then for a quantised stage the quant scheme and
    its int8 weights with their scales."""
    kind = stage.kind
    scales = kind.scale_kinds
    lines = ["    {", f"        .kind = {kind.c_kind},", f"        .as.{kind.c_member} = {{"]
    lines += [f"            .{name} = {_c_value(kind, name, stage.fields[name])},"
              for name in kind.fields if name != "quant"]
    lines += [f"            .{tensor.name} = {arrays.get(tensor.name, 'NULL')},"
              for tensor in kind.tensors if tensor.name not in scales]
    if stage.quantization is not None:
        lines.append(f"            .quant = {_c_value(kind, 'quant', stage.fields['quant'])},")
        for tensor in kind.tensors:
            if tensor.scale and tensor.name + "_q" in arrays:
                lines.append(f"            .{tensor.name}_q = {arrays[tensor.name + '_q']},")
                lines.append(f"            .{tensor.scale} = {arrays[tensor.scale]},")
    return lines + ["        },", "    },"]


def _check_host_error(model: Model, x: np.ndarray, golden: np.ndarray, block: int,
                      tolerance: float) -> float:
    """The largest error of the host kernels (every product variant) against
    the golden output; it must be within the tolerance the device will use."""
    worst = 0.0
    for variant in product_variants(model.quantization):
        h, _state = model.forward(x, block=block, variant=variant)
        error = float(np.max(np.abs(h.astype(np.float64) - golden.astype(np.float64)),
                             initial=0.0))
        if not error <= tolerance:  # also NaN
            raise ValueError(
                f"the host kernels ({variant} product) differ from the float64 "
                f"reference by {error:.3g} on the golden input, more than the tolerance "
                f"{tolerance:g}; pass a larger tolerance (the model may be ill-conditioned, "
                "e.g. a layer norm over nearly equal values)")
        worst = max(worst, error)
    return worst


def export_c(model_or_path: Model | str | os.PathLike[str], out_dir: str | os.PathLike[str],
             name: str = "model", golden_steps: int = 8, block: int = 8,
             tolerance: float = 1e-4) -> tuple[Path, Path]:
    """Write `<name>.h` and `<name>.c` into out_dir (created if needed) for a
    Model or an .mts file; returns their paths. `block` is the T the device
    will run with (it sizes `<NAME>_WORKSPACE_BYTES`); `tolerance` is the max
    abs error against the golden output the self-test accepts, checked here
    against the host kernels first."""
    name = _check_name(name)
    if isinstance(model_or_path, Model):
        model = model_or_path
        source = "a mtsrnn.Model"
    else:
        model = mtsfile.load(model_or_path)
        source = os.path.basename(os.fspath(model_or_path))
    if isinstance(golden_steps, bool) or not isinstance(golden_steps, int) or golden_steps < 1:
        raise ValueError(f"golden_steps must be an integer >= 1, got {golden_steps!r}")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be an integer >= 1, got {block!r}")
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance)
            and tolerance > 0):
        raise ValueError(f"tolerance must be a finite number > 0, got {tolerance!r}")

    stages = model.stages
    x, golden = golden_vectors(model, golden_steps)
    host_error = _check_host_error(model, x, golden, block, tolerance)
    workspace = model.workspace_bytes(block, golden_steps)
    weight_bytes = model.weight_bytes
    upper = name.upper()
    align = f"{upper}_ALIGNED"
    options = (", ".join(f"{key}={value!r}" for key, value in model.config.items())
               if model.cell != "model" else f"stages {model.describe()}")
    needs_math = not all(np.isfinite(array).all() for stage in stages
                         for array in stage.tensors.values())
    guard = f"MTSRNN_EXPORT_{upper}_H"

    header = [
        f"/* {name}.h: generated by mtsrnn export-c from {source}; do not edit.",
        f" * {model.cell.upper()}, {model.num_stages} stage(s), {options}"
        + (f", weights quantised {model.quantization} (docs/quantization.md)."
           if model.quantization else "."),
        " *",
        f" * Run it with mts_model_forward(&{name}_model, ...) (mtsrnn/model.h): the",
        f" * state holds {upper}_STATE_FLOATS floats (zero it with mts_model_reset_state),",
        f" * the workspace {upper}_WORKSPACE_BYTES bytes for T = {upper}_BLOCK time steps per",
        " * pass over the weights. Self-test: run the golden input from the zero state",
        " * in one call and compare with the golden output; every value must be within",
        f" * {upper}_GOLDEN_TOLERANCE (max abs error). */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include \"mtsrnn/model.h\"",
        "",
        "#ifdef __cplusplus",
        "extern \"C\" {",
        "#endif",
        "",
        f"#define {upper}_INPUT_SIZE {model.input_size}u",
        f"#define {upper}_OUTPUT_SIZE {model.output_size}u",
        f"#define {upper}_NUM_LAYERS {model.num_layers}u",
        f"#define {upper}_NUM_STAGES {model.num_stages}u",
        f"#define {upper}_STATE_FLOATS {model.state_floats}u",
        f"#define {upper}_WEIGHT_BYTES {weight_bytes}u",
        f"#define {upper}_BLOCK {block}u",
        f"/* For T = {upper}_BLOCK (a stack with a bidirectional layer: for sequences",
        f" * of up to {upper}_GOLDEN_STEPS frames; see mts_model_workspace_size). */",
        f"#define {upper}_WORKSPACE_BYTES {workspace}u",
        f"#define {upper}_GOLDEN_STEPS {golden_steps}u",
        f"/* Max abs error the self-test accepts (the host kernels: {host_error:.3g}). */",
        f"#define {upper}_GOLDEN_TOLERANCE {float(tolerance)!r}f",
        "",
        f"extern const mts_model {name}_model;",
        f"extern const float {name}_golden_input[{upper}_GOLDEN_STEPS][{upper}_INPUT_SIZE];",
        f"extern const float {name}_golden_output[{upper}_GOLDEN_STEPS][{upper}_OUTPUT_SIZE];",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {guard} */",
        "",
    ]

    body = [
        f"/* {name}.c: generated by mtsrnn export-c from {source}; do not edit.",
        " * Weights in the kernels' layout (docs/model-format.md), exact float32 values. */",
        f"#include \"{name}.h\"",
        "",
        "#include <stddef.h>",
    ]
    if needs_math:
        body.append("#include <math.h>")
    body += [
        "",
        "#if defined(__GNUC__) || defined(__clang__)",
        f"#define {align} __attribute__((aligned(16)))",
        "#else",
        f"#define {align}",
        "#endif",
        "",
    ]
    descriptors = []
    for index, stage in enumerate(stages):
        arrays = {}
        for tensor in stage.kind.tensors:
            array = stage.tensors.get(tensor.name)
            if array is None:
                continue
            int8 = array.dtype == np.int8  # a quantised weight: weight_q, weight_proj_q
            key = tensor.name + ("_q" if int8 else "")
            array_name = f"{name}_l{index}_{key}"
            arrays[key] = array_name
            body.extend(_int8_array(array_name, array, align) if int8
                        else _array(array_name, array, align))
        descriptors.extend(_descriptor(stage, arrays))
    body += [
        f"static const mts_stage {name}_stages[{upper}_NUM_STAGES] = {{",
        *descriptors,
        "};",
        "",
        f"const mts_model {name}_model = {{",
        f"    .num_stages = {upper}_NUM_STAGES,",
        f"    .stages = {name}_stages,",
        "};",
        "",
        *_matrix(f"{name}_golden_input", f"{upper}_GOLDEN_STEPS", f"{upper}_INPUT_SIZE", x),
        *_matrix(f"{name}_golden_output", f"{upper}_GOLDEN_STEPS", f"{upper}_OUTPUT_SIZE",
                 golden),
    ]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    h_path, c_path = out / f"{name}.h", out / f"{name}.c"
    h_path.write_text("\n".join(header))
    c_path.write_text("\n".join(body))
    return h_path, c_path
