"""Host benchmark: per-step time of one model against the block size T.

Every T runs in this one process on the same model and input, interleaved
round by round (so slow drift of the machine affects every T alike), and
the median of the rounds is reported. The figures are wall-clock times, so
they are noisy; the deterministic counts belong to `mtsrnn bench dram`.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np

from .model import Model, random_qrnn, random_sru


@dataclass
class BlockResult:
    block: int
    seconds_per_step: float
    speedup_vs_t1: float
    weight_gb_per_s: float  # weight bytes streamed per second (|W| / T per step)
    gflop_per_s: float


def flops_per_step(model: Model) -> int:
    """Multiply-adds x 2 of the blocked products per time step (SPEC section 4)."""
    return 2 * sum(value.size for key, value in model.state_dict().items()
                   if key.split(".")[-1] in ("weight", "weight_proj")
                   and "layer_norm" not in key)


def make_model(cell: str, hidden: int, layers: int, seed: int = 0) -> Model:
    if cell == "sru":
        return random_sru(hidden, hidden, num_layers=layers, seed=seed)
    if cell == "qrnn":
        return random_qrnn(hidden, hidden, num_layers=layers, seed=seed)
    raise ValueError(f"cell must be 'sru' or 'qrnn', got {cell!r}")


def bench_blocks(model: Model, blocks: list[int], steps: int, rounds: int,
                 gemm: str | None = None) -> list[BlockResult]:
    """Per-step time for each block size, medians over `rounds` interleaved rounds."""
    if 1 not in blocks:
        blocks = [1] + list(blocks)
    x = np.random.default_rng(1).standard_normal((steps, model.input_size)).astype(np.float32)
    for block in blocks:  # warm-up: page in the weights, size the workspace once
        model.forward(x[: min(steps, 2 * block)], block=block, gemm=gemm)
    times: dict[int, list[float]] = {block: [] for block in blocks}
    for _ in range(rounds):
        for block in blocks:
            start = time.perf_counter()
            model.forward(x, block=block, gemm=gemm)
            times[block].append((time.perf_counter() - start) / steps)
    per_step = {block: statistics.median(ts) for block, ts in times.items()}
    flops = flops_per_step(model)
    return [
        BlockResult(block, per_step[block], per_step[1] / per_step[block],
                    model.weight_bytes / block / per_step[block] / 1e9,
                    flops / per_step[block] / 1e9)
        for block in blocks
    ]


def format_table(model: Model, results: list[BlockResult]) -> str:
    lines = [
        f"{model.cell.upper()} {model.num_layers} layer(s), input {model.input_size}, "
        f"output {model.output_size}: {model.weight_bytes / 2**20:.1f} MiB of float32 weights",
        f"{'T':>4} {'us/step':>10} {'speed-up':>9} {'weights GB/s':>13} {'GFLOP/s':>8}",
    ]
    for r in results:
        lines.append(f"{r.block:>4} {r.seconds_per_step * 1e6:>10.1f} "
                     f"{r.speedup_vs_t1:>8.2f}x {r.weight_gb_per_s:>13.1f} "
                     f"{r.gflop_per_s:>8.1f}")
    return "\n".join(lines)


def to_json(model: Model, results: list[BlockResult], steps: int, rounds: int) -> str:
    return json.dumps({
        "benchmark": "host",
        "machine": platform.machine(),
        "processor": platform.processor(),
        "model": {"cell": model.cell, "layers": model.num_layers,
                  "input_size": model.input_size, "output_size": model.output_size,
                  "weight_bytes": model.weight_bytes, **model.config},
        "steps": steps,
        "rounds": rounds,
        "results": [asdict(r) for r in results],
    }, indent=2)
