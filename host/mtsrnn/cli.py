"""The `mtsrnn` command."""

from __future__ import annotations

import argparse
import sys

from .cli_model import _int_list, _positive


def _csv_choices(choices: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        bad = [v for v in values if v not in choices]
        if not values or bad:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {', '.join(choices)}, got {text!r}")
        return values
    return parse


QUICK = {"cell": ["sru"], "hidden": [256, 1024], "block": [1, 4, 16], "rounds": 3}


def _bench_host(args: argparse.Namespace) -> int:
    import json
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
    chosen = {**(QUICK if args.quick else {}),
              **{k: v for k, v in vars(args).items() if k in QUICK and v is not None}}
    settings = host.Settings(with_torch=not args.no_torch, gemm=args.gemm, seed=args.seed,
                             int8=not args.no_int8)
    settings.cells = chosen.get("cell", settings.cells)
    settings.hidden = chosen.get("hidden", settings.hidden)
    settings.blocks = chosen.get("block", settings.blocks)
    settings.rounds = chosen.get("rounds", settings.rounds)
    settings.steps = args.steps or max(settings.steps, max(settings.blocks))
    data = host.run(settings, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(host.format_report(data))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        from .bench.plot import plot_host

        plot_host(data, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _bench_dram(args: argparse.Namespace) -> int:
    import json

    from .bench import dram

    try:
        results = dram.measure(args.cell, args.hidden, args.block, weights=args.weights,
                               min_steps=args.min_steps, d1=args.d1, ll=args.ll,
                               gemm=dram.parse_gemm(args.gemm, args.weights), probe=args.probe,
                               log=lambda line: print(line, file=sys.stderr, flush=True))
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"bench dram: {error}", file=sys.stderr)
        return 1
    print(dram.format_table(args.cell, args.hidden, args.d1, args.ll, results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dram.to_json(args.cell, args.hidden, args.d1, args.ll, results), f,
                      indent=1)
        print(f"wrote {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .bench.dram import WEIGHTS as DRAM_WEIGHTS
    from .bench.host import DEFAULT_BLOCKS
    from .model import gemm_variants

    parser = argparse.ArgumentParser(
        prog="mtsrnn", description="Multi-time-step SRU/QRNN inference: tools and benchmarks.")
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="benchmarks")
    targets = bench.add_subparsers(dest="target", required=True)
    host = targets.add_parser(
        "host", help="per-step time against T on this machine, against peers and the roofline",
        description="SRU and QRNN layers (input = hidden) for each block size T, single-"
                    "threaded in this one process: mtsrnn's default kernel, NumPy/OpenBLAS "
                    "blocked at the same T, CMSIS-DSP's per-step matrix-vector product, PyPI "
                    "sru one step at a time and over the sequence (when torch and sru are "
                    "installed), and the roofline bound measured in the same run. Medians of "
                    "interleaved rounds; wall-clock times, so noisy on a shared machine.")
    host.add_argument("--cell", type=_csv_choices(("sru", "qrnn")), default=None,
                      help="comma-separated cells (default sru,qrnn)")
    host.add_argument("--hidden", type=_int_list, default=None,
                      help="comma-separated input = hidden sizes (default 256,512,1024,2048)")
    host.add_argument("--block", type=_int_list, default=None,
                      help="comma-separated block sizes T (default 1,2,4,8,16,32,64)")
    host.add_argument("--quick", action="store_true",
                      help="a small grid (sru; hidden 256,1024; T 1,4,16; 3 rounds) unless "
                           "the options above say otherwise")
    host.add_argument("--steps", type=_positive, default=None,
                      help="time steps per measured call (default max(64, largest T))")
    host.add_argument("--rounds", type=_positive, default=None,
                      help="interleaved rounds; the median is reported (default 7)")
    host.add_argument("--gemm", choices=gemm_variants(), default=None,
                      help="mtsrnn's blocked-product variant (default: the fastest built)")
    host.add_argument("--no-torch", action="store_true", help="leave out the sru peers")
    host.add_argument("--no-int8", action="store_true",
                      help="leave out the int8-w and int8-wa runs of the same layer")
    host.add_argument("--seed", type=int, default=0)
    host.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    host.add_argument("--plot", metavar="FILE.png",
                      help="also plot per-step time against T (matplotlib)")
    host.set_defaults(run=_bench_host)

    dram = targets.add_parser(
        "dram", help="last-level misses and instructions per step (cachegrind)",
        description="Runs one layer of the C kernels (mtsrnn-dram-probe) under valgrind's "
                    "cachegrind with an embedded-sized cache model for each block size T and "
                    "weight scheme (float32 and int8, side by side) and prints last-level "
                    "misses (DRAM traffic) and instructions per time step, deterministic "
                    "counts. Needs valgrind.")
    dram.add_argument("--cell", choices=("sru", "qrnn"), default="sru")
    dram.add_argument("--hidden", type=_positive, default=1024,
                      help="input = hidden size (default 1024: 12 MiB of SRU weights)")
    dram.add_argument("--block", type=_int_list, default=list(DEFAULT_BLOCKS),
                      help="comma-separated block sizes T (default 1,2,4,8,16,32,64)")
    dram.add_argument("--d1", default="32768,8,64",
                      help="L1 data cache: size,associativity,line bytes (default 32768,8,64)")
    dram.add_argument("--ll", default="524288,16,64",
                      help="last-level cache: size,associativity,line bytes "
                           "(default 524288,16,64)")
    dram.add_argument("--min-steps", type=_positive, default=16,
                      help="at least this many steps per measured call (default 16)")
    dram.add_argument("--weights", type=_csv_choices(DRAM_WEIGHTS), default=list(DRAM_WEIGHTS),
                      help="comma-separated weight schemes, side by side at each T "
                           "(default float32,int8-w,int8-wa; docs/quantization.md)")
    dram.add_argument("--gemm", default=None, metavar="SCHEME=VARIANT[,...]",
                      help="product variants of the probe's build per weight scheme, e.g. "
                           "float32=tiled,int8-wa=reference, or a bare VARIANT with one "
                           "scheme (default: each scheme's first)")
    dram.add_argument("--probe", metavar="PATH",
                      help="the mtsrnn-dram-probe program (default: the installed one)")
    dram.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    dram.set_defaults(run=_bench_dram)

    from .cli_device import add_commands as add_device_commands
    from .cli_model import add_commands

    add_commands(commands)
    add_device_commands(commands, bench_targets=targets)
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
