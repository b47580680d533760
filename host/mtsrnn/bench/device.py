"""`mtsrnn bench device`: per-step cost against the block size T on a device
(a QEMU board, mtsrnn-device, a board at a port), for every product variant
the selected model offers, side by side with CMSIS-DSP's per-step product
when the firmware has it: `cmsis-dsp-matvec` among the float variants, the
bench-only peer `cmsis-dsp-q7` beside the int8-wa ones (harness.peers: its
outputs are saturated q7, not the model's; only its cost compares).

The device's `bench` command runs a fixed input at each T and returns its
counter totals; here they become per-step values and ratios. Under QEMU the
counter is guest instructions (-icount), deterministic, so one run per T;
elsewhere the median of several runs. Never performance under emulation.

    data = run(session, model, [1, 4, 16])   # the JSON-ready results
    print(format_report(data))
    plot.plot_device(data, "device.png")
"""

from __future__ import annotations

import sys
from typing import Any

from ..harness.peers import list_peers, peer_output

COUNTER_LABELS = {
    "cycles": "cycles/step",
    "instructions": "instructions/step",
    "ns": "ns/step",
}
PRIMARY_ORDER = ("cycles", "instructions", "ns")
BASELINE_VARIANT = "cmsis-dsp-matvec"  # the firmware's per-step CMSIS-DSP product

EMULATION_NOTE = ("note: emulated device (QEMU): the counts are guest instructions "
                  "(-icount shift=0), not cycles; timings under emulation are not performance")
EMULATED_LINUX_NOTE = ("note: emulated device (QEMU user mode): ns is the time of an emulator "
                       "translating the guest code (about 10x slower than native, NEON no "
                       "faster than scalar); timings under emulation are not performance")


def emulation_note(board) -> str:
    """What the counters of an emulated board are, and that they are not performance."""
    return EMULATED_LINUX_NOTE if board.kind == "emulated-linux" else EMULATION_NOTE


def where(session) -> str:
    """The board a session runs, as the reports name it."""
    if session.board.kind == "qemu":
        return f"{session.board.name} (QEMU, {session.firmware})"
    if session.board.kind == "emulated-linux":
        return f"{session.board.name} ({session.board.emulator}, {session.firmware})"
    return session.board.name


class Progress:
    """A progress bar on stderr, drawn only on a terminal."""

    def __init__(self, total: int, enabled: bool | None = None):
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = 0

    def show(self, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(1, self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total} {label:<16}")
        sys.stderr.flush()

    def step(self, label: str) -> None:
        self.done += 1
        self.show(label)

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def device_variants(device, wanted: list[str] | None) -> list[str | None]:
    """The product variants to measure: `wanted`, or every one the device
    offers for its selected model. [None] (the device's own choice) for a
    device that cannot choose, unless variants were asked for. ValueError
    for an ask the device cannot serve."""
    from ..harness import DeviceError

    try:
        offered, _selected = device.variants()
    except DeviceError as error:
        if error.code != "unknown-command":
            raise
        if wanted:
            raise ValueError(f"{device.info.board_name} cannot choose product variants (its "
                             "firmware has no `variant` command): leave out --variant") from None
        return [None]
    names = [k.name for k in offered]
    if not wanted:
        return list(names)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        model = device.info.model()
        raise ValueError(f"no variant {', '.join(unknown)} for model {model.index} "
                         f"({model.name}, {model.weights} weights) on "
                         f"{device.info.board_name}; its variants: {', '.join(names)}")
    return list(dict.fromkeys(wanted))


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per counter, the median of repeated runs of one T (the upper median of an
    even count, so the value is one that was measured)."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if key not in ("block", "steps") and isinstance(value, (int, float)):
            values = sorted(run[key] for run in runs if key in run)
            merged[key] = values[len(values) // 2]
    merged["runs"] = len(runs)
    return merged


def bench_rows(raw: list[dict[str, Any]], counters: list[str]) -> tuple[list, str | None]:
    """The device's totals per T as rows (per-step values, speed-up against
    T = 1 in the primary counter), and that primary counter."""
    rows = []
    for entry in raw:
        per_step = {c: entry[c] / entry["steps"] for c in counters
                    if c in entry and entry["steps"]}
        if entry.get("macs"):  # the product alone: its cost per multiply-add
            per_step["macs"] = entry["macs"] / entry["steps"]
            per_step.update({f"{c}_per_mac": entry[c] / entry["macs"] for c in counters
                             if c in entry})
        rows.append({"block": entry["block"], "steps": entry["steps"],
                     "runs": entry.get("runs", 1),
                     "totals": {c: entry[c] for c in counters if c in entry},
                     "per_step": per_step})
    primary = next((c for c in PRIMARY_ORDER if c in counters), counters[0] if counters
                   else None)
    base = next((r for r in rows if r["block"] == 1), None)
    for row in rows:
        value = row["per_step"].get(primary) if primary else None
        reference = base["per_step"].get(primary) if base and primary else None
        row["speedup"] = reference / value if value and reference else None
    return rows, primary


def _numbers(fields: dict[str, Any]) -> dict[str, Any]:
    """The device's `id` fields (text on the wire) with the integers as
    numbers, so that the JSON has clock_hz 0, not "0"."""
    return {key: int(value) if isinstance(value, str) and value.isdigit() else value
            for key, value in fields.items()}


def run(session, model, blocks: list[int], *, variants: list[str] | None = None,
        steps: int | None = None, repeat: int | None = None,
        progress: bool | None = None, product: bool = False) -> dict[str, Any]:
    """Measure `model` (a ModelInfo, already selected on the device) at each
    T of `blocks` (T = 1 added first when missing: the ratios' reference)
    with each product variant (`variants`, default every one offered).
    `repeat` runs per T, the median kept (default 1 under emulation, else 5);
    `progress` draws a bar on stderr (None: on a terminal); `product`
    measures the first layer's product alone (the device's `product=1`), per
    multiply-add. Returns the JSON-ready results. ValueError for what the
    device cannot do."""
    device = session.device
    info = device.info
    blocks = list(dict.fromkeys(blocks))
    added_one = 1 not in blocks
    if added_one:
        blocks.insert(0, 1)
    too_big = [b for b in blocks if b > info.max_block]
    if too_big:
        raise ValueError(f"T = {','.join(map(str, too_big))} exceeds the device's "
                         f"max_block {info.max_block}")
    counters = info.available_counters
    if not counters:
        raise ValueError(f"{info.board_name} has no counters to measure with")
    emulated = session.board.emulated or (
        "instructions" in counters and "cycles" not in counters)
    # Instruction counts under QEMU are deterministic: one run. Elsewhere
    # the median of several.
    repeat = repeat if repeat is not None else (1 if emulated else 5)
    offered_peers = list_peers(device)
    named_peers = [p.name for p in offered_peers if p.name in (variants or ())]
    if named_peers:
        raise ValueError(f"{named_peers[0]} is a bench-only peer, not a variant of the model "
                         f"({peer_output(named_peers[0])}): bench device measures it beside "
                         "the int8-wa variants when --variant is not given")
    chosen = device_variants(device, variants)
    # The peers of the model's schemes, beside every variant (not when
    # variants were named: then exactly those).
    peers = [] if variants else [p.name for p in offered_peers
                                 if p.weights in model.weights.split("+")]
    bar = Progress((len(chosen) + len(peers)) * len(blocks) * repeat, enabled=progress)
    raw_by_variant: dict[str | None, list[dict[str, Any]]] = {}
    raw_by_peer: dict[str, list[dict[str, Any]]] = {}
    try:
        bar.show(f"T={blocks[0]}")
        for variant in chosen:
            raw = raw_by_variant.setdefault(variant, [])
            for block in blocks:
                runs = []
                for _ in range(repeat):
                    runs += device.bench([block], steps=steps, variant=variant,
                                         product=product)
                    bar.step(f"{variant or ''} T={block}")
                raw.append(median_run(runs))
        for peer in peers:
            raw = raw_by_peer.setdefault(peer, [])
            for block in blocks:
                runs = []
                for _ in range(repeat):
                    runs += device.bench([block], steps=steps, product=product, peer=peer)
                    bar.step(f"{peer} T={block}")
                raw.append(median_run(runs))
    finally:
        bar.finish()
    by_variant = {name: bench_rows(raw, counters)[0] for name, raw in raw_by_variant.items()}
    rows, primary = bench_rows(raw_by_variant[chosen[0]], counters)
    note = emulation_note(session.board)
    data = {
        "benchmark": "device",
        "board": _numbers(info.board), "firmware": _numbers(info.firmware),
        "where": where(session),
        "model": vars(model), "counters": counters, "primary_counter": primary,
        "emulated": emulated,
        "note": note.removeprefix("note: ") if emulated else "",
        # the first variant measured (the device's default unless asked)
        "variant": chosen[0],
        "product_only": product,
        "t1_added": added_one,
        "results": rows,
    }
    if chosen != [None]:
        data["variants"] = {name: by_variant[name] for name in chosen}
    if peers:
        data["peers"] = {name: {"output": peer_output(name), "weights": "int8-wa",
                                "results": bench_rows(raw, counters)[0]}
                         for name, raw in raw_by_peer.items()}
    return data


def peer_label(name: str) -> str:
    """A peer's column and legend name: marked as a peer, not a variant."""
    return f"{name} (peer)"


def product_columns(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every measured product's rows by name: the variants, then the peers
    (labelled as such)."""
    columns = dict(data.get("variants") or {data.get("variant") or "default": data["results"]})
    columns.update({peer_label(name): peer["results"]
                    for name, peer in data.get("peers", {}).items()})
    return columns


def bench_table(rows: list[dict[str, Any]], counters: list[str], primary: str) -> str:
    """One variant's rows: every counter per step and the speed-up against T = 1."""
    header = ["T", "steps"] + [COUNTER_LABELS.get(c, f"{c}/step") for c in counters]
    header.append(f"speed-up vs T=1 ({primary})")
    body = []
    for row in rows:
        cells = [str(row["block"]), str(row["steps"])]
        for counter in counters:
            value = row["per_step"].get(counter)
            cells.append("-" if value is None else f"{value:,.1f}")
        speedup = row.get("speedup")
        cells.append("-" if speedup is None else f"{speedup:.2f}x")
        body.append(cells)
    return _align([header, *body])


def variant_table(by_variant: dict[str, list[dict[str, Any]]], primary: str,
                  baseline_name: str | None = BASELINE_VARIANT) -> str:
    """The primary counter per step for every variant side by side, each with
    its ratio to T = 1 of the same variant and, when the CMSIS-DSP per-step
    baseline `baseline_name` was measured, to it at the same T (lower is
    better)."""
    baseline = by_variant.get(baseline_name) if baseline_name else None
    header = ["T", "steps"]
    for name in by_variant:
        header += [name, "/T=1"] + (["/cmsis"] if baseline and name != baseline_name
                                    else [])
    body = []
    first = next(iter(by_variant.values()))
    for i, row in enumerate(first):
        cells = [str(row["block"]), str(row["steps"])]
        for name, rows in by_variant.items():
            value = rows[i]["per_step"].get(primary)
            base = next((r["per_step"].get(primary) for r in rows if r["block"] == 1), None)
            cells.append("-" if value is None else f"{value:,.1f}")
            cells.append(f"{value / base:.3f}" if value and base else "-")
            if baseline and name != baseline_name:
                reference = baseline[i]["per_step"].get(primary)
                cells.append(f"{value / reference:.3f}" if value and reference else "-")
        body.append(cells)
    return _align([header, *body])


def per_mac_table(data: dict[str, Any]) -> str:
    """The product alone: the primary counter per multiply-add, per variant and T."""
    primary = data["primary_counter"]
    groups = product_columns(data)
    header = ["T", *groups]
    body = []
    for i, row in enumerate(next(iter(groups.values()))):
        cells = [str(row["block"])]
        for rows in groups.values():
            value = rows[i]["per_step"].get(f"{primary}_per_mac")
            cells.append("-" if value is None else f"{value:.3f}")
        body.append(cells)
    return (f"the first layer's product alone: {primary} per multiply-add\n"
            + _align([header, *body]))


def _align(table: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in table)


def format_report(data: dict[str, Any]) -> str:
    """The printed report of run()'s results."""
    model = data["model"]
    counters, primary = data["counters"], data["primary_counter"]
    lines = [f"{data['where']}: model {model['index']} ({model['name']}, "
             f"{model['cell'].upper()}, {model['layers']} layer(s), {model['weights']} "
             f"weights, {model['weight_bytes']} weight bytes)"]
    if "variants" not in data:
        lines.append(bench_table(data["results"], counters, primary or "?"))
    else:
        label = COUNTER_LABELS.get(primary or "", f"{primary}/step")
        columns = product_columns(data)
        baseline = BASELINE_VARIANT if BASELINE_VARIANT in columns else next(
            (peer_label(name) for name in data.get("peers", {})), None)
        what = ("the CMSIS-DSP per-step baseline" if baseline == BASELINE_VARIANT
                else "CMSIS-DSP's per-step product, a bench-only peer")
        lines.append(f"{label} by product variant; /T=1: ratio to T = 1 of the same variant"
                     + (f"; /cmsis: ratio to {baseline}, {what}, at the same T" if baseline
                        else "")
                     + " (lower is better)")
        lines.append(variant_table(columns, primary or counters[0], baseline))
        for name, peer in data.get("peers", {}).items():
            lines.append(f"{peer_label(name)}: in place of the {peer['weights']} product; "
                         f"{peer['output']}")
    if data.get("product_only"):
        lines.append(per_mac_table(data))
    if data.get("t1_added"):
        lines.append("(T = 1 added as the reference of the ratios)")
    if data["emulated"]:
        lines.append("note: " + data["note"])
    return "\n".join(lines)
