"""The roofline of this machine, measured in the same run as the benchmarks.

- Read bandwidth: `_core.read_words` (C, integer sums with software
  prefetch) streams a buffer; from a buffer at least 4x the last-level cache
  it is the DRAM bandwidth; from a buffer of a model's weight size, re-read
  the way the kernels re-read their weights, it is the bandwidth that size
  actually gets (all of L2 or L3 for small models, part of L3 plus DRAM for
  sizes just beyond it). The bound uses the latter.
- Peak FLOP rate: a large single-threaded OpenBLAS sgemm (NumPy float32
  matmul under threadpoolctl's limit of one thread); a kernel that beats it
  in the same run raises the peak to its own rate, so the bound stays a
  bound.

Per step and block size T the bound is
    max(weight_bytes / T / bandwidth, flops_per_step / peak).
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import _core

DEFAULT_LAST_LEVEL = 32 << 20


def last_level_cache_bytes() -> int:
    """The largest CPU cache in sysfs (Linux), else 32 MiB."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in os.listdir(base):
            with open(os.path.join(base, entry, "size")) as f:
                text = f.read().strip()
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            best = max(best, int(text.rstrip("KMG")) * scale)
    except (OSError, ValueError):
        pass
    return best or DEFAULT_LAST_LEVEL


def _best_seconds(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def read_bandwidth(nbytes: int, *, min_seconds: float = 0.05, repeats: int = 5) -> float:
    """Bytes per second reading a buffer of `nbytes` again and again (best of
    `repeats` timings of at least `min_seconds` each)."""
    if nbytes < 4096:
        raise ValueError(f"the bandwidth probe needs at least 4096 bytes, got {nbytes}")
    buffer = np.ones(nbytes, np.uint8)  # written once, so every page is present
    _core.read_words(buffer, 1)
    once = _best_seconds(lambda: _core.read_words(buffer, 1), 1)
    passes = max(1, int(min_seconds / max(once, 1e-9)))
    return nbytes * passes / _best_seconds(lambda: _core.read_words(buffer, passes), repeats)


def sgemm_peak(size: int = 2048, repeats: int = 3) -> float:
    """FLOP/s of a size^3 float32 NumPy matmul (OpenBLAS), best of `repeats`;
    call it under a one-thread BLAS limit for a single-thread peak."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    return 2.0 * size ** 3 / _best_seconds(lambda: a @ b, repeats)


def bound_seconds(weight_bytes: int, flops: int, block: int, bandwidth: float,
                  peak: float) -> float:
    """The roofline's lower bound on the time per step at block size T."""
    return max(weight_bytes / block / bandwidth, flops / peak)
