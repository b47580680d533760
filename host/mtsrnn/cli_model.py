"""The model-file commands of `mtsrnn`: convert, inspect, export-c.

`add_commands(subparsers)` adds them to the `mtsrnn` parser (cli.py). Each
command returns an exit status under the error policy of cli_common.py: a
user error (a missing or corrupt file, a checkpoint that does not fit the
options) prints one line to stderr and returns 2, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from .cli_common import (
    CommandError,
    guarded,
    int_list,
    positive,
    positive_float,
    probability,
)
from .extras import optional

_SRU_FLAGS = ("use_tanh", "bidirectional", "no_skip_term", "normalize_after", "layer_norm_eps")
_QRNN_FLAGS = ("window", "no_output_gate", "zoneout", "pooling")


# ---- convert -----------------------------------------------------------------

def _read_checkpoint(path: str) -> Any:
    """A state dict (mapping) or a module from a .npz or a torch.save file."""
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    if path.lower().endswith(".npz"):
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        except (OSError, ValueError) as error:
            raise CommandError(f"{path}: not a readable .npz archive ({error})") from None
    try:
        torch = optional("torch", f"{path}: reading a PyTorch checkpoint")
    except ImportError as error:
        raise CommandError(
            f"{error}; without torch, save the state dict as .npz "
            "(numpy.savez(path, **{k: v.numpy() ...}))") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = str(error)
        if "Unsupported global" not in text:  # not a pickled class: a damaged file
            detail = text.split("WeightsUnpickler error:")[-1].strip() or text
            raise CommandError(f"{path}: not a readable torch.save file "
                               f"({detail.splitlines()[0]})") from None
        # Otherwise a pickled module, which needs the full unpickler.
    except Exception as error:  # torch raises RuntimeError and others for a bad file
        raise CommandError(f"{path}: not a readable torch.save file ({error})") from None
    print(f"mtsrnn convert: note: {path} holds pickled objects (a module?); loading it with "
          "torch.load(weights_only=False), which runs code from the file: convert only "
          "checkpoints you trust", file=sys.stderr)
    try:
        with warnings.catch_warnings():
            # Importing the module's package (sru warns that it cannot build CUDA code).
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise CommandError(f"{path}: cannot unpickle ({type(error).__name__}: {error})") \
            from None


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _state_dict_of(checkpoint: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    if checkpoint and all(_is_array(value) for value in checkpoint.values()):
        return checkpoint
    for key in ("state_dict", "model_state_dict", "model"):
        inner = checkpoint.get(key)
        if isinstance(inner, Mapping) and inner and all(_is_array(v) for v in inner.values()):
            return inner
    keys = ", ".join(sorted(map(str, checkpoint))[:8])
    raise CommandError(f"{path}: a mapping that is not a state dict of tensors (keys: {keys})")


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(args, name) not in (None, False)]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _sru_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.use_tanh:
        options["use_tanh"] = True
    if args.bidirectional:
        options["bidirectional"] = True
    if args.no_skip_term:
        options["has_skip_term"] = False
    if args.normalize_after:
        options["normalize_after"] = True
    if args.layer_norm_eps is not None:
        options["layer_norm_eps"] = args.layer_norm_eps
    return options


def _qrnn_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.window is not None:
        options["window"] = args.window
    if args.zoneout is not None:
        options["zoneout"] = args.zoneout
    if args.pooling is not None:
        options["pooling"] = args.pooling
    if args.no_output_gate or args.pooling == "f":
        options["output_gate"] = False  # f-pooling has no output gate
    return options


def _convert(args: argparse.Namespace) -> int:
    from . import mtsfile
    from .model import from_qrnn_state_dict, from_sru_state_dict

    if args.cell is not None:
        wrong = _given(args, _QRNN_FLAGS if args.cell == "sru" else _SRU_FLAGS)
        if wrong:
            verb = "does" if len(wrong) == 1 else "do"
            raise CommandError(f"{', '.join(map(_flag, wrong))} {verb} not apply to "
                               f"--cell {args.cell}")
    checkpoint = _read_checkpoint(args.checkpoint)
    if isinstance(checkpoint, Mapping):
        state_dict = _state_dict_of(checkpoint, args.checkpoint)
        if args.cell is None:
            raise CommandError(f"{args.checkpoint} holds a state dict: give --cell sru or "
                               "--cell qrnn (and the options the state dict does not record)")
        if args.cell == "sru":
            model = from_sru_state_dict(state_dict, **_sru_options(args))
        else:
            model = from_qrnn_state_dict(state_dict, **_qrnn_options(args))
    elif hasattr(checkpoint, "state_dict") and hasattr(checkpoint, "parameters"):
        try:
            from .torch_import import from_torch
        except ImportError as error:
            raise CommandError(f"importing a PyTorch module needs mtsrnn.torch_import "
                               f"({error})") from None
        module_cell = "sru" if hasattr(checkpoint, "rnn_lst") or hasattr(
            checkpoint, "weight_c") else "qrnn"
        if args.cell is not None and module_cell != args.cell:
            raise CommandError(f"{args.checkpoint} holds an {module_cell.upper()} module, not "
                               f"--cell {args.cell}")
        if args.cell is None:
            given = _given(args, _SRU_FLAGS + _QRNN_FLAGS)
            if given:
                raise CommandError(f"{', '.join(map(_flag, given))}: give --cell too, to "
                                   "say which cell the options are for")
            options: dict[str, Any] = {}
        else:
            options = _sru_options(args) if args.cell == "sru" else _qrnn_options(args)
        model = from_torch(checkpoint, **options)
    else:
        raise CommandError(f"{args.checkpoint}: expected a state dict or an SRU/QRNN module, "
                           f"got a {type(checkpoint).__name__}")
    if args.quantize is not None:
        from .quantize import quantize

        model = quantize(model, args.quantize)
    mtsfile.save(model, args.output)
    size = os.path.getsize(args.output)
    weights = f", weights {args.quantize}" if args.quantize else ""
    print(f"wrote {args.output}: {model.cell.upper()}, {model.num_layers} layer(s), input "
          f"{model.input_size}, output {model.output_size}{weights}, {size} bytes")
    return 0


# ---- inspect -----------------------------------------------------------------

def _per_step(weight_bytes: int, block: int) -> str:
    return f"{weight_bytes / block:.2f}".rstrip("0").rstrip(".")


def _inspect(args: argparse.Namespace) -> int:
    from . import mtsfile

    with open(args.model, "rb") as f:
        data = f.read()
    contents = mtsfile.read(data)  # validated by the C loader, which made contents.kernel
    core = contents.kernel
    c_verdict = "accepted"
    try:
        mtsfile.model_from_contents(contents)
        python_verdict = "loads as a mtsrnn.Model"
    except mtsfile.UnsupportedModelError as error:
        python_verdict = f"valid, but not a mtsrnn.Model: {error.message}"
    cell = contents.cell.upper()
    weight_bytes = contents.tensor_bytes
    state_bytes = 4 * core.state_floats
    lines = [
        f"file: {args.model}",
        f"  {contents.file_size} bytes, format {contents.version[0]}.{contents.version[1]}, "
        f"CRC-32 0x{contents.crc32:08x} ok",
        f"  C loader (mts_file_load): {c_verdict}; Python: {python_verdict}",
        f"cell: {cell}, {len(contents.stages)} layer(s), input {contents.input_size}, "
        f"output {contents.output_size}",
    ]
    for index, stage in enumerate(contents.stages):
        layer = stage.fields
        shapes = ", ".join(f"{tensor.name} {'x'.join(map(str, array.shape))}"
                           + (" int8" if str(array.dtype) == "int8" else "")
                           for tensor in stage.kind.tensors
                           if (array := stage.tensors.get(tensor.name)) is not None)
        extra = ""
        if contents.cell == "sru":
            extra = f", scale_x {layer['scale_x']:g}"
            if layer["norm"]:
                extra += f", norm_eps {layer['norm_eps']:g}"
            if "weight_c" not in stage.tensors:
                extra += ", original form (no weight_c)"
        if stage.quantization:
            extra += f", weights {stage.quantization}"
        lines.append(f"layer {index}: {stage.describe()}{extra}")
        lines.append(f"  tensors: {shapes}")
    quantized = any(stage.quantization for stage in contents.stages)
    dtypes = ("int8 product weights, float32 scales and the rest"
              if quantized else "float32")
    lines += [
        f"parameters: {contents.parameter_count}",
        f"weight bytes: {weight_bytes} ({dtypes}, all tensors; streamed once per block of T "
        "steps)",
        f"state: {core.state_floats} floats = {state_bytes} bytes",
    ]
    from .products import product_choice

    schemes = sorted({stage.quantization or "float32" for stage in contents.stages})
    for scheme in schemes:
        lines.append(f"product on this CPU ({scheme}): {product_choice(scheme)}")
    per_frame = core.workspace_size(1, 1) - core.workspace_size(1, 0)
    if per_frame and args.seq_len is None:
        lines.append(f"workspace: a stack with a bidirectional layer also needs {per_frame} "
                     "bytes per frame of the sequence (added below as '+ N/frame'; or pass "
                     "--seq-len)")
    header = ("T", "weight bytes/step", "workspace bytes", "state bytes")
    rows = []
    for block in args.block:
        if per_frame and args.seq_len is None:
            workspace = f"{core.workspace_size(block, 0)} + {per_frame}/frame"
        else:
            workspace = str(core.workspace_size(block, args.seq_len or 0))
        rows.append((str(block), _per_step(weight_bytes, block), workspace, str(state_bytes)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  ".join(cell_text.rjust(width)
                               for cell_text, width in zip(row, widths, strict=True)).rstrip())
    print("\n".join(lines))
    return 0


# ---- export-c ----------------------------------------------------------------

def _export(args: argparse.Namespace) -> int:
    from .export_c import export_c

    if not os.path.exists(args.model):
        raise CommandError(f"{args.model}: no such file")
    h_path, c_path = export_c(args.model, args.output, name=args.name,
                              golden_steps=args.golden_steps, block=args.block,
                              tolerance=args.tolerance)
    print(f"wrote {h_path} and {c_path} (model {args.name}_model, golden vectors of "
          f"{args.golden_steps} steps, T = {args.block})")
    return 0


# ---- parser ------------------------------------------------------------------

def add_commands(subparsers: Any) -> None:
    """Add convert, inspect and export-c to the `mtsrnn` subcommand parsers."""
    convert = subparsers.add_parser(
        "convert", help="a PyTorch checkpoint (state dict or module) to an .mts model file",
        description="Convert a torch.save'd SRU/QRNN state dict or module, or a .npz of a "
                    "state dict (no torch needed), to an .mts model file. A state dict does "
                    "not record the options: give --cell and the options the model was built "
                    "with. A module records its own (torch.load(weights_only=False) runs code "
                    "from the file: convert only checkpoints you trust).")
    convert.add_argument("checkpoint", help="a .pt/.pth (torch.save) or .npz file")
    convert.add_argument("--cell", choices=("sru", "qrnn"),
                         help="the cell of a state dict (optional for a module)")
    convert.add_argument("-o", "--output", required=True, metavar="MODEL.mts")
    sru = convert.add_argument_group("SRU options (sru.SRU constructor arguments)")
    sru.add_argument("--use-tanh", action="store_true", help="tanh activation g")
    sru.add_argument("--bidirectional", action="store_true")
    sru.add_argument("--no-skip-term", action="store_true", help="has_skip_term=False")
    sru.add_argument("--normalize-after", action="store_true",
                     help="layer norm after the layer (with layer_norm.* tensors)")
    sru.add_argument("--layer-norm-eps", type=positive_float, metavar="EPS",
                     help="layer norm epsilon (default 1e-5)")
    qrnn = convert.add_argument_group("QRNN options (torchqrnn layout)")
    qrnn.add_argument("--window", type=positive, metavar="N",
                      help="convolution width (default 1)")
    qrnn.add_argument("--no-output-gate", action="store_true", help="h = c")
    qrnn.add_argument("--zoneout", type=probability, metavar="P",
                      help="eval-time zoneout (default 0)")
    convert.add_argument("--quantize", choices=("int8-w", "int8-wa"), default=None,
                         help="int8 product weights with per-row scales; int8-wa also "
                              "quantises each product's input per step (docs/quantization.md)")
    qrnn.add_argument("--pooling", choices=("f", "fo", "ifo"),
                      help="default fo; f implies --no-output-gate")
    convert.set_defaults(run=guarded("convert", _convert))

    inspect = subparsers.add_parser(
        "inspect", help="configuration and the sizes a device needs for an .mts file",
        description="Validate an .mts file (CRC and every record, with the Python reader and "
                    "the C loader) and print its configuration per layer, the parameter "
                    "count, the weight bytes streamed per time step for each block size T, "
                    "and the workspace and state bytes a device needs.")
    inspect.add_argument("model", help="an .mts file")
    inspect.add_argument("--block", type=int_list, default=[1, 4, 16],
                         help="comma-separated block sizes T (default 1,4,16)")
    inspect.add_argument("--seq-len", type=positive, default=None, metavar="L",
                         help="sequence length, for stacks with a bidirectional layer")
    inspect.set_defaults(run=guarded("inspect", _inspect))

    export = subparsers.add_parser(
        "export-c", help="an .mts file as C source (const weights, descriptors, golden test)",
        description="Write NAME.h and NAME.c: the weights as const float arrays (flash on a "
                    "microcontroller), the mts_model NAME_model the kernels run directly, and "
                    "golden input/output vectors for a device self-test.")
    export.add_argument("model", help="an .mts file")
    export.add_argument("-o", "--output", required=True, metavar="DIR")
    export.add_argument("--name", default="model", help="C identifier prefix (default model)")
    export.add_argument("--golden-steps", type=positive, default=8, metavar="N",
                        help="time steps of the golden vectors (default 8)")
    export.add_argument("--block", type=positive, default=8, metavar="T",
                        help="block size the device runs with; sizes the workspace "
                             "(default 8)")
    export.add_argument("--tolerance", type=positive_float, default=1e-4,
                        help="max abs error the self-test accepts (default 1e-4)")
    export.set_defaults(run=guarded("export-c", _export))
