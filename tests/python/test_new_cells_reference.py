"""The float64 references of minGRU, minLSTM and IndRNN (host/mtsrnn/reference.py)
against the real packages and hand-computed values (docs/spec.md 6 and 7).

minGRU / minLSTM: the real ``mingru-pytorch`` 0.2.1, a stack of its modules (1 and 3
layers, with and without ``to_out``), run two ways:
- its sequential path (seq_len == 1 per call, ``prev_hidden`` carried): the contract,
  from a zero state and from a given (negative too) state;
- its parallel log-space path over whole sequences, where it is defined: from a zero
  state (no ``prev_hidden``) and, for minGRU, from a positive carried state streamed in
  pieces. minLSTM's parallel path applies g to a carried ``prev_hidden`` (docs/spec.md 6.1),
  which the test pins as the documented disagreement.
IndRNN: a small torch module written here from Li et al. 2018, and a hand-computed case.
"""


import numpy as np
import pytest
from conftest import load_reference_standalone, require_package

reference = load_reference_standalone()

_require = require_package

torch = _require("torch")
mingru_module = _require("minGRU_pytorch.minGRU")
minlstm_module = _require("minGRU_pytorch.minLSTM")

TOLERANCE = 2e-5
CELLS = {
    "mingru": (mingru_module.minGRU, reference.mingru_forward, "to_hidden_and_gate.weight"),
    "minlstm": (minlstm_module.minLSTM, reference.minlstm_forward, "to_hidden_and_f_i_gate.weight"),
}


def make_stack(cell, dim, num_layers, to_out, seed):
    """num_layers modules of the real package; expansion 1.5 with to_out, 1 without."""
    torch.manual_seed(seed)
    module_class = CELLS[cell][0]
    stack = [module_class(dim, expansion_factor=1.5 if to_out else 1.0).double().eval()
             for _ in range(num_layers)]
    for module in stack:
        assert isinstance(module.to_out, torch.nn.Linear) == to_out
    return stack


def state_dicts(stack):
    return [{k: v.detach().numpy() for k, v in m.state_dict().items()} for m in stack]


def run_sequential(stack, x, h0=None):
    """The package's sequential path: one call per step, prev_hidden carried per layer."""
    hidden = [None if h0 is None else torch.tensor(h).reshape(1, 1, -1) for h in
              (h0 if h0 is not None else [None] * len(stack))]
    rows = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            value = torch.tensor(x[t]).reshape(1, 1, -1)
            for index, module in enumerate(stack):
                value, hidden[index] = module(value, hidden[index], return_next_prev_hidden=True)
            rows.append(value.reshape(-1).numpy())
    return np.array(rows), [h.reshape(-1).numpy() for h in hidden]


def run_parallel(stack, x, pieces, carry):
    """The package's parallel path over pieces of the sequence (each of length >= 2);
    carry: pass prev_hidden from one piece to the next."""
    hidden = [None] * len(stack)
    out = []
    start = 0
    with torch.no_grad():
        for length in pieces:
            value = torch.tensor(x[start:start + length]).unsqueeze(0)
            for index, module in enumerate(stack):
                value, last = module(value, hidden[index] if carry else None,
                                     return_next_prev_hidden=True)
                hidden[index] = last
            out.append(value.squeeze(0).numpy())
            start += length
    return np.concatenate(out)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("to_out", [False, True])
def test_sequential_path_from_zero_and_given_state(cell, num_layers, to_out):
    dim = 6
    stack = make_stack(cell, dim, num_layers, to_out, seed=num_layers * 10 + to_out)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(17, dim)) * 1.5
    forward = CELLS[cell][1]
    hidden_size = CELLS[cell][0](dim, expansion_factor=1.5 if to_out else 1.0) \
        .to_out.in_features if to_out else dim
    # From a zero state: the package's first call without prev_hidden (h * z, i' * h~).
    y_first, h_first = run_sequential(stack, x[:1])
    expected, h_expected = forward(state_dicts(stack), x[:1])
    np.testing.assert_allclose(y_first, expected, rtol=0, atol=TOLERANCE)
    # Then the rest of the stream with the carried state, any sign.
    h0 = [rng.normal(size=hidden_size) for _ in range(num_layers)]
    y_seq, h_seq = run_sequential(stack, x, h0)
    y_ref, h_ref = forward(state_dicts(stack), x, h0)
    np.testing.assert_allclose(y_seq, y_ref, rtol=0, atol=TOLERANCE)
    for got, want in zip(h_seq, h_ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    # Streamed in pieces through the reference: the state carries exactly.
    y_parts, state = [], None
    for start, stop in ((0, 1), (1, 4), (4, 8), (8, 17)):
        part, state = forward(state_dicts(stack), x[start:stop], h0 if state is None else state)
        y_parts.append(part)
    np.testing.assert_allclose(np.concatenate(y_parts), y_ref, rtol=0, atol=1e-12)
    assert np.isfinite(h_expected[0]).all()


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("to_out", [False, True])
@pytest.mark.parametrize("block", [3, 4, 16])
def test_parallel_path_from_zero_state(cell, num_layers, to_out, block):
    """Whole sequences of several lengths, each from a zero state (the package's parallel
    path without prev_hidden): agrees with the sequential contract."""
    dim = 5
    stack = make_stack(cell, dim, num_layers, to_out, seed=100 + block)
    x = np.random.default_rng(block).normal(size=(2 * block + 1, dim))
    got = run_parallel(stack, x, [x.shape[0]], carry=False)
    want, _ = CELLS[cell][1](state_dicts(stack), x)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("to_out", [False, True])
def test_mingru_parallel_path_streamed_in_pieces(num_layers, to_out):
    """minGRU's hidden state stays positive from a zero state (g > 0, z in (0, 1)), so its
    parallel path with prev_hidden carried (log of the state) is defined, piece by piece."""
    dim = 4
    stack = make_stack("mingru", dim, num_layers, to_out, seed=7)
    x = np.random.default_rng(11).normal(size=(3 + 4 + 16 + 2, dim))
    got = run_parallel(stack, x, [3, 4, 16, 2], carry=True)
    want, states = reference.mingru_forward(state_dicts(stack), x)
    assert all((h > 0).all() for h in states)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_minlstm_parallel_path_applies_g_to_the_carried_state():
    """The documented disagreement: minLSTM's parallel path starts from g(prev_hidden),
    its sequential path from prev_hidden. The reference follows the sequential path."""
    dim = 4
    stack = make_stack("minlstm", dim, 1, False, seed=5)
    x = np.random.default_rng(2).normal(size=(6, dim))
    h0 = np.full(dim, 0.25)
    with torch.no_grad():
        parallel = stack[0](torch.tensor(x).unsqueeze(0),
                            torch.tensor(h0).reshape(1, 1, -1)).squeeze(0).numpy()
    sequential, _ = reference.minlstm_forward(state_dicts(stack), x, [h0])
    as_g, _ = reference.minlstm_forward(state_dicts(stack), x, [h0 + 0.5])  # g(0.25) = 0.75
    np.testing.assert_allclose(parallel, as_g, rtol=0, atol=TOLERANCE)
    assert np.abs(parallel - sequential).max() > 1e-3


class TorchIndRNN(torch.nn.Module):
    """IndRNN written from Li et al. 2018: h_t = act(W x_t + u * h_{t-1} + b)."""

    def __init__(self, input_size, hidden_size, activation):
        super().__init__()
        self.weight_ih = torch.nn.Parameter(torch.randn(hidden_size, input_size) * 0.5)
        self.weight_hh = torch.nn.Parameter(torch.rand(hidden_size) * 1.8 - 0.9)
        self.bias = torch.nn.Parameter(torch.randn(hidden_size) * 0.1)
        self.act = torch.relu if activation == "relu" else torch.tanh

    def forward(self, x, h):
        out = []
        for t in range(x.shape[0]):
            h = self.act(x[t] @ self.weight_ih.T + self.weight_hh * h + self.bias)
            out.append(h)
        return torch.stack(out), h


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("num_layers", [1, 3])
def test_indrnn_against_torch(activation, num_layers):
    torch.manual_seed(num_layers)
    sizes = [5, 7, 7, 7][:num_layers + 1]
    stack = [TorchIndRNN(sizes[i], sizes[i + 1], activation).double()
             for i in range(num_layers)]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, sizes[0]))
    h0 = [rng.normal(size=sizes[i + 1]) for i in range(num_layers)]
    value = torch.tensor(x)
    finals = []
    with torch.no_grad():
        for module, h in zip(stack, h0, strict=True):
            value, last = module(value, torch.tensor(h))
            finals.append(last.numpy())
    got, states = reference.indrnn_forward(state_dicts(stack), x, h0, activation=activation)
    np.testing.assert_allclose(got, value.numpy(), rtol=0, atol=1e-12)
    for a, b in zip(states, finals, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_indrnn_by_hand():
    layer = {"weight_ih": np.array([[1.0, -2.0]]), "weight_hh": np.array([0.5]),
             "bias": np.array([0.25])}
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    # relu: 1.25; max(0, -2 + 0.625 + 0.25) = 0; 2 + 0 + 0.25 = 2.25.
    got, (h,) = reference.indrnn_forward([layer], x, [np.array([0.0])])
    np.testing.assert_allclose(got[:, 0], [1.25, 0.0, 2.25], rtol=0, atol=1e-15)
    assert h[0] == 2.25
    # tanh from h0 = 1: tanh(1 + 0.5 + 0.25).
    got, _ = reference.indrnn_forward([layer], x[:1], [np.array([1.0])], activation="tanh")
    np.testing.assert_allclose(got[0, 0], np.tanh(1.75), rtol=0, atol=1e-15)


def test_min_cells_by_hand():
    """One unit: minGRU with a = 1, b = 0 from h0 = 1: z = 1/2, g = 1.5, h = 1.25; a = -1:
    g = sigma(-1). minLSTM with equal gates: f' = i' = 1/2."""
    gru = {"to_hidden_and_gate.weight": np.array([[1.0], [0.0]])}
    got, _ = reference.mingru_forward([gru], np.array([[1.0], [-1.0]]), [np.array([1.0])])
    sig = 1.0 / (1.0 + np.exp(1.0))
    np.testing.assert_allclose(got[:, 0], [1.25, 0.5 * 1.25 + 0.5 * sig], rtol=0, atol=1e-15)
    lstm = {"to_hidden_and_f_i_gate.weight": np.array([[2.0], [3.0], [3.0]]),
            "to_out.weight": np.array([[2.0]])}
    got, (h,) = reference.minlstm_forward([lstm], np.array([[1.0]]), [np.array([4.0])])
    assert h[0] == pytest.approx(0.5 * 4.0 + 0.5 * 2.5, abs=1e-15)
    assert got[0, 0] == pytest.approx(2 * h[0], abs=1e-15)


@pytest.mark.parametrize("quantization", reference.QUANTIZATIONS)
def test_quantized_variants_use_the_quantized_products(quantization):
    """int8: every product (gates and to_out) through quantized_product; the error against
    float64 stays at the int8 level and the scan is unchanged."""
    rng = np.random.default_rng(4)
    layers = [{"to_hidden_and_gate.weight": rng.normal(size=(12, 4)),
               "to_out.weight": rng.normal(size=(4, 6))}]
    x = rng.normal(size=(5, 4))
    exact, _ = reference.mingru_forward(layers, x)
    quant, _ = reference.mingru_forward(layers, x, quantization=quantization)
    assert 0 < np.abs(quant - exact).max() < 0.1
    # Step 1 by hand from the quantised products.
    wq, s = reference.quantize_outputs(layers[0]["to_hidden_and_gate.weight"])
    u = reference.quantized_product(wq, s, x[0], quantization)
    z = 1 / (1 + np.exp(-u[6:]))
    g = np.where(u[:6] >= 0, u[:6] + 0.5, 1 / (1 + np.exp(-np.minimum(u[:6], 0))))
    oq, os_ = reference.quantize_outputs(layers[0]["to_out.weight"])
    np.testing.assert_allclose(quant[0], reference.quantized_product(oq, os_, z * g, quantization),
                               rtol=0, atol=1e-12)
    ind = [{"weight_ih": rng.normal(size=(3, 4)), "weight_hh": rng.normal(size=3),
            "bias": rng.normal(size=3)}]
    got, _ = reference.indrnn_forward(ind, x[:1], quantization=quantization)
    wq, s = reference.quantize_outputs(ind[0]["weight_ih"])
    want = np.maximum(reference.quantized_product(wq, s, x[0], quantization) + ind[0]["bias"], 0)
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-12)
