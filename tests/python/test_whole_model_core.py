"""Whole models (format 2.0) through the C loader and kernels (`_core.load_file`)
against a float64 NumPy implementation of the stages' equations written here
(docs/spec.md 2 for the SRU; norm, dense and softmax from SPEC14 / the stage
headers), not from the C: T in {1, 3, 4, 16}, streamed in pieces, max abs
error <= 1e-5; int8 dense heads within the documented bound. The files come
from tests/python/stage_files.py, a writer of the format document's bytes
independent of the package's writer."""

import numpy as np
import pytest
import stage_files
from mtsrnn import _core

TOL = 1e-5


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def reference(stages: list, x: np.ndarray) -> np.ndarray:
    """float64 forward of norm / sru (unidirectional) / dense / softmax stages,
    from the zero state. Quantised dense weights are dequantised (W = s_r Wq):
    the int8-w product computes exactly that sum in float."""
    h = x.astype(np.float64)
    for kind, fields, tensors in stages:
        t = {name: np.asarray(a, np.float64) for name, a in tensors.items()}
        if kind == "norm":
            if fields["mode"] == 1:
                mean = h.mean(axis=1, keepdims=True)
                var = ((h - mean) ** 2).mean(axis=1, keepdims=True)
                h = (h - mean) / np.sqrt(var + fields["eps"]) * t["weight"] + t["bias"]
            else:
                h = h * t["weight"] + t["bias"]
        elif kind == "sru":
            d = fields["hidden_size"]
            u = h @ t["weight"].T
            vf, vr = (t["weight_c"][:d], t["weight_c"][d:]) if "weight_c" in t else (0.0, 0.0)
            bf, br = t["bias"][:d], t["bias"][d:]
            c = np.zeros(d)
            out = np.empty((len(h), d))
            for step in range(len(h)):
                u0, u1, u2 = u[step, :d], u[step, d:2 * d], u[step, 2 * d:3 * d]
                f = sigmoid(u1 + vf * c + bf)
                r = sigmoid(u2 + vr * c + br)
                c = (c - u0) * f + u0
                g = np.tanh(c) if fields.get("activation") == 1 else c
                s = fields["scale_x"] * h[step] if fields.get("skip") == 1 else 0.0
                out[step] = (g - s) * r + s
            h = out
        elif kind == "dense":
            w = t["weight"] * t["weight_scale"][:, None] if "weight_scale" in t else t["weight"]
            h = h @ w.T + t.get("bias", 0.0)
            h = {0: h, 1: np.maximum(h, 0.0), 2: np.tanh(h), 3: sigmoid(h)}[fields["activation"]]
        elif kind == "softmax":
            z = h - h.max(axis=1, keepdims=True)
            lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
            h = z - lse if fields["log"] else np.exp(z - lse)
    return h


def run(core, x: np.ndarray, block: int, pieces=None) -> np.ndarray:
    """The C model over x from the zero state, in one call or in pieces."""
    state = np.zeros(core.state_floats, np.float32)
    out = np.empty((len(x), core.output_size), np.float32)
    cuts = [0, len(x)] if pieces is None else [0, *(int(c) for c in np.cumsum(pieces))]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        xs = np.ascontiguousarray(x[a:b], np.float32)
        hs = np.empty((b - a, core.output_size), np.float32)
        core.forward(xs, b - a, state, hs, block)
        out[a:b] = hs
    return out


@pytest.mark.parametrize("log", [0, 1])
@pytest.mark.parametrize("block", [1, 3, 4, 16])
def test_whole_model_matches_float64_equations(block, log):
    rng = np.random.default_rng(100 + block + 10 * log)
    stages = stage_files.whole_model(rng, n=6, hidden=6, mid=7, out=5, log=log)
    core = _core.load_file(stage_files.image(stages))
    assert (core.input_size, core.output_size, core.state_floats) == (6, 5, 6)
    x = rng.uniform(-2, 2, (120, 6)).astype(np.float32)
    want = reference(stages, x)
    whole = run(core, x, block)
    assert np.max(np.abs(whole - want)) <= TOL
    pieces = run(core, x, block, pieces=[1, 7, 16, 3, 50, 43])
    assert np.max(np.abs(pieces - want)) <= TOL


def test_layer_norm_stage_and_head_without_bias():
    rng = np.random.default_rng(7)
    stages = stage_files.whole_model(rng, n=5, hidden=8)
    stages[0] = ("norm", {"size": 5, "mode": 1, "eps": 1e-5},
                 {"weight": rng.uniform(0.5, 1.5, 5).astype(np.float32),
                  "bias": rng.uniform(-0.2, 0.2, 5).astype(np.float32)})
    del stages[3][2]["bias"]
    stages[3][1]["activation"] = 3  # sigmoid
    core = _core.load_file(stage_files.image(stages))
    x = rng.uniform(-2, 2, (64, 5)).astype(np.float32)
    for block in (1, 4, 16):
        assert np.max(np.abs(run(core, x, block) - reference(stages, x))) <= TOL


@pytest.mark.parametrize("quant", [1, 2])
def test_int8_dense_head_within_bound(quant):
    """int8-w: the float sum of the dequantised weights, so the float64
    equations hold to 1e-5 end to end. int8-wa: each dense stage quantises
    its input per step (scale a_t / 127, rounding error <= a_t / 254), so its
    output r is off by at most s_r sum_i |Wq[r][i]| a_t / 254
    (docs/quantization.md); the first stage's error reaches the second
    through relu (1-Lipschitz) and |W2|, and softmax changes an output by at
    most half the largest change of its inputs. That bound, computed here
    from the float64 activations (with 1e-5 of float32 slack), must hold."""
    rng = np.random.default_rng(20 + quant)
    stages = stage_files.whole_model(rng, n=6, hidden=6, quant=quant)
    core = _core.load_file(stage_files.image(stages))
    x = rng.uniform(-2, 2, (100, 6)).astype(np.float32)
    want = reference(stages, x)
    err = np.max(np.abs(run(core, x, 4) - want), axis=1)
    assert np.array_equal(run(core, x, 16), run(core, x, 1))  # T changes no bit
    if quant == 1:
        assert np.max(err) <= TOL
        return
    h1 = reference(stages[:2], x)         # the first dense stage's input
    h2 = reference(stages[:3], x)         # the second's
    (_, _, d1), (_, _, d2) = stages[2], stages[3]

    def quant_bound(dense: dict, inputs: np.ndarray) -> np.ndarray:
        per_row = np.abs(dense["weight"].astype(np.float64)).sum(axis=1) * dense["weight_scale"]
        return np.abs(inputs).max(axis=1, keepdims=True) / 254 * per_row

    w2 = np.abs(d2["weight"] * d2["weight_scale"][:, None].astype(np.float64))
    e1 = quant_bound(d1, h1)
    e2 = e1 @ w2.T + quant_bound(d2, h2 + e1)
    bound = 0.5 * e2.max(axis=1) + TOL
    assert np.all(err <= bound), np.max(err / bound)
    assert np.max(err) > 0  # the head really ran quantised
