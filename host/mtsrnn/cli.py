"""The `mtsrnn` command: the parser, `--version`, and `bench host` / `bench
dram` (the model-file commands are in cli_model.py, the device commands and
`bench device` in cli_device.py). Every command runs under the one error
policy of cli_common.py (exit codes there and in README.md); the benchmarks
themselves are host/mtsrnn/bench/."""

from __future__ import annotations

import argparse
import sys

from .cli_common import (
    ArgumentParser,
    Failed,
    csv_choices,
    guarded,
    int_list,
    one_line,
    positive,
    seed,
    write_json,
)

QUICK = {"cell": ["sru"], "hidden": [256, 1024], "block": [1, 4, 16], "rounds": 3}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _bench_host(args: argparse.Namespace) -> int:
    import os

    from .bench import host

    overrides = host.openblas_overrides()
    if overrides and sys.argv[1:3] == ["bench", "host"]:
        # OpenBLAS reads these when NumPy loads it, so drop them for this run
        # only by running the same command again without them.
        env = {k: v for k, v in os.environ.items() if k not in host.OPENBLAS_OVERRIDES}
        print(f"bench host: running again without {', '.join(overrides)} (this run only)",
              flush=True)
        os.execve(sys.executable, [sys.executable, "-m", "mtsrnn", *sys.argv[1:]], env)
    if args.plot:
        from .bench.plot import require_matplotlib

        require_matplotlib()  # before the minutes of measuring
    chosen = {**(QUICK if args.quick else {}),
              **{k: v for k, v in vars(args).items() if k in QUICK and v is not None}}
    settings = host.Settings(with_torch=not args.no_torch, variant=args.variant, seed=args.seed,
                             int8=not args.no_int8)
    settings.cells = chosen.get("cell", settings.cells)
    settings.hidden = chosen.get("hidden", settings.hidden)
    settings.blocks = chosen.get("block", settings.blocks)
    settings.rounds = chosen.get("rounds", settings.rounds)
    settings.steps = args.steps or max(settings.steps, max(settings.blocks))
    data = host.run(settings, log=_log)
    print(host.format_report(data))
    if args.json:
        write_json(args.json, data)
    if args.plot:
        from .bench.plot import plot_host

        plot_host(data, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _bench_dram(args: argparse.Namespace) -> int:
    from .bench import dram

    try:
        data = dram.run(args.cell, args.hidden, args.block, weights=args.weights,
                        min_steps=args.min_steps, d1=args.d1, ll=args.ll,
                        variants=dram.parse_variants(args.variant, args.weights), probe=args.probe,
                        log=_log)
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        # valgrind or the probe missing, failing, or without the asked variant
        raise Failed(one_line(error)) from None
    print(dram.format_report(data))
    if args.json:
        write_json(args.json, data)
    return 0


def _version() -> str:
    from . import __version__

    return f"mtsrnn {__version__}"


def build_parser() -> argparse.ArgumentParser:
    from .bench.dram import WEIGHTS as DRAM_WEIGHTS
    from .bench.host import DEFAULT_BLOCKS
    from .cli_device import add_commands as add_device_commands
    from .cli_eval import add_command as add_eval_command
    from .cli_model import add_commands as add_model_commands
    from .model import product_variants

    parser = ArgumentParser(
        prog="mtsrnn", description="Multi-time-step SRU/QRNN inference: tools and benchmarks.",
        epilog="exit status: 0 success, 1 a check, device or measuring tool failed, 2 bad "
               "arguments or input, 130 interrupted (README.md)")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="benchmarks")
    targets = bench.add_subparsers(dest="target", required=True)
    host = targets.add_parser(
        "host", help="per-step time against T on this machine, against peers and the roofline",
        description="SRU, QRNN, minGRU and minLSTM layers (input = hidden) for each block "
                    "size T, single-"
                    "threaded in this one process: mtsrnn's default product variant, "
                    "NumPy/OpenBLAS blocked at the same T, CMSIS-DSP's per-step "
                    "matrix-vector product, PyPI sru one step at a time and over the "
                    "sequence (when torch and sru are installed), mingru-pytorch one step "
                    "per call and its parallel scan, and the roofline bound "
                    "measured in the same run. Medians of interleaved rounds; wall-clock "
                    "times, so noisy on a shared machine.")
    host.add_argument("--cell", type=csv_choices(("sru", "qrnn", "mingru", "minlstm", "head")),
                      default=None, help="comma-separated cells (default sru,qrnn,mingru,"
                                         "minlstm; head: a whole model, norm -> SRU -> "
                                         "dense relu -> dense 16 -> softmax)")
    host.add_argument("--hidden", type=int_list, default=None,
                      help="comma-separated input = hidden sizes (default 256,512,1024,2048)")
    host.add_argument("--block", type=int_list, default=None,
                      help="comma-separated block sizes T (default 1,2,4,8,16,32,64)")
    host.add_argument("--quick", action="store_true",
                      help="a small grid (sru; hidden 256,1024; T 1,4,16; 3 rounds) unless "
                           "the options above say otherwise")
    host.add_argument("--steps", type=positive, default=None,
                      help="time steps per measured call (default max(64, largest T))")
    host.add_argument("--rounds", type=positive, default=None,
                      help="interleaved rounds; the median is reported (default 7)")
    host.add_argument("--variant", choices=product_variants(), default=None,
                      help="mtsrnn's float32 product variant (default: the fastest built)")
    host.add_argument("--gemm", dest="variant", choices=product_variants(),
                      help=argparse.SUPPRESS)  # the old spelling of --variant
    host.add_argument("--no-torch", action="store_true", help="leave out the sru peers")
    host.add_argument("--no-int8", action="store_true",
                      help="leave out the int8-w and int8-wa runs of the same layer")
    host.add_argument("--seed", type=seed, default=0)
    host.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    host.add_argument("--plot", metavar="FILE.png",
                      help="also plot per-step time against T (matplotlib)")
    host.set_defaults(run=guarded("bench host", _bench_host))

    dram = targets.add_parser(
        "dram", help="last-level misses and instructions per step (cachegrind)",
        description="Runs one layer of the C kernels (mtsrnn-dram-probe) under valgrind's "
                    "cachegrind with an embedded-sized cache model for each block size T and "
                    "weight scheme (float32 and int8, side by side) and prints last-level "
                    "misses (DRAM traffic) and instructions per time step, deterministic "
                    "counts. Needs valgrind.")
    dram.add_argument("--cell", choices=("sru", "qrnn", "mingru", "minlstm", "head"),
                      default="sru", help="one layer (input = hidden), or head: a whole model "
                                          "(norm -> SRU -> dense relu -> dense 16 -> softmax)")
    dram.add_argument("--hidden", type=positive, default=1024,
                      help="input = hidden size (default 1024: 12 MiB of SRU weights)")
    dram.add_argument("--block", type=int_list, default=list(DEFAULT_BLOCKS),
                      help="comma-separated block sizes T (default 1,2,4,8,16,32,64)")
    dram.add_argument("--d1", default="32768,8,64",
                      help="L1 data cache: size,associativity,line bytes (default 32768,8,64)")
    dram.add_argument("--ll", default="524288,16,64",
                      help="last-level cache: size,associativity,line bytes "
                           "(default 524288,16,64)")
    dram.add_argument("--min-steps", type=positive, default=16,
                      help="at least this many steps per measured call (default 16)")
    dram.add_argument("--weights", type=csv_choices(DRAM_WEIGHTS), default=list(DRAM_WEIGHTS),
                      help="comma-separated weight schemes, side by side at each T "
                           "(default float32,int8-w,int8-wa; docs/quantization.md)")
    dram.add_argument("--variant", default=None, metavar="SCHEME=VARIANT[,...]",
                      help="product variants of the probe's build per weight scheme, e.g. "
                           "float32=tiled,int8-wa=reference, or a bare VARIANT with one "
                           "scheme (default: each scheme's first)")
    dram.add_argument("--gemm", dest="variant", help=argparse.SUPPRESS)  # old spelling
    dram.add_argument("--probe", metavar="PATH",
                      help="the mtsrnn-dram-probe program (default: the installed one)")
    dram.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    dram.set_defaults(run=guarded("bench dram", _bench_dram))

    add_model_commands(commands)
    add_device_commands(commands, bench_targets=targets)
    add_eval_command(commands)
    return parser


def bench_shorthand(argv: list[str]) -> list[str]:
    """`mtsrnn bench --port URL ...` and `mtsrnn bench --board NAME ...` are
    `mtsrnn bench device ...`: a device is named, so the target is implied."""
    if len(argv) >= 2 and argv[0] == "bench" and argv[1].split("=")[0] in ("--port", "--board"):
        return ["bench", "device", *argv[1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(bench_shorthand(sys.argv[1:] if argv is None else argv))
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
