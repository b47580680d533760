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
    Failed,
    csv_choices,
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
        hint = ("; the module's class must be importable here: put its source on "
                "PYTHONPATH, or call mtsrnn.from_torch(module) where the class is defined"
                if "Can't get attribute" in str(error) or isinstance(error, ImportError)
                else "")
        raise CommandError(f"{path}: cannot unpickle ({type(error).__name__}: {error}){hint}") \
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


def _state_dict_model(args: argparse.Namespace, state_dict: Mapping[str, Any]) -> Any:
    """The Model of a state dict: its parts found by key prefix
    (mtsrnn.state_dicts), every assumption printed as a note."""
    from .model import Model
    from .state_dicts import parts_from_state_dict

    sru, qrnn = _sru_options(args), _qrnn_options(args)
    parts, notes = parts_from_state_dict(
        state_dict, sru_options=sru, qrnn_options=qrnn, activations=args.activations,
        softmax=args.softmax, batch_norm_eps=args.batch_norm_eps, layer_norm_eps=args.norm_eps)
    kinds = {part.kind for part in parts}
    if args.cell is not None and not kinds & {args.cell}:
        found = ", ".join(sorted(kinds & {"sru", "qrnn"})) or "no recurrent layers"
        raise CommandError(f"{args.checkpoint}: --cell {args.cell}, but the keys show {found}")
    unused = [flag for flag, cell in ((_given(args, _SRU_FLAGS), "sru"),
                                      (_given(args, _QRNN_FLAGS), "qrnn"))
              if flag and cell not in kinds]
    if unused:
        flags = [_flag(name) for group in unused for name in group]
        raise CommandError(f"{', '.join(flags)}: the state dict has no layer of that cell")
    for note in notes:
        print(f"mtsrnn convert: note: {note}", file=sys.stderr)
    return Model(parts)


def _load_check(path: str, what: str) -> Any:
    import numpy as np

    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise CommandError(f"--check: {path}: not a readable .npy file ({error})") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        raise CommandError(f"--check: {path}: expected a float array ({what}), got "
                           f"{getattr(array, 'dtype', type(array).__name__)}")
    squeezed = array.reshape([dim for index, dim in enumerate(array.shape)
                              if not (dim == 1 and index < array.ndim - 1 and array.ndim > 2)])
    if squeezed.ndim != 2:
        raise CommandError(f"--check: {path}: expected {what} of shape (L, size) (a batch of "
                           f"one may be a middle or first axis of size 1), got {array.shape}")
    return squeezed


def _check(model: Any, args: argparse.Namespace) -> str:
    """Compare the converted model's outputs with reference outputs (--check):
    Failed (exit 1) on a mismatch."""
    import numpy as np

    x_path, y_path = args.check
    x = np.ascontiguousarray(_load_check(x_path, "inputs"), dtype=np.float32)
    y = _load_check(y_path, "outputs")
    if x.shape[1] != model.input_size:
        raise CommandError(f"--check: {x_path} has {x.shape[1]} features per frame, the model "
                           f"takes {model.input_size}")
    if y.shape != (x.shape[0], model.output_size):
        raise CommandError(f"--check: {y_path} has shape {y.shape}, expected "
                           f"({x.shape[0]}, {model.output_size}) for {x_path}")
    h, _state = model.forward(x)
    error = float(np.max(np.abs(h.astype(np.float64) - y.astype(np.float64)), initial=0.0))
    if not error <= args.tolerance:  # also NaN
        raise Failed(f"the converted model differs from {y_path} by {error:.3g} (max abs "
                     f"error), more than --tolerance {args.tolerance:g}: the options do not "
                     f"match the trained model (see the notes above); {args.output} not "
                     "written")
    return f", --check: max abs error {error:.3g} <= {args.tolerance:g}"


def _convert(args: argparse.Namespace) -> int:
    from . import mtsfile

    if args.cell is not None:
        wrong = _given(args, _QRNN_FLAGS if args.cell == "sru" else _SRU_FLAGS)
        if wrong:
            verb = "does" if len(wrong) == 1 else "do"
            raise CommandError(f"{', '.join(map(_flag, wrong))} {verb} not apply to "
                               f"--cell {args.cell}")
    checkpoint = _read_checkpoint(args.checkpoint)
    if isinstance(checkpoint, Mapping):
        model = _state_dict_model(args, _state_dict_of(checkpoint, args.checkpoint))
    elif hasattr(checkpoint, "state_dict") and hasattr(checkpoint, "parameters"):
        try:
            from .torch_import import _is_recurrent, from_torch
        except ImportError as error:
            raise CommandError(f"importing a PyTorch module needs mtsrnn.torch_import "
                               f"({error})") from None
        head_flags = [name for name in ("activations",) if getattr(args, name) is not None]
        if head_flags or args.softmax != "none":
            raise CommandError("--activations and --softmax are for state dicts; a saved "
                               "module records its own")
        if not _is_recurrent(checkpoint):  # a whole model: it records everything
            given = _given(args, _SRU_FLAGS + _QRNN_FLAGS) + (["cell"] if args.cell else [])
            if given:
                raise CommandError(f"{', '.join(map(_flag, given))}: a saved whole model "
                                   "records its own options")
            model = from_torch(checkpoint)
        else:
            module_cell = "sru" if hasattr(checkpoint, "rnn_lst") or hasattr(
                checkpoint, "weight_c") else "qrnn"
            if args.cell is not None and module_cell != args.cell:
                raise CommandError(f"{args.checkpoint} holds an {module_cell.upper()} module, "
                                   f"not --cell {args.cell}")
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
        raise CommandError(f"{args.checkpoint}: expected a state dict or a PyTorch module, "
                           f"got a {type(checkpoint).__name__}")
    if args.quantize is not None:
        from .quantize import quantize

        model = quantize(model, args.quantize)
    checked = _check(model, args) if args.check else ""
    mtsfile.save(model, args.output)
    size = os.path.getsize(args.output)
    weights = f", weights {args.quantize}" if args.quantize else ""
    what = (f"{model.cell.upper()}, {model.num_layers} layer(s)" if model.cell != "model"
            else f"stages {model.describe()}")
    print(f"wrote {args.output}: {what}, input {model.input_size}, output "
          f"{model.output_size}{weights}, {size} bytes{checked}")
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
    weight_bytes = contents.tensor_bytes
    state_bytes = 4 * core.state_floats
    what = (f"cell: {contents.cell.upper()}, {len(contents.stages)} layer(s)"
            if contents.cell != "model" else
            f"stages: {', '.join(stage.cell for stage in contents.stages)}")
    lines = [
        f"file: {args.model}",
        f"  {contents.file_size} bytes, format {contents.version[0]}.{contents.version[1]}, "
        f"CRC-32 0x{contents.crc32:08x} ok",
        f"  C loader (mts_file_load): {c_verdict}; Python: {python_verdict}",
        f"{what}, input {contents.input_size}, output {contents.output_size}",
    ]
    word = "layer" if contents.cell != "model" else "stage"
    # Each stage's own rows, from the kernels (the model's layout holds the
    # largest of each buffer over the stages, plus the rows between stages).
    stage_workspace = {block: [core.stage_workspace_size(index, block)
                               for index in range(len(contents.stages))]
                       for block in args.block}
    for index, stage in enumerate(contents.stages):
        layer = stage.fields
        shapes = ", ".join(f"{tensor.name} {'x'.join(map(str, array.shape))}"
                           + (" int8" if str(array.dtype) == "int8" else "")
                           for tensor in stage.kind.tensors
                           if (array := stage.tensors.get(tensor.name)) is not None)
        extra = ""
        if stage.cell == "sru":
            extra = f", scale_x {layer['scale_x']:g}"
            if layer["norm"]:
                extra += f", norm_eps {layer['norm_eps']:g}"
            if "weight_c" not in stage.tensors:
                extra += ", original form (no weight_c)"
        if stage.quantization:
            extra += f", weights {stage.quantization}"
        lines.append(f"{word} {index}: {stage.describe()}{extra}")
        lines.append(f"  tensors: {shapes or 'none'}")
        per_step = ", ".join(f"T={block}: {_per_step(stage.weight_bytes, block)}"
                             for block in args.block)
        lines.append(f"  parameters {stage.parameter_count}, weight bytes {stage.weight_bytes} "
                     f"(per step {per_step}), state {4 * stage.state_floats} bytes")
        own = ", ".join(f"T={block}: {stage_workspace[block][index]}" for block in args.block)
        lines.append(f"  workspace (its own rows, mts_model_stage_workspace_size): {own} bytes")
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
    # The sequence buffer's cost per frame over a long sequence (a short one
    # also pays the rounding of the buffer to whole cache lines).
    per_frame = -(-(core.workspace_size(1, 2048) - core.workspace_size(1, 1024)) // 1024)
    if per_frame and args.seq_len is None:
        lines.append(f"workspace: a model with a bidirectional layer also needs {per_frame} "
                     "bytes per frame of the sequence (added below as '+ N/frame'; or pass "
                     "--seq-len)")
    lines.append("whole model (workspace: mts_model_workspace_size for the stages):")
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
    for block in args.block:
        own = stage_workspace[block]
        peak = max(range(len(own)), key=own.__getitem__)
        total = core.workspace_size(block, args.seq_len or 0)
        frames = f" + {per_frame}/frame" if per_frame and args.seq_len is None else ""
        lines.append(f"workspace peak at T={block}: {word} {peak} ({contents.stages[peak].cell}) "
                     f"{own[peak]} of the model's {total}{frames} bytes (the rest: 64 bytes of "
                     "alignment, any rows between stages or sequence buffers, and the rows "
                     "other stages need wider)")
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
                         help="the cell the state dict's keys must show (optional: inferred)")
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
    head = convert.add_argument_group(
        "whole-model state dicts (a head, input normalisation; a saved module records these)")
    head.add_argument("--activations", type=csv_choices(("identity", "relu", "tanh", "sigmoid")),
                      metavar="A1,A2,...", help="the activation after each nn.Linear, in "
                      "state-dict order (required when the state dict has nn.Linear layers)")
    head.add_argument("--softmax", choices=("none", "softmax", "log"), default="none",
                      help="a final softmax or log-softmax over the outputs (default none)")
    head.add_argument("--batch-norm-eps", type=positive_float, default=1e-5, metavar="EPS",
                      help="nn.BatchNorm1d eps (default 1e-5)")
    head.add_argument("--norm-eps", type=positive_float, default=1e-5, metavar="EPS",
                      help="nn.LayerNorm eps of a LayerNorm stage (default 1e-5)")
    convert.add_argument("--check", nargs=2, metavar=("X.npy", "Y.npy"),
                         help="run the converted model on X (L, input) from the zero state and "
                              "compare with the reference outputs Y (L, output), e.g. the "
                              "PyTorch model's; exit 1 without writing on a mismatch")
    convert.add_argument("--tolerance", type=positive_float, default=1e-4,
                         help="max abs error --check accepts (default 1e-4)")
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
