"""`from_torch` against the real PyTorch modules.

SRU: the real ``sru.SRU`` / ``sru.SRUCell`` (PyPI sru 2.6.0, its CPU kernel)
in eval mode under ``torch.no_grad()``, over a grid of every option, with all
parameters randomised after construction (sru starts the biases at zero and
weight_c at zero for v1, which would hide layout bugs).

QRNN: torchqrnn is not installable, so ``QRNN``/``QRNNLayer`` below are an
independent torch implementation of docs/spec.md 3.1 (an ``nn.Linear`` per layer and
a loop over time, the Salesforce attribute names), checked the same way.

h and the final c must agree to MAX_ABS_ERROR for block sizes 1, 4 and 16,
from zero and non-zero initial states, and streamed in pieces (SRU
unidirectional, QRNN). With CI (or MTSRNN_WITH_TORCH=1) set, a missing torch
or sru is a failure, not a skip.
"""

import copy
import importlib
import itertools
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
# sru compiles its CPU kernel on first import; keep the build in the repository's build/.
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / "build" / "torch_extensions"))


# CI (or ci/test.sh, which sets MTSRNN_WITH_TORCH=1) installs torch and sru: there a
# missing package is a failure, never a silent skip.
TORCH_REQUIRED = bool(os.environ.get("CI")) or os.environ.get("MTSRNN_WITH_TORCH") == "1"


def _require(name, optional=False):
    """Import a test dependency. Outside CI: skip the module when it is missing (or,
    optional, return None so only the tests that need it skip). In CI: fail."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sru warns that it cannot build its CUDA kernel
            return importlib.import_module(name)
    except Exception as error:  # ImportError, or sru's C++ build failing
        if TORCH_REQUIRED:
            pytest.fail(f"CI or MTSRNN_WITH_TORCH=1 is set but {name!r} cannot be imported "
                        f"({error!r}); CI must run `pip install torch==2.13.0` and "
                        "`pip install --no-deps sru==2.6.0 ninja`", pytrace=False)
        if not isinstance(error, ImportError):
            raise
        if optional:
            return None
        pytest.skip(f"{name} is not installed ({error})", allow_module_level=True)


torch = _require("torch")
sru = _require("sru", optional=True)
needs_sru = pytest.mark.skipif(sru is None, reason="sru is not installed")
nn = torch.nn
# The modules here are tiny: one thread avoids OpenMP spin-waiting against other processes.
torch.set_num_threads(1)

from mtsrnn.torch_import import from_torch  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:use_tanh = True is deprecated:UserWarning"),
    pytest.mark.filterwarnings("ignore:rnn_dropout > 0 is deprecated:UserWarning"),
]

MAX_ABS_ERROR = 2e-5
BLOCKS = (1, 4, 16)
LENGTH = 23  # not a multiple of 4 or 16: every block size ends on a partial block
PIECES = (1, 5, 7, 10)  # a streamed sequence, split across four calls


def assert_close(actual, expected, what):
    expected = np.asarray(expected, dtype=np.float32)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    assert error <= MAX_ABS_ERROR, f"{what}: max abs error {error:.3g} > {MAX_ABS_ERROR}"


def stream(model, x, state, block):
    """Run x through the model in the pieces PIECES, carrying the state."""
    outputs, start = [], 0
    for size in PIECES:
        h, state = model.forward(np.ascontiguousarray(x[start:start + size]), state, block=block)
        outputs.append(h)
        start += size
    assert start == len(x)
    return np.concatenate(outputs), state


def check_model(model, x, c0_options, run_torch, streamable, what):
    """Compare the imported model with the torch module: every block size, each initial
    state, and (streamable) in pieces."""
    for c0_name, c0, prev in c0_options:
        h_ref, c_ref = run_torch(c0, prev)
        state = model.initial_state(c=c0, prev_inputs=prev)
        for block in BLOCKS:
            h, final = model.forward(x, state, block=block)
            assert_close(h, h_ref, f"{what}, c0 {c0_name}, T={block}: h")
            assert_close(final.c, c_ref, f"{what}, c0 {c0_name}, T={block}: final c")
            if streamable:
                h, final = stream(model, x, state, block)
                assert_close(h, h_ref, f"{what}, c0 {c0_name}, T={block} streamed: h")
                assert_close(final.c, c_ref, f"{what}, c0 {c0_name}, T={block} streamed: c")


# ---- SRU -------------------------------------------------------------------

HIDDEN = 8
OTHER_INPUT = 11  # the "input size differs from the output size" case
PROJECTION = 5  # sru keeps n_proj only when it is < the input and < the output size


def randomise_sru_cell(cell, generator, highway_bias, v1):
    """Replace every parameter of an SRUCell by random values of unit-scale effect.

    v1 keeps weight_c at the zero sru gives it (it is frozen there in training)."""
    def uniform(tensor, low, high):
        tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)

    with torch.no_grad():
        bound = (3.0 / cell.weight.shape[0]) ** 0.5
        uniform(cell.weight, -bound, bound)
        if cell.weight_proj is not None:
            bound = (3.0 / cell.weight_proj.shape[0]) ** 0.5
            uniform(cell.weight_proj, -bound, bound)
        if not v1:
            uniform(cell.weight_c, -1.0, 1.0)
        uniform(cell.bias, -0.5, 0.5)
        cell.bias[cell.output_size:] += highway_bias  # where sru puts highway_bias
        if cell.layer_norm is not None:
            uniform(cell.layer_norm.weight, 0.7, 1.3)
            uniform(cell.layer_norm.bias, -0.3, 0.3)


SRU_GRID = list(itertools.product(
    (False, True),  # bidirectional
    (False, True),  # projection
    ("none", "before", "after"),  # layer norm
    (False, True),  # rescale
    (True, False),  # has_skip_term
    (False, True),  # use_tanh
    (False, True),  # v1
    (0.0, -1.5),  # highway_bias
    (1, 2, 3),  # num_layers
    ("same", "other"),  # input size equal to / different from the output size
))


def sru_id(config):
    bidir, proj, norm, rescale, skip, tanh, v1, highway, layers, size = config
    return "-".join([
        "bi" if bidir else "uni", "proj" if proj else "noproj", f"ln_{norm}",
        "rescale" if rescale else "norescale", "skip" if skip else "noskip",
        "tanh" if tanh else "identity", "v1" if v1 else "v2", f"hb{highway:g}",
        f"{layers}layers", f"in_{size}"])


@needs_sru
@pytest.mark.parametrize("config", SRU_GRID, ids=[sru_id(c) for c in SRU_GRID])
def test_sru_matches_torch(config):
    bidir, proj, norm, rescale, skip, tanh, v1, highway, layers, size = config
    out = HIDDEN * (2 if bidir else 1)
    input_size = out if size == "same" else OTHER_INPUT
    module = sru.SRU(input_size, HIDDEN, num_layers=layers, bidirectional=bidir,
                     projection_size=PROJECTION if proj else 0, use_tanh=tanh,
                     layer_norm=norm != "none", normalize_after=norm == "after",
                     highway_bias=highway, has_skip_term=skip, rescale=rescale, v1=v1)
    module.eval()
    generator = torch.Generator().manual_seed(SRU_GRID.index(config))
    for cell in module.rnn_lst:
        assert cell.projection_size == (PROJECTION if proj else 0)
        randomise_sru_cell(cell, generator, highway, v1)
    model = from_torch(module)
    assert model.num_layers == layers and model.output_size == out

    x = torch.randn(LENGTH, 1, input_size, generator=generator)
    c0 = 0.5 * torch.randn(layers, 1, out, generator=generator)

    def run_torch(c_init, _prev):
        with torch.no_grad():
            h, c = module(x, None if c_init is None else torch.from_numpy(c_init)[:, None])
        return h[:, 0].numpy(), c[:, 0].numpy()

    check_model(model, x[:, 0].numpy(), [("zero", None, None), ("random", c0[:, 0].numpy(), None)],
                run_torch, streamable=not bidir, what=sru_id(config))


SRU_CELL_GRID = list(itertools.product(
    (False, True),  # bidirectional
    (False, True),  # projection
    ("none", "before", "after"),  # layer norm
    (True, False),  # rescale (SRUCell's default is True, SRU's False)
    (True, False),  # has_skip_term
    ("same", "other"),
))


@needs_sru
@pytest.mark.parametrize("config", SRU_CELL_GRID,
                         ids=["-".join(map(str, c)) for c in SRU_CELL_GRID])
def test_sru_cell_matches_torch(config):
    bidir, proj, norm, rescale, skip, size = config
    out = HIDDEN * (2 if bidir else 1)
    input_size = out if size == "same" else OTHER_INPUT
    cell = sru.SRUCell(input_size, HIDDEN, bidirectional=bidir,
                       n_proj=PROJECTION if proj else 0, layer_norm=norm != "none",
                       normalize_after=norm == "after", has_skip_term=skip, rescale=rescale,
                       highway_bias=-1.0).eval()
    generator = torch.Generator().manual_seed(1000 + SRU_CELL_GRID.index(config))
    randomise_sru_cell(cell, generator, -1.0, v1=False)
    model = from_torch(cell)
    x = torch.randn(LENGTH, 1, input_size, generator=generator)
    c0 = 0.5 * torch.randn(1, out, generator=generator)

    def run_torch(c_init, _prev):
        with torch.no_grad():
            h, c = cell(x, None if c_init is None else torch.from_numpy(c_init))
        return h[:, 0].numpy(), c.numpy()

    check_model(model, x[:, 0].numpy(), [("zero", None, None), ("random", c0.numpy(), None)],
                run_torch, streamable=not bidir, what=f"SRUCell {config}")


def small_sru(generator, **options):
    options.setdefault("num_layers", 2)
    module = sru.SRU(OTHER_INPUT, HIDDEN, **options).eval()
    for cell in module.rnn_lst:
        randomise_sru_cell(cell, generator, options.get("highway_bias", 0.0),
                           options.get("v1", False))
    return module


def compare_sru(module, model, generator, what):
    x = torch.randn(LENGTH, 1, module.input_size, generator=generator)
    with torch.no_grad():
        h_ref, c_ref = module(x)
    h, state = model.forward(x[:, 0].numpy(), block=4)
    assert_close(h, h_ref[:, 0].numpy(), what + ": h")
    assert_close(state.c, c_ref[:, 0].numpy(), what + ": c")


@needs_sru
def test_sru_v1_follows_weight_c_of_the_module():
    """v1=True only zeroes and freezes weight_c; sru's forward still uses it. A v1
    module whose weight_c was changed (e.g. loaded) must be imported as it computes."""
    generator = torch.Generator().manual_seed(7)
    module = small_sru(generator, v1=True)
    assert all(torch.count_nonzero(cell.weight_c) == 0 for cell in module.rnn_lst)
    model = from_torch(module)  # the original form: no weight_c
    assert not any(key.endswith("weight_c") for key in model.state_dict())
    compare_sru(module, model, generator, "v1")
    with torch.no_grad():
        for cell in module.rnn_lst:
            cell.weight_c.uniform_(-1, 1, generator=generator)
    model = from_torch(module)
    assert sum(key.endswith("weight_c") for key in model.state_dict()) == 2
    compare_sru(module, model, generator, "v1 with non-zero weight_c")


@needs_sru
def test_sru_projection_on_some_layers_only():
    """sru keeps n_proj per layer only where it is < that layer's input and output size:
    here layer 0 (input 4) has none, layers 1 and 2 (input 8) have one."""
    generator = torch.Generator().manual_seed(14)
    module = sru.SRU(4, HIDDEN, num_layers=3, projection_size=PROJECTION).eval()
    assert [cell.projection_size for cell in module.rnn_lst] == [0, PROJECTION, PROJECTION]
    for cell in module.rnn_lst:
        randomise_sru_cell(cell, generator, 0.0, v1=False)
    compare_sru(module, from_torch(module), generator, "projection on layers 1 and 2")


@needs_sru
def test_sru_scale_x_ignored_without_rescale():
    """sru multiplies the skip input by scale_x only when rescale is set."""
    generator = torch.Generator().manual_seed(8)
    module = small_sru(generator, rescale=False, num_layers=3)  # layers 1, 2 have k = 3
    for cell in module.rnn_lst:
        cell.scale_x.fill_(3.0)
    compare_sru(module, from_torch(module), generator, "rescale=False, scale_x=3")
    for cell in module.rnn_lst:
        cell.rescale = True
    compare_sru(module, from_torch(module), generator, "rescale=True, scale_x=3")


@needs_sru
def test_sru_training_mode_without_dropout_is_accepted():
    """A freshly built module is in training mode; without dropout it is deterministic."""
    generator = torch.Generator().manual_seed(9)
    module = small_sru(generator).train()
    compare_sru(module, from_torch(module), generator, "training mode, no dropout")


@needs_sru
def test_sru_import_does_not_modify_the_module():
    generator = torch.Generator().manual_seed(10)
    module = small_sru(generator, layer_norm=True).train()
    before = copy.deepcopy(module.state_dict())
    from_torch(module)
    assert module.training
    after = module.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[key], after[key]) for key in before)


@needs_sru
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_sru_other_dtypes_are_converted(dtype):
    """Parameters of another floating dtype are converted to float32: the model equals
    the float32 module holding the same (rounded) values."""
    generator = torch.Generator().manual_seed(11)
    module = small_sru(generator, layer_norm=True)
    converted = copy.deepcopy(module).to(dtype)
    rounded = copy.deepcopy(converted).float()  # sru's CPU kernel runs float32 only
    compare_sru(rounded, from_torch(converted), generator, f"{dtype} parameters")


@needs_sru
def test_sru_layer_norm_without_affine():
    generator = torch.Generator().manual_seed(12)
    module = small_sru(generator, layer_norm=True)
    for cell in module.rnn_lst:
        cell.layer_norm = nn.LayerNorm(cell.input_size, elementwise_affine=False)
    compare_sru(module, from_torch(module), generator, "LayerNorm(elementwise_affine=False)")


@needs_sru
def test_sru_layer_norm_eps_is_read():
    generator = torch.Generator().manual_seed(13)
    module = small_sru(generator, layer_norm=True)
    for cell in module.rnn_lst:
        cell.layer_norm.eps = 0.5
    model = from_torch(module)
    assert model.config["layer_norm_eps"] == 0.5
    compare_sru(module, model, generator, "layer norm eps 0.5")


@needs_sru
@pytest.mark.parametrize("option", ["dropout", "rnn_dropout"])
def test_sru_training_mode_with_dropout_is_rejected(option):
    module = sru.SRU(OTHER_INPUT, HIDDEN, num_layers=2, **{option: 0.2}).train()
    with pytest.raises(ValueError, match=r"training mode.*call module\.eval\(\)"):
        from_torch(module)
    from_torch(module.eval())  # fine once in eval mode


@needs_sru
def test_sru_unsupported_configurations_are_rejected():
    custom = sru.SRU(OTHER_INPUT, HIDDEN, num_layers=1,
                     custom_m=nn.Linear(OTHER_INPUT, HIDDEN * 4)).eval()
    with pytest.raises(ValueError, match="custom_m"):
        from_torch(custom)
    first = sru.SRU(OTHER_INPUT, HIDDEN, num_layers=1, proj_input_to_hidden_first=True).eval()
    with pytest.raises(ValueError, match="proj_input_to_hidden_first"):
        from_torch(first)
    legacy = sru.SRU(OTHER_INPUT, HIDDEN, num_layers=1).eval()
    legacy.rnn_lst[0].activation_type = 2  # ReLU in sru < 2.1.9
    with pytest.raises(ValueError, match="activation_type 2"):
        from_torch(legacy)
    mixed = sru.SRU(OTHER_INPUT, HIDDEN, num_layers=2).eval()
    mixed.rnn_lst[1].activation_type = 1
    with pytest.raises(ValueError, match="use_tanh"):
        from_torch(mixed)
    with pytest.raises(TypeError, match="unknown override"):
        from_torch(mixed, window=2)


def test_unrecognised_module_is_rejected():
    with pytest.raises(TypeError, match="does not recognise"):
        from_torch(nn.LSTM(4, 4))
    with pytest.raises(TypeError, match="does not recognise"):
        from_torch(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 1,
                                         enable_nested_tensor=False))


def test_import_mtsrnn_does_not_import_torch():
    code = ("import sys, mtsrnn, mtsrnn.torch_import; "
            "sys.exit('torch' in sys.modules or 'sru' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


# ---- QRNN (an independent torch implementation of docs/spec.md 3.1) ---------------

class QRNNLayer(nn.Module):
    """One torchqrnn layer: a linear map of [x_t | x_{t-1}], then fo-pooling with
    torchqrnn's gate convention c_t = f*z + (1-f)*c_{t-1}, written as a plain loop."""

    def __init__(self, input_size, hidden_size, window=1, output_gate=True, zoneout=0.0):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.window, self.output_gate, self.zoneout = window, output_gate, zoneout
        gates = 3 if output_gate else 2
        self.linear = nn.Linear(window * input_size, gates * hidden_size)

    def forward(self, x, c=None, prev_x=None):
        """x (L, B, n); c (B, H); prev_x (B, n) is x_{-1}. Returns h, last c, last x."""
        batch = x.shape[1]
        c = torch.zeros(batch, self.hidden_size) if c is None else c
        prev_x = torch.zeros(batch, self.input_size) if prev_x is None else prev_x
        outputs = []
        for x_t in x:
            source = x_t if self.window == 1 else torch.cat([x_t, prev_x], dim=1)
            y = self.linear(source)
            z = torch.tanh(y[:, :self.hidden_size])
            f = torch.sigmoid(y[:, self.hidden_size:2 * self.hidden_size])
            if self.zoneout and not self.training:
                f = f * (1 - self.zoneout)
            c = f * z + (1 - f) * c
            if self.output_gate:
                outputs.append(torch.sigmoid(y[:, 2 * self.hidden_size:]) * c)
            else:
                outputs.append(c)
            prev_x = x_t
        return torch.stack(outputs), c, prev_x


class QRNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, **options):
        super().__init__()
        self.layers = nn.ModuleList(
            QRNNLayer(input_size if i == 0 else hidden_size, hidden_size, **options)
            for i in range(num_layers))
        self.bidirectional, self.dropout = False, 0.0

    def forward(self, x, c=None, prev_x=None):
        """c (num_layers, B, H); prev_x: one (B, n_l) tensor per layer."""
        cs, xs = [], []
        for i, layer in enumerate(self.layers):
            x, c_last, x_last = layer(x, None if c is None else c[i],
                                      None if prev_x is None else prev_x[i])
            cs.append(c_last)
            xs.append(x_last)
        return x, torch.stack(cs), xs


QRNN_GRID = list(itertools.product(
    (1, 2),  # window
    (True, False),  # output_gate
    (0.0, 0.3),  # zoneout
    (1, 2, 3),  # num_layers
    (HIDDEN, OTHER_INPUT),  # input size
))


def random_qrnn(config, generator):
    window, output_gate, zoneout, layers, input_size = config
    module = QRNN(input_size, HIDDEN, layers, window=window, output_gate=output_gate,
                  zoneout=zoneout).eval()
    with torch.no_grad():
        for layer in module.layers:
            bound = (3.0 / layer.linear.in_features) ** 0.5
            layer.linear.weight.copy_((torch.rand(layer.linear.weight.shape,
                                                  generator=generator) * 2 - 1) * bound)
            layer.linear.bias.copy_(torch.rand(layer.linear.bias.shape,
                                               generator=generator) - 0.5)
    return module


def qrnn_prev_inputs(prev_x, window):
    """torch's per-layer last input (1, n) -> mtsrnn's (window-1, n) frames."""
    return [p.numpy()[:window - 1].copy() for p in prev_x]


@pytest.mark.parametrize("config", QRNN_GRID, ids=["w{}-og{}-zo{}-{}layers-in{}".format(*c)
                                                   for c in QRNN_GRID])
def test_qrnn_matches_torch(config):
    window, _output_gate, _zoneout, layers, input_size = config
    generator = torch.Generator().manual_seed(2000 + QRNN_GRID.index(config))
    module = random_qrnn(config, generator)
    model = from_torch(module)
    assert model.num_layers == layers and model.config["window"] == window

    x = torch.randn(LENGTH, 1, input_size, generator=generator)
    c0 = 0.5 * torch.randn(layers, 1, HIDDEN, generator=generator)
    sizes = [input_size] + [HIDDEN] * (layers - 1)
    prev = [torch.randn(1, n, generator=generator) for n in sizes]

    def run_torch(c_init, prev_inputs):
        with torch.no_grad():
            h, c, _ = module(x, None if c_init is None else torch.from_numpy(c_init)[:, None],
                             None if prev_inputs is None or window == 1 else
                             [torch.from_numpy(p) for p in prev_inputs])
        return h[:, 0].numpy(), c[:, 0].numpy()

    prev_np = [p.numpy()[:window - 1] for p in prev] if window > 1 else None
    check_model(model, x[:, 0].numpy(), [("zero", None, None),
                                         ("random", c0[:, 0].numpy(), prev_np)],
                run_torch, streamable=True, what=f"QRNN {config}")

    # A stream begun in torch and continued in mtsrnn from torch's carried state.
    with torch.no_grad():
        h_all, c_all, _ = module(x)
        _, c_mid, x_mid = module(x[:9])
    state = model.initial_state(c=c_mid[:, 0].numpy().copy(),
                                prev_inputs=qrnn_prev_inputs(x_mid, window)
                                if window > 1 else None)
    h, state = model.forward(x[9:, 0].numpy().copy(), state, block=4)
    assert_close(h, h_all[9:, 0].numpy(), f"QRNN {config} continued from torch: h")
    assert_close(state.c, c_all[:, 0].numpy(), f"QRNN {config} continued from torch: c")
    if window > 1:
        with torch.no_grad():
            _, _, x_last = module(x)
        for got, expected in zip(state.prev_inputs, qrnn_prev_inputs(x_last, window),
                                 strict=True):
            assert_close(got, expected, f"QRNN {config}: carried input")


def test_qrnn_single_layer_and_plain_object():
    """The duck-typed contract: a lone layer, and a non-Module object holding .layers."""
    generator = torch.Generator().manual_seed(3)
    module = random_qrnn((2, True, 0.2, 2, OTHER_INPUT), generator)
    x = torch.randn(LENGTH, 1, OTHER_INPUT, generator=generator)
    with torch.no_grad():
        h_ref, c_ref, _ = module.layers[0](x)
    h, state = from_torch(module.layers[0]).forward(x[:, 0].numpy(), block=16)
    assert_close(h, h_ref[:, 0].numpy(), "single layer: h")
    assert_close(state.c[0], c_ref[0].numpy(), "single layer: c")

    class Stack:
        layers = list(module.layers)

    with torch.no_grad():
        h_ref, c_ref, _ = module(x)
    h, state = from_torch(Stack()).forward(x[:, 0].numpy(), block=4)
    assert_close(h, h_ref[:, 0].numpy(), "plain object: h")
    assert_close(state.c, c_ref[:, 0].numpy(), "plain object: c")


def test_qrnn_without_bias_and_with_override():
    generator = torch.Generator().manual_seed(4)
    module = random_qrnn((1, False, 0.25, 1, OTHER_INPUT), generator)
    module.layers[0].linear.bias = None
    x = torch.randn(LENGTH, 1, OTHER_INPUT, generator=generator)
    with torch.no_grad():
        h_ref, _, _ = module(x)
    h, _ = from_torch(module).forward(x[:, 0].numpy(), block=4)
    assert_close(h, h_ref[:, 0].numpy(), "linear without bias")
    module.layers[0].zoneout = 0.0
    with torch.no_grad():
        h_ref, _, _ = module(x)
    module.layers[0].zoneout = 0.25
    h, _ = from_torch(module, zoneout=0.0).forward(x[:, 0].numpy(), block=4)
    assert_close(h, h_ref[:, 0].numpy(), "zoneout overridden to 0")


def test_qrnn_unsupported_configurations_are_rejected():
    generator = torch.Generator().manual_seed(5)
    module = random_qrnn((2, True, 0.3, 2, OTHER_INPUT), generator)
    with pytest.raises(ValueError, match=r"training mode with zoneout.*call module\.eval\(\)"):
        from_torch(module.train())
    module.eval()
    module.dropout = 0.1
    from_torch(module)  # between-layer dropout is off in eval mode
    with pytest.raises(ValueError, match="training mode with dropout"):
        from_torch(copy.deepcopy(module).train())
    module.dropout = 0.0

    other = copy.deepcopy(module)
    other.layers[1].zoneout = 0.1
    with pytest.raises(ValueError, match="one zoneout"):
        from_torch(other)
    other = copy.deepcopy(module)
    other.bidirectional = True
    with pytest.raises(ValueError, match="bidirectional"):
        from_torch(other)
    other = copy.deepcopy(module)
    for layer in other.layers:
        layer.window = 3
    with pytest.raises(ValueError, match="window 3"):
        from_torch(other)
    other = copy.deepcopy(module)
    other.layers[0].hidden_size = HIDDEN + 1
    with pytest.raises(ValueError, match="hidden_size"):
        from_torch(other)
    with pytest.raises(TypeError, match="unknown override"):
        from_torch(module, use_tanh=True)
    del other.layers[0].window
    with pytest.raises(ValueError, match="no attribute 'window'"):
        from_torch(other)
