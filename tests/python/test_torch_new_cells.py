"""`from_torch` of minGRU / minLSTM (the real mingru-pytorch 0.2.1), of
mtsrnn.torch's trainable IndRNN and QRNN, alone and inside traced whole
models with SRU, QRNN and dense stages (issue 20).

The contract is mingru-pytorch's sequential path (one step per call,
``prev_hidden`` carried); its parallel log-space path over a whole sequence
from the zero state is checked too (its hidden states are positive there,
its domain). mtsrnn runs T in {1, 3, 4, 16}, in one call and streamed in
pieces; max abs error <= 2e-5. mtsrnn.torch's modules are checked against the
float64 references of mtsrnn.reference (written from docs/spec.md) and
round-tripped through from_torch and their state dicts; a training step
lowers their loss. With CI (or MTSRNN_WITH_TORCH=1) set, a missing torch or
mingru-pytorch is a failure, not a skip.
"""

import mtsrnn
import numpy as np
import pytest
from conftest import load_reference_standalone, require_package

TOL = 2e-5
BLOCKS = (1, 3, 4, 16)
PIECES = (1, 2, 7, 12, 3)  # 25 frames
reference = load_reference_standalone()
_require = require_package


torch = _require("torch")
min_gru = _require("minGRU_pytorch.minGRU")
min_lstm = _require("minGRU_pytorch.minLSTM")
mtorch = _require("mtsrnn.torch")
CELLS = {"mingru": min_gru.minGRU, "minlstm": min_lstm.minLSTM}


def streamed(model, x, block):
    """mtsrnn over x in PIECES, the state carried."""
    state, rows, at = model.initial_state(), [], 0
    for length in PIECES:
        y, state = model.forward(x[at:at + length], state=state, block=block)
        rows.append(y)
        at += length
    return np.concatenate(rows)


def check_all_ways(model, x, want, tol=TOL):
    for block in BLOCKS:
        one, _state = model.forward(x, block=block)
        assert np.max(np.abs(one - want)) <= tol, ("one call", block)
        assert np.max(np.abs(streamed(model, x, block) - want)) <= tol, ("streamed", block)


def stack(kind, dim, layers, expansion):
    torch.manual_seed(len(kind) * 10 + layers * 3 + int(expansion * 2))
    mods = [CELLS[kind](dim, expansion_factor=expansion) for _ in range(layers)]
    for mod in mods:  # wider than the default init, so the gates are not all near 1/2
        with torch.no_grad():
            for p in mod.parameters():
                p.uniform_(-0.8, 0.8)
    return torch.nn.Sequential(*mods).eval()


def sequential_path(net, x):
    """mingru-pytorch's sequential path: each layer one step per call, prev_hidden carried."""
    hidden = [None] * len(net)
    rows = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            v = x[:, t:t + 1]
            for i, mod in enumerate(net):
                if hidden[i] is None:
                    v, hidden[i] = mod(v, return_next_prev_hidden=True)
                else:
                    v, hidden[i] = mod(v, prev_hidden=hidden[i], return_next_prev_hidden=True)
            rows.append(v)
    return torch.cat(rows, dim=1)[0].numpy()


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("expansion", [1.0, 1.5])
def test_min_cells_match_mingru_pytorch(kind, layers, expansion):
    dim = 6
    net = stack(kind, dim, layers, expansion)
    model = mtsrnn.from_torch(net if layers > 1 else net[0])
    assert model.kinds == (kind,) * layers
    assert all(bool(s.fields["has_output"]) == (expansion != 1.0) for s in model.stages)
    x = torch.randn(1, sum(PIECES), dim, generator=torch.Generator().manual_seed(layers))
    want = sequential_path(net, x)
    check_all_ways(model, x[0].numpy(), want)
    # The parallel (log-space) path over the whole sequence, from the zero state.
    with torch.no_grad():
        parallel = net(x)[0].numpy()
    assert np.max(np.abs(parallel - want)) <= TOL
    # The float64 reference of the same weights (mtsrnn.reference, docs/spec.md 6).
    forward = reference.mingru_forward if kind == "mingru" else reference.minlstm_forward
    sd = [{k: v.numpy().astype(np.float64) for k, v in mod.state_dict().items()} for mod in net]
    ref, _h = forward(sd, x[0].numpy())
    check_all_ways(model, x[0].numpy(), ref)


def test_min_cell_errors():
    mod = min_gru.minGRU(4)
    mod.to_hidden_and_gate = torch.nn.Linear(4, 8, bias=True)
    with pytest.raises(ValueError, match="has a bias"):
        mtsrnn.from_torch(mod)
    with pytest.raises(TypeError, match="unknown override"):
        mtsrnn.from_torch(min_gru.minGRU(4), window=2)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_indrnn_module(activation):
    torch.manual_seed(4)
    net = mtorch.IndRNN(5, 7, num_layers=2, activation=activation).eval()
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.uniform_(-0.3, 0.3)
            layer.weight_hh.uniform_(-0.95, 0.95)
    x = torch.randn(sum(PIECES), 1, 5)
    with torch.no_grad():
        want = net(x)[0][:, 0].numpy()
    model = mtsrnn.from_torch(net)
    assert model.kinds == ("indrnn", "indrnn")
    check_all_ways(model, x[:, 0].numpy(), want)
    # The documented state-dict layout is the module's own.
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    assert sorted(sd) == [f"layers.{i}.{k}" for i in (0, 1) for k in ("bias", "weight_hh",
                                                                        "weight_ih")]
    again = mtsrnn.from_indrnn_state_dict(sd, activation=activation)
    layers = [{k.split(".", 2)[2]: v.astype(np.float64) for k, v in sd.items()
               if k.startswith(f"layers.{i}.")} for i in (0, 1)]
    ref, _h = reference.indrnn_forward(layers, x[:, 0].numpy(), activation=activation)
    check_all_ways(again, x[:, 0].numpy(), ref)
    check_all_ways(model, x[:, 0].numpy(), ref)


QRNN_CASES = [(1, "f", 0.0), (1, "fo", 0.0), (2, "fo", 0.25), (1, "ifo", 0.0),
              (2, "ifo", 0.2), (2, "f", 0.1)]


@pytest.mark.parametrize("window, pooling, zoneout", QRNN_CASES)
def test_qrnn_module(window, pooling, zoneout):
    torch.manual_seed(window + len(pooling))
    net = mtorch.QRNN(4, 6, num_layers=2, window=window, pooling=pooling,
                      zoneout=zoneout).eval()
    x = torch.randn(sum(PIECES), 1, 4)
    with torch.no_grad():
        want = net(x)[0][:, 0].numpy()
    model = mtsrnn.from_torch(net)
    assert model.kinds == ("qrnn", "qrnn")
    assert model.stages[0].fields["input_gate"] == (pooling == "ifo")
    assert model.stages[0].fields["output_gate"] == (pooling != "f")
    check_all_ways(model, x[:, 0].numpy(), want)
    sd = {k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}
    ref = reference.qrnn_forward(sd, x[:, 0].numpy(), window=window,
                                 output_gate=pooling != "f", zoneout=zoneout,
                                 pooling="ifo" if pooling == "ifo" else "fo")[0]
    assert np.max(np.abs(ref - want)) <= TOL


@pytest.mark.parametrize("make", [
    lambda: mtorch.IndRNN(3, 5, num_layers=2, activation="tanh"),
    lambda: mtorch.QRNN(3, 5, window=2, pooling="ifo", zoneout=0.1),
])
def test_modules_train(make):
    torch.manual_seed(0)
    net = make()
    x, target = torch.randn(12, 4, 3), torch.randn(12, 4, 5) * 0.3
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = ((net(x)[0] - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_module_arguments_are_checked():
    with pytest.raises(ValueError, match="window must be 1 or 2"):
        mtorch.QRNN(3, 4, window=3)
    with pytest.raises(ValueError, match="pooling must be one of"):
        mtorch.QRNN(3, 4, pooling="io")
    with pytest.raises(ValueError, match="activation must be"):
        mtorch.IndRNN(3, 4, activation="sigmoid")


class Mixed(torch.nn.Module):
    """Batch-first input: dense relu -> minGRU (to_out) -> SRU -> QRNN ifo -> minLSTM
    -> IndRNN -> dense -> softmax."""

    def __init__(self):
        super().__init__()
        sru = _require("sru")
        self.inp = torch.nn.Linear(5, 8)
        self.gru = min_gru.minGRU(8, expansion_factor=1.5)
        self.sru = sru.SRU(8, 8, num_layers=1)
        self.qrnn = mtorch.QRNN(8, 6, window=2, pooling="ifo")
        self.lstm = min_lstm.minLSTM(6)
        self.ind = mtorch.IndRNN(6, 4, activation="relu")
        self.head = torch.nn.Linear(4, 3)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        x = self.gru(x)
        x = x.transpose(0, 1)
        x, _ = self.sru(x)
        x, _ = self.qrnn(x)
        x = self.lstm(x.transpose(0, 1)).transpose(0, 1)
        x, _ = self.ind(x)
        return torch.softmax(self.head(x), dim=-1)


def test_mixed_traced_model():
    torch.manual_seed(11)
    net = Mixed().eval()
    model = mtsrnn.from_torch(net)
    assert model.kinds == ("dense", "mingru", "sru", "qrnn", "minlstm", "indrnn", "dense",
                           "softmax")
    x = torch.randn(1, sum(PIECES), 5)
    with torch.no_grad():
        want = net(x)[:, 0].numpy()  # (L, B=1) time-first at the end
    check_all_ways(model, x[0].numpy(), want)
    ref = mtsrnn.reference.model_forward(model.reference_parts(), x[0].numpy())
    assert np.max(np.abs(ref - want)) <= TOL
    for scheme in ("int8-w", "int8-wa"):
        q = mtsrnn.quantize(model, scheme)
        got = q.forward(x[0].numpy())[0]
        assert np.max(np.abs(got - want)) <= 0.05, scheme  # int8 error, not a layout error
