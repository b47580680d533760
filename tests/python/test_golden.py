"""The C kernels (through mtsrnn) against the float64 NumPy reference.

Models are built here from NumPy random numbers in the PyTorch layouts
(conftest.make_*_state_dict), loaded with ``from_*_state_dict`` and run for
every block size T in {1, 2, 3, 4, 8, 16, 32, 64}, every length L in
{1, T-1, T, T+1, 100}, every blocked-product variant and both a zero and a
random initial state. h, the final c and (QRNN) the carried input frames must
agree with ``mtsrnn.reference`` to GOLDEN_ABS_TOL (inputs of unit scale).
Expected values come only from the reference, never from stored numbers.
"""

import itertools

import mtsrnn
import numpy as np
import pytest
from conftest import (
    BLOCK_SIZES,
    GOLDEN_ABS_TOL,
    LONG_LENGTH,
    QRNN_POOLINGS,
    RANDOM_QRNN_KWARGS,
    RANDOM_SRU_KWARGS,
    SIZES,
    assert_abs_close,
    kwargs_id,
    lengths_for_block,
    make_qrnn_state_dict,
    make_sru_state_dict,
    qrnn_specs,
    random_cell_state,
    random_inputs,
    random_prev_inputs,
    sru_spec_id,
    sru_specs,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from mtsrnn import reference


def run_reference(model, state_dict, config, x, c0, prev_inputs):
    """(h, c, prev_inputs or None) from the reference for the model's cell."""
    if model.cell == "sru":
        h, c = reference.sru_forward(state_dict, x, c0, **config)
        return h, c, None
    return reference.qrnn_forward(state_dict, x, c0, prev_inputs, **config)


def initial_states(model, rng, input_size, hidden_size, window=1):
    """A zero start (state=None, the API default) and a random non-zero one."""
    c0 = random_cell_state(rng, model.num_layers, model.output_size)
    prev = None
    if model.cell == "qrnn":
        prev = random_prev_inputs(rng, input_size, hidden_size, model.num_layers, window)
    return [("zero", None, None), ("random", c0, prev)]


def check_against_reference(model, state_dict, config, rng, input_size, hidden_size, window=1,
                            blocks=BLOCK_SIZES):
    """Every T, every L named for that T, every gemm variant, zero and random states."""
    x = random_inputs(rng, LONG_LENGTH + 1, input_size)
    for start_name, c0, prev in initial_states(model, rng, input_size, hidden_size, window):
        state = None if c0 is None else model.initial_state(c=c0, prev_inputs=prev)
        expected_by_length = {}
        for block in blocks:
            for length in lengths_for_block(block):
                if length not in expected_by_length:
                    expected_by_length[length] = run_reference(
                        model, state_dict, config, x[:length], c0, prev)
                h_ref, c_ref, prev_ref = expected_by_length[length]
                for gemm in mtsrnn.product_variants():
                    where = f"{start_name} state, T={block}, L={length}, gemm={gemm}"
                    h, new_state = model.forward(x[:length], state=state, block=block,
                                                 variant=gemm)
                    assert h.dtype == np.float32
                    assert_abs_close(h, h_ref, GOLDEN_ABS_TOL, f"h ({where})")
                    assert_abs_close(new_state.c, c_ref, GOLDEN_ABS_TOL, f"final c ({where})")
                    if prev_ref is not None:
                        assert len(new_state.prev_inputs) == len(prev_ref)
                        for layer, frames in enumerate(prev_ref):
                            assert_abs_close(new_state.prev_inputs[layer], frames,
                                             GOLDEN_ABS_TOL,
                                             f"prev_inputs[{layer}] ({where})")


def check_sru_spec(spec, seed, blocks=BLOCK_SIZES):
    rng = np.random.default_rng(seed)
    state_dict, config = make_sru_state_dict(rng, **spec)
    model = mtsrnn.from_sru_state_dict(state_dict, **config)
    out = spec["hidden_size"] * (2 if spec.get("bidirectional") else 1)
    assert (model.cell, model.input_size, model.output_size) == ("sru", spec["input_size"], out)
    assert model.num_layers == spec.get("num_layers", 1)
    check_against_reference(model, state_dict, config, rng, spec["input_size"],
                            spec["hidden_size"], blocks=blocks)


def check_qrnn_spec(spec, seed, blocks=BLOCK_SIZES):
    rng = np.random.default_rng(seed)
    state_dict, config = make_qrnn_state_dict(rng, **spec)
    model = mtsrnn.from_qrnn_state_dict(state_dict, **config)
    assert (model.cell, model.input_size, model.output_size) == (
        "qrnn", spec["input_size"], spec["hidden_size"])
    assert model.num_layers == spec.get("num_layers", 1)
    check_against_reference(model, state_dict, config, rng, spec["input_size"],
                            spec["hidden_size"], window=spec.get("window", 1), blocks=blocks)


# ------------------------------------------------------------------- SRU grid

SRU_CASES = [
    # forms and activations (k = 3: n == out)
    dict(input_size=17, hidden_size=17),
    dict(input_size=17, hidden_size=17, use_tanh=True),
    dict(input_size=13, hidden_size=13, form="original-absent"),
    dict(input_size=13, hidden_size=13, form="original-zero", use_tanh=True),
    # skip terms: none, scale_x * x (k = 3), projected (k = 4, n != out, scale_x ignored)
    dict(input_size=13, hidden_size=7, has_skip_term=False),
    dict(input_size=7, hidden_size=7, has_skip_term=False),
    dict(input_size=33, hidden_size=33, rescale=True),
    dict(input_size=13, hidden_size=7, rescale=True),
    dict(input_size=5, hidden_size=33, rescale=True, form="original-absent"),
    # input projection
    dict(input_size=33, hidden_size=17, projection_size=5),
    dict(input_size=17, hidden_size=17, projection_size=7, rescale=True),
    # layer norm before the product / after the layer
    dict(input_size=17, hidden_size=17, layer_norm=True),
    dict(input_size=33, hidden_size=13, layer_norm=True, projection_size=5),
    dict(input_size=13, hidden_size=7, layer_norm=True, normalize_after=True),
    dict(input_size=7, hidden_size=7, layer_norm=True, normalize_after=True, use_tanh=True,
         num_layers=3),
    # stacks
    dict(input_size=5, hidden_size=13, num_layers=2),
    dict(input_size=13, hidden_size=67, num_layers=3, rescale=True),
    dict(input_size=3, hidden_size=5, num_layers=3, has_skip_term=False, form="original-zero"),
    # bidirectional
    dict(input_size=14, hidden_size=7, bidirectional=True),
    dict(input_size=5, hidden_size=3, bidirectional=True, rescale=True),
    dict(input_size=2, hidden_size=1, bidirectional=True, use_tanh=True),
    dict(input_size=17, hidden_size=5, bidirectional=True, num_layers=2, layer_norm=True),
    dict(input_size=7, hidden_size=13, bidirectional=True, num_layers=3, projection_size=5,
         layer_norm=True, normalize_after=True),
    dict(input_size=3, hidden_size=7, bidirectional=True, has_skip_term=False,
         form="original-absent"),
    # size 1 everywhere
    dict(input_size=1, hidden_size=1),
    dict(input_size=1, hidden_size=3, num_layers=2),
    dict(input_size=67, hidden_size=1, layer_norm=True),
    dict(input_size=1, hidden_size=1, layer_norm=True, normalize_after=True),
]


@pytest.mark.parametrize("spec", SRU_CASES, ids=sru_spec_id)
def test_sru_named_case(spec):
    check_sru_spec(spec, seed=len(SRU_CASES) + SRU_CASES.index(spec))


@given(spec=sru_specs(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=100)
def test_sru_random_configuration(spec, seed):
    check_sru_spec(spec, seed)


def test_sru_single_cell_state_dict_with_float64_values():
    # An SRUCell's state_dict has no 'rnn_lst.{i}.' prefix; values need not be float32.
    rng = np.random.default_rng(21)
    stacked, config = make_sru_state_dict(rng, 13, 7, rescale=True, layer_norm=True)
    cell = {key.removeprefix("rnn_lst.0."): value.astype(np.float64)
            for key, value in stacked.items()}
    model = mtsrnn.from_sru_state_dict(cell, **config)
    check_against_reference(model, cell, config, rng, 13, 7, blocks=(1, 3, 16))


# Layer norms that random configurations avoid because some rows can be ill-conditioned
# (conftest.MIN_LAYER_NORM_INPUT_SIZE): 2-4 features, no skip term, one input feature.
# They are checked at the full tolerance on well-conditioned rows: inputs whose spread is
# at least MIN_NORM_INPUT_STD for a pre-norm, and for a norm after the (last, so nothing
# downstream inherits its error) layer the rows whose un-normalised h has that spread. Such
# a row amplifies rounding by at most |weight| / MIN_NORM_INPUT_STD, as a wide norm does.
LAYER_NORM_EDGE_CASES = [
    dict(input_size=2, hidden_size=2, layer_norm=True),
    dict(input_size=3, hidden_size=3, layer_norm=True, use_tanh=True, rescale=True),
    dict(input_size=4, hidden_size=7, layer_norm=True, projection_size=3),
    dict(input_size=3, hidden_size=5, layer_norm=True, has_skip_term=False),
    dict(input_size=2, hidden_size=1, bidirectional=True, layer_norm=True, normalize_after=True),
    dict(input_size=5, hidden_size=3, layer_norm=True, normalize_after=True),
    dict(input_size=3, hidden_size=4, layer_norm=True, normalize_after=True, has_skip_term=False),
    dict(input_size=1, hidden_size=3, bidirectional=True, layer_norm=True, normalize_after=True),
]
MIN_NORM_INPUT_STD = 0.03


def well_conditioned_inputs(rng, length, size):
    """Unit-scale frames whose spread across features is at least MIN_NORM_INPUT_STD."""
    x = random_inputs(rng, length, size)
    while True:
        narrow = x.std(axis=1) < MIN_NORM_INPUT_STD
        if not narrow.any():
            return x
        x[narrow] = random_inputs(rng, int(narrow.sum()), size)


@pytest.mark.parametrize("spec", LAYER_NORM_EDGE_CASES, ids=sru_spec_id)
def test_sru_layer_norm_edge_cases_on_well_conditioned_rows(spec):
    rng = np.random.default_rng(31 + LAYER_NORM_EDGE_CASES.index(spec))
    state_dict, config = make_sru_state_dict(rng, **spec)
    model = mtsrnn.from_sru_state_dict(state_dict, **config)
    if spec.get("normalize_after") or spec["input_size"] == 1:  # a 1-wide norm is exact
        x = random_inputs(rng, LONG_LENGTH, spec["input_size"])
    else:
        x = well_conditioned_inputs(rng, LONG_LENGTH, spec["input_size"])
    without_norm = {key: value for key, value in state_dict.items() if "layer_norm" not in key}
    for start_name, c0, _ in initial_states(model, rng, spec["input_size"],
                                             spec["hidden_size"]):
        h_ref, c_ref = reference.sru_forward(state_dict, x, c0, **config)
        rows = np.ones(len(x), bool)
        if spec.get("normalize_after"):
            # The layer norm's input is this layer's un-normalised h.
            h_before_norm, _ = reference.sru_forward(without_norm, x, c0, **config)
            rows = h_before_norm.std(axis=1) >= MIN_NORM_INPUT_STD
            assert rows.mean() > 0.8, "too few well-conditioned rows for a meaningful test"
        state = None if c0 is None else model.initial_state(c=c0)
        for block in BLOCK_SIZES:
            for gemm in mtsrnn.product_variants():
                where = f"{start_name} state, T={block}, gemm={gemm}"
                h, new_state = model.forward(x, state=state, block=block, variant=gemm)
                assert_abs_close(h[rows], h_ref[rows], GOLDEN_ABS_TOL, f"h ({where})")
                assert_abs_close(new_state.c, c_ref, GOLDEN_ABS_TOL, f"final c ({where})")


# ------------------------------------------------------------------ QRNN grid


def qrnn_grid():
    """Every window x pooling/output-gate x zoneout, with sizes and depth cycling."""
    cases = []
    combos = itertools.product((1, 2, 3), QRNN_POOLINGS, (0.0, 0.3))
    for index, (window, (pooling, output_gate), zoneout) in enumerate(combos):
        cases.append(dict(
            input_size=SIZES[index % len(SIZES)],
            hidden_size=SIZES[(3 * index + 5) % len(SIZES)],
            num_layers=1 + index % 3,
            window=window, output_gate=output_gate, pooling=pooling, zoneout=zoneout))
    return cases


def qrnn_spec_id(spec):
    gate = "og" if spec["output_gate"] else "noog"
    return (f"n{spec['input_size']}-h{spec['hidden_size']}-x{spec['num_layers']}-"
            f"w{spec['window']}-{spec['pooling']}-{gate}-zo{spec['zoneout']}")


QRNN_CASES = qrnn_grid() + [
    dict(input_size=1, hidden_size=1, num_layers=1, window=2, output_gate=True, pooling="fo",
         zoneout=0.0),
    dict(input_size=1, hidden_size=67, num_layers=2, window=3, output_gate=True,
         pooling="ifo", zoneout=0.1),
    dict(input_size=67, hidden_size=1, num_layers=3, window=2, output_gate=False,
         pooling="f", zoneout=0.5),
]


@pytest.mark.parametrize("spec", QRNN_CASES, ids=qrnn_spec_id)
def test_qrnn_named_case(spec):
    check_qrnn_spec(spec, seed=1000 + QRNN_CASES.index(spec))


@given(spec=qrnn_specs(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=100)
def test_qrnn_random_configuration(spec, seed):
    check_qrnn_spec(spec, seed)


# --------------------------------------- mtsrnn's own random models, same check


@pytest.mark.parametrize("kwargs", RANDOM_SRU_KWARGS, ids=kwargs_id)
def test_random_sru_matches_reference(kwargs):
    # m.state_dict() and m.config together must describe exactly what the model computes.
    model = mtsrnn.random_sru(seed=5, **kwargs)
    rng = np.random.default_rng(6)
    check_against_reference(model, model.state_dict(), model.config, rng,
                            kwargs["input_size"], kwargs["hidden_size"], blocks=(1, 4, 16))


@pytest.mark.parametrize("kwargs", RANDOM_QRNN_KWARGS, ids=kwargs_id)
def test_random_qrnn_matches_reference(kwargs):
    model = mtsrnn.random_qrnn(seed=7, **kwargs)
    rng = np.random.default_rng(8)
    check_against_reference(model, model.state_dict(), model.config, rng,
                            kwargs["input_size"], kwargs["hidden_size"],
                            window=kwargs.get("window", 1), blocks=(1, 4, 16))
