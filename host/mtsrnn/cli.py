"""The `mtsrnn` command."""

from __future__ import annotations

import argparse
import sys

from .cli_model import _int_list, _positive


def _bench_host(args: argparse.Namespace) -> int:
    from . import bench

    model = bench.make_model(args.cell, args.hidden, args.layers, seed=args.seed)
    results = bench.bench_blocks(model, args.block, args.steps, args.rounds, gemm=args.gemm)
    print(bench.format_table(model, results))
    if args.json:
        with open(args.json, "w") as f:
            f.write(bench.to_json(model, results, args.steps, args.rounds))
        print(f"wrote {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .model import gemm_variants

    parser = argparse.ArgumentParser(
        prog="mtsrnn", description="Multi-time-step SRU/QRNN inference: tools and benchmarks.")
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="benchmarks")
    targets = bench.add_subparsers(dest="target", required=True)
    host = targets.add_parser(
        "host", help="per-step time against the block size T on this machine",
        description="Per-step time of one randomly initialised model for each block size T, "
                    "all in this process, with the speed-up against T = 1.")
    host.add_argument("--cell", choices=("sru", "qrnn"), default="sru")
    host.add_argument("--hidden", type=_positive, default=2048,
                      help="input and hidden size (default 2048: an SRU layer of 48 MiB, "
                           "beyond a 32 MiB last-level cache)")
    host.add_argument("--layers", type=_positive, default=1)
    host.add_argument("--block", type=_int_list, default=[1, 2, 4, 8, 16, 32, 64],
                      help="comma-separated block sizes T (default 1,2,4,8,16,32,64)")
    host.add_argument("--steps", type=_positive, default=128,
                      help="time steps per measured call (default 128)")
    host.add_argument("--rounds", type=_positive, default=5,
                      help="interleaved rounds; the median is reported (default 5)")
    host.add_argument("--gemm", choices=gemm_variants(), default=None,
                      help="blocked-product variant (default: the fastest built)")
    host.add_argument("--seed", type=int, default=0)
    host.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    host.set_defaults(run=_bench_host)

    from .cli_device import add_commands as add_device_commands
    from .cli_model import add_commands

    add_commands(commands)
    add_device_commands(commands, bench_targets=targets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
