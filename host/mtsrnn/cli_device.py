"""The device commands of `mtsrnn`: flash, run, selftest and `bench device`.

`add_commands(subparsers, bench_targets)` adds them to the `mtsrnn` parser
(cli.py): flash, run and selftest at the top level, `device` under
`mtsrnn bench`. A device is a named board (`--board`, default the QEMU
board qemu-mps2-an386, booted and stopped here) or a running board at a
pyserial URL (`--port /dev/ttyACM0`, `COM3`, `socket://host:port`).

Exit status: 0 on success; 1 when the device fails (a self-test that does
not pass, results that differ from the host, a device or protocol error);
2 on a user error (a missing file, an unknown board); 130 on Ctrl-C. The
emulator is stopped in every case.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from .cli_model import _int_list, _positive, one_line, report

EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
RUN_TOLERANCE = 1e-4  # max abs difference between device and host outputs

EMULATION_NOTE = ("note: emulated device (QEMU): the counts are guest instructions "
                  "(-icount shift=0), not cycles; timings under emulation are not performance")
EMULATED_LINUX_NOTE = ("note: emulated device (QEMU user mode): ns is the time of an emulator "
                       "translating the guest code (about 10x slower than native, NEON no "
                       "faster than scalar); timings under emulation are not performance")


def emulation_note(board) -> str:
    """What the counters of an emulated board are, and that they are not performance."""
    return EMULATED_LINUX_NOTE if board.kind == "emulated-linux" else EMULATION_NOTE


class CommandError(Exception):
    """A user error: one line on stderr, exit status 2."""


class Failed(Exception):
    """The device ran but failed a check: one line on stderr, exit status 1."""


def _guarded(command: str, run: Callable[[argparse.Namespace], int]):
    """Run a command: user errors exit 2, device failures 1, Ctrl-C 130, each
    with one line on stderr."""
    def wrapper(args: argparse.Namespace) -> int:
        try:
            from .harness import BoardError, HarnessError
        except ImportError as error:
            return report(command, one_line(error), EXIT_USER_ERROR)
        try:
            return run(args)
        except KeyboardInterrupt:
            print(f"\nmtsrnn {command}: interrupted (the emulator, if any, was stopped)",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        except (CommandError, BoardError) as error:  # BoardError before HarnessError
            return report(command, one_line(error), EXIT_USER_ERROR)
        except (Failed, HarnessError) as error:
            return report(command, one_line(error), EXIT_FAILED)
        except (OSError, ValueError, ImportError) as error:
            return report(command, one_line(error), EXIT_USER_ERROR)

    return wrapper


def _open(args: argparse.Namespace, device_args: list[str] | None = None):
    from .harness import get_board, open_board
    from .harness.boards import build_firmware

    model = getattr(args, "model", None)
    if args.port is None and model is not None:
        board = get_board(args.board)
        if board.runs_linux_program:
            device_args = [*(device_args or []), "--model", model]  # it loads the file
        elif board.kind == "qemu" and args.firmware is None:
            if not os.path.exists(model):
                raise CommandError(f"{model}: no such file")
            print(f"building the {board.name} firmware with {model} built in ...",
                  file=sys.stderr)
            args.firmware = str(build_firmware(board, [model]))
    return open_board(args.board, port=args.port, firmware=args.firmware,
                      timeout=args.timeout, baudrate=args.baudrate, device_args=device_args)


def _where(session) -> str:
    if session.board.kind == "qemu":
        return f"{session.board.name} (QEMU, {session.firmware})"
    if session.board.kind == "emulated-linux":
        return f"{session.board.name} ({session.board.emulator}, {session.firmware})"
    return session.board.name


def _describe(info) -> list[str]:
    fw, board = info.firmware, info.board
    lines = [
        f"firmware: {fw.get('name', '?')} {fw.get('version', '?')}, protocol "
        f"{fw.get('protocol', '?')}",
        f"board: {board.get('name', '?')}, core {board.get('core', '?')}, clock "
        f"{board.get('clock_hz', '?')} Hz",
        "counters: " + (", ".join(f"{name} ({'available' if ok else 'unavailable'})"
                                  for name, ok in info.counters.items()) or "none"),
        f"limits: T <= {info.max_block}, {info.max_steps} steps per infer",
    ]
    for model in info.models:
        mark = " (selected)" if model.index == info.selected else ""
        lines.append(f"model {model.index}: {model.name}, {model.cell.upper()}, "
                     f"{model.layers} layer(s), input {model.input}, output {model.output}, "
                     f"{model.weights} weights, {model.weight_bytes} weight bytes{mark}")
    return lines


# ---- model choice ----------------------------------------------------------

def _choose_model(device, model_path: str | None, index: int | str | None):
    """Select the built-in model to use: --index (a number or a model's
    name), or the one matching --model's shape and weights. Returns
    (ModelInfo, host Model or None)."""
    info = device.identify()
    if isinstance(index, str):
        if index.isdigit():
            index = int(index)
        else:
            named = [m.index for m in info.models if m.name == index]
            if not named:
                raise CommandError(f"{info.board_name} has no built-in model {index!r}; it "
                                   f"has: {', '.join(m.name for m in info.models)}")
            index = named[0]
    host_model = None
    if model_path is not None:
        from . import load

        if not os.path.exists(model_path):
            raise CommandError(f"{model_path}: no such file")
        host_model = load(model_path)
    if index is not None:
        chosen = info.model(index)
    elif host_model is not None:
        weights = host_model.quantization or "float32"
        matches = [m for m in info.models
                   if m.cell == host_model.cell and m.layers == host_model.num_layers
                   and m.input == host_model.input_size and m.output == host_model.output_size
                   and m.weights == weights]
        if not matches:
            raise CommandError(
                f"no built-in model of {info.board_name} has the shape and weights of "
                f"{model_path} ({host_model.cell.upper()}, {host_model.num_layers} layer(s), "
                f"input {host_model.input_size}, output {host_model.output_size}, {weights} "
                "weights): build the firmware with it (cmake -DMTSRNN_FW_MODEL=...; see "
                "docs/boards.md), flash it, or use a QEMU board or --board host, which build "
                "or load it themselves")
        chosen = matches[-1]  # models given by file come after the demo models
    else:
        chosen = info.model()
    if chosen.index != info.selected:
        device.select(chosen.index)
    return chosen, host_model


# ---- flash -----------------------------------------------------------------

def _flash(args: argparse.Namespace) -> int:
    from .harness import find_firmware, flash_real, get_board, open_board

    board = get_board(args.board)
    if board.kind == "real":
        elf = find_firmware(board, args.firmware)
        print(f"programming {board.name} ({board.pyocd_target}) with {elf} through pyocd ...")
        output = flash_real(board, elf, probe=args.probe)
        if output:
            print(output)
        print(f"{board.name}: flashed; talk to it with --port (its ST-LINK virtual COM port, "
              "e.g. /dev/ttyACM0)")
        return 0
    with open_board(board.name, firmware=args.firmware, timeout=args.timeout) as session:
        info = session.device.identify()
        kernels = _device_kernels(session.device, None)
        print(f"{_where(session)}: booted and answering")
        print("\n".join("  " + line for line in _describe(info)))
        if kernels != [None]:
            print(f"  kernels: {', '.join(kernels)} (the first is the default)")
    return 0


# ---- run -------------------------------------------------------------------

def _run(args: argparse.Namespace) -> int:
    import numpy as np

    if not os.path.exists(args.input):
        raise CommandError(f"{args.input}: no such file")
    x = np.load(args.input, allow_pickle=False)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise CommandError(f"{args.input}: expected an array (steps, input), got shape "
                           f"{x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    with _open(args) as session:
        device = session.device
        chosen, host_model = _choose_model(device, args.model, args.index)
        if x.shape[1] != chosen.input:
            raise CommandError(f"{args.input}: frames of {x.shape[1]} values, model "
                               f"{chosen.name} takes {chosen.input}")
        block = min(args.block, device.info.max_block)
        device.reset()
        h, counters = device.infer_stream(x, block)
    np.save(args.output, h)
    summary = ", ".join(f"{k}={v}" for k, v in counters.items())
    print(f"{_where(session)}: model {chosen.index} ({chosen.name}), {x.shape[0]} steps, "
          f"T = {block}: wrote {args.output} {h.shape}" + (f"; {summary}" if summary else ""))
    if host_model is None:
        print("(not checked against the host: give --model M.mts for that)")
    else:
        expected, _ = host_model.forward(x, block=block)
        error = float(np.max(np.abs(h.astype(np.float64) - expected), initial=0.0))
        if not error <= RUN_TOLERANCE:
            raise Failed(f"the device's output differs from the host's for {args.model}: max "
                         f"abs difference {error:.3g} > {RUN_TOLERANCE:g} (is built-in model "
                         f"{chosen.index} really this model? build the firmware with it)")
        print(f"matches the host ({args.model}): max abs difference {error:.3g} <= "
              f"{RUN_TOLERANCE:g}")
    return 0


# ---- selftest --------------------------------------------------------------

def _selftest(args: argparse.Namespace) -> int:
    with _open(args) as session:
        info = session.device.info  # the `id` answer of the open, if it asked
        results = session.device.selftest()
    weights = {model.index: model.weights for model in info.models}
    print(f"{_where(session)}: self-test against the golden vectors built in by "
          "mtsrnn export-c")
    failed = skipped = 0
    for row in results:
        if row["passed"] is None:
            verdict, skipped = "skip (no golden vectors)", skipped + 1
        elif row["passed"]:
            verdict = "pass"
        else:
            verdict, failed = "FAIL", failed + 1
            if row["device_verdict"] == "pass":
                verdict += " (the device said pass)"
        over = (f" (largest over {row['variants']} variants, from {row['worst_variant']})"
                if row.get("variants") and row.get("worst_variant") else "")
        scheme = weights.get(row["index"], "float32")
        print(f"  model {row['index']} {row['name']} ({scheme} weights): max abs error "
              f"{row['max_abs_err']:.3g}{over}, tolerance {row['tolerance']:.3g}: {verdict}")
    passed = len(results) - failed - skipped
    if failed or not passed:
        raise Failed(f"self-test: {failed} failed, {passed} passed, {skipped} skipped")
    print(f"self-test passed ({passed} model(s))")
    return 0


# ---- bench device ----------------------------------------------------------

class _Progress:
    """A progress bar on stderr, drawn only on a terminal."""

    def __init__(self, total: int, enabled: bool | None = None):
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = 0

    def show(self, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(1, self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total} {label:<16}")
        sys.stderr.flush()

    def step(self, label: str) -> None:
        self.done += 1
        self.show(label)

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


COUNTER_LABELS = {
    "cycles": "cycles/step",
    "instructions": "instructions/step",
    "ns": "ns/step",
}
PRIMARY_ORDER = ("cycles", "instructions", "ns")


def bench_table(rows: list[dict[str, Any]], counters: list[str], primary: str) -> str:
    header = ["T", "steps"] + [COUNTER_LABELS.get(c, f"{c}/step") for c in counters]
    header.append(f"speed-up vs T=1 ({primary})")
    body = []
    for row in rows:
        cells = [str(row["block"]), str(row["steps"])]
        for counter in counters:
            value = row["per_step"].get(counter)
            cells.append("-" if value is None else f"{value:,.1f}")
        speedup = row.get("speedup")
        cells.append("-" if speedup is None else f"{speedup:.2f}x")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, *body])


def bench_rows(raw: list[dict[str, Any]], counters: list[str]) -> tuple[list, str | None]:
    rows = []
    for entry in raw:
        per_step = {c: entry[c] / entry["steps"] for c in counters
                    if c in entry and entry["steps"]}
        rows.append({"block": entry["block"], "steps": entry["steps"],
                     "runs": entry.get("runs", 1),
                     "totals": {c: entry[c] for c in counters if c in entry},
                     "per_step": per_step})
    primary = next((c for c in PRIMARY_ORDER if c in counters), counters[0] if counters
                   else None)
    base = next((r for r in rows if r["block"] == 1), None)
    for row in rows:
        value = row["per_step"].get(primary) if primary else None
        reference = base["per_step"].get(primary) if base and primary else None
        row["speedup"] = reference / value if value and reference else None
    return rows, primary


def _plot(path: str, by_kernel: dict[str, list[dict[str, Any]]], primary: str, title: str,
          emulated: bool) -> None:
    try:
        import matplotlib
    except ImportError:
        raise CommandError("--plot needs matplotlib (pip install matplotlib); the table and "
                           "--json need nothing more") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6 if len(by_kernel) == 1 else 7.5, 4))
    blocks = [r["block"] for r in next(iter(by_kernel.values()))]
    for name, rows in by_kernel.items():
        values = [r["per_step"].get(primary, math.nan) for r in rows]
        ax.plot(blocks, values, marker="o", label=name)
    if len(by_kernel) > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the lines
    ax.set_xscale("log", base=2)
    ax.set_xticks(blocks)
    ax.set_xticklabels([str(b) for b in blocks])
    ax.set_xlabel("block size T (time steps per pass over the weights)")
    label = COUNTER_LABELS.get(primary, primary)
    if primary == "instructions":
        label += " (QEMU -icount; not cycles)"
    ax.set_ylabel(label)
    counts = "instruction counts, " if primary == "instructions" else ""
    ax.set_title(title + (f"\nunder emulation: {counts}not performance" if emulated else ""),
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


BASELINE_KERNEL = "cmsis-dsp-matvec"  # the firmware's per-step CMSIS-DSP product


def kernel_table(by_kernel: dict[str, list[dict[str, Any]]], primary: str) -> str:
    """The primary counter per step for every kernel side by side, each with
    its ratio to T = 1 of the same kernel and, when the CMSIS-DSP per-step
    baseline was measured, to that baseline at the same T (lower is better)."""
    baseline = by_kernel.get(BASELINE_KERNEL)
    header = ["T", "steps"]
    for name in by_kernel:
        header += [name, "/T=1"] + (["/cmsis"] if baseline and name != BASELINE_KERNEL else [])
    body = []
    first = next(iter(by_kernel.values()))
    for i, row in enumerate(first):
        cells = [str(row["block"]), str(row["steps"])]
        for name, rows in by_kernel.items():
            value = rows[i]["per_step"].get(primary)
            base = next((r["per_step"].get(primary) for r in rows if r["block"] == 1), None)
            cells.append("-" if value is None else f"{value:,.1f}")
            cells.append(f"{value / base:.3f}" if value and base else "-")
            if baseline and name != BASELINE_KERNEL:
                reference = baseline[i]["per_step"].get(primary)
                cells.append(f"{value / reference:.3f}" if value and reference else "-")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, *body])


def _device_kernels(device, wanted: list[str] | None) -> list[str | None]:
    """The kernels to measure: `wanted`, or every kernel the device offers.
    [None] (the device's own choice) for a device without the `kernel`
    command, unless kernels were asked for."""
    from .harness import DeviceError

    try:
        offered, _selected = device.variants()
    except DeviceError as error:
        if error.code != "unknown-command":
            raise
        if wanted:
            raise CommandError(f"{device.info.board_name} cannot choose kernels (its firmware "
                               "has no `kernel` command): leave out --kernel") from None
        return [None]
    names = [k.name for k in offered]
    if not wanted:
        return list(names)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        model = device.info.model()
        raise CommandError(f"no kernel {', '.join(unknown)} for model {model.index} "
                           f"({model.name}, {model.weights} weights) on "
                           f"{device.info.board_name}; its products: {', '.join(names)}")
    return list(dict.fromkeys(wanted))


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per counter, the median of repeated runs of one T (the upper median of an
    even count, so the value is one that was measured)."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if key not in ("block", "steps") and isinstance(value, (int, float)):
            values = sorted(run[key] for run in runs if key in run)
            merged[key] = values[len(values) // 2]
    merged["runs"] = len(runs)
    return merged


def _bench_device(args: argparse.Namespace) -> int:
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError("--plot needs matplotlib (pip install matplotlib); the table "
                               "and --json need nothing more") from None
    blocks = list(dict.fromkeys(args.block))
    added_one = 1 not in blocks
    if added_one:
        blocks.insert(0, 1)  # the speed-up is against T = 1
    with _open(args) as session:
        device = session.device
        chosen, _host = _choose_model(device, args.model, args.index)
        info = device.info
        too_big = [b for b in blocks if b > info.max_block]
        if too_big:
            raise CommandError(f"T = {','.join(map(str, too_big))} exceeds the device's "
                               f"max_block {info.max_block}")
        counters = info.available_counters
        if not counters:
            raise Failed(f"{info.board_name} has no counters to measure with")
        emulated = session.board.emulated or (
            "instructions" in counters and "cycles" not in counters)
        # Instruction counts under QEMU are deterministic: one run. Elsewhere
        # the median of several.
        repeat = args.repeat if args.repeat is not None else (1 if emulated else 5)
        kernels = _device_kernels(device, args.kernel)
        progress = _Progress(len(kernels) * len(blocks) * repeat,
                             enabled=None if not args.no_progress else False)
        raw_by_kernel: dict[str | None, list[dict[str, Any]]] = {}
        try:
            progress.show(f"T={blocks[0]}")
            for kernel in kernels:
                raw = raw_by_kernel.setdefault(kernel, [])
                for block in blocks:
                    runs = []
                    for _ in range(repeat):
                        runs += device.bench([block], steps=args.steps, variant=kernel)
                        progress.step(f"{kernel or ''} T={block}")
                    raw.append(_median_run(runs))
        finally:
            progress.finish()
        where = _where(session)
    by_kernel = {name: bench_rows(raw, counters)[0] for name, raw in raw_by_kernel.items()}
    rows, primary = bench_rows(raw_by_kernel[kernels[0]], counters)
    print(f"{where}: model {chosen.index} ({chosen.name}, {chosen.cell.upper()}, "
          f"{chosen.layers} layer(s), {chosen.weights} weights, {chosen.weight_bytes} "
          "weight bytes)")
    if kernels == [None]:
        print(bench_table(rows, counters, primary or "?"))
    else:
        label = COUNTER_LABELS.get(primary or "", f"{primary}/step")
        print(f"{label} by kernel; /T=1: ratio to T = 1 of the same kernel"
              + (f"; /cmsis: ratio to {BASELINE_KERNEL}, the CMSIS-DSP per-step baseline, "
                 "at the same T" if BASELINE_KERNEL in by_kernel else "")
              + " (lower is better)")
        print(kernel_table(by_kernel, primary or counters[0]))
    if added_one:
        print("(T = 1 added as the reference of the ratios)")
    note = emulation_note(session.board)
    if emulated:
        print(note)
    if args.json:
        document = {
            "board": info.board, "firmware": info.firmware, "where": where,
            "model": vars(chosen), "counters": counters, "primary_counter": primary,
            "emulated": emulated,
            "note": note.removeprefix("note: ") if emulated else "",
            # the first kernel measured (the device's default unless --kernel)
            "kernel": kernels[0],
            "results": rows,
        }
        if kernels != [None]:
            document["kernels"] = {name: by_kernel[name] for name in kernels}
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")
    if args.plot:
        _plot(args.plot, {name or "default": r for name, r in by_kernel.items()},
              primary or counters[0], f"{chosen.name} on {info.board_name}", emulated)
        print(f"wrote {args.plot}")
    return 0


# ---- parser ----------------------------------------------------------------

def _name_list(text: str) -> list[str]:
    names = text.split(",")
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated kernel names, got {text!r}")
    return names


def _target_arguments(parser: argparse.ArgumentParser, firmware_help: str) -> None:
    from .harness.boards import BOARDS, DEFAULT_BOARD

    where = parser.add_mutually_exclusive_group()
    where.add_argument("--board", default=DEFAULT_BOARD, choices=sorted(BOARDS),
                       help=f"a board to start here (default {DEFAULT_BOARD}: QEMU)")
    where.add_argument("--port", metavar="URL",
                       help="a running board's serial port: /dev/ttyACM0, COM3, "
                            "socket://host:port, rfc2217://host:port")
    parser.add_argument("--firmware", metavar="FILE", help=firmware_help)
    parser.add_argument("--baudrate", type=_positive, default=115200)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per command (default 10)")


def add_commands(subparsers: Any, bench_targets: Any = None) -> None:
    """Add flash, run and selftest to the `mtsrnn` subcommands, and `device`
    to the `mtsrnn bench` targets (when `bench_targets` is given)."""
    from .harness.boards import BOARDS, DEFAULT_BOARD

    firmware_help = ("the firmware .elf (QEMU boards; default: the build tree, "
                     "$MTSRNN_FIRMWARE_DIR) or the device program (--board host; default "
                     "$MTSRNN_DEVICE, PATH, the build tree)")

    flash = subparsers.add_parser(
        "flash", help="boot a QEMU board, or program a real board with pyocd",
        description="A QEMU board boots its firmware and answers `id`; a real board is "
                    "programmed through pyocd (pip install pyocd; needs a connected probe).")
    flash.add_argument("--board", default=DEFAULT_BOARD, choices=sorted(BOARDS))
    flash.add_argument("--firmware", metavar="FILE.elf", help="default: the build tree")
    flash.add_argument("--probe", metavar="ID", help="pyocd probe unique ID (real boards)")
    flash.add_argument("--timeout", type=float, default=10.0)
    flash.set_defaults(run=_guarded("flash", _flash))

    run = subparsers.add_parser(
        "run", help="run frames through a model on a device",
        description="Send the frames of an .npy array (steps, input) to the device, from a "
                    "zero state, and save its outputs. With --model, the device's built-in "
                    "model of that shape is used and its output is checked against the host "
                    f"(max abs difference <= {RUN_TOLERANCE:g}); --board host loads the file "
                    "itself.")
    _target_arguments(run, firmware_help)
    run.add_argument("--model", metavar="M.mts",
                     help="the model, checked against the host: QEMU boards get firmware "
                          "built with it, --board host loads it, --port uses the built-in "
                          "model of its shape")
    run.add_argument("--index", metavar="N|NAME", help="a built-in model by index or name")
    run.add_argument("--input", required=True, metavar="X.npy")
    run.add_argument("-o", "--output", required=True, metavar="Y.npy")
    run.add_argument("--block", type=_positive, default=8, help="block size T (default 8)")
    run.set_defaults(run=_guarded("run", _run))

    selftest = subparsers.add_parser(
        "selftest", help="the device's golden-vector self-test",
        description="The device runs each built-in model on its golden vectors (made on the "
                    "host by mtsrnn export-c); exit status 0 only when all pass.")
    _target_arguments(selftest, firmware_help)
    selftest.set_defaults(run=_guarded("selftest", _selftest))

    if bench_targets is not None:
        bench = bench_targets.add_parser(
            "device", help="per-step cost against the block size T on a device",
            description="The device's `bench` command for each T: counter totals over a fixed "
                        "input, per step, with the speed-up against T = 1. Under QEMU the "
                        "counter is guest instructions (-icount), not cycles: not "
                        "performance.")
        _target_arguments(bench, firmware_help)
        bench.add_argument("--model", metavar="M.mts",
                           help="the model to measure: QEMU boards get firmware built with "
                                "it, --board host loads it, --port uses the built-in model "
                                "of its shape")
        bench.add_argument("--index", metavar="N|NAME",
                           help="a built-in model by index or name (e.g. demo_sru_i8wa)")
        bench.add_argument("--block", type=_int_list, default=[1, 2, 4, 8, 16, 32],
                           help="comma-separated block sizes T (default 1,2,4,8,16,32)")
        bench.add_argument("--kernel", type=_name_list, default=None, metavar="NAME[,NAME]",
                           help="the blocked products to measure, side by side, out of "
                                "those the model offers (the table of its weights' scheme; "
                                "default: every one; `mtsrnn flash` lists the selected "
                                "model's)")
        bench.add_argument("--steps", type=_positive, default=None,
                           help="time steps per measurement (default: the device's)")
        bench.add_argument("--repeat", type=_positive, default=None, metavar="N",
                           help="runs per T, the median reported (default 1 under QEMU, "
                                "where counts are deterministic, else 5)")
        bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
        bench.add_argument("--plot", metavar="FILE.png", help="also plot them (matplotlib)")
        bench.add_argument("--no-progress", action="store_true", help="no progress bar")
        bench.set_defaults(run=_guarded("bench device", _bench_device))
