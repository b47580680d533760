"""Trace an int8-wa model's device-host output differences to activation
codes on a rounding tie (docs/spec.md 5.1, docs/examples.md).

    python examples/real_data/ties.py MODEL.mts DATA.npz (--board B | --micropython [PROGRAM]
                                      | --micropython-port [PROGRAM]) [--block T] [--tol E]

int8-wa quantises every product input row x_t per step: code =
rint(float32(x * float32(127 / a_t))), a_t = max |x_t|. The host and a device
compute x_t in float32 in different orders (fused multiply-adds where the
compiler contracts them: Cortex-M4F, aarch64; MicroPython's float64
arithmetic rounded to float32 at each store; none on the x86-64 host
library), so a value within float32 rounding of a tie (k + 1/2) may take
either code, and both are the model's arithmetic. One code moves the
product's output by s_r * a_t / 127 * |Wq| and, in a recurrent stage, the
state it carries.

This script runs the model on the host and on the target, takes each
sequence whose outputs differ by more than --tol, and explains each side
against the float64 reference of the int8-wa arithmetic
(`mtsrnn.reference`): it walks the steps, and at the first step the side
leaves the reference it looks for product inputs within 1e-5 (the spec's
float32 agreement) of a tie and flips the one that brings that step back
(the same move as the device test's tie_flipped_references). It prints
every flip (stage, step, input, distance from the tie in codes, the code
each side took) and the largest difference left once each side's flips are
applied. A difference it cannot explain this way is reported as such (exit
1). For each flip that differs between the two sides it prints the host's
own float32 value of that input (the model's first stages run by the host
library) beside the reference's float64 one.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from mtsrnn import load, reference
from mtsrnn.evaluate import device_outputs, host_outputs, load_data, micropython_outputs

PRODUCT_KINDS = ("sru", "qrnn", "dense", "mingru", "minlstm", "indrnn")
TIE_WINDOW = 1e-5  # absolute, on the product input: the spec's float32 agreement (5.1)
MAX_FLIPS = 40


def product_rows(part, x):
    """The int8-wa product input rows of `part` for its input x (L, n), and
    for each column (frame offset k, input i): QRNN reads [x_t; x_{t-1}; ...]."""
    kind, _, config = part
    window = config.get("window", 1) if kind == "qrnn" else 1
    steps, n = x.shape
    rows = np.zeros((steps, window * n))
    for k in range(window):
        rows[k:, k * n:(k + 1) * n] = x[:steps - k]
    return rows, [(k, i) for k in range(window) for i in range(n)]


def near_ties(part, x, t):
    """Inputs of `part` at step t within TIE_WINDOW of a rounding tie:
    (frame, input, distance in codes, code the reference takes, moved value)."""
    rows, columns = product_rows(part, x)
    row32 = rows[t].astype(np.float32)
    absmax = np.float32(np.abs(row32).max())
    if not np.isfinite(absmax) or absmax < 2.0 ** -96:
        return []
    inv = np.float32(127) / absmax
    scaled = rows[t] * float(inv)
    tie = np.floor(scaled) + 0.5
    found = []
    for j in np.flatnonzero(np.abs(scaled - tie) <= TIE_WINDOW * float(inv)):
        k, i = columns[j]
        code = int(np.rint(row32[j] * inv))
        # just across the tie: 1e-4 codes, beyond float32 rounding of the quantiser
        across = tie[j] + (1e-4 if scaled[j] < tie[j] else -1e-4)
        found.append((t - k, i, float(abs(scaled[j] - tie[j])), code, across / float(inv)))
    return found


def forward(parts, x, moves):
    """The float64 int8-wa reference with `moves` {(part, frame, input): value}
    applied to the parts' inputs; returns (each part's input, the output)."""
    y, inputs = np.asarray(x, np.float64), []
    for p, part in enumerate(parts):
        changed = [(t, i, v) for (q, t, i), v in moves.items() if q == p]
        if changed:
            y = y.copy()
            for t, i, v in changed:
                y[t, i] = v
        inputs.append(y)
        y = reference.model_forward([part], y, quantization="int8-wa")
    return inputs, y


def explain(parts, x, target, tol):
    """Flips that bring the reference to `target` (L, m) within tol, greedily
    from the first step that differs. Returns (flips, residual, unexplained step)."""
    moves, flips = {}, []
    for _ in range(MAX_FLIPS):
        inputs, out = forward(parts, x, moves)
        error = np.abs(out - target).max(axis=1)
        bad = np.flatnonzero(error > tol)
        if not bad.size:
            return flips, float(error.max(initial=0.0)), None
        t0 = int(bad[0])
        best = None
        horizon = min(len(x), t0 + 1)
        for p, part in enumerate(parts):
            if part[0] not in PRODUCT_KINDS:
                continue
            for t in range(max(0, t0 - 2), t0 + 1):  # a flip shows at its own step
                for frame, i, distance, code, value in near_ties(part, inputs[p], t):
                    trial = {**moves, (p, frame, i): value}
                    _, y = forward(parts, x[:horizon], trial)
                    score = float(np.abs(y[t0] - target[t0]).max())
                    if best is None or score < best[0]:
                        best = (score, (p, frame, i), value,
                                dict(stage=p, kind=part[0], step=frame, input=i,
                                     distance_codes=distance, reference_code=code,
                                     part_input=float(inputs[p][frame, i])))
        if best is None or best[0] > tol:
            return flips, float(error[t0]), t0
        moves[best[1]] = best[2]
        flips.append(best[3])
    inputs, out = forward(parts, x, moves)
    return flips, float(np.abs(out - target).max()), None


def host_input(model, x, flip, block):
    """The host's own float32 value of the flipped input (the model's first
    stages run by the host library, as in the whole model) and the code its
    row gives it."""
    from mtsrnn.model import Model

    p, step = flip["stage"], flip["step"]
    values = np.asarray(x[:step + 1], np.float32)
    if p > 0:
        head = Model(model.parts[:p], quantization=model.quantization)
        values = head.forward(np.ascontiguousarray(values), block=block)[0]
    part = model.reference_parts()[p]
    rows, columns = product_rows(part, np.asarray(values, np.float64))
    row = rows[step].astype(np.float32)
    inv = np.float32(127) / np.float32(np.abs(row).max())
    j = columns.index((step - flip["step"], flip["input"]))
    return float(row[j]), int(np.rint(np.float32(row[j] * inv))), float(np.abs(row).max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("data")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--board")
    target.add_argument("--micropython", nargs="?", const="micropython", metavar="PROGRAM")
    parser.add_argument("--block", type=int, default=16)
    parser.add_argument("--tol", type=float, default=1e-4,
                        help="outputs that agree within this need no explanation")
    parser.add_argument("--module-dir", help="MicroPython: the module's directory "
                        "(default: firmware/micropython/fallback)")
    parser.add_argument("--module", default="mtsrnn")
    parser.add_argument("--builtin", action="store_true",
                        help="MicroPython: the program's built-in module (the test port's C "
                        "module, build/micropython/port/mtsrnn-micropython)")
    args = parser.parse_args(argv)

    model = load(args.model)
    if model.quantization != "int8-wa":
        parser.error(f"{args.model} is {model.quantization or 'float32'}, not int8-wa")
    data = load_data(args.data)
    host = host_outputs(model, data, args.block)
    if args.micropython:
        from pathlib import Path
        module_dir = None if args.builtin else args.module_dir or \
            Path(__file__).resolve().parents[2] / "firmware" / "micropython" / "fallback"
        device = micropython_outputs(args.model, model.output_size, data, args.block,
                                     args.micropython, module_dir, args.module)
        where = f"MicroPython {args.micropython} ({args.module} from {module_dir or 'itself'})"
    else:
        from mtsrnn.harness.placement import open_with_model
        with open_with_model(args.model, args.board, timeout=60) as placed:
            device, _ = device_outputs(placed.session.device, data, args.block)
        where = args.board
    parts = model.reference_parts()
    print(f"{args.model} on {where} against the host, T = {args.block}, tol {args.tol:g}")
    unexplained = 0
    worst = 0.0
    for s in range(data.count):
        diff = float(np.abs(device[s].astype(np.float64) - host[s]).max())
        worst = max(worst, diff)
        if diff <= args.tol:
            continue
        step = int(np.abs(device[s].astype(np.float64) - host[s]).max(axis=1).argmax())
        print(f"sequence {s}: max |device - host| {diff:.3g} (step {step} of "
              f"{data.lengths[s]})")
        x = data.sequence(s)
        sides = {}
        for side, outputs in (("host", host[s]), ("device", device[s])):
            flips, residual, stuck = explain(parts, x, np.asarray(outputs, np.float64),
                                             args.tol)
            sides[side] = {(f["stage"], f["step"], f["input"]): f for f in flips}
            state = (f"unexplained from step {stuck}" if stuck is not None
                     else f"explained: largest difference left {residual:.2g}")
            print(f"  {side}: {len(flips)} flip(s) against the reference; {state}")
            unexplained += stuck is not None
        for key in sorted(set(sides["host"]) ^ set(sides["device"])):
            flip = sides["host"].get(key) or sides["device"].get(key)
            took = "device" if key in sides["device"] else "host"
            print(f"  stage {flip['stage']} ({flip['kind']}) step {flip['step']} input "
                  f"{flip['input']}: {flip['distance_codes']:.2g} codes from a tie; the "
                  f"reference takes code {flip['reference_code']}, the {took} the other")
            value, code, absmax = host_input(model, x, flip, args.block)
            ulp = abs(float(np.spacing(np.float32(value))))
            print(f"    the value: host float32 {value!r} (code {code}), reference float64 "
                  f"{flip['part_input']!r}: {abs(value - flip['part_input']) / ulp:.1f} "
                  f"float32 ulps apart; the tie lies between them" if
                  code != flip["reference_code"] else
                  f"    the value: host float32 {value!r} (code {code}), reference float64 "
                  f"{flip['part_input']!r}")
            if flip["kind"] == "dense":
                # one code of input i moves output r of this stage by s_r |Wq[r][i]| a_t / 127
                column = np.abs(np.asarray(parts[flip["stage"]][1]["weight"])[:, flip["input"]])
                print(f"    one code there: a_t / 127 = {absmax / 127:.3g}, max_r |W[r][i]| = "
                      f"{column.max():.3g}: this stage's outputs move by up to "
                      f"{absmax / 127 * column.max():.3g}")
    print(f"largest |device - host| {worst:.3g}; {unexplained} side(s) unexplained")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
