"""Whole models (issue 14): norm, dense and softmax stages, the 2.0 file, and
from_torch of real modules (custom nn.Modules with real sru.SRU 2.6.0 layers,
an nn.Sequential, a QRNN module) against PyTorch's own outputs.

The whole models run in the C kernels (through the .mts 2.0 image and the C
loader); the imported parts are also checked through the independent float64
reference (mtsrnn.reference.model_forward) against PyTorch, so the import and
the kernels are verified separately.
"""

import itertools

import mtsrnn
import numpy as np
import pytest
from mtsrnn import mtsfile, mtsimage, reference, stages
from mtsrnn.torch_import import parts_from_torch
from test_torch_import import QRNN, nn, sru, torch

F = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:use_tanh = True is deprecated:UserWarning")

MAX_ABS_ERROR = 2e-5
BLOCKS = (1, 3, 4, 16)
LENGTH = 120
PIECES = (1, 7, 16, 33, 63)  # 120 steps in five calls
# int8 whole models against the float model (docs/quantization.md, "Whole models").
INT8_BOUNDS = {"int8-w": 0.03, "int8-wa": 0.06}


def reference_of(parts, x, quantization=None):
    return reference.model_forward([(p.kind, p.state_dict, p.config) for p in parts], x,
                                   quantization=quantization)


def randomise(module, seed):
    """Every parameter and BatchNorm statistic random (PyTorch's initial zeros
    and ones hide layout errors); LayerNorm / BatchNorm scales stay near 1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in itertools.chain(module.named_parameters(), module.named_buffers()):
            if not tensor.is_floating_point() or name.endswith("scale_x"):
                continue  # sru's scale_x: 1, or its rescale value (what a module saves)
            noise = torch.rand(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + noise)
            elif tensor.ndim == 1 and ("norm" in name or name.startswith("bn")) \
                    and name.endswith("weight"):
                tensor.copy_(0.8 + 0.4 * noise)
            else:
                bound = (3.0 / tensor.shape[-1]) ** 0.5 if tensor.ndim == 2 else 0.5
                tensor.copy_((2 * noise - 1) * bound)
    return module.eval()


# ---- the modules people write ------------------------------------------------------

FEATURES, HIDDEN, CLASSES = 10, 16, 5


class KWS(nn.Module):
    """Batch-first keyword spotter: BatchNorm1d over (N, C, L), a time-first SRU with
    transposes around it, a ReLU head and log-softmax."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(FEATURES)
        self.rnn = sru.SRU(FEATURES, HIDDEN, num_layers=2)
        self.head = nn.Linear(HIDDEN, 8)
        self.out = nn.Linear(8, CLASSES)

    def forward(self, x):  # (B, L, F)
        x = self.bn(x.transpose(1, 2)).transpose(1, 2)
        h, _ = self.rnn(x.transpose(0, 1))
        h = h.transpose(0, 1)
        return F.log_softmax(self.out(torch.relu(self.head(h))), dim=-1)


class TimeFirst(nn.Module):
    """Time-first regressor: LayerNorm, an SRU with layer norm and tanh, tanh head."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(FEATURES)
        self.rnn = sru.SRU(FEATURES, HIDDEN, num_layers=2, use_tanh=True, layer_norm=True,
                           projection_size=4, rescale=True)
        self.head = nn.Linear(HIDDEN, 3)

    def forward(self, x):  # (L, B, F)
        return torch.tanh(self.head(self.rnn(self.norm(x))[0]))


class Permuted(nn.Module):
    """Batch-first with permute, a bidirectional-free SRUCell-free stack, sigmoid head,
    softmax module, dropout (eval: nothing)."""

    def __init__(self):
        super().__init__()
        self.rnn = sru.SRU(FEATURES, HIDDEN, num_layers=1, has_skip_term=False)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Sequential(nn.Linear(HIDDEN, 12), nn.Sigmoid(), nn.Linear(12, CLASSES))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):  # (B, L, F)
        h, _ = self.rnn(x.permute(1, 0, 2).contiguous())
        return self.softmax(self.fc(self.drop(h.permute(1, 0, 2))))


class QRNNHead(nn.Module):
    """A QRNN stack (the torchqrnn-style module of test_torch_import) and a head."""

    def __init__(self):
        super().__init__()
        self.qrnn = QRNN(FEATURES, HIDDEN, num_layers=2, window=2)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):  # (L, B, F)
        h, _, _ = self.qrnn(x)
        return self.head(h)


class Mixed(nn.Module):
    """Different cells in a row: an SRU, then a QRNN, then a head."""

    def __init__(self):
        super().__init__()
        self.sru = sru.SRU(FEATURES, HIDDEN, num_layers=1)
        self.qrnn = QRNN(HIDDEN, HIDDEN, num_layers=1, window=1)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):  # (L, B, F)
        h, _ = self.sru(x)
        h = self.qrnn(h)[0]
        return F.relu(self.head(h))


def sequential():
    return nn.Sequential(nn.BatchNorm1d(FEATURES), nn.Linear(FEATURES, 16), nn.Tanh(),
                         nn.Linear(16, CLASSES), nn.LogSoftmax(dim=-1))


# name: (constructor, batch-first, the stage kinds from_torch must find)
MODULES = {
    "kws_batch_first": (KWS, True, ["norm", "sru", "sru", "dense", "dense", "softmax"]),
    "time_first_layer_norm": (TimeFirst, False, ["norm", "sru", "sru", "dense"]),
    "permute_sequential_head": (Permuted, True, ["sru", "dense", "dense", "softmax"]),
    "qrnn_head": (QRNNHead, False, ["qrnn", "qrnn", "dense"]),
    "sru_then_qrnn": (Mixed, False, ["sru", "qrnn", "dense"]),
    "nn_sequential": (sequential, None, ["norm", "dense", "dense", "softmax"]),
}


def torch_output(module, x, batch_first):
    """The module's output for one stream x (L, F), as (L, output)."""
    with torch.no_grad():
        tensor = torch.from_numpy(x)
        if batch_first is None:
            return module(tensor).numpy()
        tensor = tensor[None] if batch_first else tensor[:, None]
        y = module(tensor)
        return (y[0] if batch_first else y[:, 0]).numpy()


def build(name, seed=0):
    if MODULES[name][0] is not sequential and sru is None:
        pytest.skip("sru is not installed")
    torch.manual_seed(seed)
    module = randomise(MODULES[name][0](), seed)
    x = np.random.default_rng(seed).standard_normal((LENGTH, FEATURES)).astype(np.float32)
    return module, x, torch_output(module, x, MODULES[name][1])


def assert_close(actual, expected, what, bound=MAX_ABS_ERROR):
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    error = float(np.max(np.abs(np.asarray(actual, np.float64) - expected)))
    assert error <= bound, f"{what}: max abs error {error:.3g} > {bound}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imported_parts_compute_what_torch_computes(name):
    """The parts from_torch finds, run by the float64 reference, against PyTorch."""
    module, x, expected = build(name)
    parts = parts_from_torch(module)
    assert [stage.cell for part in parts for stage in part.stages] == MODULES[name][2]
    assert_close(reference_of(parts, x), expected, name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_whole_model_matches_torch_for_every_block_and_split(name):
    module, x, expected = build(name)
    model = mtsrnn.from_torch(module)
    assert list(model.kinds) == MODULES[name][2]
    for block in BLOCKS:
        y, _state = model.forward(x, block=block)
        assert_close(y, expected, f"{name}, T={block}")
        outputs, state, start = [], model.initial_state(), 0
        for size in PIECES:
            y, state = model.forward(np.ascontiguousarray(x[start:start + size]), state,
                                     block=block)
            outputs.append(y)
            start += size
        assert_close(np.concatenate(outputs), expected, f"{name}, T={block}, streamed")
    # The file holds the whole model: saved and loaded, it computes the same.
    loaded = mtsrnn.load(model.image)
    assert list(loaded.kinds) == MODULES[name][2]
    assert_close(loaded.forward(x)[0], expected, f"{name}, loaded")


@pytest.mark.parametrize("scheme", ["int8-w", "int8-wa"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_int8_reference_of_whole_models_within_bounds(name, scheme):
    """The int8 arithmetic (reference) of a whole model against the float model,
    within docs/quantization.md's bounds."""
    module, x, _expected = build(name)
    parts = parts_from_torch(module)
    error = np.max(np.abs(reference_of(parts, x, scheme) - reference_of(parts, x)))
    assert 0 < error <= INT8_BOUNDS[scheme], (name, scheme, error)


@pytest.mark.parametrize("scheme", ["int8-w", "int8-wa"])
@pytest.mark.parametrize("name", ["kws_batch_first", "qrnn_head"])
def test_int8_whole_models_match_their_reference(name, scheme):
    module, x, _expected = build(name)
    model = mtsrnn.quantize(mtsrnn.from_torch(module), scheme)
    assert [s.quantization for s in model.stages if s.cell == "dense"] == [scheme] * len(
        [s for s in model.stages if s.cell == "dense"])
    assert all(s.quantization is None for s in model.stages if s.cell in ("norm", "softmax"))
    expected = reference.model_forward(model.reference_parts(), x, quantization=scheme)
    for block in BLOCKS:
        assert_close(model.forward(x, block=block)[0], expected, f"{name} {scheme} T={block}",
                     bound=1e-5)
    assert np.max(np.abs(model.forward(x)[0] - reference_of(model.parts, x))) <= \
        INT8_BOUNDS[scheme]


# ---- the reference of each stage against hand-computed values --------------------------

def test_reference_norm_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])
    np.testing.assert_allclose(
        reference.norm_forward(x, [2.0, 0.5, -1.0], [0.0, 1.0, 1.0]),
        [[2.0, 2.0, -2.0], [-2.0, 1.0, -4.0]])
    # mean 2, biased variance 2/3 of [1, 2, 3]: (x - 2) / sqrt(2/3 + eps)
    y = reference.norm_forward(x[:1], [1.0, 1.0, 2.0], [0.0, 0.0, 1.0], mode="layer", eps=0.0)
    s = np.sqrt(1.5)
    np.testing.assert_allclose(y, [[-s, 0.0, 2 * s + 1.0]])


def test_reference_dense_by_hand():
    x = np.array([[1.0, -2.0]])
    w = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, -1.0]])
    b = np.array([0.5, -3.0, 0.0])
    pre = np.array([-0.5, -1.0, 2.0])
    for activation, expected in [("identity", pre), ("relu", [0.0, 0.0, 2.0]),
                                 ("tanh", np.tanh(pre)), ("sigmoid", 1 / (1 + np.exp(-pre)))]:
        np.testing.assert_allclose(reference.dense_forward(x, w, b, activation=activation),
                                   [expected])
    np.testing.assert_allclose(reference.dense_forward(x, w), [[-1.0, 2.0, 2.0]])
    # int8-w: rows [127, 127] / 127, [2, 0] -> [127, 0] * 2/127, [0, -1] -> [0, -127] / 127
    np.testing.assert_allclose(reference.dense_forward(x, w, quantization="int8-w"),
                               [[-1.0, 2.0, 2.0]], rtol=1e-7)
    # int8-wa: x -> [63.5 -> 64, -127] * 2/127: the rounding of x shows.
    xq = np.array([64.0, -127.0]) * np.float32(np.float32(2.0) / np.float32(127))
    got = reference.dense_forward(x, w, quantization="int8-wa")
    np.testing.assert_allclose(got, [[xq[0] + xq[1], 2 * xq[0], -xq[1]]], rtol=1e-6)


def test_reference_softmax_by_hand():
    x = np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]])  # the second overflows exp unshifted
    np.testing.assert_allclose(reference.softmax_forward(x), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(reference.softmax_forward(x, log=True),
                               np.log([[0.25, 0.75], [0.5, 0.5]]))


def test_builders_fold_and_check():
    part = mtsrnn.norm([2.0, 4.0], [1.0, 0.0], mean=[1.0, -1.0])
    np.testing.assert_allclose(part.state_dict["bias"], [-1.0, 4.0])  # bias - mean * scale
    assert part.stages[0].fields["mode"] == stages.NORM_AFFINE
    with pytest.raises(ValueError, match="activation must be one of"):
        mtsrnn.dense(np.ones((2, 3)), activation="gelu")
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        mtsrnn.dense(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="eps must be"):
        mtsrnn.layer_norm(np.ones(3), eps=0.0)
    with pytest.raises(ValueError, match="stage 1 .* takes input size 4, but stage 0"):
        mtsrnn.sequential(mtsrnn.random_sru(3, 3), mtsrnn.dense(np.ones((2, 4))))
    with pytest.raises(TypeError, match="piece 0 is a str"):
        mtsrnn.sequential("sru")


# ---- the 2.0 file ----------------------------------------------------------------------

def whole_stages(quantization=None):
    parts = [mtsrnn.norm(np.linspace(0.5, 1.5, 4), np.zeros(4)),
             *mtsrnn.random_sru(4, 6, num_layers=2).parts,
             mtsrnn.dense(np.arange(18, dtype=np.float32).reshape(3, 6) / 18, np.ones(3),
                          "relu"),
             mtsrnn.layer_norm(np.ones(3), np.zeros(3), eps=1e-3),
             mtsrnn.softmax(3, log=True)]
    result = [stage for part in parts for stage in part.stages]
    if quantization:
        result = [stage.quantized(quantization) for stage in result]
    return result


@pytest.mark.parametrize("quantization", [None, "int8-w"])
def test_2_0_images_round_trip(quantization):
    original = whole_stages(quantization)
    image, placed = mtsimage.stages_image(original)
    header = mtsfile.header_fields(image)
    assert (header["version_major"], header["version_minor"]) == (2, 0)
    assert header["cell"] == 0 and header["num_layers"] == len(original)
    assert header["layer_table_offset"] == 64
    assert header["tensor_table_offset"] == 64 + 48 * len(original)
    assert mtsimage.crc32(image) == header["crc32"]
    version, parsed, records = mtsfile.parse_image(image.tobytes())
    assert version == (2, 0) and len(records) == header["num_tensors"]
    for before, after in zip(original, parsed, strict=True):
        assert after.cell == before.cell and dict(after.fields) == pytest.approx(
            dict(before.fields))
        assert set(after.tensors) == set(before.tensors)
        for name, array in before.tensors.items():
            np.testing.assert_array_equal(after.tensors[name], array)
    # Every stage record: kind, reserved 0, the kind's fields, zero padding.
    for index, stage in enumerate(original):
        start = 64 + 48 * index
        record = bytes(image[start:start + 48])
        assert record[:8] == stages.STAGE_RECORD_HEAD.pack(stage.kind.code, 0)
        assert record[8:8 + stage.kind.record.size] == stage.kind.pack(stage.fields)
        assert not any(record[8 + stage.kind.record.size:])
    dense = parsed[3]
    assert dense.quantization == quantization
    assert (dense.tensors["weight"].dtype == np.int8) == (quantization is not None)


def test_stacks_of_one_cell_stay_1_x_byte_for_byte():
    model = mtsrnn.random_qrnn(3, 4, num_layers=2, window=2)
    image, _placed = mtsimage.stages_image(model.stages)
    assert image.tobytes() == bytes(model.image)
    assert mtsfile.header_fields(image)["version_major"] == 1
    layers = [(s.fields, s.by_code()) for s in model.stages]
    forced, _views = mtsimage.write_image("qrnn", layers, major=2)
    assert mtsfile.header_fields(forced)["version_major"] == 2
    assert [s.describe() for s in mtsfile.parse_image(forced.tobytes())[1]] == [
        s.describe() for s in model.stages]


def test_new_kinds_describe_themselves():
    described = [stage.describe() for stage in whole_stages()]
    assert described[0] == "norm affine over 4 features"
    assert described[3] == "dense input 6, output 3, activation relu"
    assert described[4] == "norm layer over 3 features, eps 0.001"
    assert described[5] == "log-softmax over 3 features"
    assert [stage.state_floats for stage in whole_stages()] == [0, 6, 6, 0, 0, 0]


# ---- whole models from state dicts (mtsrnn convert's inference) --------------------------

STATE_DICT_CASES = {
    # name: (sru options, activations, softmax) the state dict cannot show
    "kws_batch_first": ({}, ["relu", "identity"], "log"),
    "time_first_layer_norm": ({"use_tanh": True}, ["tanh"], "none"),
    "sru_then_qrnn": ({}, ["relu"], "none"),
}


@pytest.mark.parametrize("name", sorted(STATE_DICT_CASES))
def test_state_dict_parts_compute_what_torch_computes(name):
    """The modules found by key prefix (BatchNorm1d, LayerNorm, the `rnn.` SRU,
    nn.Linear heads), with the options given, against PyTorch."""
    from mtsrnn.state_dicts import parts_from_state_dict

    module, x, expected = build(name)
    sru_options, activations, softmax = STATE_DICT_CASES[name]
    qrnn_options = {"window": 1} if name == "sru_then_qrnn" else {}
    parts, notes = parts_from_state_dict(module.state_dict(), sru_options=sru_options,
                                         qrnn_options=qrnn_options, activations=activations,
                                         softmax=softmax)
    assert [stage.cell for part in parts for stage in part.stages] == MODULES[name][2]
    assert_close(reference_of(parts, x), expected, name)
    assert any("assumed" in note for note in notes) and any("order" in note for note in notes)


def test_file_stages_become_parts_again():
    """A 2.0 file's norm, dense and softmax stages read back as the parts they were."""
    from mtsrnn.heads import part_from_stage

    for quantization in (None, "int8-wa"):
        original = whole_stages(quantization)
        _version, parsed, _records = mtsfile.parse_image(
            mtsimage.stages_image(original)[0].tobytes())
        for before, after in zip(original, parsed, strict=True):
            if before.kind.recurrent:
                continue
            part = part_from_stage(after)
            assert part.stages[0] is after and part.kind == before.cell
            if before.cell == "dense" and quantization:
                scale = after.tensors["weight_scale"][:, None]
                np.testing.assert_array_equal(part.state_dict["weight"],
                                              after.tensors["weight"] * scale)
            else:
                for name, array in before.tensors.items():
                    np.testing.assert_array_equal(part.state_dict[name], array)
    runs = mtsfile._runs(whole_stages())
    assert [[s.cell for s in run] for run in runs] == [
        ["norm"], ["sru", "sru"], ["dense"], ["norm"], ["softmax"]]
