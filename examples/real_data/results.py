"""Check and tabulate the `mtsrnn eval --json` results of the examples
(ci/examples.sh writes them as OUT/<task>/<target>-<scheme>.json).

    python examples/real_data/results.py OUT_DIR

Prints, per task, accuracy (and for per-step labels the anomaly class's F1)
of float32, int8-w and int8-wa on every target, agreement with the host and
per-step cost, as a Markdown table (docs/examples.md). Exits 1 when a bound
is broken: an int8 model's accuracy, on the host or any target, more than
INT8_BOUND below the float model's on the host (or one sequence, where one
sequence is more: a test set of 40 moves in steps of 2.5 points), or a
float32 device that disagrees with the host (mtsrnn eval has already failed
then; checked again here).
"""

import json
import sys
from pathlib import Path

TASKS = ("japanese_vowels", "basic_motions", "ecg_stream")
SCHEMES = ("float32", "int8-w", "int8-wa")
INT8_BOUND = 0.01  # accuracy, absolute: 1 point


def bench_table(directory: Path) -> None:
    """`mtsrnn bench device` per board and weights (EXAMPLES_BENCH=1): the
    primary counter per step at each T, the device's default product."""
    rows = []
    for path in sorted(directory.glob("bench-*.json")):
        data = json.loads(path.read_text())
        board_scheme = path.stem.removeprefix("bench-")
        cells = {row["block"]: row["per_step"][data["primary_counter"]]
                 for row in data["results"]}
        rows.append((board_scheme, data["variant"], data["primary_counter"], cells))
    if not rows:
        return
    blocks = sorted({b for *_, cells in rows for b in cells})
    print("\n| board-weights | product | counter | " +
          " | ".join(f"T={b}" for b in blocks) + " |")
    print("|---|---|---|" + "---|" * len(blocks))
    for name, variant, counter, cells in rows:
        print(f"| {name} | {variant} | {counter}/step | " +
              " | ".join(f"{cells[b]:,.0f}" if b in cells else "-" for b in blocks) + " |")


def main(out: Path) -> int:
    failures = []
    for task in TASKS:
        runs = {}
        for path in sorted((out / task).glob("*.json")):
            if path.name == "train.json" or path.name.startswith("bench-"):
                continue
            target, _, scheme = path.stem.rpartition("-int8") if "-int8" in path.stem \
                else (path.stem.rpartition("-float32")[0], "", "float32")
            scheme = "int8" + scheme if scheme != "float32" else scheme
            result = json.loads(path.read_text())
            # MicroPython: a row per build (the C module, the pure-Python module)
            for run in result.get("runs", [result]):
                name = f"{target} ({run['implementation']})" if "implementation" in run else target
                runs[(name, scheme)] = {**result, **run}
        if not runs:
            continue  # not run (EXAMPLES_TASKS)
        targets = list(dict.fromkeys(target for target, _ in runs))
        targets.sort(key=lambda t: (t != "host", t))
        print(f"\n### {task}\n")
        print("| target | weights | accuracy | F1 (class 1) | agreement with host | "
              "max output diff | per step |")
        print("|---|---|---|---|---|---|---|")
        for target in targets:
            for scheme in SCHEMES:
                run = runs.get((target, scheme))
                if run is None:
                    continue
                f1 = run.get("f1")
                agreement = run.get("agreement")
                cost = ", ".join(f"{v:,.0f} {k}" for k, v in run.get("per_step", {}).items())
                cells = [target, scheme, f"{100 * run['accuracy']:.2f} %",
                         "-" if not f1 or f1[1] is None else f"{f1[1]:.3f}",
                         "-" if not agreement else f"{100 * agreement['agreement']:.2f} %",
                         "-" if not agreement else f"{agreement['max_abs_diff']:.2g}",
                         cost or "-"]
                print("| " + " | ".join(cells) + " |")
                if agreement and scheme == "float32" and agreement["disagreements"]:
                    failures.append(f"{task} on {target}: float32 predictions differ from the "
                                    f"host's ({agreement['disagreements']})")
        base = runs.get(("host", "float32"))
        for scheme in SCHEMES[1:]:
            if base is None or ("host", scheme) not in runs:
                failures.append(f"{task}: host results of float32 or {scheme} missing")
                continue
            bound = max(INT8_BOUND, 1.0 / base["scored"]) if not base["labels"] == "per step" \
                else INT8_BOUND
            # every target's int8 accuracy against the host's float32 accuracy
            for target in targets:
                run = runs.get((target, scheme))
                drop = base["accuracy"] - run["accuracy"] if run else 0.0
                if drop > bound + 1e-12:
                    failures.append(f"{task} on {target}: {scheme} accuracy "
                                    f"{100 * run['accuracy']:.2f} % is {100 * drop:.2f} points "
                                    f"below float32's on the host (bound {100 * bound:.2f})")
        bench_table(out / task)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else
                  Path(__file__).resolve().parents[2] / "build" / "examples"))
