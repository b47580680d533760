"""The device commands of `mtsrnn`: flash, run, selftest and `bench device`.

`add_commands(subparsers, bench_targets)` adds them to the `mtsrnn` parser
(cli.py): flash, run and selftest at the top level, `device` under
`mtsrnn bench` (its measuring and tables are bench/device.py). A device is a
named board (`--board`, default the QEMU board qemu-mps2-an386, booted and
stopped here) or a running board at a pyserial URL (`--port /dev/ttyACM0`,
`COM3`, `socket://host:port`).

Exit status (cli_common.py): 0 on success; 1 when the device fails (a
self-test that does not pass, results that differ from the host, a device or
protocol error); 2 on a user error (a missing file, an unknown board); 130
on Ctrl-C. The emulator is stopped in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from .bench.device import device_variants, where
from .cli_common import (
    CommandError,
    Failed,
    guarded,
    int_list,
    name_list,
    positive,
    seconds,
    write_json,
)

RUN_TOLERANCE = 1e-4  # max abs difference between device and host outputs


@contextlib.contextmanager
def _open(args: argparse.Namespace, emulator_args=None):
    """Yields (session, placed): the board, and with --model (and no --index)
    the model file placed on it by harness.placement.open_with_model
    (uploaded when it fits the device's arena, else loaded by mtsrnn-device
    or built into QEMU firmware; never a built-in model in its place)."""
    from .harness import open_board
    from .harness.placement import open_with_model
    from .harness.upload import UploadError

    model = getattr(args, "model", None)
    if model is None or getattr(args, "index", None) is not None:
        with open_board(args.board, port=args.port, firmware=args.firmware,
                        timeout=args.timeout, baudrate=args.baudrate,
                        emulator_args=emulator_args) as session:
            yield session, None
        return
    try:
        placed = open_with_model(model, args.board, port=args.port, firmware=args.firmware,
                                 timeout=args.timeout, baudrate=args.baudrate,
                                 emulator_args=emulator_args, block=_largest_block(args),
                                 log=lambda line: print(line, file=sys.stderr))
    except UploadError as error:  # the user's model and board: a usage error
        raise CommandError(str(error)) from None
    with placed:
        yield placed.session, placed


def _largest_block(args: argparse.Namespace) -> int | None:
    """The largest block size T a command will run (run and eval: --block;
    bench device: the largest of its --block list), for firmware built with
    the model; None for a command that runs the device's max_block."""
    block = getattr(args, "block", None)
    if isinstance(block, list):
        return max(block) if block else None
    return block if isinstance(block, int) else None


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

def _choose_model(device, placed, model_path: str | None, index: int | str | None):
    """The model to use: the one `placed` put on the device (--model), or a
    built-in model by --index (a number or a name; with --model the output is
    checked against that file), or the selected one. Returns (ModelInfo, host
    Model or None)."""
    from . import load

    host_model = None
    if model_path is not None:
        if not os.path.exists(model_path):
            raise CommandError(f"{model_path}: no such file")
        host_model = load(model_path)
    if placed is not None:
        return placed.model, host_model
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
    chosen = info.model(index)
    if chosen.index != info.selected:
        device.select(chosen.index)
    return chosen, host_model


# ---- flash -----------------------------------------------------------------

def _flash(args: argparse.Namespace) -> int:
    from .harness import find_firmware, flash_real, get_board, open_board

    board = get_board(args.board)
    if board.kind == "real":
        elf = find_firmware(board, args.firmware)
        print(f"programming {board.name} with {elf} ...")
        output = flash_real(board, elf, probe=args.probe, drive=args.drive)
        if output:
            print(output)
        print(f"{board.name}: flashed; talk to it with --port (its serial port, e.g. "
              "/dev/ttyACM0; docs/boards.md)")
        return 0
    with open_board(board.name, firmware=args.firmware, timeout=args.timeout) as session:
        info = session.device.identify()
        variants = device_variants(session.device, None)
        print(f"{where(session)}: booted and answering")
        print("\n".join("  " + line for line in _describe(info)))
        if variants != [None]:
            print(f"  product variants: {', '.join(variants)} (the first is the default)")
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
    with _open(args) as (session, placed):
        device = session.device
        chosen, host_model = _choose_model(device, placed, args.model, args.index)
        if x.shape[1] != chosen.input:
            model = args.model or f"model {chosen.name}"  # an uploaded one is "upload"
            raise CommandError(f"{args.input}: frames of {x.shape[1]} values, {model} takes "
                               f"{chosen.input}")
        block = args.block
        if block > device.info.max_block:  # an error, never a silently smaller T
            raise CommandError(f"--block {block} is above the device's maximum block size "
                               f"T = {device.info.max_block} (its max_block); pass --block "
                               f"{device.info.max_block} or less")
        device.reset()
        h, counters = device.infer_stream(x, block)
    np.save(args.output, h)
    summary = ", ".join(f"{k}={v}" for k, v in counters.items())
    print(f"{where(session)}: model {chosen.index} ({chosen.name}), {x.shape[0]} steps, "
          f"T = {block}: wrote {args.output} {h.shape}" + (f"; {summary}" if summary else ""))
    if host_model is None:
        print("(not checked against the host: give --model M.mts for that)")
    else:
        expected, _ = host_model.forward(x, block=block)
        error = float(np.max(np.abs(h.astype(np.float64) - expected), initial=0.0))
        if not error <= RUN_TOLERANCE:
            hint = (f" (is built-in model {chosen.index} really this model?)"
                    if placed is None else "")
            raise Failed(f"the device's output differs from the host's for {args.model}: max "
                         f"abs difference {error:.3g} > {RUN_TOLERANCE:g}{hint}")
        print(f"matches the host ({args.model}): max abs difference {error:.3g} <= "
              f"{RUN_TOLERANCE:g}")
    return 0


# ---- selftest --------------------------------------------------------------

def _check_placed(device, placed, path: str, results: list[dict]) -> None:
    """The --model's row of a self-test: an uploaded (or loaded) model has no
    golden vectors on the device, so the host runs them: mtsrnn export-c's
    golden input through the device at its max_block, against the host's
    output (RUN_TOLERANCE), from the zero state."""
    import numpy as np

    from . import load
    from .export_c import golden_vectors

    x, golden = golden_vectors(load(path), 16)
    device.select(placed.model.index)
    h, _ = device.infer(x.astype(np.float32), device.info.max_block)
    error = float(np.max(np.abs(h.astype(np.float64) - golden), initial=0.0))
    for row in results:
        if row["index"] == placed.model.index and row["passed"] is None:
            row.update(name=f"{row['name']} ({os.path.basename(path)}, {placed.how}, "
                       "checked by the host)", max_abs_err=error, tolerance=RUN_TOLERANCE,
                       passed=error <= RUN_TOLERANCE)


def _selftest(args: argparse.Namespace) -> int:
    with _open(args) as (session, placed):
        info = session.device.info  # the `id` answer of the open, if it asked
        results = session.device.selftest()
        if placed is not None:
            _check_placed(session.device, placed, args.model, results)
    weights = {model.index: model.weights for model in info.models}
    print(f"{where(session)}: self-test against the golden vectors built in by "
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

def _bench_device(args: argparse.Namespace) -> int:
    from .bench import device as bench

    if args.plot:
        from .bench.plot import require_matplotlib

        require_matplotlib()  # before the measuring
    part = plugin = None
    if args.memory:
        import tempfile

        from .bench import memory

        part = memory.PARTS[args.memory]
        if args.port is not None:
            raise CommandError("--memory needs an emulated board (--board), not --port")
        memory.check_board(part, args.board)
        memory.find_plugin()  # fails before booting when it is not built
        plugin = tempfile.NamedTemporaryFile(prefix="mtsmem-", suffix=".txt", delete=False)
        plugin.close()

        def emulator_args(elf):
            return memory.plugin_arguments(part, args.board, elf, plugin.name)
    try:
        with _open(args, emulator_args=emulator_args if part else None) as (session, placed):
            chosen, _host = _choose_model(session.device, placed, args.model, args.index)
            if not session.device.info.available_counters:
                raise Failed(f"{session.device.info.board_name} has no counters to measure "
                             "with")
            data = bench.run(session, chosen, args.block, variants=args.variant,
                             steps=args.steps, repeat=1 if part else args.repeat,
                             progress=False if args.no_progress else None,
                             product=args.product_only)
        if part:
            memory.add_memory(data, part, memory.read_windows(plugin.name))
    finally:
        if plugin:
            os.unlink(plugin.name)
    print(bench.format_report(data))
    if part:
        print(memory.format_memory(data))
    if args.json:
        write_json(args.json, data)
    if args.plot:
        from .bench.plot import plot_device

        plot_device(data, args.plot)
        print(f"wrote {args.plot}")
    return 0


# ---- parser ----------------------------------------------------------------

def _target_arguments(parser: argparse.ArgumentParser, firmware_help: str) -> None:
    from .harness.boards import BOARDS, DEFAULT_BOARD

    target = parser.add_mutually_exclusive_group()
    target.add_argument("--board", default=DEFAULT_BOARD, choices=sorted(BOARDS),
                       help=f"a board to start here (default {DEFAULT_BOARD}: QEMU)")
    target.add_argument("--port", metavar="URL",
                       help="a running board's serial port: /dev/ttyACM0, COM3, "
                            "socket://host:port, rfc2217://host:port")
    parser.add_argument("--firmware", metavar="FILE", help=firmware_help)
    parser.add_argument("--baudrate", type=positive, default=115200)
    parser.add_argument("--timeout", type=seconds, default=10.0,
                        help="seconds each device call may take, resynchronising and "
                             "re-establishing the session included (default 10; an infer "
                             "adds the time to send its data, bench one timeout per T, "
                             "selftest three); a call past it fails")


def add_commands(subparsers: Any, bench_targets: Any = None) -> None:
    """Add flash, run and selftest to the `mtsrnn` subcommands, and `device`
    to the `mtsrnn bench` targets (when `bench_targets` is given)."""
    from .harness.boards import BOARDS, DEFAULT_BOARD

    firmware_help = ("the firmware .elf (QEMU boards; default: the build tree, "
                     "$MTSRNN_FIRMWARE_DIR) or the device program (--board host; default "
                     "$MTSRNN_DEVICE, PATH, the build tree)")

    flash = subparsers.add_parser(
        "flash", help="boot a QEMU board, or program a real board (pyocd or UF2 drive)",
        description="A QEMU board boots its firmware and answers `id`; a real board is "
                    "programmed through pyocd (pip install pyocd; needs a connected probe), "
                    "a Raspberry Pi Pico by copying its .uf2 to the RPI-RP2 / RP2350 drive "
                    "(hold BOOTSEL while plugging it in).")
    flash.add_argument("--board", default=DEFAULT_BOARD, choices=sorted(BOARDS))
    flash.add_argument("--firmware", metavar="FILE.elf", help="default: the build tree")
    flash.add_argument("--probe", metavar="ID", help="pyocd probe unique ID (real boards)")
    flash.add_argument("--drive", metavar="DIR",
                       help="the Pico's mounted UF2 drive (default: found as RPI-RP2 / RP2350)")
    flash.add_argument("--timeout", type=seconds, default=10.0,
                       help="seconds each device call may take (default 10)")
    flash.set_defaults(run=guarded("flash", _flash))

    run = subparsers.add_parser(
        "run", help="run frames through a model on a device",
        description="Send the frames of an .npy array (steps, input) to the device, from a "
                    "zero state, and save its outputs. With --model, that model runs (uploaded "
                    "when it fits the device's arena, else loaded or built in) and its output "
                    f"is checked against the host (max abs difference <= {RUN_TOLERANCE:g}).")
    _target_arguments(run, firmware_help)
    run.add_argument("--model", metavar="M.mts",
                     help="the model, checked against the host: uploaded into the "
                          "device's arena when it fits (any board, no compiler needed), else "
                          "loaded by --board host or built into QEMU firmware; with --index, "
                          "the output of that built-in model is checked against it")
    run.add_argument("--index", metavar="N|NAME", help="a built-in model by index or name")
    run.add_argument("--input", required=True, metavar="X.npy")
    run.add_argument("-o", "--output", required=True, metavar="Y.npy")
    run.add_argument("--block", type=positive, default=8, help="block size T (default 8)")
    run.set_defaults(run=guarded("run", _run))

    selftest = subparsers.add_parser(
        "selftest", help="the device's golden-vector self-test",
        description="The device runs each built-in model on its golden vectors (made on the "
                    "host by mtsrnn export-c); exit status 0 only when all pass.")
    _target_arguments(selftest, firmware_help)
    selftest.add_argument("--model", metavar="M.mts",
                          help="also place this model on the device (uploaded when it fits "
                               "the arena, else loaded or built in) and check it on its "
                               "golden vectors against the host")
    selftest.set_defaults(run=guarded("selftest", _selftest))

    if bench_targets is not None:
        bench = bench_targets.add_parser(
            "device", help="per-step cost against the block size T on a device",
            description="The device's `bench` command for each T: counter totals over a fixed "
                        "input, per step, with the speed-up against T = 1. Under QEMU the "
                        "counter is guest instructions (-icount), not cycles: not "
                        "performance.")
        _target_arguments(bench, firmware_help)
        bench.add_argument("--model", metavar="M.mts",
                           help="the model to measure: uploaded into the device's arena "
                                "when it fits, else loaded by --board host or built into "
                                "QEMU firmware")
        bench.add_argument("--index", metavar="N|NAME",
                           help="a built-in model by index or name (e.g. demo_sru_i8wa)")
        bench.add_argument("--block", type=int_list, default=[1, 2, 4, 8, 16, 32],
                           help="comma-separated block sizes T (default 1,2,4,8,16,32)")
        bench.add_argument("--variant", type=name_list, default=None, metavar="NAME[,NAME]",
                           help="the product variants to measure, side by side, out of "
                                "those the model offers (the table of its weights' scheme; "
                                "default: every one; `mtsrnn flash` lists the selected "
                                "model's)")
        bench.add_argument("--kernel", dest="variant", type=name_list,
                           help=argparse.SUPPRESS)  # the old spelling of --variant
        bench.add_argument("--steps", type=positive, default=None,
                           help="time steps per measurement (default: the device's)")
        bench.add_argument("--repeat", type=positive, default=None, metavar="N",
                           help="runs per T, the median reported (default 1 under QEMU, "
                                "where counts are deterministic, else 5)")
        bench.add_argument("--product-only", action="store_true",
                           help="measure the first layer's blocked product alone (no scan, "
                                "no copies), reported per multiply-add")
        from .bench.memory import PARTS, parts_help

        bench.add_argument("--memory", metavar="PART", choices=sorted(PARTS),
                           help="also measure the memory traffic per step on the binary (a "
                                "QEMU plugin, ci/qemu-plugin.sh) and MODEL cycles and energy "
                                "per step under a named part: " + parts_help())
        bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
        bench.add_argument("--plot", metavar="FILE.png", help="also plot them (matplotlib)")
        bench.add_argument("--no-progress", action="store_true", help="no progress bar")
        bench.set_defaults(run=guarded("bench device", _bench_device))
