"""Sanity checks of the golden reference itself (host/mtsrnn/reference.py).

Everything here except the round-trip tests at the end runs without the C
extension: the reference is loaded from its file path. The checks are cases
that can be derived by hand from docs/spec.md (one-unit models written out as
scalar formulas, zero weights, saturated gates), structural identities
(bidirectional = two unidirectional runs, stacked = chained layers, streamed =
whole) and a vectorised re-implementation with a different loop structure.
"""

import math

import numpy as np
import pytest
from conftest import (
    QRNN_POOLINGS,
    RANDOM_QRNN_KWARGS,
    RANDOM_SRU_KWARGS,
    kwargs_id,
    load_reference_standalone,
    make_qrnn_state_dict,
    make_sru_state_dict,
    qrnn_specs,
    random_cell_state,
    random_inputs,
    random_prev_inputs,
    sru_layer_input_sizes,
    sru_specs,
)
from hypothesis import given, settings
from hypothesis import strategies as st

reference = load_reference_standalone()

# Saturating pre-activation: sigma(+60) == 1.0 and sigma(-60) ~ 1e-26 in float64.
SATURATE = 60.0


def sigmoid(value):
    return 1.0 / (1.0 + math.exp(-value))


def sru_cell(weight, bias, weight_c=None, scale_x=None, **extra):
    """A one-layer state_dict in the stacked ``rnn_lst.0.`` layout from float64 arrays."""
    state_dict = {"rnn_lst.0.weight": np.asarray(weight, np.float64),
                  "rnn_lst.0.bias": np.asarray(bias, np.float64)}
    if weight_c is not None:
        state_dict["rnn_lst.0.weight_c"] = np.asarray(weight_c, np.float64)
    if scale_x is not None:
        state_dict["rnn_lst.0.scale_x"] = np.array([scale_x], np.float64)
    for name, value in extra.items():
        state_dict["rnn_lst.0." + name.replace("__", ".")] = np.asarray(value, np.float64)
    return state_dict


# ------------------------------------------------------------ SRU by hand


@pytest.mark.parametrize("use_tanh", [False, True])
def test_sru_one_unit_two_steps_by_hand(use_tanh):
    # n = d = 1, k = 3: columns [u0, u1, u2] of the single unit.
    w0, w1, w2 = 0.7, -0.4, 0.9
    vf, vr = 0.3, -0.8
    bf, br = 0.2, -0.1
    scale_x = 1.7
    c0 = 0.5
    xs = [0.6, -1.3]
    state_dict = sru_cell([[w0, w1, w2]], [bf, br], [vf, vr], scale_x)
    h, c = reference.sru_forward(state_dict, np.array(xs).reshape(2, 1), np.array([[c0]]),
                                 use_tanh=use_tanh)

    activation = math.tanh if use_tanh else (lambda value: value)
    c_prev = c0
    for t, x in enumerate(xs):
        f = sigmoid(w1 * x + vf * c_prev + bf)
        r = sigmoid(w2 * x + vr * c_prev + br)  # the reset gate also sees c_{t-1}
        c_t = f * c_prev + (1 - f) * (w0 * x)
        h_t = r * activation(c_t) + (1 - r) * scale_x * x
        assert h[t, 0] == pytest.approx(h_t, rel=1e-14, abs=1e-14)
        c_prev = c_t
    assert c[0, 0] == pytest.approx(c_prev, rel=1e-14)


def test_sru_k4_skip_uses_u3_without_scale_x():
    # n = 2 != out = 1 gives k = 4: the skip is u3 = x @ weight[:, 3]; scale_x is already
    # folded into that column, so the stored scale_x (3.0 here) must not be applied again.
    weight = np.array([[0.5, 0.1, -0.2, 0.8], [-0.3, 0.4, 0.6, -0.7]])
    bias, weight_c = [0.1, 0.2], [0.0, 0.0]
    x = np.array([[1.1, -0.4]])
    h, c = reference.sru_forward(sru_cell(weight, bias, weight_c, 3.0), x)
    u = x[0] @ weight
    f, r = sigmoid(u[1] + 0.1), sigmoid(u[2] + 0.2)
    c_t = (1 - f) * u[0]
    assert c[0, 0] == pytest.approx(c_t, rel=1e-14)
    assert h[0, 0] == pytest.approx(r * c_t + (1 - r) * u[3], rel=1e-14)


def test_sru_no_skip_term_drops_the_highway():
    weight = [[0.5, 0.1, -0.2]]
    x = np.array([[0.9]])
    h, c = reference.sru_forward(sru_cell(weight, [0.3, -0.6], [0.0, 0.0]), x,
                                 has_skip_term=False)
    f, r = sigmoid(0.09 + 0.3), sigmoid(-0.18 - 0.6)
    assert h[0, 0] == pytest.approx(r * (1 - f) * 0.45, rel=1e-14)


def test_sru_zero_weights_halve_the_state():
    # u = 0 and v = b = 0 give f = r = 1/2: c_t = c_{t-1}/2, h_t = c_t/2 + scale_x*x_t/2.
    size, length, scale_x = 3, 6, 1.3
    rng = np.random.default_rng(1)
    x = rng.standard_normal((length, size))
    c0 = rng.standard_normal((1, size))
    state_dict = sru_cell(np.zeros((size, 3 * size)), np.zeros(2 * size), np.zeros(2 * size),
                          scale_x)
    h, c = reference.sru_forward(state_dict, x, c0)
    expected_c = c0[0] * 0.5 ** np.arange(1, length + 1)[:, None]
    np.testing.assert_allclose(h, 0.5 * expected_c + 0.5 * scale_x * x, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(c[0], expected_c[-1], rtol=1e-14)


def saturated_sru(rng, size, forget_bias, reset_bias):
    """A random n = out = size layer whose gate biases are +-SATURATE."""
    weight = rng.uniform(-0.3, 0.3, (size, 3 * size))
    weight_c = rng.uniform(-0.3, 0.3, 2 * size)
    bias = np.concatenate([np.full(size, forget_bias), np.full(size, reset_bias)])
    return sru_cell(weight, bias, weight_c, 1.5), weight


def test_sru_forget_gate_open_keeps_c0_and_reset_open_outputs_it():
    rng = np.random.default_rng(2)
    size = 4
    state_dict, _ = saturated_sru(rng, size, +SATURATE, +SATURATE)
    x = rng.standard_normal((5, size))
    c0 = rng.standard_normal((1, size))
    h, c = reference.sru_forward(state_dict, x, c0)
    np.testing.assert_allclose(c, c0, rtol=1e-15)
    np.testing.assert_allclose(h, np.repeat(c0, 5, axis=0), rtol=1e-14)


def test_sru_forget_gate_closed_copies_u0_and_reset_closed_outputs_skip():
    rng = np.random.default_rng(3)
    size = 4
    state_dict, weight = saturated_sru(rng, size, -SATURATE, -SATURATE)
    x = rng.standard_normal((5, size))
    c0 = rng.standard_normal((1, size))
    h, c = reference.sru_forward(state_dict, x, c0)
    u0 = (x @ weight).reshape(5, size, 3)[:, :, 0]  # interleaved columns j*3 + 0
    np.testing.assert_allclose(c[0], u0[-1], rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(h, 1.5 * x, rtol=1e-12, atol=1e-20)


def test_sru_one_input_pre_norm_sees_only_the_norm_bias():
    # Layer norm over a single feature maps every x to its bias (x - mean = 0), so the
    # product sees only ln_bias, while the skip term still sees the raw x (docs/spec.md 2.2).
    weight = [[0.5, 0.1, -0.2]]
    ln_bias = 0.8
    state_dict = sru_cell(weight, [0.0, 0.0], [0.0, 0.0], 1.0,
                          layer_norm__weight=[2.0], layer_norm__bias=[ln_bias])
    x = np.array([[3.0]])
    h, c = reference.sru_forward(state_dict, x)
    u = ln_bias * np.array(weight[0])
    f, r = sigmoid(u[1]), sigmoid(u[2])
    c_t = (1 - f) * u[0]
    assert c[0, 0] == pytest.approx(c_t, rel=1e-14)
    assert h[0, 0] == pytest.approx(r * c_t + (1 - r) * 3.0, rel=1e-14)


def test_sru_normalize_after_is_torch_layer_norm_of_h():
    # Saturated open gates make h = c0 exactly, so normalize_after must give LayerNorm(c0):
    # biased variance, eps inside the square root.
    rng = np.random.default_rng(4)
    size, eps = 5, 1e-5
    state_dict, _ = saturated_sru(rng, size, +SATURATE, +SATURATE)
    ln_weight, ln_bias = rng.uniform(0.5, 1.5, size), rng.uniform(-0.5, 0.5, size)
    state_dict["rnn_lst.0.layer_norm.weight"] = ln_weight
    state_dict["rnn_lst.0.layer_norm.bias"] = ln_bias
    c0 = rng.standard_normal((1, size))
    h, c = reference.sru_forward(state_dict, rng.standard_normal((2, size)), c0,
                                 normalize_after=True)
    expected = (c0[0] - c0[0].mean()) / np.sqrt(np.var(c0[0]) + eps) * ln_weight + ln_bias
    np.testing.assert_allclose(h, np.stack([expected, expected]), rtol=1e-12)
    np.testing.assert_allclose(c, c0, rtol=1e-15)  # the returned c is not normalised


# ----------------------------------------------------- SRU structural identities


def test_sru_original_form_absent_weight_c_equals_zero_weight_c():
    rng = np.random.default_rng(5)
    with_zero, config = make_sru_state_dict(rng, 5, 7, 2, form="original-zero")
    absent = {key: value for key, value in with_zero.items() if not key.endswith("weight_c")}
    x = random_inputs(rng, 9, 5)
    c0 = random_cell_state(rng, 2, 7)
    for expected, actual in zip(reference.sru_forward(with_zero, x, c0, **config),
                                reference.sru_forward(absent, x, c0, **config), strict=True):
        np.testing.assert_array_equal(actual, expected)


def test_sru_single_cell_dict_without_prefix_and_default_scale_x():
    rng = np.random.default_rng(6)
    stacked, config = make_sru_state_dict(rng, 7, 7, 1)  # scale_x stored as 1.0
    cell = {key.removeprefix("rnn_lst.0."): value for key, value in stacked.items()
            if key != "rnn_lst.0.scale_x"}
    x = random_inputs(rng, 6, 7)
    c0 = random_cell_state(rng, 1, 7)
    for expected, actual in zip(reference.sru_forward(stacked, x, c0, **config),
                                reference.sru_forward(cell, x, c0, **config), strict=True):
        np.testing.assert_array_equal(actual, expected)


@given(spec=sru_specs(allow_bidirectional=True), seed=st.integers(0, 2**32 - 1),
       length=st.integers(1, 12))
@settings(max_examples=25)
def test_sru_stacked_layers_equal_chained_single_cells(spec, seed, length):
    rng = np.random.default_rng(seed)
    state_dict, config = make_sru_state_dict(rng, **spec)
    out = spec["hidden_size"] * (2 if spec["bidirectional"] else 1)
    x = random_inputs(rng, length, spec["input_size"])
    c0 = random_cell_state(rng, spec["num_layers"], out)
    h, c = reference.sru_forward(state_dict, x, c0, **config)
    layer_input = x
    for i in range(spec["num_layers"]):
        prefix = f"rnn_lst.{i}."
        cell = {key.removeprefix(prefix): value for key, value in state_dict.items()
                if key.startswith(prefix)}
        layer_input, c_layer = reference.sru_forward(cell, layer_input, c0[i:i + 1], **config)
        np.testing.assert_array_equal(c[i], c_layer[0])
    np.testing.assert_array_equal(h, layer_input)


def one_direction_of(state_dict, hidden_size, direction, has_skip_term):
    """A unidirectional k = 4 cell equal to one direction of a bidirectional cell.

    A bidirectional k = 3 skip reads x[dir*d + j]; the unidirectional cell has
    out = d != n, so it expresses that skip as a u3 column selecting that input.
    """
    d = hidden_size
    weight = state_dict["weight"]
    n_product = weight.shape[0]
    k = weight.shape[1] // (2 * d)
    columns = weight.reshape(n_product, 2, d, k)[:, direction]
    one_way = np.zeros((n_product, d, 4))
    one_way[:, :, :3] = columns[:, :, :3]
    if has_skip_term and k == 4:
        one_way[:, :, 3] = columns[:, :, 3]
    elif has_skip_term:
        scale_x = float(state_dict["scale_x"][0])
        for j in range(d):
            one_way[direction * d + j, j, 3] = scale_x
    cell = {
        "weight": one_way.reshape(n_product, 4 * d),
        "weight_c": state_dict["weight_c"].reshape(2, 2, d)[:, direction].reshape(-1),
        "bias": state_dict["bias"].reshape(2, 2, d)[:, direction].reshape(-1),
    }
    for name in ("layer_norm.weight", "layer_norm.bias"):
        if name in state_dict:
            cell[name] = state_dict[name]
    return cell


# Pre-norm only without a skip term: the one-direction cell's u3 skip column would see
# the normalised input, while the real skip sees the raw one.
@pytest.mark.parametrize("input_size,has_skip_term,layer_norm",
                         [(10, True, False), (3, True, False), (7, False, True), (3, False, False)])
def test_sru_bidirectional_is_forward_plus_reversed_backward(input_size, has_skip_term,
                                                             layer_norm):
    rng = np.random.default_rng(7)
    d, length = 5, 9
    stacked, config = make_sru_state_dict(rng, input_size, d, 1, bidirectional=True,
                                          has_skip_term=has_skip_term, layer_norm=layer_norm,
                                          rescale=True)
    assert config["bidirectional"]
    state_dict = {key.removeprefix("rnn_lst.0."): np.asarray(value, np.float64)
                  for key, value in stacked.items()}
    x = random_inputs(rng, length, input_size)
    c0 = random_cell_state(rng, 1, 2 * d)
    h, c = reference.sru_forward(state_dict, x, c0, **config)

    one_way_config = dict(config, bidirectional=False, has_skip_term=True)
    forward_cell = one_direction_of(state_dict, d, 0, has_skip_term)
    h_fwd, c_fwd = reference.sru_forward(forward_cell, x, c0[:, :d], **one_way_config)
    backward_cell = one_direction_of(state_dict, d, 1, has_skip_term)
    h_bwd, c_bwd = reference.sru_forward(backward_cell, x[::-1], c0[:, d:], **one_way_config)

    np.testing.assert_allclose(h[:, :d], h_fwd, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h[:, d:], h_bwd[::-1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c[0, :d], c_fwd[0], rtol=1e-12, atol=1e-14)
    # The backward direction's final state is the one at t = 0.
    np.testing.assert_allclose(c[0, d:], c_bwd[0], rtol=1e-12, atol=1e-14)


# --------------------------------------------- vectorised re-implementations


def layer_norm_rows(x, weight, bias, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True) + eps) * weight + bias


def vectorised_sru(state_dict, x, c0, *, use_tanh, bidirectional, has_skip_term,
                   normalize_after):
    """One product for the whole sequence, then a scan: the structure of the C kernels."""
    directions = 2 if bidirectional else 1
    layer_input = np.asarray(x, np.float64)
    num_layers = len({key.split(".")[1] for key in state_dict})
    finals = []
    for i in range(num_layers):
        p = {key.removeprefix(f"rnn_lst.{i}."): np.asarray(value, np.float64)
             for key, value in state_dict.items() if key.startswith(f"rnn_lst.{i}.")}
        out = p["bias"].size // 2
        d = out // directions
        product_input = layer_input
        if "layer_norm.weight" in p and not normalize_after:
            product_input = layer_norm_rows(product_input, p["layer_norm.weight"],
                                            p["layer_norm.bias"])
        if "weight_proj" in p:
            product_input = product_input @ p["weight_proj"]
        k = p["weight"].shape[1] // out
        u = (product_input @ p["weight"]).reshape(len(layer_input), directions, d, k)
        v = p.get("weight_c", np.zeros(2 * out)).reshape(2, directions, d)
        b = p["bias"].reshape(2, directions, d)
        if not has_skip_term:
            skip = np.zeros((len(layer_input), directions, d))
        elif k == 4:
            skip = u[..., 3]
        else:
            skip = float(p["scale_x"][0]) * layer_input.reshape(len(layer_input), directions, d)
        h = np.zeros((len(layer_input), directions, d))
        c_final = np.zeros((directions, d))
        for direction in range(directions):
            c = np.asarray(c0[i], np.float64).reshape(directions, d)[direction]
            order = range(len(layer_input)) if direction == 0 else reversed(
                range(len(layer_input)))
            for t in order:
                f = 1 / (1 + np.exp(-(u[t, direction, :, 1] + v[0, direction] * c
                                      + b[0, direction])))
                r = 1 / (1 + np.exp(-(u[t, direction, :, 2] + v[1, direction] * c
                                      + b[1, direction])))
                c = f * c + (1 - f) * u[t, direction, :, 0]
                g = np.tanh(c) if use_tanh else c
                h[t, direction] = r * g + (1 - r) * skip[t, direction]
            c_final[direction] = c
        layer_input = h.reshape(len(layer_input), out)
        if "layer_norm.weight" in p and normalize_after:
            layer_input = layer_norm_rows(layer_input, p["layer_norm.weight"],
                                          p["layer_norm.bias"])
        finals.append(c_final.reshape(out))
    return layer_input, np.stack(finals)


@given(spec=sru_specs(), seed=st.integers(0, 2**32 - 1), length=st.integers(1, 20))
@settings(max_examples=60)
def test_sru_reference_matches_vectorised_variant(spec, seed, length):
    rng = np.random.default_rng(seed)
    state_dict, config = make_sru_state_dict(rng, **spec)
    out = spec["hidden_size"] * (2 if spec["bidirectional"] else 1)
    x = random_inputs(rng, length, spec["input_size"])
    c0 = random_cell_state(rng, spec["num_layers"], out)
    h, c = reference.sru_forward(state_dict, x, c0, **config)
    h_vec, c_vec = vectorised_sru(state_dict, x, c0, **config)
    np.testing.assert_allclose(h, h_vec, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(c, c_vec, rtol=1e-11, atol=1e-12)
    assert h.shape == (length, out) and c.shape == (spec["num_layers"], out)
    assert h.dtype == np.float64


def test_sru_layer_input_sizes_and_k_rule():
    # The builder's k and projection rules are sru 2.6.0's; pin them so a builder bug
    # cannot silently shrink what the golden tests cover.
    rng = np.random.default_rng(8)
    state_dict, _ = make_sru_state_dict(rng, 13, 7, 3, bidirectional=True, projection_size=5,
                                        layer_norm=True)
    assert sru_layer_input_sizes(13, 7, 3, True) == [13, 14, 14]
    assert state_dict["rnn_lst.0.weight_proj"].shape == (13, 5)
    assert state_dict["rnn_lst.0.weight"].shape == (5, 14 * 4)
    assert state_dict["rnn_lst.1.weight"].shape == (5, 14 * 3)
    assert state_dict["rnn_lst.1.layer_norm.weight"].shape == (14,)
    assert state_dict["rnn_lst.2.weight_c"].shape == (28,)


# ------------------------------------------------------------------ QRNN by hand


def qrnn_cell(weight, bias):
    return {"layers.0.linear.weight": np.asarray(weight, np.float64),
            "layers.0.linear.bias": np.asarray(bias, np.float64)}


@pytest.mark.parametrize("pooling,output_gate", QRNN_POOLINGS)
@pytest.mark.parametrize("zoneout", [0.0, 0.3])
def test_qrnn_one_unit_window_two_by_hand(pooling, output_gate, zoneout):
    # H = n = 1, window 2: row g of W is [w_g(x_t), w_g(x_{t-1})], rows Z, F, (I), (O).
    rows = {"z": (0.8, -0.5, 0.1), "f": (-0.3, 0.9, 0.2), "i": (0.6, 0.4, -0.3),
            "o": (-0.7, 0.2, 0.5)}
    order = ["z", "f"] + (["i"] if pooling == "ifo" else []) + (["o"] if output_gate else [])
    weight = [rows[name][:2] for name in order]
    bias = [rows[name][2] for name in order]
    xs, prev, c0 = [0.9, -1.2, 0.4], -0.6, 0.25
    h, c, prev_inputs = reference.qrnn_forward(
        qrnn_cell(weight, bias), np.array(xs).reshape(3, 1), np.array([[c0]]),
        [np.array([[prev]])], window=2, output_gate=output_gate, zoneout=zoneout,
        pooling=pooling)

    def gate(name, x_now, x_before):
        w_now, w_before, b = rows[name]
        return w_now * x_now + w_before * x_before + b

    c_prev, x_before = c0, prev
    for t, x_now in enumerate(xs):
        z = math.tanh(gate("z", x_now, x_before))
        f = sigmoid(gate("f", x_now, x_before))
        if pooling == "ifo":
            i = sigmoid(gate("i", x_now, x_before))
            c_t = zoneout * c_prev + (1 - zoneout) * (f * c_prev + i * z)
        else:
            f_zoned = f * (1 - zoneout)
            c_t = f_zoned * z + (1 - f_zoned) * c_prev
        h_t = sigmoid(gate("o", x_now, x_before)) * c_t if output_gate else c_t
        assert h[t, 0] == pytest.approx(h_t, rel=1e-14, abs=1e-15)
        c_prev, x_before = c_t, x_now
    assert c[0, 0] == pytest.approx(c_prev, rel=1e-14)
    np.testing.assert_array_equal(prev_inputs[0], [[xs[-1]]])


def test_qrnn_window_three_column_blocks_are_newest_first():
    # Only the x_{t-2} block of the Z row is non-zero, so z_t = tanh(x_{t-2}); with the
    # forget gate saturated at 1 (torchqrnn: c = z), h_t = c_t = tanh(x_{t-2}).
    n = 2
    weight = np.zeros((2, 3 * n))
    weight[0, 2 * n:3 * n] = [1.0, 0.5]
    bias = [0.0, SATURATE]
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, n))
    prev = rng.standard_normal((2, n))  # row 0 = x_{-1}, row 1 = x_{-2}
    h, _, new_prev = reference.qrnn_forward(qrnn_cell(weight, bias), x, None, [prev], window=3,
                                            output_gate=False, pooling="fo")
    history = np.concatenate([prev[::-1], x])  # x_{-2}, x_{-1}, x_0, ...
    np.testing.assert_allclose(h[:, 0], np.tanh(history[:4] @ [1.0, 0.5]), rtol=1e-14)
    np.testing.assert_array_equal(new_prev[0], [x[3], x[2]])


def test_qrnn_short_sequence_shifts_previous_inputs():
    # L = 1 < window - 1: the new carried frames are [x_0, old x_{-1}].
    rng = np.random.default_rng(10)
    state_dict, config = make_qrnn_state_dict(rng, 3, 4, 2, window=3)
    x = random_inputs(rng, 1, 3)
    prev = random_prev_inputs(rng, 3, 4, 2, 3)
    _, _, new_prev = reference.qrnn_forward(state_dict, x, None, prev, **config)
    first_layer = {key: value for key, value in state_dict.items() if key.startswith("layers.0.")}
    h_first, _, _ = reference.qrnn_forward(first_layer, x, None, prev[:1], **config)
    np.testing.assert_array_equal(new_prev[0], np.stack([x[0], prev[0][0]]))
    # Layer 1's carried frames are layer 0's outputs.
    np.testing.assert_array_equal(new_prev[1], np.stack([h_first[0], prev[1][0]]))


@pytest.mark.parametrize("pooling,output_gate", QRNN_POOLINGS)
def test_qrnn_zero_weights(pooling, output_gate):
    # z = tanh(0) = 0 and every gate 1/2: fo/f halve c; ifo with zoneout p keeps
    # p*c + (1-p)*c/2; an output gate halves h.
    zoneout = 0.2
    gates = 2 + (pooling == "ifo") + output_gate
    size, length = 3, 4
    rng = np.random.default_rng(11)
    c0 = rng.standard_normal((1, size))
    h, c, _ = reference.qrnn_forward(
        qrnn_cell(np.zeros((gates * size, size)), np.zeros(gates * size)),
        rng.standard_normal((length, size)), c0, output_gate=output_gate, zoneout=zoneout,
        pooling=pooling)
    keep = zoneout + (1 - zoneout) * 0.5 if pooling == "ifo" else 1 - 0.5 * (1 - zoneout)
    expected_c = c0[0] * keep ** np.arange(1, length + 1)[:, None]
    np.testing.assert_allclose(h, expected_c * (0.5 if output_gate else 1.0), rtol=1e-14)
    np.testing.assert_allclose(c[0], expected_c[-1], rtol=1e-14)


@pytest.mark.parametrize("pooling,output_gate", QRNN_POOLINGS)
def test_qrnn_full_zoneout_keeps_c0(pooling, output_gate):
    rng = np.random.default_rng(12)
    state_dict, config = make_qrnn_state_dict(rng, 5, 3, 1, window=2, output_gate=output_gate,
                                              pooling=pooling, zoneout=1.0)
    c0 = random_cell_state(rng, 1, 3)
    h, c, _ = reference.qrnn_forward(state_dict, random_inputs(rng, 6, 5), c0, **config)
    np.testing.assert_allclose(c, c0, rtol=1e-15)
    if not output_gate:
        np.testing.assert_allclose(h, np.repeat(c0, 6, axis=0), rtol=1e-15)


def test_qrnn_rejects_invalid_pooling():
    state_dict = qrnn_cell(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="output"):
        reference.qrnn_forward(state_dict, np.zeros((1, 1)), pooling="f", output_gate=True)
    with pytest.raises(ValueError, match="pooling"):
        reference.qrnn_forward(state_dict, np.zeros((1, 1)), pooling="fio")


def vectorised_qrnn(state_dict, x, c0, prev_inputs, *, window, output_gate, zoneout, pooling):
    """The whole convolution as one product over a stacked [x_t | x_{t-1} | ...] matrix."""
    layer_input = np.asarray(x, np.float64)
    length = len(layer_input)
    gates = 2 + (pooling == "ifo") + bool(output_gate)
    finals = []
    num_layers = len({key.split(".")[1] for key in state_dict})
    for layer in range(num_layers):
        weight = np.asarray(state_dict[f"layers.{layer}.linear.weight"], np.float64)
        bias = np.asarray(state_dict[f"layers.{layer}.linear.bias"], np.float64)
        hidden = bias.size // gates
        padded = np.concatenate([np.asarray(prev_inputs[layer], np.float64)[::-1], layer_input])
        source = np.concatenate(
            [padded[window - 1 - k:window - 1 - k + length] for k in range(window)], axis=1)
        y = (source @ weight.T + bias).reshape(length, gates, hidden)
        z, f = np.tanh(y[:, 0]), 1 / (1 + np.exp(-y[:, 1]))
        c = np.asarray(c0[layer], np.float64)
        cs = np.zeros((length, hidden))
        for t in range(length):
            if pooling == "ifo":
                i = 1 / (1 + np.exp(-y[t, 2]))
                c = zoneout * c + (1 - zoneout) * (f[t] * c + i * z[t])
            else:
                f_zoned = f[t] * (1 - zoneout)
                c = f_zoned * z[t] + (1 - f_zoned) * c
            cs[t] = c
        layer_input = cs / (1 + np.exp(-y[:, gates - 1])) if output_gate else cs
        finals.append(c)
    return layer_input, np.stack(finals)


@given(spec=qrnn_specs(), seed=st.integers(0, 2**32 - 1), length=st.integers(1, 20))
@settings(max_examples=60)
def test_qrnn_reference_matches_vectorised_variant(spec, seed, length):
    rng = np.random.default_rng(seed)
    state_dict, config = make_qrnn_state_dict(rng, **spec)
    x = random_inputs(rng, length, spec["input_size"])
    c0 = random_cell_state(rng, spec["num_layers"], spec["hidden_size"])
    prev = random_prev_inputs(rng, spec["input_size"], spec["hidden_size"], spec["num_layers"],
                              spec["window"])
    h, c, _ = reference.qrnn_forward(state_dict, x, c0, prev, **config)
    h_vec, c_vec = vectorised_qrnn(state_dict, x, c0, prev, **config)
    np.testing.assert_allclose(h, h_vec, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(c, c_vec, rtol=1e-11, atol=1e-12)


@given(spec=qrnn_specs(windows=(2, 3)), seed=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(1, 19), max_size=5))
@settings(max_examples=30)
def test_qrnn_reference_streamed_in_pieces_equals_whole(spec, seed, cuts):
    # The reference's own state carrying (c and prev_inputs) is what the kernels'
    # streaming is tested against, so check it is self-consistent.
    rng = np.random.default_rng(seed)
    state_dict, config = make_qrnn_state_dict(rng, **spec)
    x = random_inputs(rng, 20, spec["input_size"])
    h_whole, c_whole, prev_whole = reference.qrnn_forward(state_dict, x, **config)
    c, prev, pieces = None, None, []
    bounds = [0, *sorted(set(cuts)), 20]
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        h_piece, c, prev = reference.qrnn_forward(state_dict, x[start:stop], c, prev, **config)
        pieces.append(h_piece)
    np.testing.assert_allclose(np.concatenate(pieces), h_whole, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(c, c_whole, rtol=1e-13, atol=1e-14)
    for carried, whole in zip(prev, prev_whole, strict=True):
        np.testing.assert_allclose(carried, whole, rtol=1e-13, atol=1e-14)


# ------------------------------------- round trips through mtsrnn's own models


def assert_same_outputs(model, clone, x, c0):
    for gemm in _mtsrnn().product_variants():
        h, state = model.forward(x, state=model.initial_state(c=c0), block=4, variant=gemm)
        h_clone, state_clone = clone.forward(x, state=clone.initial_state(c=c0), block=4,
                                             variant=gemm)
        np.testing.assert_array_equal(h_clone, h)
        np.testing.assert_array_equal(state_clone.c, state.c)


def _mtsrnn():
    # Imported here, not at module level, so the reference checks above run without
    # the compiled package.
    import mtsrnn

    return mtsrnn


@pytest.mark.parametrize("kwargs", RANDOM_SRU_KWARGS, ids=kwargs_id)
def test_random_sru_state_dict_round_trip(kwargs):
    mtsrnn = _mtsrnn()
    model = mtsrnn.random_sru(seed=3, **kwargs)
    state_dict = model.state_dict()
    for name, value in state_dict.items():
        assert name.startswith("rnn_lst."), name
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, name
    clone = mtsrnn.from_sru_state_dict(state_dict, **model.config)
    rng = np.random.default_rng(0)
    x = random_inputs(rng, 11, kwargs["input_size"])
    c0 = random_cell_state(rng, model.num_layers, model.output_size)
    assert_same_outputs(model, clone, x, c0)


@pytest.mark.parametrize("kwargs", RANDOM_QRNN_KWARGS, ids=kwargs_id)
def test_random_qrnn_state_dict_round_trip(kwargs):
    mtsrnn = _mtsrnn()
    model = mtsrnn.random_qrnn(seed=4, **kwargs)
    state_dict = model.state_dict()
    for name, value in state_dict.items():
        assert name.startswith("layers."), name
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, name
    clone = mtsrnn.from_qrnn_state_dict(state_dict, **model.config)
    rng = np.random.default_rng(1)
    x = random_inputs(rng, 11, kwargs["input_size"])
    c0 = random_cell_state(rng, model.num_layers, model.output_size)
    assert_same_outputs(model, clone, x, c0)
