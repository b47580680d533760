"""PNG plots of `mtsrnn bench host` results: per-step time against T, one
panel per (cell, hidden size), every implementation and the roofline bound on
the same axes."""

from __future__ import annotations

from typing import Any

STYLES = {
    "mtsrnn": {"marker": "o", "linewidth": 2.0},
    "mtsrnn-int8w": {"marker": "v"},
    "mtsrnn-int8wa": {"marker": "^"},
    "numpy": {"marker": "s"},
    "cmsis-matvec": {"linestyle": "--"},
    "sru-step": {"linestyle": "-."},
    "sru-seq": {"linestyle": ":"},
}


def plot_host(data: dict[str, Any], path: str) -> None:
    """Write the plot of `data` (host.run's result) to `path`; needs matplotlib."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("plotting needs matplotlib (pip install matplotlib); the table "
                           "and the JSON need nothing more") from None
    matplotlib.use("Agg")
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
        for name in names:  # int8 runners run at some T only
            measured = [row for row in case["rows"] if name in row["seconds_per_step"]]
            ax.plot([row["block"] for row in measured],
                    [row["seconds_per_step"][name] * 1e6 for row in measured],
                    label=name, **STYLES.get(name, {}))
        ax.plot(blocks, [row["bound_seconds_per_step"] * 1e6 for row in case["rows"]],
                color="black", linewidth=1.0, label="roofline bound")
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
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend),
               fontsize=8)
    machine = data["machine"]
    fig.suptitle(f"{machine['cpu']}, one thread: per-step time against T "
                 f"(lower is better)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
