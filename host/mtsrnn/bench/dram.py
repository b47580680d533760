"""`mtsrnn bench dram`: memory traffic of the kernels in an embedded-sized
cache model, the deterministic counterpart of the timed host benchmark.

valgrind's cachegrind simulates a first-level data cache and a last-level
cache of the given geometry (default 32 KiB L1D, 512 KiB LL: a large
microcontroller or a small application core) while `mtsrnn-dram-probe` (a C
program installed with the package, host/src/dram_probe.c) runs one layer of
the kernels. Last-level misses are the DRAM (or flash) traffic.

Per T, the probe runs twice, making the same forward call over L steps once
and twice; the difference of the two runs' totals is exactly one call in
steady state (setup, weight generation and process start cancel), divided by
L. The probe's copy of the kernels is built without AVX-512 (valgrind does
not decode it), so its instruction counts are those of the AVX2/SSE build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROBE_NAME = "mtsrnn-dram-probe"
DEFAULT_D1 = "32768,8,64"
DEFAULT_LL = "524288,16,64"
_GEOMETRY = re.compile(r"^\d+,\d+,\d+$")


@dataclass
class DramResult:
    block: int
    gemm: str                   # the product variant the probe ran
    steps: int                  # L of the measured call
    instructions_per_step: float
    ll_misses_per_step: float   # data reads + writes missing the last level
    d1_misses_per_step: float
    ll_vs_t1: float | None = None


def probe_path(explicit: str | None = None) -> Path:
    """The probe installed next to this package (or MTSRNN_DRAM_PROBE, or an
    explicit path)."""
    for candidate in (explicit, os.environ.get("MTSRNN_DRAM_PROBE")):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                raise FileNotFoundError(f"dram probe {path} does not exist")
            return path
    path = Path(__file__).resolve().parent.parent / PROBE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{PROBE_NAME} is not installed at {path}; reinstall mtsrnn "
                                "from a source checkout (pip install .) or pass --probe")
    return path


def check_geometry(text: str, what: str) -> str:
    """A cachegrind cache geometry 'size,associativity,line'."""
    if not _GEOMETRY.match(text):
        raise ValueError(f"{what} must be 'size,associativity,line_size' in bytes (e.g. "
                         f"{DEFAULT_LL}), got {text!r}")
    return text


def parse_cachegrind(path: Path) -> dict[str, int]:
    """The `summary:` totals of a cachegrind.out file, keyed by event name."""
    events: list[str] = []
    summary: list[int] = []
    for line in path.read_text().splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("summary:"):
            summary = [int(v) for v in line.split()[1:]]
    if not events or len(events) != len(summary):
        raise ValueError(f"{path} has no events/summary lines cachegrind would write")
    return dict(zip(events, summary, strict=True))


def run_probe(probe: Path, cell: str, hidden: int, block: int, steps: int, repeats: int,
              d1: str, ll: str, gemm: str | None, workdir: Path) -> tuple[dict[str, int], str]:
    """cachegrind's totals for one probe run, and the variant it ran."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise FileNotFoundError("valgrind is not installed (apt-get install valgrind)")
    out = workdir / f"cachegrind.{block}.{repeats}.out"
    command = [valgrind, "--tool=cachegrind", "--cache-sim=yes", f"--D1={d1}", f"--LL={ll}",
               f"--cachegrind-out-file={out}", str(probe), cell, str(hidden), str(block),
               str(steps), str(repeats)] + ([gemm] if gemm else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")
    match = re.search(r"^gemm (\S+) checksum", done.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected output from {probe}: {done.stdout[:200]!r}")
    return parse_cachegrind(out), match.group(1)


def measure(cell: str, hidden: int, blocks: list[int], *, min_steps: int = 16,
            d1: str = DEFAULT_D1, ll: str = DEFAULT_LL, gemm: str | None = None,
            probe: str | None = None, log=None) -> list[DramResult]:
    """Per-step counts for each T. A call covers whole blocks and at least
    `min_steps` steps."""
    path = probe_path(probe)
    check_geometry(d1, "--d1")
    check_geometry(ll, "--ll")
    results = []
    with tempfile.TemporaryDirectory(prefix="mtsrnn-dram-") as tmp:
        for block in blocks:
            steps = block * max(1, -(-min_steps // block))
            if log:
                log(f"  T={block}: {steps} steps per call under cachegrind ...")
            (once, variant), (twice, _) = (
                run_probe(path, cell, hidden, block, steps, repeats, d1, ll, gemm, Path(tmp))
                for repeats in (1, 2))
            delta = {key: twice[key] - once[key] for key in once}
            results.append(DramResult(
                block, variant, steps, delta["Ir"] / steps,
                (delta["DLmr"] + delta["DLmw"]) / steps,
                (delta["D1mr"] + delta["D1mw"]) / steps))
    base = next((r for r in results if r.block == 1), None)
    for r in results:
        r.ll_vs_t1 = r.ll_misses_per_step / base.ll_misses_per_step if base else None
    return results


def format_table(cell: str, hidden: int, d1: str, ll: str, results: list[DramResult]) -> str:
    variants = ", ".join(dict.fromkeys(r.gemm for r in results))
    lines = [
        f"{cell.upper()} input = hidden = {hidden}, cachegrind D1 {d1}, LL {ll} "
        f"(size,assoc,line bytes); gemm '{variants}' of the probe's build without AVX-512",
        f"{'T':>4} {'LL misses/step':>15} {'x T=1':>8} {'D1 misses/step':>15} "
        f"{'instr/step':>12}",
    ]
    for r in results:
        ratio = f"{r.ll_vs_t1:.4f}" if r.ll_vs_t1 is not None else "-"
        lines.append(f"{r.block:>4} {r.ll_misses_per_step:>15.0f} {ratio:>8} "
                     f"{r.d1_misses_per_step:>15.0f} {r.instructions_per_step:>12.0f}")
    t16 = next((r for r in results if r.block == 16), None)
    if t16 is not None and t16.ll_vs_t1 is not None:
        lines.append(f"target: LL misses per step at T=16 at most 1/14 (0.0714) of T=1 "
                     f"(ideal 1/16): {t16.ll_vs_t1:.4f} = 1/{1 / t16.ll_vs_t1:.1f} "
                     f"{'met' if t16.ll_vs_t1 <= 1 / 14 else 'MISSED'}")
    return "\n".join(lines)


def to_json(cell: str, hidden: int, d1: str, ll: str,
            results: list[DramResult]) -> dict[str, Any]:
    return {"benchmark": "dram", "tool": "valgrind cachegrind", "cell": cell,
            "hidden": hidden, "input": hidden, "d1": d1, "ll": ll,
            "results": [asdict(r) for r in results]}
