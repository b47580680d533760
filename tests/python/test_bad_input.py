"""Bad input raises a clear exception naming what was expected, and loses nothing:
the model and the state passed in still work afterwards."""

import mtsrnn
import numpy as np
import pytest
from mtsrnn import _core, mtsfile


@pytest.fixture(scope="module")
def sru():
    return mtsrnn.random_sru(6, 4, num_layers=2, seed=3)


@pytest.fixture(scope="module")
def qrnn():
    return mtsrnn.random_qrnn(5, 3, num_layers=2, window=2, seed=4)


def frames(length, width, seed=0):
    return np.random.default_rng(seed).standard_normal((length, width)).astype(np.float32)


def test_wrong_dtype(sru):
    with pytest.raises(TypeError, match="x must be float32, got float64"):
        sru.forward(frames(3, 6).astype(np.float64))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        sru.forward(frames(3, 6).tolist())
    with pytest.raises(TypeError, match="c must be float32, got int64"):
        sru.initial_state(np.zeros((2, 4), dtype=np.int64))


@pytest.mark.parametrize("shape", [(3,), (3, 5), (3, 7), (1, 3, 6), (6, 3)])
def test_wrong_shape(sru, shape):
    with pytest.raises(ValueError, match=r"x must have shape \(L, 6\)"):
        sru.forward(np.zeros(shape, dtype=np.float32))


def test_non_contiguous(sru):
    x = frames(8, 12)[:, ::2]
    assert x.shape == (8, 6)
    with pytest.raises(ValueError, match="C-contiguous"):
        sru.forward(x)
    with pytest.raises(ValueError, match="C-contiguous"):
        sru.forward(np.asfortranarray(frames(8, 6)))


@pytest.mark.parametrize("block", [0, -1, 2**40])
def test_bad_block(sru, block):
    with pytest.raises(ValueError, match="block must be in"):
        sru.forward(frames(3, 6), block=block)


@pytest.mark.parametrize("block", [1.5, "4", None, True])
def test_block_not_an_integer(sru, block):
    with pytest.raises(TypeError, match="block must be an integer"):
        sru.forward(frames(3, 6), block=block)


def test_unknown_gemm_variant(sru):
    with pytest.raises(ValueError, match="variant must be one of"):
        sru.forward(frames(3, 6), variant="blas")


def test_state_from_another_model(sru, qrnn):
    other = mtsrnn.random_sru(6, 5, num_layers=2, seed=3)
    with pytest.raises(ValueError, match="another structure"):
        sru.forward(frames(3, 6), state=other.initial_state())
    with pytest.raises(ValueError, match="another structure"):
        sru.forward(frames(3, 6), state=qrnn.initial_state())
    with pytest.raises(TypeError, match="mtsrnn.State"):
        sru.forward(frames(3, 6), state=np.zeros((2, 4), np.float32))


def test_wrong_initial_state_shape(sru, qrnn):
    with pytest.raises(ValueError, match=r"c must have shape \(2, 4\)"):
        sru.initial_state(np.zeros((4,), np.float32))
    with pytest.raises(ValueError, match=r"prev_inputs\[1\] must have shape \(1, 3\)"):
        qrnn.initial_state(prev_inputs=[np.zeros((1, 5), np.float32),
                                        np.zeros((1, 5), np.float32)])
    with pytest.raises(ValueError, match="SRU carries only c"):
        sru.initial_state(prev_inputs=[])


@pytest.mark.parametrize("size", [0, -3, 2**40])
def test_absurd_sizes(size):
    with pytest.raises(ValueError, match="hidden_size must be in"):
        mtsrnn.random_sru(4, size)
    with pytest.raises(ValueError, match="input_size must be in"):
        mtsrnn.random_qrnn(size, 4)


def test_state_dict_errors():
    good = mtsrnn.random_sru(6, 4, num_layers=2, seed=1).state_dict()

    def broken(**changes):
        sd = dict(good)
        for key, value in changes.items():
            if value is None:
                del sd[key]
            else:
                sd[key] = value
        return sd

    with pytest.raises(ValueError, match=r"missing 'rnn_lst.1.weight'"):
        mtsrnn.from_sru_state_dict(broken(**{"rnn_lst.1.weight": None}))
    with pytest.raises(ValueError,
                       match=r"rnn_lst.0.weight .*must have shape \(6, 16\), got \(6, 12\)"):
        mtsrnn.from_sru_state_dict(broken(**{"rnn_lst.0.weight": np.zeros((6, 12), np.float32)}))
    with pytest.raises(ValueError, match="unexpected key"):
        mtsrnn.from_sru_state_dict(broken(**{"rnn_lst.0.bogus": np.zeros(3, np.float32)}))
    with pytest.raises(ValueError, match="numbered 0..N-1"):
        mtsrnn.from_sru_state_dict({k.replace("rnn_lst.1", "rnn_lst.2"): v
                                    for k, v in good.items()})
    with pytest.raises(TypeError, match="floating-point"):
        mtsrnn.from_sru_state_dict(broken(**{"rnn_lst.0.bias": np.zeros(8, np.int32)}))
    # k = 4 blocks in the file but has_skip_term=False expects 3.
    with pytest.raises(ValueError, match="k=3 weight blocks"):
        mtsrnn.from_sru_state_dict(good, has_skip_term=False)
    # A layer norm over the input is not one over the output.
    ln = mtsrnn.random_sru(6, 4, seed=1, layer_norm=True).state_dict()
    with pytest.raises(ValueError, match="normalize_after=True"):
        mtsrnn.from_sru_state_dict(ln, normalize_after=True)

    q = mtsrnn.random_qrnn(5, 3, window=2, seed=1).state_dict()
    with pytest.raises(ValueError, match=r"\(3\*H, 1\*n\)|shape \(3\*H"):
        mtsrnn.from_qrnn_state_dict({"layers.0.linear.weight": np.zeros((10, 10), np.float32),
                                     "layers.0.linear.bias": np.zeros(10, np.float32)})
    with pytest.raises(ValueError, match="pooling must be one of"):
        mtsrnn.from_qrnn_state_dict(q, window=2, pooling="lstm")
    with pytest.raises(ValueError, match="f-pooling has no output gate"):
        mtsrnn.from_qrnn_state_dict(q, window=2, pooling="f")
    with pytest.raises(ValueError, match="zoneout must be in"):
        mtsrnn.from_qrnn_state_dict(q, window=2, zoneout=1.5)
    with pytest.raises(ValueError, match="window must be in"):
        mtsrnn.from_qrnn_state_dict(q, window=0)


def test_binding_rechecks_what_the_kernels_rely_on(sru):
    """The C binding checks buffers itself, so a caller bypassing model.py
    gets an exception, not memory corruption."""
    core = sru._core
    x = frames(3, 6)
    state = np.zeros(core.state_floats, np.float32)
    h = np.empty((3, 4), np.float32)
    with pytest.raises(ValueError, match="x must hold 24 float32 items"):
        core.forward(x, 4, state, h, 4)
    with pytest.raises(ValueError, match="state must hold 8 float32 items"):
        core.forward(x, 3, state[:-1], h, 4)
    with pytest.raises(ValueError, match="writable"):
        core.forward(x, 3, state, np.frombuffer(bytes(48), np.float32), 4)
    with pytest.raises(TypeError, match="float32"):
        core.forward(x.astype(np.float64), 3, state, h, 4)
    with pytest.raises(ValueError, match="block must be >= 1"):
        core.forward(x, 3, state, h, 0)
    with pytest.raises(ValueError, match="no product variant 'nosuch'"):
        core.forward(x, 3, state, h, 4, "nosuch")
    with pytest.raises(ValueError, match="no product variant ''"):
        core.forward(x, 3, state, h, 4, "")
    with pytest.raises(TypeError, match="variant must be a str or None"):
        core.forward(x, 3, state, h, 4, 0)
    # A model reaches the kernels only as an .mts image, judged by the C loader.
    qrnn_fields = dict(input_size=5, hidden_size=3, window=1, input_gate=0, output_gate=1,
                       quant=0, zoneout=0.0)
    qrnn_tensors = {_core.QRNN_KIND_WEIGHT: np.zeros((12, 5), np.float32),
                    _core.QRNN_KIND_BIAS: np.zeros(9, np.float32)}
    with pytest.raises(_core.ModelFileError, match="layer 0.*weight.*expected 9") as caught:
        _core.load_file(mtsfile.encode("qrnn", [(qrnn_fields, qrnn_tensors)]))
    assert caught.value.status_name == "MTS_ERR_FILE_SHAPE"
    with pytest.raises(_core.ModelFileError, match="layer 0") as caught:
        _core.load_file(mtsfile.encode("qrnn", [(dict(qrnn_fields, input_size=0),
                                                 qrnn_tensors)]))
    assert caught.value.status_name == "MTS_ERR_BAD_SIZE"
    # scaled skip (1) on a layer with input 5 != output 4
    sru_fields = dict(input_size=5, hidden_size=4, num_directions=1, projection_size=0,
                      activation=0, skip=1, norm=0, quant=0, scale_x=1.0, norm_eps=1e-5)
    sru_tensors = {_core.SRU_KIND_WEIGHT: np.zeros((12, 5), np.float32),
                   _core.SRU_KIND_BIAS: np.zeros(8, np.float32)}
    with pytest.raises(_core.ModelFileError, match="layer 0") as caught:
        _core.load_file(mtsfile.encode("sru", [(sru_fields, sru_tensors)]))
    assert caught.value.status_name == "MTS_ERR_BAD_CONFIG"


def test_nothing_is_lost_after_errors(sru):
    x = frames(10, 6)
    state = sru.initial_state(np.ones((2, 4), np.float32))
    before = state.c.copy()
    h1, s1 = sru.forward(x, state=state, block=4)
    for bad in (x.astype(np.float64), x[:, :5], np.asfortranarray(x)):
        with pytest.raises((TypeError, ValueError)):
            sru.forward(bad, state=state)
    np.testing.assert_array_equal(state.c, before)
    h2, s2 = sru.forward(x, state=state, block=4)
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(s1.c, s2.c)


def test_nan_and_inf_inputs_propagate_without_crashing(sru, qrnn):
    for model in (sru, qrnn):
        x = frames(6, model.input_size)
        x[2, 0] = np.nan
        x[4, 1] = np.inf
        h, state = model.forward(x, block=4)
        assert h.shape == (6, model.output_size)
        assert np.isfinite(h[:2]).all()  # before the NaN arrives, outputs are finite
        assert not np.isfinite(h[2:]).all()


def test_empty_sequence_keeps_state(sru):
    state = sru.initial_state(np.full((2, 4), 0.5, np.float32))
    h, new_state = sru.forward(np.zeros((0, 6), np.float32), state=state)
    assert h.shape == (0, 4)
    np.testing.assert_array_equal(new_state.c, state.c)
