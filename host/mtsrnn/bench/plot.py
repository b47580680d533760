"""PNG plots of the benchmarks' results (matplotlib):

- plot_host: `mtsrnn bench host`, per-step time against T, one panel per
  (cell, hidden size), every implementation and the roofline bound on the
  same axes;
- plot_device: `mtsrnn bench device`, the primary counter per step against T,
  one line per product variant.

`mtsrnn bench dram` has no plot: its table is the result.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from ..extras import optional


def require_matplotlib() -> None:
    """ImportError saying what to install, before any measuring, when
    matplotlib is missing; selects its file-only backend."""
    optional("matplotlib", "plotting (the table and the JSON need nothing more)").use("Agg")


STYLES = {
    "mtsrnn": {"marker": "o", "linewidth": 2.0},
    "mtsrnn-int8-w": {"marker": "v"},
    "mtsrnn-int8-wa": {"marker": "^"},
    "numpy": {"marker": "s"},
    "cmsis-matvec": {"linestyle": "--"},
    "sru-step": {"linestyle": "-."},
    "sru-seq": {"linestyle": ":"},
}


def plot_host(data: dict[str, Any], path: str) -> None:
    """Write the plot of `data` (host.run's result) to `path`; needs matplotlib."""
    require_matplotlib()
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    # Minor ticks labelled at 2 and 5 times a power of ten only: all nine crowd.
    sparse = FuncFormatter(lambda value, _pos: f"{value:g}" if f"{value:g}"[0] in "25" else "")

    cases = data["cases"]
    cells = list(dict.fromkeys(c["cell"] for c in cases))
    hiddens = list(dict.fromkeys(c["hidden"] for c in cases))
    fig, axes = plt.subplots(len(cells), len(hiddens), squeeze=False,
                             figsize=(3.6 * len(hiddens) + 0.6, 3.2 * len(cells) + 0.8))
    for case in cases:
        ax = axes[cells.index(case["cell"])][hiddens.index(case["hidden"])]
        blocks = [row["block"] for row in case["rows"]]
        names = dict.fromkeys(n for row in case["rows"] for n in row["seconds_per_step"])
        colors = {}
        for name in names:  # int8 runners run at some T only
            measured = [row for row in case["rows"] if name in row["seconds_per_step"]]
            line, = ax.plot([row["block"] for row in measured],
                            [row["seconds_per_step"][name] * 1e6 for row in measured],
                            label=name, **STYLES.get(name, {}))
            colors[name] = line.get_color()
        ax.plot(blocks, [row["bound_seconds_per_step"] * 1e6 for row in case["rows"]],
                color="black", linewidth=1.0, label="roofline bound")
        # The int8 products' own bounds (their weight bytes; the table's "x the
        # bound" for them), thin and dashed in their colour: against the float
        # bound alone they seemed to beat the roofline.
        int8_names = dict.fromkeys(n for row in case["rows"]
                                   for n in row.get("int8_bound_seconds_per_step") or {})
        for name in int8_names:
            rows = [row for row in case["rows"]
                    if name in (row.get("int8_bound_seconds_per_step") or {})]
            ax.plot([row["block"] for row in rows],
                    [row["int8_bound_seconds_per_step"][name] * 1e6 for row in rows],
                    color=colors.get(name, "black"), linewidth=0.9, linestyle=(0, (4, 2)),
                    label=f"{name.removeprefix('mtsrnn-')} bound")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(sparse)
        ax.set_xticks(blocks)
        ax.set_xticklabels([str(b) for b in blocks])
        ax.set_title(f"{case['cell'].upper()} {case['hidden']} "
                     f"({case['weight_bytes'] / 2**20:.1f} MiB)", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("block size T", fontsize=8)
        ax.set_ylabel("us per time step", fontsize=8)
        ax.tick_params(labelsize=7)
    legend = {}
    for ax in axes.flat:  # every implementation that appears in any panel, once
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    rows = 1 if len(legend) <= 7 else 2
    fig.legend(list(legend.values()), list(legend), loc="lower center",
               ncol=-(-len(legend) // rows), fontsize=8)
    machine = data["machine"]
    # Wrapped to the figure's width (about 11 characters per inch at this
    # size): a long CPU name ran off both edges of a two-panel figure.
    title = textwrap.fill(f"{machine['cpu']}, one thread: per-step time against T (lower "
                          "is better)", width=max(40, int(fig.get_figwidth() * 11)))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06 * rows, 1, 1))  # room for the legend and the suptitle
    fig.savefig(path, dpi=110)
    plt.close(fig)


# plot_device's variants: a marker each, drawn large to small, so variants
# whose values coincide (the same weight bytes per step) stay visible.
VARIANT_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def _variant_style(k: int) -> dict[str, Any]:
    return {"marker": VARIANT_MARKERS[k % len(VARIANT_MARKERS)],
            "markersize": max(3.0, 9.0 - 1.5 * k), "linewidth": max(1.0, 2.6 - 0.4 * k)}


def _log_if_decades(axis: Any, values: list[float]) -> None:
    """A log y axis where the values span a decade or more, else linear."""
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if finite and max(finite) >= 10 * min(finite):
        axis.set_yscale("log")


def plot_device(data: dict[str, Any], path: str) -> None:
    """Write the plot of `data` (bench.device.run's result) to `path`; needs
    matplotlib."""
    from .device import COUNTER_LABELS, product_columns

    require_matplotlib()
    import matplotlib.pyplot as plt

    # The variants, then the bench-only peers ("<name> (peer)", dashed).
    by_variant = product_columns(data)
    primary = data["primary_counter"] or data["counters"][0]
    title = f"{data['model']['name']} on {data['board'].get('name', '?')}"
    memory = data.get("memory")
    width = 6 if len(by_variant) == 1 else 7.5
    fig, axes = plt.subplots(1, 3 if memory else 1, squeeze=False,
                             figsize=(width * (2.2 if memory else 1), 4))
    ax = axes[0][0]
    blocks = [r["block"] for r in next(iter(by_variant.values()))]
    for k, (name, rows) in enumerate(by_variant.items()):
        values = [r["per_step"].get(primary, math.nan) for r in rows]
        ax.plot(blocks, values, label=name, **_variant_style(k),
                linestyle="--" if name.endswith(" (peer)") else "-")
    if len(by_variant) > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the lines
    ax.set_xscale("log", base=2)
    ax.set_xticks(blocks)
    ax.set_xticklabels([str(b) for b in blocks])
    ax.set_xlabel("block size T (time steps per pass over the weights)")
    label = COUNTER_LABELS.get(primary, primary)
    if primary == "instructions":
        label += " (QEMU -icount; not cycles)"
    ax.set_ylabel(label)
    _log_if_decades(ax, [r["per_step"].get(primary, math.nan)
                         for rows in by_variant.values() for r in rows])
    counts = "instruction counts, " if primary == "instructions" else ""
    ax.set_title(title + (f"\nunder emulation: {counts}not performance" if data["emulated"]
                          else ""), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if memory:  # measured traffic behind the part's caches, then its modelled cycles
        panels = (("memory_bytes", "bytes/step behind the cache model",
                   f"measured on the binary ({memory['part']} caches)"),
                  ("cycles_model", "cycles/step (MODELLED)",
                   f"modelled, not measured: {memory['part']}"))
        for axis, (key, ylabel, note) in zip(axes[0][1:], panels, strict=True):
            for k, (name, rows) in enumerate(by_variant.items()):
                axis.plot(blocks, [r["per_step"].get(key, math.nan) for r in rows],
                          label=name, **_variant_style(k))
            axis.set_xscale("log", base=2)
            _log_if_decades(axis, [r["per_step"].get(key, math.nan)
                                   for rows in by_variant.values() for r in rows])
            axis.set_xticks(blocks)
            axis.set_xticklabels([str(b) for b in blocks])
            axis.set_xlabel("block size T")
            axis.set_ylabel(ylabel, fontsize=8)
            axis.set_title(note, fontsize=8)
            axis.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
