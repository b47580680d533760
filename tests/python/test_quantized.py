"""int8 quantisation (docs/quantization.md): the C kernels against the
independent NumPy reference (host/mtsrnn/reference.py, loaded standalone),
bit-exact where the arithmetic is integer, and the accuracy of each scheme
against the float model.
"""

import re

import mtsrnn
import numpy as np
import pytest
from conftest import (
    GOLDEN_ABS_TOL,
    RANDOM_QRNN_KWARGS,
    RANDOM_SRU_KWARGS,
    assert_abs_close,
    kwargs_id,
    load_reference_standalone,
    max_abs_error,
    random_inputs,
)
from mtsrnn import _core, mtsfile
from mtsrnn.export_c import export_c
from mtsrnn.quantize import SCHEME_CODES, SCHEMES, quantize_rows
from test_export_c import CC, MODELS, build_and_run, kernel_objects  # noqa: F401 (fixture)
from test_hostile_files import (
    TENSOR,
    assemble,
    assert_rejected,
    assert_same_verdict,
    explode,
    frames,
    get,
    patch,
    record_base,
)

reference = load_reference_standalone()

I8F32_VARIANTS, I8I8_VARIANTS = (tuple(name for name, _summary in table)
                                  for table in _core.gemm_i8_variants())

# Accuracy of each scheme against the float model (docs/quantization.md):
# max and mean |h_quantised - h_float| over unit-normal inputs, one layer of
# mtsrnn.random_sru / random_qrnn, hidden 64, 256 and 1024 over 1000 steps.
# Measured: int8-w max 0.0084-0.0136, mean <= 7.8e-4; int8-wa max
# 0.014-0.032, mean <= 1.8e-3.
ACCURACY_BOUNDS = {"int8-w": (0.03, 2e-3), "int8-wa": (0.06, 4e-3)}


def _random_model(cell, kwargs, seed=3):
    build = mtsrnn.random_sru if cell == "sru" else mtsrnn.random_qrnn
    return build(**kwargs, seed=seed)


def _reference_forward(model, x, quantization):
    forward = reference.sru_forward if model.cell == "sru" else reference.qrnn_forward
    return forward(model.state_dict(), x, quantization=quantization, **model.config)[0]


CONFIGS = [("sru", kwargs) for kwargs in RANDOM_SRU_KWARGS] + [
    ("qrnn", kwargs) for kwargs in RANDOM_QRNN_KWARGS]
CONFIG_IDS = [f"{cell}-{kwargs_id(kwargs)}" for cell, kwargs in CONFIGS]


# ------------------------------------------------------------ weights


def test_weight_quantisation_matches_the_reference():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((37, 53)).astype(np.float32)
    weight[3] = 0.0                          # an all-zero row: scale 0, q = 0
    weight[5, :] = 1e-3
    weight[7, 0] = 127.5 * 1e-2              # exact ties once divided by the scale
    weight[7, 1:] = np.arange(52, dtype=np.float32) * np.float32(1e-2) - 0.255
    q, scale = quantize_rows(weight)
    q_ref, scale_ref = reference.quantize_outputs(weight)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    np.testing.assert_array_equal(q, q_ref)
    np.testing.assert_array_equal(scale, scale_ref)
    assert scale[3] == 0 and not q[3].any()
    assert np.all(np.abs(q[scale > 0]).max(axis=1) == 127)
    # Round to nearest: |Wq s - W| <= s / 2 (plus the rounding of s itself).
    error = np.abs(q.astype(np.float64) * scale[:, None] - weight)
    assert np.all(error <= scale[:, None] * (0.5 + 1e-5))


def test_weight_quantisation_rejects_bad_weights():
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_rows(np.array([[1.0, np.nan]], np.float32))
    with pytest.raises(ValueError, match="2-D float32"):
        quantize_rows(np.zeros(4, np.float32))


# ------------------------------------------- the activation quantiser


def _c_quantize(x):
    steps, depth = x.shape
    xq = np.empty((steps, depth), np.int8)
    scale = np.empty(steps, np.float32)
    _core.quantize_rows_i8(np.ascontiguousarray(x, np.float32), steps, depth, xq, scale)
    return xq, scale


def test_activation_quantiser_is_bit_exact():
    rng = np.random.default_rng(2)
    rows = [rng.standard_normal(40) * 10.0 ** rng.integers(-8, 8) for _ in range(300)]
    rows += [np.zeros(40), np.full(40, 1e-30), np.r_[1e-28, np.zeros(39)],
             np.r_[127.0, 0.5, 1.5, 2.5, -2.5, -3.5, 126.5, np.zeros(33)],
             np.r_[np.nan, np.ones(39)], np.r_[np.ones(39), -np.inf],
             np.r_[3.4028235e38, -1.0, np.zeros(38)]]
    x = np.array(rows, dtype=np.float32)
    xq, scale = _c_quantize(x)
    for t, row in enumerate(x):
        q_ref, s_ref = reference.quantize_activation(row)
        np.testing.assert_array_equal(xq[t], q_ref, err_msg=f"row {t}")
        assert scale[t].tobytes() == np.float32(s_ref).tobytes(), f"row {t}"
    # Ties round to even.
    np.testing.assert_array_equal(xq[303, :7], [127, 0, 2, 2, -2, -4, 126])


# ---------------------------------------------------------- products


def _c_product(scheme, index, wq, w_scale, x, x_scale=None):
    rows, depth = wq.shape
    y = np.empty((x.shape[0], rows), np.float32)
    _core.gemm_i8(SCHEME_CODES[scheme], index, rows, depth, x.shape[0], wq, w_scale, x,
                  x_scale, y)
    return y


@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 17, 3), (13, 64, 16), (33, 300, 9)])
def test_int8_wa_products_match_the_integer_reference(shape):
    rows, depth, steps = shape
    rng = np.random.default_rng(depth)
    wq, w_scale = reference.quantize_outputs(rng.standard_normal((rows, depth)))
    x = random_inputs(rng, steps, depth)
    xq, x_scale = _c_quantize(x)
    expected = np.array([reference.quantized_product(wq, w_scale, row, "int8-wa")
                         for row in x], dtype=np.float32)
    ones_rows, ones_steps = np.ones(rows, np.float32), np.ones(steps, np.float32)
    accumulators = wq.astype(np.int64) @ xq.astype(np.int64).T   # (rows, steps)
    for index, name in enumerate(I8I8_VARIANTS):
        y = _c_product("int8-wa", index, wq, w_scale, xq, x_scale)
        np.testing.assert_array_equal(y, expected, err_msg=name)
        # Unit scales: the outputs are the int32 accumulators themselves.
        acc = _c_product("int8-wa", index, wq, ones_rows, xq, ones_steps)
        np.testing.assert_array_equal(acc, accumulators.T.astype(np.float32), err_msg=name)


@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 17, 3), (13, 64, 16), (33, 300, 9)])
def test_int8_w_products_match_the_reference(shape):
    rows, depth, steps = shape
    rng = np.random.default_rng(depth + 1)
    wq, w_scale = reference.quantize_outputs(rng.standard_normal((rows, depth)))
    x = random_inputs(rng, steps, depth)
    expected = np.array([reference.quantized_product(wq, w_scale, row, "int8-w") for row in x])
    magnitude = np.abs(x.astype(np.float64)) @ (np.abs(wq.astype(np.float64)) * w_scale[:, None]).T
    for index, name in enumerate(I8F32_VARIANTS):
        y = _c_product("int8-w", index, wq, w_scale, x)
        assert np.all(np.abs(y - expected) <= magnitude * (depth + 2) * 6e-8 + 1e-30), name


# ------------------------------------------------------------- models


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("cell", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_quantised_model_matches_the_reference(cell, kwargs, scheme):
    model = _random_model(cell, kwargs)
    quantised = mtsrnn.quantize(model, scheme)
    assert quantised.quantization == scheme and model.quantization is None
    x = random_inputs(np.random.default_rng(4), 300, model.input_size)
    expected = _reference_forward(model, x, scheme)
    outputs = {}
    for gemm in mtsrnn.product_variants(scheme):
        outputs[gemm], _ = quantised.forward(x, block=7, variant=gemm)
        assert_abs_close(outputs[gemm], expected, GOLDEN_ABS_TOL,
                         f"{cell} {scheme} with the {gemm} product vs the NumPy reference")
    if scheme == "int8-wa":  # exact integer sums: every product gives the same bits
        first = mtsrnn.product_variants(scheme)[0]
        for gemm, h in outputs.items():
            np.testing.assert_array_equal(h, outputs[first], err_msg=f"{gemm} vs {first}")


def test_forward_names_the_products_of_the_models_scheme():
    model = mtsrnn.random_sru(16, 16, seed=1)
    assert mtsrnn.product_variants() == mtsrnn.product_variants(None)
    assert mtsrnn.product_variants("int8-w") == I8F32_VARIANTS
    assert mtsrnn.product_variants("int8-wa") == I8I8_VARIANTS
    with pytest.raises(ValueError, match="scheme must be one of"):
        mtsrnn.product_variants("int4")
    x = np.zeros((3, 16), np.float32)
    quantised = mtsrnn.quantize(model, "int8-wa")
    float_only = set(mtsrnn.product_variants()) - set(I8I8_VARIANTS)
    for gemm in sorted(float_only) + ["no-such-product"]:
        with pytest.raises(ValueError, match=r"products for int8-wa weights\) or None"):
            quantised.forward(x, variant=gemm)
    with pytest.raises(ValueError, match=r"products for float32 weights\) or None"):
        model.forward(x, variant="no-such-product")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("cell", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_quantised_model_is_block_and_split_invariant(cell, kwargs, scheme):
    model = mtsrnn.quantize(_random_model(cell, kwargs), scheme)
    x = random_inputs(np.random.default_rng(5), 70, model.input_size)
    h_one, state_one = model.forward(x, block=1)
    for gemm in mtsrnn.product_variants(scheme):
        h_gemm_one, _ = model.forward(x, block=1, variant=gemm)
        for block in (2, 3, 16, 64):
            h, state = model.forward(x, block=block, variant=gemm)
            np.testing.assert_array_equal(h, h_gemm_one, err_msg=f"{gemm}, block {block}")
            if gemm == mtsrnn.product_variants(scheme)[0]:
                np.testing.assert_array_equal(state.c, state_one.c)
    if model.config.get("bidirectional"):
        return  # a bidirectional layer needs its whole sequence in one call
    state = model.initial_state()
    pieces = []
    for start, stop in ((0, 1), (1, 20), (20, 21), (21, 70)):
        h, state = model.forward(x[start:stop], state=state, block=8)
        pieces.append(h)
    np.testing.assert_array_equal(np.concatenate(pieces), h_one)
    np.testing.assert_array_equal(state.c, state_one.c)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("cell", ["sru", "qrnn"])
@pytest.mark.parametrize(("hidden", "length"), [(64, 1000), (256, 1000), (1024, 1000)])
def test_accuracy_against_the_float_model(cell, hidden, length, scheme):
    model = _random_model(cell, dict(input_size=hidden, hidden_size=hidden), seed=1)
    x = random_inputs(np.random.default_rng(hidden), length, hidden)
    h_float, _ = model.forward(x, block=16)
    h_quantised, _ = mtsrnn.quantize(model, scheme).forward(x, block=16)
    max_bound, mean_bound = ACCURACY_BOUNDS[scheme]
    error = np.abs(h_quantised.astype(np.float64) - h_float)
    assert error.max() <= max_bound, f"max abs error {error.max():.3g}"
    assert error.mean() <= mean_bound, f"mean abs error {error.mean():.3g}"
    # The float model is no accident of the product: quantisation does change it.
    assert error.max() > 0
    # No drift: the state does not accumulate quantisation noise.
    assert error[-200:].mean() <= 1.5 * error[:200].mean()
    if hidden <= 256:  # the per-step NumPy reference takes seconds at 1024
        assert max_abs_error(h_quantised, _reference_forward(model, x, scheme)) <= 1e-5


def test_weight_bytes_shrink_about_fourfold():
    model = mtsrnn.random_sru(256, 256, seed=0)
    quantised = mtsrnn.quantize(model, "int8-w")
    assert quantised.weight_bytes < model.weight_bytes / 3.5


# ----------------------------------------------------------- export-c


@pytest.mark.skipif(CC is None, reason="gcc is not installed")
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("which", ["sru_bidir_tanh_proj", "sru_norm_before", "qrnn_w2_stack"])
def test_export_c_runs_quantised_models(which, scheme, tmp_path, kernel_objects):  # noqa: F811
    model = mtsrnn.quantize(MODELS[which](), scheme)
    export_c(model, tmp_path, name="net", golden_steps=9, block=4)
    source = (tmp_path / "net.c").read_text()
    assert "static const int8_t net_l0_weight_q[" in source
    assert ".weight = NULL," in source
    assert f".quant = MTS_QUANT_INT8_{scheme[5:].upper()}," in source
    if which == "sru_bidir_tanh_proj":
        assert "net_l0_weight_proj_q" in source and ".weight_proj = NULL," in source
    code, error, stdout = build_and_run(tmp_path, "net", kernel_objects)
    assert code == 0, stdout
    assert error is not None and error <= 1e-4, stdout
    # The exported weight bytes count the int8 arrays, one byte per weight.
    header = (tmp_path / "net.h").read_text()
    exported = int(re.search(r"#define NET_WEIGHT_BYTES (\d+)u", header).group(1))
    assert exported == mtsfile.read(mtsfile.to_bytes(model)).tensor_bytes


# ---------------------------------------------------------- .mts files


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("cell", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_quantised_files_round_trip(cell, kwargs, scheme, tmp_path):
    model = mtsrnn.quantize(_random_model(cell, kwargs), scheme)
    path = tmp_path / "q.mts"
    model.save(path)
    data = path.read_bytes()
    contents = mtsfile.read(data)
    assert contents.version == (1, 1)
    assert {layer["quant"] for layer in contents.layers} == {SCHEME_CODES[scheme]}
    assert contents.tensors[0][1].dtype == np.int8
    loaded = mtsrnn.load(path)
    assert loaded.quantization == scheme
    assert mtsfile.to_bytes(loaded) == data  # the int8 tensors come back as stored
    x = random_inputs(np.random.default_rng(6), 40, model.input_size)
    np.testing.assert_array_equal(loaded.forward(x, block=5)[0], model.forward(x, block=5)[0])
    # The C loader runs the file in place to the same bits.
    assert assert_same_verdict(data, frames) == "MTS_OK"


def test_float_files_stay_version_1_0():
    data = mtsfile.to_bytes(mtsrnn.random_qrnn(3, 4, seed=1))
    assert mtsfile.read(data).version == (1, 0)
    assert mtsrnn.load(data).quantization is None


def _qrnn_int8_file(scheme="int8-w"):
    """One QRNN layer: tensor records weight (int8), bias, weight_scale."""
    return mtsfile.to_bytes(mtsrnn.quantize(mtsrnn.random_qrnn(3, 4, seed=2), scheme))


def test_corrupt_quantised_files_are_rejected_alike():
    """The Python reader and the C loader give the same status for each."""
    data = _qrnn_int8_file()
    assert assert_same_verdict(data, frames) == "MTS_OK"
    rows = get(data, TENSOR, record_base(data, "tensor", 0), "dim0")
    cols = get(data, TENSOR, record_base(data, "tensor", 0), "dim1")
    cases = {
        # int8 nbytes are dim0 * dim1, not * 4.
        "int8_nbytes_as_float": (patch(data, "tensor", 0, nbytes=rows * cols * 4),
                                 "MTS_ERR_FILE_TENSOR"),
        # The scale record is the last one: without it the weight has no scales.
        "missing_scales": (patch(data, "header", num_tensors=2), "MTS_ERR_FILE_SHAPE"),
        "scales_of_wrong_length": (patch(data, "tensor", 2, dim0=rows - 1,
                                         nbytes=4 * (rows - 1)), "MTS_ERR_FILE_SHAPE"),
        "int8_scales": (patch(data, "tensor", 2, dtype=2, nbytes=rows), "MTS_ERR_FILE_TENSOR"),
        "int8_bias": (patch(data, "tensor", 1, dtype=2, nbytes=rows), "MTS_ERR_FILE_TENSOR"),
        "dtype_3": (patch(data, "tensor", 0, dtype=3), "MTS_ERR_FILE_TENSOR"),
        # quant 0 (a float layer) over int8 weights; quant 3 is no scheme.
        "float_layer_int8_weight": (patch(data, "layer", 0, reserved16=0), "MTS_ERR_FILE_SHAPE"),
        "quant_3": (patch(data, "layer", 0, reserved16=3), "MTS_ERR_BAD_CONFIG"),
        "reserved_byte_15": (patch(data, "layer", 0, reserved16=0x101), "MTS_ERR_FILE_LAYER"),
    }
    for name, (corrupt, status) in cases.items():
        assert assert_same_verdict(corrupt, frames) == status, name
    # int8-w and int8-wa files differ only in the quant byte; both load.
    switched = patch(data, "layer", 0, reserved16=2)
    assert assert_same_verdict(switched, frames) == "MTS_OK"
    assert mtsrnn.load(switched).quantization == "int8-wa"


def test_scales_for_a_float_weight_are_rejected():
    data = mtsfile.to_bytes(mtsrnn.random_qrnn(3, 4, seed=3))
    cell, layers, tensors = explode(data)
    rows = tensors[0][3]
    scales = (0, 3, 1, rows, 1, np.ones(rows, np.float32).tobytes())
    assert_rejected(assemble(cell, layers, tensors + [scales]), "MTS_ERR_FILE_SHAPE")


@pytest.mark.parametrize("scheme", ["int8", "INT8-W", "int4-w", None, 8])
def test_unknown_scheme_is_rejected(scheme):
    with pytest.raises(ValueError, match="must be one of"):
        mtsrnn.quantize(mtsrnn.random_sru(4, 4), scheme)


def test_quantising_twice_saving_and_non_models_are_rejected(tmp_path):
    quantised = mtsrnn.quantize(mtsrnn.random_qrnn(4, 4), "int8-wa")
    with pytest.raises(ValueError, match="already quantised"):
        mtsrnn.quantize(quantised, "int8-w")
    with pytest.raises(TypeError, match="mtsrnn.Model"):
        mtsrnn.quantize({"weight": np.zeros((2, 2))}, "int8-w")
    with pytest.raises(ValueError, match="quantization must be one of"):
        reference.qrnn_forward({"layers.0.linear.weight": np.zeros((8, 4)),
                                "layers.0.linear.bias": np.zeros(8)},
                               np.zeros((2, 4)), quantization="int8")


def test_binding_checks_int8_arrays():
    """int8 weights reach the kernels in an .mts image; the C loader checks
    their dtype, size, scales and scheme."""
    weight_q = np.zeros((8, 4), np.int8)
    scale = np.ones(8, np.float32)
    bias = np.zeros(8, np.float32)
    fields = dict(input_size=4, hidden_size=4, window=1, input_gate=0, output_gate=0,
                  quant=1, zoneout=0.0)

    def load(weight, weight_scale, **changed):
        tensors = {_core.QRNN_KIND_WEIGHT: weight, _core.QRNN_KIND_BIAS: bias,
                   _core.QRNN_KIND_WEIGHT_SCALE: weight_scale}
        return _core.load_file(mtsfile.encode("qrnn", [(dict(fields, **changed), tensors)]))

    assert load(weight_q, scale).output_size == 4
    for weight, weight_scale, changed, status, match in (
            (weight_q.astype(np.float32), scale, {}, "MTS_ERR_FILE_SHAPE", "dtype"),
            (weight_q[:4], scale, {}, "MTS_ERR_FILE_SHAPE", "weight"),
            (weight_q, scale[:4], dict(quant=2), "MTS_ERR_FILE_SHAPE", "weight_scale"),
            (weight_q, scale, dict(quant=3), "MTS_ERR_BAD_CONFIG", "layer 0")):
        with pytest.raises(_core.ModelFileError, match=match) as caught:
            load(weight, weight_scale, **changed)
        assert caught.value.status_name == status
    with pytest.raises(ValueError, match="depth"):
        _core.gemm_i8(2, 0, 1, 0, 1, weight_q, scale, weight_q, scale, scale)


# ---------------------------------------------------------------- CLI


def test_cli_convert_quantize_and_inspect(tmp_path):
    from test_cli_model import run

    model = mtsrnn.random_sru(6, 4, projection_size=3, seed=7)
    np.savez(tmp_path / "sru.npz", **model.state_dict())
    out = tmp_path / "q.mts"
    result = run("convert", tmp_path / "sru.npz", "--cell", "sru", "--quantize", "int8-wa",
                 "-o", out, torch=False)
    assert result.returncode == 0, result.stderr
    assert "weights int8-wa" in result.stdout
    assert out.read_bytes() == mtsfile.to_bytes(mtsrnn.quantize(model, "int8-wa"))
    result = run("inspect", out, torch=False)
    assert result.returncode == 0, result.stderr
    assert "format 1.1" in result.stdout and ", weights int8-wa" in result.stdout
    assert "weight_proj 3x6 int8" in result.stdout and "weight_scale 16" in result.stdout
    weight_bytes = mtsfile.read(out.read_bytes()).tensor_bytes
    assert f"weight bytes: {weight_bytes} (int8 product weights" in result.stdout
    bad = run("convert", tmp_path / "sru.npz", "--cell", "sru", "--quantize", "int4",
              "-o", out, torch=False)
    assert bad.returncode == 2 and "invalid choice: 'int4'" in bad.stderr
