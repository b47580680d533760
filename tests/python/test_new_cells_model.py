"""minGRU, minLSTM and IndRNN as stages of a model (.mts 2.0 kinds 6, 7, 8):
through the C loader and kernels against float64 equations written here
(docs/spec.md 6, 7), in files from tests/python/stage_files.py (the format
document's bytes, independent of the package's writer), mixed with SRU,
QRNN, norm, dense and softmax stages; T in {1, 3, 4, 16}, streamed in
pieces, every product variant, float32 and both int8 schemes; the package's
Model/save/load/quantize/export-c round trips; and every hostile record
value a specific status (both readers)."""

import io
import struct
import zlib

import mtsrnn
import numpy as np
import pytest
import stage_files
from mtsrnn import _core, mtsfile
from mtsrnn.stages import STATUS_NAMES

TOL = 1e-5
F32 = np.float32


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def g(a):
    return np.where(a >= 0, a + 0.5, sigmoid(np.minimum(a, 0.0)))


def dequant(tensors, name, scale):
    w = np.asarray(tensors[name], np.float64)
    return w * np.asarray(tensors[scale], np.float64)[:, None] if scale in tensors else w


def quant_act(x):
    """int8-wa: the product input per step, symmetric, round half even."""
    s = np.float32(np.abs(x).max() / 127.0)
    if s == 0:
        return np.zeros_like(x)
    return np.clip(np.rint(x / np.float64(s)), -127, 127) * np.float64(s)


def reference(stages, x):
    """float64 forward of the stages from the zero state (affine norm,
    unidirectional SRU without projection or norm, QRNN window 1 fo, dense,
    softmax and the three
    new cells); int8 weights dequantised, int8-wa inputs quantised per step."""
    h = x.astype(np.float64)
    for kind, f, t in stages:
        wa = f.get("quant") == 2
        prod = ((lambda w, v: w @ quant_act(v)) if wa else (lambda w, v: w @ v))
        rows = []
        if kind in ("mingru", "minlstm"):
            w = dequant(t, "weight", "weight_scale")
            hid = f["hidden_size"]
            state = np.zeros(hid)
            for v in h:
                u = prod(w, v)
                if kind == "mingru":
                    z = sigmoid(u[hid:])
                    state = (1 - z) * state + z * g(u[:hid])
                else:
                    fg, ig = sigmoid(u[hid:2 * hid]), sigmoid(u[2 * hid:])
                    state = fg / (fg + ig) * state + ig / (fg + ig) * g(u[:hid])
                rows.append(prod(dequant(t, "weight_out", "weight_out_scale"), state)
                            if f["has_output"] else state)
        elif kind == "indrnn":
            w = dequant(t, "weight", "weight_scale")
            state = np.zeros(f["hidden_size"])
            act = np.tanh if f["activation"] == 2 else (lambda v: np.maximum(v, 0))
            for v in h:
                state = act(prod(w, v) + t["weight_hh"] * state + t["bias"])
                rows.append(state)
        elif kind == "sru":
            d = f["hidden_size"]
            c = np.zeros(d)
            w = dequant(t, "weight", "weight_scale")
            for v in h:
                u = prod(w, v)
                fg = sigmoid(u[d:2 * d] + t["bias"][:d])
                r = sigmoid(u[2 * d:] + t["bias"][d:])
                c = fg * c + (1 - fg) * u[:d]
                rows.append(r * c + (1 - r) * v * f["scale_x"])
        elif kind == "qrnn":
            d = f["hidden_size"]
            c = np.zeros(d)
            w = dequant(t, "weight", "weight_scale")
            for v in h:
                u = prod(w, v) + t["bias"]
                fg = sigmoid(u[d:2 * d])
                c = fg * np.tanh(u[:d]) + (1 - fg) * c
                rows.append(sigmoid(u[2 * d:]) * c)
        elif kind == "dense":
            w = dequant(t, "weight", "weight_scale")
            rows = [prod(w, v) + t.get("bias", 0.0) for v in h]
        elif kind == "norm":  # affine
            rows = list(h * t["weight"] + t["bias"])
        elif kind == "softmax":
            z = h - h.max(axis=1, keepdims=True)
            rows = list(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
        h = np.array(rows)
    return h


def quantized(w, quant):
    scale = (np.abs(w).max(axis=1) / 127).astype(F32)
    return np.clip(np.rint(w / scale[:, None].astype(np.float64)), -127, 127).astype(np.int8), scale


def weights(tensors, quant, name="weight", scale="weight_scale"):
    w = tensors.pop(name)
    if quant:
        tensors[name], tensors[scale] = quantized(w, quant)
    else:
        tensors[name] = w


def mixed_model(rng, quant=0):
    """norm -> minGRU (to_out) -> SRU -> minLSTM -> IndRNN tanh -> QRNN -> IndRNN relu
    -> minGRU -> dense -> softmax."""
    def u(*shape, scale=0.6):
        return rng.uniform(-scale, scale, shape).astype(F32)

    def min_stage(kind, n, hid, out):
        gates = 2 if kind == "mingru" else 3
        t = {"weight": u(gates * hid, n)}
        weights(t, quant)
        if out is not None:
            t["weight_out"] = u(out, hid)
            weights(t, quant, "weight_out", "weight_out_scale")
        return (kind, {"input_size": n, "hidden_size": hid,
                       "output_size": hid if out is None else out,
                       "has_output": int(out is not None), "quant": quant}, t)

    def indrnn(n, hid, act):
        t = {"weight": u(hid, n), "bias": u(hid, scale=0.2), "weight_hh": u(hid, scale=0.95)}
        weights(t, quant)
        return ("indrnn", {"input_size": n, "hidden_size": hid, "activation": act,
                           "quant": quant}, t)

    sru = {"weight": u(18, 6), "bias": u(12, scale=0.3)}
    weights(sru, quant)
    qrnn = {"weight": u(15, 5), "bias": u(15, scale=0.3)}
    weights(qrnn, quant)
    dense = {"weight": u(4, 7), "bias": u(4)}
    weights(dense, quant)
    return [
        ("norm", {"size": 5, "mode": 0}, {"weight": u(5) + 1, "bias": u(5)}),
        min_stage("mingru", 5, 9, 6),
        ("sru", {"input_size": 6, "hidden_size": 6, "num_directions": 1, "skip": 1,
                 "scale_x": 1.0, "norm_eps": 1e-5, "quant": quant}, sru),
        min_stage("minlstm", 6, 7, None),
        indrnn(7, 5, 2),
        ("qrnn", {"input_size": 5, "hidden_size": 5, "window": 1, "output_gate": 1,
                  "quant": quant}, qrnn),
        indrnn(5, 6, 1),
        min_stage("mingru", 6, 7, None),
        ("dense", {"input_size": 7, "output_size": 4, "quant": quant}, dense),
        ("softmax", {"size": 4}, {}),
    ]


def run(core, x, block, pieces=None, gemm=None):
    state = np.zeros(core.state_floats, F32)
    out = np.empty((len(x), core.output_size), F32)
    cuts = [0, len(x)] if pieces is None else [0, *(int(c) for c in np.cumsum(pieces))]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        hs = np.empty((b - a, core.output_size), F32)
        core.forward(np.ascontiguousarray(x[a:b]), b - a, state, hs, block, gemm)
        out[a:b] = hs
    return out


# int8-wa quantises each product input: a rounding tie may flip between the
# float32 kernels and the float64 reference, so its bound is the product's step.
TOLS = {0: TOL, 1: TOL, 2: 2e-3}


@pytest.mark.parametrize("quant", [0, 1, 2])
def test_mixed_model_matches_float64_equations(quant):
    rng = np.random.default_rng(20 + quant)
    stages = mixed_model(rng, quant)
    core = _core.load_file(stage_files.image(stages))
    # state: minGRU 9 + SRU 6 + minLSTM 7 + IndRNN 5 + QRNN 5 + IndRNN 6 + minGRU 7
    assert (core.input_size, core.output_size, core.state_floats) == (5, 4, 45)
    x = rng.uniform(-2, 2, (48, 5)).astype(F32)
    want = reference(stages, x)
    scheme = {0: None, 1: "int8-w", 2: "int8-wa"}[quant]
    for gemm in mtsrnn.product_variants(scheme):
        for block in (1, 3, 4, 16):
            for pieces in (None, [1, 2, 13, 32]):
                got = run(core, x, block, pieces, gemm)
                err = np.max(np.abs(got - want))
                assert err <= TOLS[quant], (gemm, block, pieces, err)


def test_package_writer_reader_and_quantize_agree_with_the_independent_file():
    rng = np.random.default_rng(7)
    stages = mixed_model(rng)
    data = stage_files.image(stages)
    model = mtsrnn.load(data)
    assert model.kinds == tuple(kind for kind, _f, _t in stages)
    assert model.state_floats == 45
    # What the package writes of it reads back to the same stages.
    again = mtsrnn.load(bytes(model.image))
    for mine, theirs in zip(again.stages, model.stages, strict=True):
        assert dict(mine.fields) == dict(theirs.fields)
        assert all(np.array_equal(mine.tensors[k], v) for k, v in theirs.tensors.items())
    x = rng.uniform(-2, 2, (20, 5)).astype(F32)
    want = reference(stages, x)
    assert np.max(np.abs(model.forward(x, block=4)[0] - want)) <= TOL
    ref = mtsrnn.reference.model_forward(model.reference_parts(), x)
    assert np.max(np.abs(ref - want)) <= 1e-9
    for scheme in ("int8-w", "int8-wa"):
        q = mtsrnn.quantize(model, scheme)
        assert {s.quantization for s in q.stages if "quant" in s.kind.fields} == {scheme}
        buf = io.BytesIO()
        q.save(buf)
        back = mtsrnn.load(buf.getvalue())
        assert back.quantization == scheme
        assert np.array_equal(back.forward(x)[0], q.forward(x)[0])


def test_builders_chain_and_carry_state():
    rng = np.random.default_rng(3)
    model = mtsrnn.sequential(
        mtsrnn.random_qrnn(4, 6, seed=1),
        mtsrnn.mingru(rng.normal(size=(10, 6)).astype(F32), rng.normal(size=(3, 5)).astype(F32)),
        mtsrnn.minlstm(rng.normal(size=(6, 3)).astype(F32)),
        mtsrnn.indrnn(rng.normal(size=(4, 2)).astype(F32), rng.uniform(-1, 1, 4).astype(F32)))
    assert model.kinds == ("qrnn", "mingru", "minlstm", "indrnn")
    x = rng.normal(size=(30, 4)).astype(F32)
    whole, state = model.forward(x, block=3)
    a, s = model.forward(x[:11], block=16)
    b, s = model.forward(x[11:], state=s, block=1)
    assert np.max(np.abs(np.concatenate([a, b]) - whole)) <= 1e-6
    assert [c.size for c in state.cells] == [6, 5, 2, 4]
    want = mtsrnn.reference.model_forward(model.reference_parts(), x)
    assert np.max(np.abs(whole - want)) <= TOL


def test_builder_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"\(2 \* hidden, input\)"):
        mtsrnn.mingru(np.zeros((3, 4), F32))
    with pytest.raises(ValueError, match=r"to_out.weight must have shape \(output, 2\)"):
        mtsrnn.mingru(np.zeros((4, 4), F32), np.zeros((3, 3), F32))
    with pytest.raises(ValueError, match="activation must be one of"):
        mtsrnn.indrnn(np.zeros((3, 4), F32), np.zeros(3, F32), activation="sigmoid")
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(3,\)"):
        mtsrnn.indrnn(np.zeros((3, 4), F32), np.zeros(4, F32))
    with pytest.raises(ValueError, match="unexpected key"):
        mtsrnn.from_indrnn_state_dict({"layers.0.weight_ih": np.zeros((3, 4), F32),
                                       "layers.0.u": np.zeros(3, F32)})


def test_indrnn_state_dict_layout():
    rng = np.random.default_rng(5)
    sd = {}
    for i, (n, hid) in enumerate(((4, 6), (6, 3))):
        sd[f"layers.{i}.weight_ih"] = rng.normal(size=(hid, n)).astype(F32)
        sd[f"layers.{i}.weight_hh"] = rng.uniform(-1, 1, hid).astype(F32)
        sd[f"layers.{i}.bias"] = rng.normal(size=hid).astype(F32)
    model = mtsrnn.from_indrnn_state_dict(sd, activation="tanh")
    x = rng.normal(size=(17, 4)).astype(F32)
    layers = [{k.split(".", 2)[2]: v for k, v in sd.items() if k.startswith(f"layers.{i}.")}
              for i in range(2)]
    want, _h = mtsrnn.reference.indrnn_forward(layers, x, activation="tanh")
    assert np.max(np.abs(model.forward(x, block=4)[0] - want)) <= TOL


# ---- hostile records: each value a specific status, in both readers ----------------

def verdicts(data):
    try:
        _core.load_file(data)
        c = "MTS_OK"
    except _core.ModelFileError as error:
        c = STATUS_NAMES[error.status]
    try:
        mtsrnn.load(data)
        py = "MTS_OK"
    except mtsfile.ModelFileError as error:
        py = error.status
    return c, py


def small(kind, **changes):
    """A valid one-stage file of `kind`, its fields and tensors then changed."""
    rng = np.random.default_rng(1)
    if kind == "indrnn":
        fields = {"input_size": 3, "hidden_size": 4, "activation": 1}
        t = {"weight": rng.normal(size=(4, 3)).astype(F32), "bias": np.zeros(4, F32),
             "weight_hh": np.ones(4, F32)}
    else:
        gates = 2 if kind == "mingru" else 3
        fields = {"input_size": 3, "hidden_size": 4, "output_size": 2, "has_output": 1}
        t = {"weight": rng.normal(size=(gates * 4, 3)).astype(F32),
             "weight_out": rng.normal(size=(2, 4)).astype(F32)}
    tensors = changes.pop("tensors", None)
    fields.update(changes)
    if tensors is not None:
        t = tensors(t)
    return stage_files.image([(kind, fields, t)])


def with_crc(raw):
    raw[48:52] = b"\0\0\0\0"
    raw[48:52] = zlib.crc32(bytes(raw)).to_bytes(4, "little")
    return bytes(raw)


def with_reserved(data, at):
    """Byte `at` of the stage record set (CRC recomputed)."""
    raw = bytearray(data)
    raw[64 + at] = 1
    return with_crc(raw)


SCALES = {"weight": "weight_scale", "weight_out": "weight_out_scale"}


def q(t, *names):
    """The tensors with `names` as int8 rows and their scales."""
    for name in names:
        t[name], t[SCALES[name]] = quantized(t[name].astype(np.float64), 1)
    return t


HOSTILE = [
    ("mingru", {}, "MTS_OK"),
    ("minlstm", {}, "MTS_OK"),
    ("indrnn", {}, "MTS_OK"),
    ("mingru", {"has_output": 2}, "MTS_ERR_BAD_CONFIG"),
    ("minlstm", {"quant": 3}, "MTS_ERR_BAD_CONFIG"),
    ("mingru", {"hidden_size": 0}, "MTS_ERR_BAD_SIZE"),
    ("mingru", {"input_size": 2**24 + 1}, "MTS_ERR_BAD_SIZE"),
    ("minlstm", {"output_size": 0}, "MTS_ERR_BAD_SIZE"),
    # Without a projection the output size must be the hidden size.
    ("mingru", {"has_output": 0, "tensors": lambda t: {"weight": t["weight"]}},
     "MTS_ERR_BAD_CONFIG"),
    ("mingru", {"has_output": 0, "output_size": 4}, "MTS_ERR_FILE_SHAPE"),  # unneeded to_out
    ("minlstm", {"tensors": lambda t: {"weight": t["weight"]}}, "MTS_ERR_FILE_SHAPE"),  # missing
    ("mingru", {"tensors": lambda t: {**t, "weight": t["weight"][:6]}}, "MTS_ERR_FILE_SHAPE"),
    ("minlstm", {"tensors": lambda t: {**t, "weight_out": t["weight_out"].T.copy()}},
     "MTS_ERR_FILE_SHAPE"),
    # int8 weights in a float stage, a float stage marked quantised.
    ("mingru", {"tensors": lambda t: q(t, "weight", "weight_out")}, "MTS_ERR_FILE_SHAPE"),
    ("mingru", {"quant": 1}, "MTS_ERR_FILE_SHAPE"),
    ("mingru", {"quant": 1, "tensors": lambda t: q(t, "weight")}, "MTS_ERR_FILE_SHAPE"),
    ("minlstm", {"quant": 2, "tensors": lambda t: q(t, "weight", "weight_out")}, "MTS_OK"),
    ("mingru", {"quant": 1, "tensors": lambda t: {
        **q(t, "weight", "weight_out"), "weight_out_scale": np.array([1, np.nan], F32)}},
     "MTS_ERR_BAD_VALUE"),
    ("mingru", {"quant": 1, "tensors": lambda t: {
        **q(t, "weight", "weight_out"), "weight_scale": -np.ones(8, F32)}},
     "MTS_ERR_BAD_VALUE"),
    ("indrnn", {"activation": 0}, "MTS_ERR_BAD_CONFIG"),
    ("indrnn", {"activation": 3}, "MTS_ERR_BAD_CONFIG"),
    ("indrnn", {"quant": 3}, "MTS_ERR_BAD_CONFIG"),
    ("indrnn", {"hidden_size": 0}, "MTS_ERR_BAD_SIZE"),
    ("indrnn", {"tensors": lambda t: {k: v for k, v in t.items() if k != "weight_hh"}},
     "MTS_ERR_FILE_SHAPE"),
    ("indrnn", {"tensors": lambda t: {k: v for k, v in t.items() if k != "bias"}},
     "MTS_ERR_FILE_SHAPE"),
    ("indrnn", {"tensors": lambda t: {**t, "weight_hh": np.ones(3, F32)}}, "MTS_ERR_FILE_SHAPE"),
    # int8 only on product weights: an int8 bias is a bad tensor record.
    ("indrnn", {"quant": 1, "tensors": lambda t: {**q(t, "weight"),
                                                  "bias": np.zeros(4, np.int8)}},
     "MTS_ERR_FILE_TENSOR"),
    ("indrnn", {"quant": 2, "tensors": lambda t: q(t, "weight")}, "MTS_OK"),
    ("indrnn", {"quant": 2, "input_size": 133145,
                "tensors": lambda t: {**t, "weight": np.zeros((4, 133145), np.int8),
                                      "weight_scale": np.ones(4, F32)}},
     "MTS_ERR_BAD_CONFIG"),  # int8-wa: the int32 sums could overflow
]


@pytest.mark.parametrize("kind, changes, status", HOSTILE)
def test_hostile_record_values(kind, changes, status):
    assert verdicts(small(kind, **changes)) == (status, status)


@pytest.mark.parametrize("kind, at", [("mingru", 8 + 14), ("minlstm", 47), ("indrnn", 8 + 10),
                                      ("indrnn", 4)])
def test_reserved_bytes(kind, at):
    data = with_reserved(small(kind), at)
    assert verdicts(data) == ("MTS_ERR_FILE_LAYER",) * 2
    with pytest.raises(_core.ModelFileError, match=f"reserved, found {at}"):
        _core.load_file(data)


def test_kind_past_the_stage_kinds_tensors():
    # kind 5 of a minGRU stage (it has 4).
    data = bytearray(small("mingru"))
    struct.pack_into("<I", data, 64 + 48 + 4, 5)  # the first tensor record's kind
    assert verdicts(with_crc(data)) == ("MTS_ERR_FILE_TENSOR",) * 2


# ---- int8 error bounds (docs/spec.md 7.1) -------------------------------------------

def int8_model(cell, hidden, seed):
    """2 layers, n = H, weights U(-1, 1)/sqrt(fan-in), IndRNN u in U(0, 1), b in
    U(-0.1, 0.1); minGRU with to_out: H = 1.5 n, projecting back to n."""
    rng = np.random.default_rng(seed)

    def u(rows, cols):
        return rng.uniform(-1, 1, (rows, cols)) / np.sqrt(cols)

    parts, size = [], hidden
    for _ in range(2):
        if cell == "mingru":
            parts.append(mtsrnn.mingru(u(2 * hidden, size)))
        elif cell == "mingru_out":
            inner = int(1.5 * size)
            parts.append(mtsrnn.mingru(u(2 * inner, size), u(size, inner)))
        elif cell == "minlstm":
            parts.append(mtsrnn.minlstm(u(3 * hidden, size)))
        else:
            parts.append(mtsrnn.indrnn(u(hidden, size), rng.uniform(0, 1, hidden),
                                       rng.uniform(-0.1, 0.1, hidden), cell.split("_")[1]))
        size = parts[-1].stages[0].output_size
    return mtsrnn.sequential(*parts)


# cell -> scheme -> (max, mean) of |int8 - float|; IndRNN relu (unbounded outputs):
# of |int8 - float| / max(|float|, 1). About 1.5x the measured values (spec 7.1).
INT8_BOUNDS = {
    "mingru": {"int8-w": (0.01, 1.5e-3), "int8-wa": (0.015, 2e-3)},
    "mingru_out": {"int8-w": (0.01, 2e-3), "int8-wa": (0.02, 3e-3)},
    "minlstm": {"int8-w": (0.01, 1.5e-3), "int8-wa": (0.015, 2e-3)},
    "indrnn_tanh": {"int8-w": (0.03, 2.5e-3), "int8-wa": (0.05, 4e-3)},
    "indrnn_relu": {"int8-w": (0.2, 6e-3), "int8-wa": (0.5, 1.2e-2)},
}


@pytest.mark.parametrize("cell", sorted(INT8_BOUNDS))
@pytest.mark.parametrize("hidden", [64, 256])
def test_int8_error_bounds(cell, hidden):
    model = int8_model(cell, hidden, seed=hidden)
    x = np.random.default_rng(1).standard_normal((1000, hidden)).astype(F32)
    want = model.forward(x, block=16)[0].astype(np.float64)
    for scheme, (max_bound, mean_bound) in INT8_BOUNDS[cell].items():
        got = mtsrnn.quantize(model, scheme).forward(x, block=16)[0]
        err = np.abs(got - want)
        if cell == "indrnn_relu":
            err = err / np.maximum(np.abs(want), 1.0)
        assert err.max() <= max_bound and err.mean() <= mean_bound, (
            scheme, float(err.max()), float(err.mean()))
