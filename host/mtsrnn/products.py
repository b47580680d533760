"""Which product variant runs on this machine, and why.

An x86-64 build of the kernels carries every x86 product (AVX2, AVX-512,
AVX-512 VNNI), each compiled for its instruction set, and an aarch64 Linux
build the SDOT product; the running CPU's
features decide which can run (kernels/src/isa.h), and the first of those in
a scheme's table is its default. `product_variants()` lists only what runs
here; `product_choice()` says which one is the default and why.
"""

from __future__ import annotations

from . import _core

SCHEMES = {None: "float32", "float32": "float32", "int8-w": "int8-w", "int8-wa": "int8-wa"}


def cpu_features() -> tuple[str, ...]:
    """The CPU features the products may require that this CPU has (x86-64:
    avx2, fma, avx512f, avx512bw, avx512vl, avx512vnni; aarch64 Linux: dotprod;
    empty elsewhere)."""
    return tuple(name for name, (_bit, present) in _core.cpu_features().items() if present)


def _names(mask: int) -> list[str]:
    return [name for name, (bit, _present) in _core.cpu_features().items() if mask & bit]


def product_choice(quantization: str | None = None) -> str:
    """One line: the default product of the scheme (None: float32) on this
    CPU and why, e.g. "avx512-vnni: CPU has avx2 fma avx512f avx512bw
    avx512vl avx512vnni", or "tiled: portable C; skipped avx512 (CPU lacks
    avx2 fma avx512f avx512vl), avx2 (CPU lacks avx2 fma)"."""
    if quantization not in SCHEMES:
        raise ValueError(f"quantization must be None, 'int8-w' or 'int8-wa', got "
                         f"{quantization!r}")
    have = {name for name in cpu_features()}
    skipped = []
    for name, _summary, requires, runs in _core.products()[SCHEMES[quantization]]:
        if not runs:
            lacks = " ".join(n for n in _names(requires) if n not in have)
            skipped.append(f"{name} (CPU lacks {lacks})")
            continue
        reason = (f"CPU has {' '.join(_names(requires))}" if requires
                  else "portable C" if name in ("tiled", "reference")
                  else "built for this target")
        return f"{name}: {reason}" + (f"; skipped {', '.join(skipped)}" if skipped else "")
    raise RuntimeError("no product runs on this CPU")  # the portable ones always do
