"""`mtsrnn bench dram`: memory traffic of the kernels in an embedded-sized
cache model, the deterministic counterpart of the timed host benchmark.

valgrind's cachegrind simulates a first-level data cache and a last-level
cache of the given geometry (default 32 KiB L1D, 512 KiB LL: a large
microcontroller or a small application core) while `mtsrnn-dram-probe` (a C
program installed with the package, host/src/dram_probe.c) runs one layer of
the kernels. Last-level misses are the DRAM (or flash) traffic.

The layer runs with float32 weights and with the int8 schemes of
docs/quantization.md (the probe quantises its weights per output row with the
kernels' own quantiser), each with a product variant of its scheme's table.
Per scheme and T, the probe runs twice, making the same forward call over L
steps once and twice; the difference of the two runs' totals is exactly one
call in steady state (setup, weight generation and process start cancel),
divided by L. The probe's copy of the kernels is built without AVX-512
(valgrind does not decode it), so its instruction counts are those of the
AVX2/SSE build.
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

from ..quantize import SCHEMES as INT8_SCHEMES

PROBE_NAME = "mtsrnn-dram-probe"
DEFAULT_D1 = "32768,8,64"
DEFAULT_LL = "524288,16,64"
# Weight schemes the probe builds its layer with, in the order they are reported.
WEIGHTS = ("float32", *INT8_SCHEMES)
_GEOMETRY = re.compile(r"^\d+,\d+,\d+$")


@dataclass
class DramResult:
    weights: str                # float32, int8-w or int8-wa
    block: int
    variant: str                # the product variant the probe ran
    steps: int                  # L of the measured call
    instructions_per_step: float
    ll_misses_per_step: float   # data reads + writes missing the last level
    d1_misses_per_step: float
    ll_vs_t1: float | None = None     # LL misses / step over those of T = 1, same weights
    ll_vs_float: float | None = None  # over those of float32 weights at the same T


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
    # What cachegrind accepts, checked before any run: a power-of-two line
    # and a power-of-two number of sets (size / (associativity * line)).
    size, ways, line = (int(part) for part in text.split(","))
    sets = size // (ways * line) if ways and line else 0
    if not (line and ways and sets and size == sets * ways * line
            and line & (line - 1) == 0 and sets & (sets - 1) == 0):
        raise ValueError(f"{what} {text!r}: the line size and the number of sets (size / "
                         "(associativity * line_size)) must be powers of two >= 1")
    return text


def check_weights(weights: list[str] | tuple[str, ...]) -> list[str]:
    """The weight schemes, in the order given, or ValueError naming the ones
    that exist."""
    bad = [w for w in weights if w not in WEIGHTS]
    if not weights or bad:
        raise ValueError(f"weights must be among {', '.join(WEIGHTS)}, got {list(weights)!r}")
    return list(dict.fromkeys(weights))


def parse_variants(text: str | None, weights: list[str]) -> dict[str, str]:
    """`--variant`: comma-separated SCHEME=VARIANT items (e.g. 'float32=tiled,
    int8-wa=reference'), or a bare VARIANT when one scheme is measured. Maps
    scheme to variant name; schemes left out run their default variant."""
    if not text:
        return {}
    chosen: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        scheme, sep, name = item.rpartition("=")
        if not sep:
            if len(weights) != 1:
                raise ValueError(f"--variant {item!r} names no weight scheme; with several "
                                 f"schemes ({', '.join(weights)}) write SCHEME=VARIANT, e.g. "
                                 f"{weights[0]}={item}")
            scheme = weights[0]
        if scheme not in weights or not name:
            raise ValueError(f"--variant item {item!r}: expected SCHEME=VARIANT with SCHEME one "
                             f"of the measured weights ({', '.join(weights)})")
        chosen[scheme] = name
    return chosen


def probe_variants(probe: Path) -> dict[str, tuple[str, ...]]:
    """The product variants of the probe's build per weight scheme that run
    under valgrind, default first (`mtsrnn-dram-probe --list` under valgrind
    without a tool: the probe lists what the CPU valgrind presents runs,
    which has no AVX-512; natively when valgrind is missing, and run_probe
    says so)."""
    valgrind = shutil.which("valgrind")
    command = [str(probe), "--list"]
    if valgrind is not None:
        command = [valgrind, "--tool=none", "-q", *command]
    done = subprocess.run(command, capture_output=True, text=True)
    variants = {line.split()[0]: tuple(line.split()[1:])
                for line in done.stdout.splitlines() if line.split()}
    if done.returncode != 0 or set(variants) != set(WEIGHTS):
        raise RuntimeError(f"{probe} --list failed or is out of date (exit {done.returncode}, "
                           f"schemes {sorted(variants)}, expected {list(WEIGHTS)}); "
                           "reinstall mtsrnn")
    return variants


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
              d1: str, ll: str, weights: str, gemm: str, workdir: Path
              ) -> tuple[dict[str, int], str]:
    """cachegrind's totals for one probe run, and the variant it ran."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise FileNotFoundError("valgrind is not installed (apt-get install valgrind)")
    out = workdir / f"cachegrind.{weights}.{block}.{repeats}.out"
    command = [valgrind, "--tool=cachegrind", "--cache-sim=yes", f"--D1={d1}", f"--LL={ll}",
               f"--cachegrind-out-file={out}", str(probe), cell, str(hidden), str(block),
               str(steps), str(repeats), weights, gemm]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")
    match = re.search(rf"^weights {re.escape(weights)} gemm (\S+) checksum", done.stdout,
                      re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected output from {probe}: {done.stdout[:200]!r}")
    return parse_cachegrind(out), match.group(1)


def measure(cell: str, hidden: int, blocks: list[int], *, weights=WEIGHTS,
            min_steps: int = 16, d1: str = DEFAULT_D1, ll: str = DEFAULT_LL,
            variants: dict[str, str] | None = None, probe: str | None = None,
            log=None) -> list[DramResult]:
    """Per-step counts for each T and weight scheme, ordered by T, then by
    scheme as given. A call covers whole blocks and at least `min_steps`
    steps. `variants` maps a scheme to a variant name of the probe's build
    (default: each scheme's first)."""
    path = probe_path(probe)
    check_geometry(d1, "--d1")
    check_geometry(ll, "--ll")
    weights = check_weights(weights)
    unused = set(variants or {}) - set(weights)
    if unused:
        raise ValueError(f"--variant names {', '.join(sorted(unused))}, which is not measured "
                         f"(weights {', '.join(weights)})")
    built = probe_variants(path)
    chosen = {}
    for scheme in weights:
        name = (variants or {}).get(scheme, built[scheme][0])
        if name not in built[scheme]:
            raise ValueError(f"no {scheme} product variant {name!r} in the probe's build; "
                             f"built: {', '.join(built[scheme])}")
        chosen[scheme] = name
    results = []
    with tempfile.TemporaryDirectory(prefix="mtsrnn-dram-") as tmp:
        for scheme in weights:
            for block in blocks:
                steps = block * max(1, -(-min_steps // block))
                if log:
                    log(f"  {scheme} T={block}: {steps} steps per call under cachegrind ...")
                (once, variant), (twice, _) = (
                    run_probe(path, cell, hidden, block, steps, repeats, d1, ll, scheme,
                              chosen[scheme], Path(tmp))
                    for repeats in (1, 2))
                delta = {key: twice[key] - once[key] for key in once}
                results.append(DramResult(
                    weights=scheme, block=block, variant=variant, steps=steps,
                    instructions_per_step=delta["Ir"] / steps,
                    ll_misses_per_step=(delta["DLmr"] + delta["DLmw"]) / steps,
                    d1_misses_per_step=(delta["D1mr"] + delta["D1mw"]) / steps))
    ll = {(r.weights, r.block): r.ll_misses_per_step for r in results}
    for r in results:
        t1, same_t_float = ll.get((r.weights, 1)), ll.get(("float32", r.block))
        r.ll_vs_t1 = r.ll_misses_per_step / t1 if t1 else None
        r.ll_vs_float = r.ll_misses_per_step / same_t_float if same_t_float else None
    order = {scheme: i for i, scheme in enumerate(weights)}
    return sorted(results, key=lambda r: (r.block, order[r.weights]))


def _ratio(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"


def format_table(cell: str, hidden: int, d1: str, ll: str, results: list[DramResult]) -> str:
    lines = [
        f"{cell.upper()} input = hidden = {hidden}, cachegrind D1 {d1}, LL {ll} "
        f"(size,assoc,line bytes); products of the probe's build without AVX-512",
        f"{'T':>4} {'weights':<8} {'variant':<10} {'LL misses/step':>15} {'x T=1':>8} "
        f"{'x float':>8} {'D1 misses/step':>15} {'instr/step':>12}",
    ]
    for r in results:
        lines.append(f"{r.block:>4} {r.weights:<8} {r.variant:<10} {r.ll_misses_per_step:>15.0f} "
                     f"{_ratio(r.ll_vs_t1):>8} {_ratio(r.ll_vs_float):>8} "
                     f"{r.d1_misses_per_step:>15.0f} {r.instructions_per_step:>12.0f}")
    lines.append("x T=1: LL misses over those of T = 1 with the same weights; x float: over "
                 "those of float32 weights at the same T")
    for r in results:
        if r.block != 16:
            continue
        if r.weights == "float32" and r.ll_vs_t1:
            lines.append(f"target: float32 LL misses per step at T=16 at most 1/14 (0.0714) "
                         f"of T=1 (ideal 1/16): {r.ll_vs_t1:.4f} = 1/{1 / r.ll_vs_t1:.1f} "
                         f"{'met' if r.ll_vs_t1 <= 1 / 14 else 'MISSED'}")
        elif r.weights != "float32" and r.ll_vs_float is not None:
            inverse = f" = 1/{1 / r.ll_vs_float:.2f}" if r.ll_vs_float > 0 else ""
            lines.append(f"{r.weights} at T=16: LL misses per step {r.ll_vs_float:.4f}"
                         f"{inverse} of float32's (int8 weights are 1/4 of the bytes)")
    return "\n".join(lines)


CACHE_FIELDS = ("size_bytes", "associativity", "line_bytes")  # cachegrind's --D1/--LL order


def _cache_json(spec: str) -> dict[str, int]:
    """cachegrind's "size,assoc,line" as numbers for the JSON."""
    return dict(zip(CACHE_FIELDS, (int(v) for v in spec.split(",")), strict=True))


def _cache_text(cache: dict[str, int] | str) -> str:
    return cache if isinstance(cache, str) else ",".join(str(cache[f]) for f in CACHE_FIELDS)


def to_json(cell: str, hidden: int, d1: str, ll: str,
            results: list[DramResult]) -> dict[str, Any]:
    return {"benchmark": "dram", "tool": "valgrind cachegrind", "cell": cell,
            "hidden": hidden, "input": hidden, "d1": _cache_json(d1), "ll": _cache_json(ll),
            "weights": list(dict.fromkeys(r.weights for r in results)),
            "results": [asdict(r) for r in results]}


def run(cell: str, hidden: int, blocks: list[int], *, d1: str = DEFAULT_D1,
        ll: str = DEFAULT_LL, **options) -> dict[str, Any]:
    """The whole benchmark (measure() with the same options); returns the
    JSON-ready results."""
    return to_json(cell, hidden, d1, ll, measure(cell, hidden, blocks, d1=d1, ll=ll, **options))


def format_report(data: dict[str, Any]) -> str:
    """The printed table of run()'s results."""
    return format_table(data["cell"], data["hidden"], _cache_text(data["d1"]),
                        _cache_text(data["ll"]),
                        [DramResult(**r) for r in data["results"]])
