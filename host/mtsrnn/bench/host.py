"""`mtsrnn bench host`: per-step time of SRU, QRNN, minGRU and minLSTM layers on this machine
for each block size T, against the peers (peers.py) and the roofline
(roofline.py), all in one process, single-threaded; also the same layers
with int8-w and int8-wa weights, each against the bound of its own weight
bytes (the compute part of the int8 bound uses the best int8 rate measured
if that beats the float peak).

Honesty rules: every implementation runs in this process on the same weights
and input; BLAS is limited to one thread (threadpoolctl) and so is PyTorch;
the rounds are interleaved (each round times every implementation and T once,
in a rotating order, so drift of the machine hits all alike) and the median
of the rounds is reported. These are wall-clock times: noisy on a shared
machine, and never meaningful under emulation.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..extras import optional
from ..model import product_variants
from . import peers, roofline

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DEFAULT_CELLS = ("sru", "qrnn", "mingru", "minlstm")
DEFAULT_HIDDEN = (256, 512, 1024, 2048)
DEFAULT_BLOCKS = (1, 2, 4, 8, 16, 32, 64)
# The int8 runners run at these T of the grid (at every T if it has none of
# them): the bandwidth-bound end, the compute-bound end and the block size of
# the targets. At every T they added 42% to the default run's time (67 s to
# 95 s here); at these three, about a quarter.
INT8_BLOCKS = (1, 16, 64)
ORDER = ("mtsrnn", *peers.INT8_RUNNERS, "numpy", "cmsis-matvec", "sru-step", "sru-seq",
         "mingru-step", "mingru-seq")


@dataclass
class Settings:
    cells: list[str] = field(default_factory=lambda: list(DEFAULT_CELLS))
    hidden: list[int] = field(default_factory=lambda: list(DEFAULT_HIDDEN))
    blocks: list[int] = field(default_factory=lambda: list(DEFAULT_BLOCKS))
    steps: int = 64             # time steps per measured call (>= the largest T)
    rounds: int = 7
    min_seconds: float = 0.05   # a measurement repeats its call to last at least this long
    with_torch: bool = True
    int8: bool = True           # also the layer with int8-w and int8-wa weights
    variant: str | None = None  # float32 product variant; None: the default (fastest built)
    seed: int = 0
    dram_bytes: int | None = None   # DRAM probe buffer; None: max(4 x last level, 256 MiB)
    sgemm_size: int = 2048          # the peak-FLOP sgemm is size^3


@dataclass
class Case:
    cell: str
    hidden: int
    weight_bytes: int
    flops_per_step: int
    bandwidth: float                                  # bytes/s at this weight size
    seconds: dict[str, dict[int, float]] = field(default_factory=dict)  # name -> T -> s/step
    notes: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    bound: dict[int, float] = field(default_factory=dict)
    # The int8 runners' own roofline: their weight bytes, the read bandwidth
    # at that size, and the bound per T (name -> ...).
    int8_weight_bytes: dict[str, int] = field(default_factory=dict)
    int8_bandwidth: dict[str, float] = field(default_factory=dict)
    int8_bound: dict[str, dict[int, float]] = field(default_factory=dict)

    def bound_of(self, name: str, block: int) -> float:
        """The bound a runner's time is compared with: its own weight bytes'."""
        return self.int8_bound[name][block] if name in self.int8_bound else self.bound[block]


def cpu_model() -> str:
    """The CPU's model name, family/model numbers and vector extensions (Linux
    /proc/cpuinfo; elsewhere what platform knows)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    flags = set(fields.get("flags", "").split())
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    name = fields.get("model name", platform.machine())
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name + (f", {' '.join(simd)}" if simd else "")


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of the BLAS libraries loaded (kernel = architecture)."""
    threadpool_info = optional("threadpoolctl", "mtsrnn bench host").threadpool_info
    keys = ("user_api", "internal_api", "version", "architecture", "threading_layer",
            "num_threads", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def openblas_overrides() -> dict[str, str]:
    return {name: os.environ[name] for name in OPENBLAS_OVERRIDES if name in os.environ}


def measure(runners: list[peers.Runner], blocks: list[int], settings: Settings,
            log=None) -> dict[str, dict[int, float]]:
    """Median seconds per time step of each runner (each T for runners that
    depend on it), over interleaved rounds."""
    cases = [(r.name, block, r.run) for r in runners
             for block in (blocks if r.per_block else blocks[:1])
             if r.blocks is None or block in r.blocks]
    calls = {}
    for name, block, run in cases:  # warm-up, and calls per measurement
        start = time.perf_counter()
        run(block)
        once = time.perf_counter() - start
        calls[name, block] = max(1, math.ceil(settings.min_seconds / max(once, 1e-9)))
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
    for index in range(settings.rounds):
        shift = index % len(cases)
        for name, block, run in cases[shift:] + cases[:shift]:
            count = calls[name, block]
            start = time.perf_counter()
            for _ in range(count):
                run(block)
            samples[name, block].append((time.perf_counter() - start) / count / settings.steps)
        if log:
            log(f"  round {index + 1}/{settings.rounds}")
    result: dict[str, dict[int, float]] = {}
    for (name, block), values in samples.items():
        result.setdefault(name, {})[block] = statistics.median(values)
    for r in runners:  # a T-independent peer has one time for every T
        if not r.per_block:
            value = result[r.name][blocks[0]]
            result[r.name] = dict.fromkeys(blocks, value)
    return result


def run(settings: Settings, log=print) -> dict[str, Any]:
    """The whole benchmark; returns the JSON-ready results."""
    threadpool_limits = optional("threadpoolctl", "mtsrnn bench host").threadpool_limits
    blocks = sorted(set(settings.blocks))
    if settings.steps < blocks[-1]:
        raise ValueError(f"--steps ({settings.steps}) must be at least the largest block "
                         f"size ({blocks[-1]})")
    if settings.with_torch:
        try:
            optional("torch", "the sru peers").set_num_threads(1)
        except ImportError:
            pass  # the sru peers are reported missing
    int8_blocks = tuple(t for t in blocks if t in INT8_BLOCKS) or tuple(blocks)
    cases: list[Case] = []
    with threadpool_limits(limits=1):
        log("roofline: read bandwidth (4x last-level cache) and OpenBLAS sgemm peak ...")
        last_level = roofline.last_level_cache_bytes()
        dram = roofline.read_bandwidth(settings.dram_bytes or max(4 * last_level, 256 << 20))
        sgemm = roofline.sgemm_peak(settings.sgemm_size)
        for cell in settings.cells:
            for hidden in settings.hidden:
                log(f"{cell} hidden {hidden}: building the model and its peers ...")
                model = peers.make_model(cell, hidden, seed=settings.seed)
                x = np.random.default_rng(settings.seed + 1).standard_normal(
                    (settings.steps, hidden)).astype(np.float32)
                found, missing = peers.runners(model, x, with_torch=settings.with_torch,
                                               variant=settings.variant, int8=settings.int8,
                                               int8_blocks=int8_blocks)
                case = Case(cell, hidden, model.weight_bytes, peers.flops_per_step(model),
                            roofline.read_bandwidth(max(model.weight_bytes, 1 << 16)),
                            notes={r.name: r.note for r in found}, missing=missing)
                bandwidth_at: dict[int, float] = {}  # int8-w and int8-wa share a size
                for r in found:
                    if r.weight_bytes is not None:
                        case.int8_weight_bytes[r.name] = r.weight_bytes
                        if r.weight_bytes not in bandwidth_at:
                            bandwidth_at[r.weight_bytes] = roofline.read_bandwidth(
                                max(r.weight_bytes, 1 << 16))
                        case.int8_bandwidth[r.name] = bandwidth_at[r.weight_bytes]
                case.seconds = measure(found, blocks, settings, log=log)
                cases.append(case)
                del model, found
        blas = blas_info()
    # The float peak from float runners only: int8 products may do more
    # multiply-adds per second than any float32 product can.
    best_rate = max(case.flops_per_step / s for case in cases
                    for name, per_t in case.seconds.items() if name not in peers.INT8_RUNNERS
                    for s in per_t.values())
    peak = max(sgemm, best_rate)
    # Each int8 product's peak: the float one, or its own best rate if higher
    # (int8-wa's integer multiply-adds can beat any float32 rate).
    best_int8 = {name: max(case.flops_per_step / s for case in cases
                           for s in case.seconds.get(name, {}).values())
                 for name in peers.INT8_RUNNERS
                 if any(name in case.seconds for case in cases)}
    int8_peak = {name: max(peak, rate) for name, rate in best_int8.items()}
    for case in cases:
        case.bound = {t: roofline.bound_seconds(case.weight_bytes, case.flops_per_step, t,
                                                case.bandwidth, peak) for t in blocks}
        case.int8_bound = {
            name: {t: roofline.bound_seconds(nbytes, case.flops_per_step, t,
                                             case.int8_bandwidth[name], int8_peak[name])
                   for t in blocks}
            for name, nbytes in case.int8_weight_bytes.items()}
    return {
        "benchmark": "host",
        "machine": {
            "cpu": cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "numpy": np.__version__,
            "blas": blas, "openblas_overrides_in_force": openblas_overrides(),
            "last_level_cache_bytes": last_level,
        },
        "settings": {"cells": settings.cells, "hidden": settings.hidden, "blocks": blocks,
                     "steps": settings.steps, "rounds": settings.rounds,
                     "min_seconds": settings.min_seconds,
                     "variant": settings.variant or product_variants()[0], "threads": 1,
                     "int8": settings.int8, "int8_blocks": list(int8_blocks),
                     "int8_variant": {scheme: product_variants(scheme)[0]
                                   for scheme in peers.INT8_RUNNERS.values()}},
        "roofline": {"dram_read_bytes_per_s": dram, "sgemm_flop_per_s": sgemm,
                     "best_measured_flop_per_s": best_rate, "peak_flop_per_s": peak,
                     "best_measured_int8_flop_per_s": best_int8,
                     "int8_peak_flop_per_s": int8_peak},
        "cases": [_case_json(case, blocks) for case in cases],
    }


def _case_json(case: Case, blocks: list[int]) -> dict[str, Any]:
    names = [n for n in ORDER if n in case.seconds]
    rows = []
    for t in blocks:
        seconds = {n: case.seconds[n][t] for n in names if t in case.seconds[n]}
        rows.append({
            "block": t,
            "seconds_per_step": seconds,
            "bound_seconds_per_step": case.bound[t],
            "int8_bound_seconds_per_step": {n: per_t[t] for n, per_t in case.int8_bound.items()
                                            if n in seconds},
            # each against its own weight bytes' bound (int8 runners: theirs)
            "ratio_to_bound": {n: s / case.bound_of(n, t) for n, s in seconds.items()},
            # ratio[a][b] = time of a / time of b (> 1: a is slower)
            "ratio": {a: {b: seconds[a] / seconds[b] for b in seconds if b != a}
                      for a in seconds},
        })
    return {"cell": case.cell, "hidden": case.hidden, "input": case.hidden,
            "weight_bytes": case.weight_bytes, "flops_per_step": case.flops_per_step,
            "bandwidth_bytes_per_s": case.bandwidth, "implementations": case.notes,
            "int8_weight_bytes": case.int8_weight_bytes,
            "int8_bandwidth_bytes_per_s": case.int8_bandwidth,
            "depends_on_block": {n: n in ("mtsrnn", "numpy", *peers.INT8_RUNNERS)
                                 for n in names},
            "missing": case.missing, "rows": rows}


def format_report(data: dict[str, Any]) -> str:
    m, roof = data["machine"], data["roofline"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})"
                     for b in m["blas"]) or "none found"
    lines = [
        f"machine: {m['cpu']}, {m['cpus']} CPUs, last-level cache "
        f"{m['last_level_cache_bytes'] / 2**20:.0f} MiB; single thread",
        f"BLAS: {blas}" + (f"; overrides in force: {m['openblas_overrides_in_force']}"
                           if m["openblas_overrides_in_force"] else ""),
        f"roofline: DRAM read {roof['dram_read_bytes_per_s'] / 1e9:.1f} GB/s; peak "
        f"{roof['peak_flop_per_s'] / 1e9:.1f} GFLOP/s (OpenBLAS sgemm "
        f"{roof['sgemm_flop_per_s'] / 1e9:.1f}, best measured here "
        f"{roof['best_measured_flop_per_s'] / 1e9:.1f})",
        f"mtsrnn product variants: float32 {data['settings']['variant']}"
        + ("".join(f", {scheme} {name}" for scheme, name in
                   data["settings"].get("int8_variant", {}).items())
           if data["settings"].get("int8") else "")
        + f"; {data['settings']['steps']} steps per "
        f"call, median of {data['settings']['rounds']} interleaved rounds",
    ]
    for case in data["cases"]:
        # every runner of the case, in ORDER (int8 runners run at some T only)
        names = [n for n in ORDER if any(n in row["seconds_per_step"] for row in case["rows"])]
        lines += [
            "",
            f"{case['cell'].upper()} input = hidden = {case['hidden']}: "
            f"{case['weight_bytes'] / 2**20:.2f} MiB of weights, "
            f"{case['flops_per_step'] / 1e6:.1f} MFLOP per step; read bandwidth at this size "
            f"{case['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s",
            "  us per step (x the bound"
            + ("; int8: x the bound of their own weight bytes, "
               + ", ".join(f"{n} {b / 2**20:.2f} MiB" for n, b in
                           case.get("int8_weight_bytes", {}).items()) + ")"
               if case.get("int8_weight_bytes") else ")"),
            "  " + f"{'T':>3} {'bound':>9}" + "".join(f" {n:>17}" for n in names),
        ]
        for row in case["rows"]:
            cells = "".join(
                f" {row['seconds_per_step'][n] * 1e6:>9.1f} ({row['ratio_to_bound'][n]:>4.2f}x)"
                if n in row["seconds_per_step"] else f" {'-':>17}" for n in names)
            lines.append(f"  {row['block']:>3} {row['bound_seconds_per_step'] * 1e6:>9.1f}"
                         + cells)
        if any(ratio < 1 for row in case["rows"] for ratio in row["ratio_to_bound"].values()):
            lines.append("  (below 1x: faster than the bound, max(weight bytes / T / read "
                         "bandwidth, FLOPs / peak) with the bandwidth measured here at this "
                         "size; the weights stayed in a cache level faster than that "
                         "measurement, or the rounds were noisy)")
        others = [n for n in names if n != "mtsrnn" and n not in peers.INT8_RUNNERS]
        if "mtsrnn" in names and others:
            lines.append("  mtsrnn's speed-up over each peer (peer time / mtsrnn time)")
            lines.append("  " + f"{'T':>3}" + "".join(f" {n:>13}" for n in others))
            for row in case["rows"]:
                lines.append("  " + f"{row['block']:>3}" + "".join(
                    f" {row['ratio'][n]['mtsrnn']:>12.2f}x" for n in others))
        int8 = [n for n in names if n in peers.INT8_RUNNERS]
        if "mtsrnn" in names and int8:
            lines.append("  int8 weights against float32 mtsrnn (float time / int8 time)")
            lines.append("  " + f"{'T':>3}" + "".join(f" {n:>13}" for n in int8))
            for row in case["rows"]:
                if any(n in row["ratio"]["mtsrnn"] for n in int8):
                    lines.append("  " + f"{row['block']:>3}" + "".join(
                        f" {row['ratio']['mtsrnn'][n]:>12.2f}x" if n in row["ratio"]["mtsrnn"]
                        else f" {'-':>13}" for n in int8))
        for name, why in case["missing"].items():
            lines.append(f"  {name}: {why}")
    lines += ["", *target_report(data)]
    return "\n".join(lines)


def _row(case: dict[str, Any], block: int) -> dict[str, Any] | None:
    return next((r for r in case["rows"] if r["block"] == block), None)


def target_report(data: dict[str, Any]) -> list[str]:
    """The targets of the host benchmark (docs/performance.md), each with the
    measurement and whether it was met; cases not in the run are skipped."""
    out = ["targets (single thread):"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    for case in data["cases"]:
        name = f"{case['cell']} {case['hidden']}"
        if case["hidden"] >= 2048:
            row = _row(case, 1)
            if row:
                r = row["ratio_to_bound"]["mtsrnn"]
                out.append(f"  {name}: T=1 within 1.25x of the bandwidth bound: {r:.3f}x "
                           f"{verdict(r <= 1.25)}")
            for row in case["rows"]:
                if row["block"] >= 16:
                    r = row["ratio_to_bound"]["mtsrnn"]
                    out.append(f"  {name}: T={row['block']} within 1.5x of the compute bound: "
                               f"{r:.3f}x {verdict(r <= 1.5)}")
        row = _row(case, 16)
        for step, what in (("sru-step", "sru"), ("mingru-step", "mingru-pytorch")):
            if case["hidden"] >= 1024 and row and step in row["ratio"].get("mtsrnn", {}):
                speedup = row["ratio"][step]["mtsrnn"]
                out.append(f"  {name}: T=16 at least 5x faster than {what} one step at a "
                           f"time: {speedup:.1f}x {verdict(speedup >= 5)}")
        for row in case["rows"]:
            if row["block"] <= 16 and "numpy" in row["ratio"].get("mtsrnn", {}):
                r = row["ratio"]["mtsrnn"]["numpy"]
                if r > 1:
                    out.append(f"  {name}: T={row['block']} slower than NumPy blocked: "
                               f"{r:.2f}x its time MISSED")
    if len(out) == 1:
        out.append("  (none in this run's grid)")
    out.append("  (every T <= 16 not listed above is no slower than NumPy blocked)")
    return out
