"""Outputs must not depend on the block size T nor on how a stream is split.

docs/spec.md 1: blocking only changes how often the weights are streamed, so for one
model and one sequence every T gives the T = 1 result, and feeding the
sequence in pieces (carrying the returned state, each piece with its own T)
gives the whole-sequence result, to INVARIANCE_REL_TOL relative to
max(1, |value|). A bidirectional SRU needs the whole sequence, so it is
checked for T-invariance only. QRNN windows 2 and 3 make the carried input
frames matter, including pieces shorter than the window.
"""

import mtsrnn
import numpy as np
import pytest
from conftest import (
    BLOCK_SIZES,
    INVARIANCE_REL_TOL,
    assert_rel_close,
    make_qrnn_state_dict,
    make_sru_state_dict,
    qrnn_specs,
    random_cell_state,
    random_inputs,
    random_prev_inputs,
    sru_specs,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def build(kind, spec, rng):
    if kind == "sru":
        state_dict, config = make_sru_state_dict(rng, **spec)
        return mtsrnn.from_sru_state_dict(state_dict, **config)
    state_dict, config = make_qrnn_state_dict(rng, **spec)
    return mtsrnn.from_qrnn_state_dict(state_dict, **config)


def random_start(model, kind, spec, rng):
    c0 = random_cell_state(rng, model.num_layers, model.output_size)
    if kind == "sru":
        return model.initial_state(c=c0)
    prev = random_prev_inputs(rng, spec["input_size"], spec["hidden_size"], spec["num_layers"],
                              spec["window"])
    return model.initial_state(c=c0, prev_inputs=prev)


def assert_same_state(actual, expected, what):
    assert_rel_close(actual.c, expected.c, INVARIANCE_REL_TOL, f"final c ({what})")
    if expected.prev_inputs is not None:
        for layer, frames in enumerate(expected.prev_inputs):
            assert_rel_close(actual.prev_inputs[layer], frames, INVARIANCE_REL_TOL,
                             f"prev_inputs[{layer}] ({what})")


def check_block_invariance(model, x, state):
    for gemm in mtsrnn.product_variants():
        h_one, state_one = model.forward(x, state=state, block=1, variant=gemm)
        # Beyond the named sizes, T > L (one short block) and a T that divides nothing.
        for block in (*BLOCK_SIZES[1:], 5, 7, len(x), len(x) + 3):
            h, new_state = model.forward(x, state=state, block=block, variant=gemm)
            what = f"T={block} vs T=1, L={len(x)}, gemm={gemm}"
            assert_rel_close(h, h_one, INVARIANCE_REL_TOL, f"h ({what})")
            assert_same_state(new_state, state_one, what)


@given(spec=sru_specs(allow_bidirectional=True), seed=st.integers(0, 2**32 - 1),
       length=st.integers(1, 100))
@settings(max_examples=80)
def test_sru_output_does_not_depend_on_block_size(spec, seed, length):
    rng = np.random.default_rng(seed)
    model = build("sru", spec, rng)
    check_block_invariance(model, random_inputs(rng, length, spec["input_size"]),
                           random_start(model, "sru", spec, rng))


@given(spec=qrnn_specs(), seed=st.integers(0, 2**32 - 1), length=st.integers(1, 100))
@settings(max_examples=80)
def test_qrnn_output_does_not_depend_on_block_size(spec, seed, length):
    rng = np.random.default_rng(seed)
    model = build("qrnn", spec, rng)
    check_block_invariance(model, random_inputs(rng, length, spec["input_size"]),
                           random_start(model, "qrnn", spec, rng))


def check_streaming(model, x, start, cuts, piece_blocks, whole_block, gemm):
    """Pieces x[cut_i:cut_{i+1}] streamed with the returned state equal the whole run."""
    h_whole, state_whole = model.forward(x, state=start, block=whole_block, variant=gemm)
    bounds = [0, *sorted(set(cuts)), len(x)]
    state, pieces = start, []
    for index, (begin, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        block = piece_blocks[index % len(piece_blocks)]
        h_piece, state = model.forward(x[begin:end], state=state, block=block, variant=gemm)
        pieces.append(h_piece)
    what = f"pieces {bounds} with T={piece_blocks}, whole T={whole_block}, gemm={gemm}"
    assert_rel_close(np.concatenate(pieces), h_whole, INVARIANCE_REL_TOL, f"h ({what})")
    assert_same_state(state, state_whole, what)


stream_splits = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1),
    "length": st.integers(2, 100),
    "cuts": st.lists(st.integers(1, 99), min_size=1, max_size=8),
    "piece_blocks": st.lists(st.sampled_from((1, 2, 3, 4, 5, 8, 16, 64)), min_size=1,
                             max_size=4),
    "whole_block": st.sampled_from(BLOCK_SIZES),
    "gemm_index": st.integers(0, 7),
})


@given(spec=sru_specs(allow_bidirectional=False), split=stream_splits)
@settings(max_examples=80)
def test_sru_streamed_pieces_equal_whole_sequence(spec, split):
    rng = np.random.default_rng(split["seed"])
    model = build("sru", spec, rng)
    x = random_inputs(rng, split["length"], spec["input_size"])
    gemms = mtsrnn.product_variants()
    check_streaming(model, x, random_start(model, "sru", spec, rng),
                    [cut for cut in split["cuts"] if cut < len(x)], split["piece_blocks"],
                    split["whole_block"], gemms[split["gemm_index"] % len(gemms)])


@given(spec=qrnn_specs(windows=(2, 3)), split=stream_splits)
@settings(max_examples=80)
def test_qrnn_streamed_pieces_equal_whole_sequence(spec, split):
    rng = np.random.default_rng(split["seed"])
    model = build("qrnn", spec, rng)
    x = random_inputs(rng, split["length"], spec["input_size"])
    gemms = mtsrnn.product_variants()
    check_streaming(model, x, random_start(model, "qrnn", spec, rng),
                    [cut for cut in split["cuts"] if cut < len(x)], split["piece_blocks"],
                    split["whole_block"], gemms[split["gemm_index"] % len(gemms)])


@pytest.mark.parametrize("window", [1, 2, 3])
@pytest.mark.parametrize("pooling,output_gate", [("fo", True), ("f", False), ("ifo", True)])
def test_qrnn_one_frame_per_call_equals_whole_sequence(window, pooling, output_gate):
    # Every call shorter than the window: the carried frames must shift one at a time.
    spec = dict(input_size=5, hidden_size=7, num_layers=3, window=window,
                output_gate=output_gate, pooling=pooling, zoneout=0.1)
    rng = np.random.default_rng(window)
    model = build("qrnn", spec, rng)
    x = random_inputs(rng, 12, 5)
    start = random_start(model, "qrnn", spec, rng)
    for gemm in mtsrnn.product_variants():
        check_streaming(model, x, start, list(range(1, 12)), [1, 16], 4, gemm)


@pytest.mark.parametrize("window", [2, 3])
def test_qrnn_carried_frames_are_the_last_inputs_newest_first(window):
    spec = dict(input_size=3, hidden_size=4, num_layers=2, window=window, output_gate=True,
                pooling="fo", zoneout=0.0)
    rng = np.random.default_rng(30 + window)
    model = build("qrnn", spec, rng)
    start = random_start(model, "qrnn", spec, rng)
    for length in (1, window - 1, window, 9):
        x = random_inputs(rng, length, 3)
        _, state = model.forward(x, state=start, block=4)
        # Layer 0's carried frames are copies of the input: exact, most recent first,
        # topped up from the previous state when the call is shorter than window - 1.
        history = np.concatenate([start.prev_inputs[0][::-1], x])
        expected = history[::-1][:window - 1]
        np.testing.assert_array_equal(state.prev_inputs[0], expected)
        assert state.prev_inputs[1].shape == (window - 1, 4)


@pytest.mark.parametrize("kind", ["sru", "qrnn"])
def test_forward_leaves_the_given_state_unchanged(kind):
    # Streaming code may branch a stream from one state: forward must not write into it.
    spec = (dict(input_size=5, hidden_size=5, num_layers=2) if kind == "sru" else
            dict(input_size=5, hidden_size=6, num_layers=2, window=3, output_gate=True,
                 pooling="fo", zoneout=0.0))
    rng = np.random.default_rng(40)
    model = build(kind, spec, rng)
    start = random_start(model, kind, spec, rng)
    c_before = start.c.copy()
    prev_before = None if kind == "sru" else [frames.copy() for frames in start.prev_inputs]
    x = random_inputs(rng, 9, 5)
    h_first, _ = model.forward(x, state=start, block=4)
    np.testing.assert_array_equal(start.c, c_before)
    if prev_before is not None:
        for frames, before in zip(start.prev_inputs, prev_before, strict=True):
            np.testing.assert_array_equal(frames, before)
    h_again, _ = model.forward(x, state=start, block=4)
    np.testing.assert_array_equal(h_again, h_first)
