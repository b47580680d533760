"""The implementations `mtsrnn bench host` compares, each as a runner that
processes the same L-step input stream with the same weights:

- ``mtsrnn``: the kernels' default (fastest built) blocked product at block T;
- ``mtsrnn-int8-w`` / ``mtsrnn-int8-wa``: the same layer quantised by
  `mtsrnn.quantize` (docs/quantization.md), each scheme's default product,
  at block T: what int8 weights buy on this machine;
- ``numpy``: NumPy/OpenBLAS blocked at the same T: per block one float32
  product ``U = X_block @ W.T``, then the elementwise scan over the block's T
  rows, vectorised over the hidden units (`NumpyBlocked`);
- ``cmsis-matvec``: the per-step baseline: CMSIS-DSP's `arm_mat_vec_mult_f32`
  once per time step, inside the kernels' own driver and scan (block 1), so
  only the product differs from ``mtsrnn`` (host/src/_core.c);
- ``sru-step`` / ``sru-seq``: PyPI `sru` (PyTorch) one step at a time with the
  state carried (what a streaming user writes), and over the whole sequence;
- ``mingru-step`` / ``mingru-seq`` (minGRU and minLSTM): PyPI `mingru-pytorch`
  one step per call with ``prev_hidden`` carried (its sequential path: the
  streaming peer), and its parallel log-space scan over the whole sequence
  (the offline reference).

A runner's `run(block)` processes the whole input; `per_block` says whether
its time depends on T.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..cells import MIN_WEIGHT_KEYS, mingru, minlstm
from ..extras import optional
from ..heads import dense, norm, sequential, softmax
from ..model import Model, product_variants, random_qrnn, random_sru, sru_weight_to_kernel
from ..quantize import quantize

CELLS = ("sru", "qrnn", "mingru", "minlstm", "head")
HEAD_CLASSES = 16  # the whole model's ("head") classifier outputs
MIN_GATES = {"mingru": 2, "minlstm": 3}
CMSIS_MAX_DIM = 65535  # arm_matrix_instance_f32 sizes are uint16_t
# The int8 runners: name -> weight scheme (mtsrnn.quantize).
INT8_RUNNERS = {"mtsrnn-int8-w": "int8-w", "mtsrnn-int8-wa": "int8-wa"}


def make_model(cell: str, hidden: int, seed: int = 0) -> Model:
    """One layer with input size = hidden size, as the benchmarks use: SRU in
    the sru 2.x defaults (3 weight blocks, scaled-input skip), QRNN with
    fo-pooling, an output gate and window 1, minGRU / minLSTM without an
    output projection (mingru-pytorch's expansion_factor 1); "head" a whole
    model: affine norm -> that SRU layer -> dense relu (hidden) -> dense
    (HEAD_CLASSES) -> softmax."""
    if cell == "sru":
        return random_sru(hidden, hidden, num_layers=1, seed=seed)
    if cell == "qrnn":
        return random_qrnn(hidden, hidden, num_layers=1, seed=seed)
    if cell in MIN_GATES:  # mingru-pytorch's init: nn.Linear's U(-1/sqrt(n), 1/sqrt(n))
        bound = 1.0 / np.sqrt(hidden)
        weight = np.random.default_rng(seed).uniform(
            -bound, bound, (MIN_GATES[cell] * hidden, hidden)).astype(np.float32)
        return Model([(mingru if cell == "mingru" else minlstm)(weight)])
    if cell == "head":  # a whole model (issue 14): the SRU layer with a classifier head
        rng = np.random.default_rng(seed)
        return sequential(
            norm(rng.uniform(0.5, 2.0, hidden), mean=rng.normal(0.0, 0.5, hidden)),
            random_sru(hidden, hidden, num_layers=1, seed=seed),
            dense(rng.uniform(-1, 1, (hidden, hidden)) / np.sqrt(hidden),
                  rng.normal(0.0, 0.1, hidden), activation="relu"),
            dense(rng.uniform(-1, 1, (HEAD_CLASSES, hidden)) / np.sqrt(hidden)),
            softmax(HEAD_CLASSES))
    raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


def flops_per_step(model: Model) -> int:
    """Multiply-adds x 2 of the blocked products per time step (docs/spec.md
    section 4): every stage's product weights (the tensors that may be int8)."""
    return 2 * sum(stage.tensors[tensor.name].size for stage in model.stages
                   for tensor in stage.kind.tensors
                   if tensor.scale and tensor.name in stage.tensors)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.reciprocal(np.float32(1.0) + np.exp(-x))


class NumpyBlocked:
    """NumPy float32 forward of a one-layer model made by `make_model`: per
    block of T steps one OpenBLAS product, then the sequential scan with
    NumPy vector operations over the hidden units. The state (c) carries
    across calls, like the kernels'."""

    def __init__(self, model: Model):
        sd = model.state_dict()
        cfg = model.config
        self.cell = model.cell if model.cell != "model" else model.kinds[0]
        if model.num_layers != 1:
            raise ValueError(f"the NumPy peer runs one layer, got {model.num_layers}")
        if model.cell == "sru":
            unsupported = {"bidirectional": False, "normalize_after": False,
                           "has_skip_term": True}
            if any(cfg.get(key, value) != value for key, value in unsupported.items()) or (
                    "rnn_lst.0.weight_proj" in sd or "rnn_lst.0.layer_norm.weight" in sd):
                raise ValueError("the NumPy peer runs a plain unidirectional SRU layer "
                                 f"(no projection or layer norm), got config {cfg}")
            weight = sd["rnn_lst.0.weight"]
            d = model.output_size
            k = weight.shape[1] // d
            if k != 3:
                raise ValueError(f"the NumPy peer needs input size == hidden size (k = 3 "
                                 f"weight blocks), got k = {k}")
            self.w = sru_weight_to_kernel(weight, 1, d, k)  # (3d, n), output-major
            vc = sd.get("rnn_lst.0.weight_c")
            self.vf, self.vr = (vc[:d], vc[d:]) if vc is not None else (None, None)
            bias = sd["rnn_lst.0.bias"]
            self.bf, self.br = bias[:d], bias[d:]
            self.scale_x = np.float32(sd["rnn_lst.0.scale_x"][0])
            self.use_tanh = bool(cfg.get("use_tanh", False))
            self.bias = None
        elif self.cell in MIN_GATES:
            if "to_out.weight" in sd:
                raise ValueError("the NumPy peer runs a minGRU / minLSTM without to_out")
            self.w = sd[MIN_WEIGHT_KEYS[self.cell]]  # (G*H, n), output-major
            self.bias = None
            d = model.output_size
        else:
            if (cfg.get("window", 1) != 1 or cfg.get("pooling", "fo") != "fo"
                    or not cfg.get("output_gate", True) or cfg.get("zoneout", 0.0) != 0.0):
                raise ValueError("the NumPy peer runs a QRNN with window 1, fo-pooling, an "
                                 f"output gate and no zoneout, got config {cfg}")
            self.w = sd["layers.0.linear.weight"]  # (3H, n), output-major
            self.bias = sd["layers.0.linear.bias"]
            d = model.output_size
        self.hidden = d

    def forward(self, x: np.ndarray, c: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        """x (L, n) float32, c (hidden,) -> h (L, hidden), new c."""
        d = self.hidden
        h = np.empty((x.shape[0], d), np.float32)
        c = c.astype(np.float32, copy=True)
        for t0 in range(0, x.shape[0], block):
            xb = x[t0:t0 + block]
            u = xb @ self.w.T  # the one product of the block
            if self.cell == "sru":
                u0, uf, ur = u[:, :d], u[:, d:2 * d] + self.bf, u[:, 2 * d:] + self.br
                skip = self.scale_x * xb
                for t in range(xb.shape[0]):
                    f_in, r_in = uf[t], ur[t]
                    if self.vf is not None:
                        f_in, r_in = f_in + self.vf * c, r_in + self.vr * c
                    f, r = _sigmoid(f_in), _sigmoid(r_in)
                    c = (c - u0[t]) * f + u0[t]
                    g = np.tanh(c) if self.use_tanh else c
                    h[t0 + t] = (g - skip[t]) * r + skip[t]
            elif self.cell in MIN_GATES:
                a = u[:, :d]
                g = np.where(a >= 0, a + np.float32(0.5), _sigmoid(np.minimum(a, 0)))
                if self.cell == "mingru":
                    z = _sigmoid(u[:, d:])
                    for t in range(xb.shape[0]):
                        c = c + z[t] * (g[t] - c)
                        h[t0 + t] = c
                else:
                    f, i = _sigmoid(u[:, d:2 * d]), _sigmoid(u[:, 2 * d:])
                    for t in range(xb.shape[0]):
                        c = (f[t] * c + i[t] * g[t]) / (f[t] + i[t])
                        h[t0 + t] = c
            else:
                u += self.bias
                z, f, o = np.tanh(u[:, :d]), _sigmoid(u[:, d:2 * d]), _sigmoid(u[:, 2 * d:])
                for t in range(xb.shape[0]):
                    c = f[t] * z[t] + (1 - f[t]) * c  # torchqrnn's gate convention
                    h[t0 + t] = o[t] * c
        return h, c


def sru_module(model: Model):
    """A `sru.SRU` (PyPI sru, PyTorch) holding this model's weights, in eval
    mode; raises ImportError when torch or sru is not installed."""
    sru = optional("sru", "the sru peers")
    torch = optional("torch", "the sru peers")
    rnn = sru.SRU(model.input_size, model.output_size, num_layers=1,
                  use_tanh=bool(model.config.get("use_tanh", False))).eval()
    rnn.load_state_dict({key: torch.from_numpy(value)
                         for key, value in model.state_dict().items()})
    return rnn


def sru_step_by_step(rnn, x: np.ndarray) -> np.ndarray:
    """h (L, hidden) from `sru` called once per time step with c carried."""
    import torch

    frames = torch.from_numpy(x).unsqueeze(1)  # (L, batch 1, n)
    out = []
    c = None
    with torch.no_grad():
        for t in range(frames.shape[0]):
            h, c = rnn(frames[t:t + 1], c)
            out.append(h)
    return torch.cat(out).squeeze(1).numpy()


def sru_whole_sequence(rnn, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        h, _c = rnn(torch.from_numpy(x).unsqueeze(1))
    return h.squeeze(1).numpy()


def cmsis_available() -> bool:
    return "cmsis-matvec" in [name for name, _summary in _core.host_gemm_variants()]


def cmsis_matvec_forward(model: Model, x: np.ndarray) -> np.ndarray:
    """h (L, out) with the kernels' driver and scan at block 1 and CMSIS-DSP's
    arm_mat_vec_mult_f32 as the product (a fresh zero state)."""
    if model.input_size * model.config.get("window", 1) > CMSIS_MAX_DIM:
        raise ValueError(f"CMSIS-DSP matrices have at most {CMSIS_MAX_DIM} columns; this "
                         f"model's product has {model.input_size} x window")
    state = np.zeros(model.state_floats, np.float32)
    h = np.empty((x.shape[0], model.output_size), np.float32)
    model._core.forward(x, x.shape[0], state, h, 1, "cmsis-matvec")
    return h


def mingru_module(model: Model):
    """The mingru-pytorch minGRU / minLSTM (expansion_factor 1) holding this
    model's weights, in eval mode; ImportError when torch or mingru-pytorch is
    not installed."""
    torch = optional("torch", "the mingru-pytorch peers")
    if model.kinds[0] == "mingru":
        module = optional("minGRU_pytorch.minGRU", "the mingru-pytorch peers").minGRU
    else:
        module = optional("minGRU_pytorch.minLSTM", "the mingru-pytorch peers").minLSTM
    rnn = module(model.input_size).eval()
    rnn.load_state_dict({key: torch.from_numpy(value)
                         for key, value in model.state_dict().items()})
    return rnn


def mingru_step_by_step(rnn, x: np.ndarray) -> np.ndarray:
    """h (L, hidden) from the sequential path: one step per call, prev_hidden carried."""
    import torch

    frames = torch.from_numpy(x).unsqueeze(0)  # (batch 1, L, n)
    out = []
    with torch.no_grad():
        y, hidden = rnn(frames[:, :1], return_next_prev_hidden=True)
        out.append(y)
        for t in range(1, frames.shape[1]):
            y, hidden = rnn(frames[:, t:t + 1], prev_hidden=hidden,
                            return_next_prev_hidden=True)
            out.append(y)
    return torch.cat(out, dim=1)[0].numpy()


def mingru_whole_sequence(rnn, x: np.ndarray) -> np.ndarray:
    """h (L, hidden) from the parallel log-space scan over the whole sequence."""
    import torch

    with torch.no_grad():
        return rnn(torch.from_numpy(x).unsqueeze(0))[0].numpy()


@dataclass
class Runner:
    name: str
    per_block: bool                 # whether the time depends on T
    run: Callable[[int], object]    # run(block) processes the whole input
    note: str = ""
    weight_bytes: int | None = None  # streamed per block if not the float model's (int8)
    blocks: tuple[int, ...] | None = None  # the T it runs at, if not all (int8)


def int8_runners(model: Model, x: np.ndarray,
                 blocks: tuple[int, ...] | None = None) -> list[Runner]:
    """The model quantised by each scheme of INT8_RUNNERS, run with that
    scheme's default product on the same input (at `blocks` only, if given)."""
    found = []
    for name, scheme in INT8_RUNNERS.items():
        quantised = quantize(model, scheme)
        found.append(Runner(name, True,
                            lambda block, q=quantised: q.forward(x, block=block),
                            f"{scheme} weights, product variant '{product_variants(scheme)[0]}'",
                            weight_bytes=quantised.weight_bytes, blocks=blocks))
    return found


def runners(model: Model, x: np.ndarray, *, with_torch: bool = True,
            variant: str | None = None, int8: bool = True,
            int8_blocks: tuple[int, ...] | None = None) -> tuple[list[Runner], dict[str, str]]:
    """The runners available for this model and input (with `int8`, also its
    int8-w and int8-wa versions, at `int8_blocks` if given), and, for each
    peer left out, why."""
    c0 = np.zeros(model.output_size, np.float32)
    chosen = variant or product_variants()[0]
    found = [
        Runner("mtsrnn", True, lambda block: model.forward(x, block=block, variant=variant),
               f"product variant '{chosen}'"),
        *(int8_runners(model, x, int8_blocks) if int8 else []),
    ]
    missing: dict[str, str] = {}
    if len(model.stages) == 1:
        numpy_peer = NumpyBlocked(model)
        found.append(Runner("numpy", True, lambda block: numpy_peer.forward(x, c0, block),
                            "float32 X_block @ W.T, then a NumPy scan"))
    else:
        missing["numpy"] = "not applicable: the NumPy peer runs one layer, not a whole model"
    if cmsis_available():
        found.append(Runner("cmsis-matvec", False, lambda _block: cmsis_matvec_forward(model, x),
                            "arm_mat_vec_mult_f32 per step, kernels' scan"))
    else:
        missing["cmsis-matvec"] = ("unavailable: mtsrnn was built without the cmsisdsp sdist "
                                   "(ci/fetch-sdist.sh cmsisdsp ..., then reinstall)")
    if model.kinds[0] in MIN_GATES:
        if not with_torch:
            missing["mingru-pytorch"] = "left out (--no-torch)"
        else:
            try:
                rnn = mingru_module(model)
            except ImportError as error:
                missing["mingru-pytorch"] = (f"unavailable: {error} (pip install "
                                             "torch==2.13.0; pip install --no-deps "
                                             "mingru-pytorch==0.2.1 einops==0.8.2)")
            else:
                found.append(Runner("mingru-step", False,
                                    lambda _block: mingru_step_by_step(rnn, x),
                                    "mingru-pytorch one step per call, prev_hidden carried"))
                found.append(Runner("mingru-seq", False,
                                    lambda _block: mingru_whole_sequence(rnn, x),
                                    "mingru-pytorch parallel scan over the whole sequence"))
        return found, missing
    if model.cell != "sru":
        missing["sru"] = ("not applicable: sru implements SRU only" if model.cell != "model"
                          else "not applicable: a whole model, not an sru.SRU")
    elif not with_torch:
        missing["sru"] = "left out (--no-torch)"
    else:
        try:
            rnn = sru_module(model)
        except ImportError as error:
            missing["sru"] = f"unavailable: {error} (pip install torch==2.13.0 sru==2.6.0)"
        else:
            found.append(Runner("sru-step", False, lambda _block: sru_step_by_step(rnn, x),
                                "sru.SRU one step per call, c carried"))
            found.append(Runner("sru-seq", False, lambda _block: sru_whole_sequence(rnn, x),
                                "sru.SRU over the whole sequence"))
    return found, missing
