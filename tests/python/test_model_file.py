"""The .mts model file (docs/model-format.md): `Model.save` and `mtsrnn.load`
round-trip every SRU and QRNN configuration bit for bit, the C loader
(`_core.load_file`, mts_file_load) reads the same files to the same outputs,
the bytes are deterministic and follow the documented layout."""

import io
import struct
import zlib

import mtsrnn
import numpy as np
import pytest
from conftest import make_qrnn_state_dict, make_sru_state_dict, qrnn_specs, sru_specs
from hypothesis import given, settings
from hypothesis import strategies as st
from mtsrnn import _core, mtsfile
from mtsrnn.mtsfile import ModelFileError, UnsupportedModelError

SRU_CONFIGS = {
    "plain_k3": dict(input_size=4, hidden_size=4),
    "k4_stack": dict(input_size=5, hidden_size=3, num_layers=3),
    "bidirectional_tanh": dict(input_size=6, hidden_size=3, num_layers=2, bidirectional=True,
                               use_tanh=True),
    "bidirectional_k4": dict(input_size=5, hidden_size=3, num_layers=2, bidirectional=True),
    "projection": dict(input_size=8, hidden_size=6, num_layers=2, projection_size=3),
    "norm_before": dict(input_size=8, hidden_size=6, num_layers=2, layer_norm=True),
    "norm_after": dict(input_size=6, hidden_size=6, num_layers=2, layer_norm=True,
                       normalize_after=True),
    "norm_after_k4": dict(input_size=7, hidden_size=5, num_layers=2, layer_norm=True,
                          normalize_after=True),
    "v1": dict(input_size=4, hidden_size=4, num_layers=2, v1=True),
    "v1_k4_rescale": dict(input_size=3, hidden_size=5, v1=True, rescale=True),
    "no_skip": dict(input_size=3, hidden_size=5, num_layers=2, has_skip_term=False),
    "no_skip_tanh_norm": dict(input_size=5, hidden_size=5, layer_norm=True,
                              has_skip_term=False, use_tanh=True),
    "everything": dict(input_size=9, hidden_size=4, num_layers=3, bidirectional=True,
                       projection_size=5, layer_norm=True, normalize_after=True, use_tanh=True,
                       rescale=True, highway_bias=-1.0),
    "everything_before": dict(input_size=9, hidden_size=4, num_layers=2, bidirectional=True,
                              projection_size=2, layer_norm=True, use_tanh=True, rescale=True),
}

QRNN_CONFIGS = {
    f"w{window}_{pooling}{'' if gate else '_nogate'}_l{layers}_z{zoneout}": dict(
        input_size=5, hidden_size=3 + window, num_layers=layers, window=window, pooling=pooling,
        output_gate=gate, zoneout=zoneout)
    for window in (1, 2, 3)
    for pooling, gate in (("f", False), ("fo", True), ("fo", False), ("ifo", True),
                          ("ifo", False))
    for layers, zoneout in ((1, 0.0), (3, 0.25))
}


def make(cell, config, seed=0):
    if cell == "sru":
        return mtsrnn.random_sru(seed=seed, **config)
    return mtsrnn.random_qrnn(seed=seed, **config)


ALL = [("sru", name) for name in SRU_CONFIGS] + [("qrnn", name) for name in QRNN_CONFIGS]


def config_of(cell, name):
    return (SRU_CONFIGS if cell == "sru" else QRNN_CONFIGS)[name]


def frames(length, width, seed=1):
    return np.random.default_rng(seed).standard_normal((length, width)).astype(np.float32)


def c_forward(core, x, block, state=None):
    """Run a model loaded by the C loader: h and the new flat state."""
    h = np.empty((x.shape[0], core.output_size), dtype=np.float32)
    buffer = np.zeros(core.state_floats, np.float32) if state is None else state.copy()
    core.forward(x, x.shape[0], buffer, h, block)
    return h, buffer


@pytest.mark.parametrize("cell,name", ALL, ids=[f"{c}-{n}" for c, n in ALL])
def test_round_trip(cell, name, tmp_path):
    model = make(cell, config_of(cell, name), seed=len(name))
    path = tmp_path / "model.mts"
    model.save(path)
    data = path.read_bytes()
    loaded = mtsrnn.load(path)
    assert (loaded.cell, loaded.num_layers, loaded.input_size, loaded.output_size) == (
        model.cell, model.num_layers, model.input_size, model.output_size)
    assert loaded.state_floats == model.state_floats

    # The weights come back bit for bit, in the PyTorch layout.
    original = model.state_dict()
    restored = loaded.state_dict()
    if cell == "sru":
        for key, value in original.items():
            np.testing.assert_array_equal(restored[key], value, err_msg=key)
        assert set(restored) == set(original) | {key for key in restored
                                                 if key.endswith("scale_x")}
    else:
        assert set(restored) == set(original)
        for key, value in original.items():
            np.testing.assert_array_equal(restored[key], value, err_msg=key)

    # The configuration too (f-pooling reads back as "fo" without output gate: the same).
    expected = dict(model.config)
    if cell == "qrnn" and expected["pooling"] == "f":
        expected["pooling"] = "fo"
    assert loaded.config == expected

    # Identical outputs and states: same kernels, same float32 bits.
    x = frames(23, model.input_size)
    rng = np.random.default_rng(5)
    c0 = rng.uniform(-1, 1, (model.num_layers, model.output_size)).astype(np.float32)
    for block in (1, 4, 16):
        h0, s0 = model.forward(x, model.initial_state(c0), block=block)
        h1, s1 = loaded.forward(x, loaded.initial_state(c0), block=block)
        np.testing.assert_array_equal(h1, h0)
        np.testing.assert_array_equal(s1.c, s0.c)

    # The C loader reads the same bytes to the same outputs, weights in place.
    core = _core.load_file(data)
    assert (core.input_size, core.output_size, core.state_floats) == (
        model.input_size, model.output_size, model.state_floats)
    state = model.initial_state(c0)
    for block in (1, 7):
        h_c, state_c = c_forward(core, x, block, state._buffer)
        h_py, state_py = model.forward(x, state, block=block)
        np.testing.assert_array_equal(h_c, h_py)
        np.testing.assert_array_equal(state_c, state_py._buffer)
    for block in (1, 16):
        assert core.workspace_size(block, 23) == model.workspace_bytes(block, 23)

    # Deterministic: the same model gives the same bytes, and so does the loaded one.
    assert mtsfile.to_bytes(model) == data
    assert mtsfile.to_bytes(loaded) == data


def test_layout_of_a_file():
    """Header, tables, alignment and CRC exactly as docs/model-format.md says."""
    model = mtsrnn.random_sru(5, 3, num_layers=2, projection_size=2, layer_norm=True, seed=3)
    data = mtsfile.to_bytes(model)
    (magic, major, minor, byte_order, header_size, cell, num_layers, num_tensors, file_size,
     layer_table, tensor_table, crc, flags, reserved) = struct.unpack_from(
        "<8sHHIIIIIQIIII8s", data, 0)
    assert magic == b"\x89MTS\r\n\x1a\n" == bytes.fromhex("894D54530D0A1A0A")
    assert (major, minor, header_size, flags, reserved) == (1, 0, 64, 0, bytes(8))
    assert data[12:16] == bytes([4, 3, 2, 1]) and byte_order == 0x01020304
    assert (cell, num_layers, file_size) == (1, 2, len(data))
    assert (layer_table, tensor_table) == (64, 64 + 32 * 2)
    # Layer 0 has weight, weight_proj, weight_c, bias, norm weight and bias; layer 1 too.
    assert num_tensors == 12
    zeroed = data[:48] + bytes(4) + data[52:]
    assert crc == zlib.crc32(zeroed) == mtsfile.crc32(data)
    end_of_tables = tensor_table + 48 * num_tensors
    previous_end = end_of_tables
    for index in range(num_tensors):
        (layer, kind, dtype, ndim, dim0, dim1, offset, nbytes) = struct.unpack_from(
            "<IIIIQQQQ", data, tensor_table + 48 * index)
        assert dtype == 1 and ndim in (1, 2) and nbytes == dim0 * dim1 * 4
        assert offset % 64 == 0 and offset >= previous_end
        assert data[previous_end:offset] == bytes(offset - previous_end)  # zero padding
        previous_end = offset + nbytes
        if ndim == 1:
            assert dim1 == 1
    assert previous_end == file_size
    # Layer 0 record: n 5, d 3, D 1, p 2, identity, projected skip, norm before.
    n, d, directions, p, activation, skip, norm, zero, scale_x, eps, zero32 = struct.unpack_from(
        "<IIIIBBBBffI", data, 64)
    assert (n, d, directions, p, activation, skip, norm, zero, zero32) == (5, 3, 1, 2, 0, 2, 1,
                                                                          0, 0)
    assert eps == np.float32(1e-5) and scale_x == 1.0


def test_sru_weight_rows_follow_the_kernel_layout():
    """Row (dir*k + g)*d + j of the stored weight is column (dir*d + j)*k + g of
    sru's weight; weight_proj is stored transposed (p, n)."""
    model = mtsrnn.random_sru(7, 3, bidirectional=True, projection_size=4, seed=9)
    contents = mtsfile.read(mtsfile.to_bytes(model))
    stored = contents.tensors[0][mtsfile.KIND_WEIGHT]
    weight = model.state_dict()["rnn_lst.0.weight"]
    k, d = 4, 3
    assert stored.shape == (2 * k * d, 4)
    for direction in range(2):
        for g in range(k):
            for j in range(d):
                np.testing.assert_array_equal(stored[(direction * k + g) * d + j],
                                              weight[:, (direction * d + j) * k + g])
    np.testing.assert_array_equal(contents.tensors[0][mtsfile.SRU_KIND_WEIGHT_PROJ],
                                  model.state_dict()["rnn_lst.0.weight_proj"].T)


def test_qrnn_weight_is_stored_as_is():
    model = mtsrnn.random_qrnn(3, 2, window=3, pooling="ifo", seed=2)
    contents = mtsfile.read(mtsfile.to_bytes(model))
    np.testing.assert_array_equal(contents.tensors[0][1],
                                  model.state_dict()["layers.0.linear.weight"])
    assert contents.layers[0] == dict(input_size=3, hidden_size=2, window=3, input_gate=1,
                                      output_gate=1, zoneout=0.0, quant=0)


def test_sru_cell_state_dict():
    """A model built from an SRUCell state dict (no rnn_lst. prefix) round-trips
    (it comes back with the stack's keys)."""
    stack = mtsrnn.random_sru(4, 4, seed=4)
    cell_dict = {key.removeprefix("rnn_lst.0."): value
                 for key, value in stack.state_dict().items()}
    model = mtsrnn.from_sru_state_dict(cell_dict)
    loaded = mtsrnn.load(mtsfile.to_bytes(model))
    assert set(loaded.state_dict()) == {f"rnn_lst.0.{key}" for key in cell_dict}
    x = frames(9, 4)
    np.testing.assert_array_equal(loaded.forward(x)[0], model.forward(x)[0])
    assert mtsfile.to_bytes(model) == mtsfile.to_bytes(stack)


def test_sources_and_destinations(tmp_path):
    model = mtsrnn.random_qrnn(3, 4, window=2, seed=6)
    data = mtsfile.to_bytes(model)
    buffer = io.BytesIO()
    mtsfile.save(model, buffer)
    assert buffer.getvalue() == data
    path = tmp_path / "m.mts"
    model.save(str(path))
    assert path.read_bytes() == data
    for source in (path, str(path), data, bytearray(data), memoryview(data), io.BytesIO(data)):
        assert mtsfile.to_bytes(mtsrnn.load(source)) == data
    assert mtsrnn.load is mtsfile.load
    assert mtsrnn.ModelFileError is ModelFileError
    with pytest.raises(TypeError, match="expected a path, bytes"):
        mtsrnn.load(12)
    with pytest.raises(FileNotFoundError):
        mtsrnn.load(tmp_path / "missing.mts")


def test_values_come_back_as_typed():
    """zoneout and layer_norm_eps are float32 in the file; the loaded config holds
    the shortest decimal with the same float32 value."""
    qrnn = mtsrnn.load(mtsfile.to_bytes(mtsrnn.random_qrnn(2, 2, zoneout=0.1)))
    assert qrnn.config["zoneout"] == 0.1
    sru = mtsrnn.from_sru_state_dict(mtsrnn.random_sru(4, 4, layer_norm=True).state_dict(),
                                     layer_norm_eps=3e-6)
    assert mtsrnn.load(mtsfile.to_bytes(sru)).config["layer_norm_eps"] == 3e-6


def test_non_finite_weights_round_trip():
    model = mtsrnn.random_sru(3, 3, seed=7)
    state = model.state_dict()
    state["rnn_lst.0.weight"][0, :3] = [np.nan, np.inf, -np.inf]
    state["rnn_lst.0.bias"][0] = -0.0
    state["rnn_lst.0.bias"][1] = np.float32(1e-45)  # the smallest subnormal
    odd = mtsrnn.from_sru_state_dict(state)
    loaded = mtsrnn.load(mtsfile.to_bytes(odd))
    for key, value in state.items():
        assert loaded.state_dict()[key].tobytes() == value.tobytes(), key


def test_trailing_bytes():
    """The C loader accepts a buffer longer than the file (a flash partition);
    the Python reader wants the exact file and says so."""
    data = mtsfile.to_bytes(mtsrnn.random_sru(4, 4, seed=8)) + bytes(16)
    _core.load_file(data)
    with pytest.raises(ModelFileError, match="16 trailing bytes") as error:
        mtsrnn.load(data)
    assert error.value.status == "MTS_ERR_FILE_HEADER"
    assert error.value.code == 13


def layer_pair(cell, first, second):
    """An image of two kernel-level layers taken from two models."""
    return mtsfile.encode(cell, mtsfile.kernel_layers(first)[:1]
                          + mtsfile.kernel_layers(second)[1:2])


UNSUPPORTED = {
    "sru_mixed_activation": lambda: layer_pair(
        "sru", mtsrnn.random_sru(4, 4, num_layers=2, seed=1),
        mtsrnn.random_sru(4, 4, num_layers=2, use_tanh=True, seed=2)),
    "sru_mixed_skip": lambda: layer_pair(
        "sru", mtsrnn.random_sru(4, 4, num_layers=2, seed=1),
        mtsrnn.random_sru(4, 4, num_layers=2, has_skip_term=False, seed=2)),
    "sru_mixed_norm_placement": lambda: layer_pair(
        "sru", mtsrnn.random_sru(4, 4, num_layers=2, layer_norm=True, seed=1),
        mtsrnn.random_sru(4, 4, num_layers=2, layer_norm=True, normalize_after=True, seed=2)),
    "sru_mixed_directions": lambda: layer_pair(
        "sru", mtsrnn.random_sru(4, 4, num_layers=2, seed=1),
        mtsrnn.random_sru(4, 2, num_layers=2, bidirectional=True, seed=2)),
    "qrnn_mixed_window": lambda: layer_pair(
        "qrnn", mtsrnn.random_qrnn(3, 3, num_layers=2, seed=1),
        mtsrnn.random_qrnn(3, 3, num_layers=2, window=2, seed=2)),
    "qrnn_mixed_zoneout": lambda: layer_pair(
        "qrnn", mtsrnn.random_qrnn(3, 3, num_layers=2, seed=1),
        mtsrnn.random_qrnn(3, 3, num_layers=2, zoneout=0.5, seed=2)),
    "qrnn_mixed_gates": lambda: layer_pair(
        "qrnn", mtsrnn.random_qrnn(3, 3, num_layers=2, seed=1),
        mtsrnn.random_qrnn(3, 3, num_layers=2, pooling="ifo", seed=2)),
}


def _k4_with_equal_sizes():
    """An SRU layer with a projected skip term (k = 4) although n == out: the
    kernels run it, sru would use k = 3."""
    fields, tensors = mtsfile.kernel_layers(mtsrnn.random_sru(4, 4, seed=1))[0]
    fields = dict(fields, skip=2)
    weight = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype(np.float32)
    return mtsfile.encode("sru", [(fields, {**tensors, 1: weight})])


UNSUPPORTED["sru_projected_skip_equal_sizes"] = _k4_with_equal_sizes


@pytest.mark.parametrize("which", sorted(UNSUPPORTED))
def test_valid_for_the_kernels_but_not_a_model(which):
    """Files whose layers differ in a per-stack PyTorch option: the C loader
    accepts them; the Python reader validates them (read) but load raises
    UnsupportedModelError, saying why."""
    data = UNSUPPORTED[which]()
    _core.load_file(data)
    contents = mtsfile.read(data)
    assert contents.file_size == len(data)
    with pytest.raises(UnsupportedModelError, match="valid for the kernels|kernels accept") \
            as error:
        mtsrnn.load(data)
    assert error.value.status == "UNSUPPORTED"
    assert isinstance(error.value, ModelFileError) and isinstance(error.value, ValueError)


def test_status_codes_mirror_status_h():
    """STATUS_CODES matches the C enum: every name's description from the C side
    matches its role, and the codes are the C values."""
    assert mtsfile.STATUS_CODES["MTS_OK"] == 0
    assert sorted(mtsfile.STATUS_CODES.values()) == list(range(21))
    assert _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_CRC"]).startswith(
        "model file CRC-32 mismatch")
    assert "bad magic" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_MAGIC"])
    assert "truncated" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_TRUNCATED"])
    assert "tensor record" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_TENSOR"])
    assert "contradict" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_SHAPE"])
    assert "layer record" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_FILE_LAYER"])
    assert "not finite" in _core.status_str(mtsfile.STATUS_CODES["MTS_ERR_BAD_VALUE"])
    assert "unknown status" in _core.status_str(21)
    # The C loader reports the same codes.
    with pytest.raises(_core.ModelFileError) as error:
        _core.load_file(b"not a model file, but long enough to hold a whole header........")
    assert error.value.args[1] == mtsfile.STATUS_CODES["MTS_ERR_FILE_MAGIC"]


def test_error_messages_say_what_and_what_was_expected():
    data = bytearray(mtsfile.to_bytes(mtsrnn.random_sru(4, 4, seed=1)))
    data[-1] ^= 0x40
    with pytest.raises(ModelFileError, match=r"CRC-32 mismatch: the header says 0x[0-9a-f]{8}, "
                       r"the data gives 0x[0-9a-f]{8}") as error:
        mtsrnn.load(bytes(data))
    assert error.value.status == "MTS_ERR_FILE_CRC" and error.value.code == 14
    assert str(error.value).endswith("[MTS_ERR_FILE_CRC]")


# ---- random configurations (the shared builders of conftest.py) ----------------


def check_round_trip(model):
    data = mtsfile.to_bytes(model)
    loaded = mtsrnn.load(data)
    core = _core.load_file(data)
    x = frames(11, model.input_size, seed=3)
    h, _state = model.forward(x, block=3)
    np.testing.assert_array_equal(loaded.forward(x, block=3)[0], h)
    np.testing.assert_array_equal(c_forward(core, x, 3)[0], h)
    assert mtsfile.to_bytes(loaded) == data


@settings(max_examples=200)
@given(spec=sru_specs(), seed=st.integers(0, 2**32 - 1))
def test_round_trip_random_sru(spec, seed):
    state_dict, config = make_sru_state_dict(np.random.default_rng(seed), **spec)
    check_round_trip(mtsrnn.from_sru_state_dict(state_dict, **config))


@settings(max_examples=200)
@given(spec=qrnn_specs(), seed=st.integers(0, 2**32 - 1))
def test_round_trip_random_qrnn(spec, seed):
    state_dict, config = make_qrnn_state_dict(np.random.default_rng(seed), **spec)
    check_round_trip(mtsrnn.from_qrnn_state_dict(state_dict, **config))
