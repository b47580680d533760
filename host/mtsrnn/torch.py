"""Trainable PyTorch modules whose trained weights `mtsrnn.from_torch` imports:
`IndRNN` and `QRNN` (`mtsrnn[torch]`; importing this module imports torch).

Both take time-first input (L, B, n) and return ``(output, h_n)`` like
``sru.SRU`` and ``nn.GRU``, so they sit in a traced whole model
(``h, _ = self.rnn(x)``, mtsrnn.torch_chain) as the other recurrent modules
do. They run on the CPU (or any device torch runs elementwise loops on) with
a plain per-step loop: made for training small edge models, not for speed.

- `IndRNN(input_size, hidden_size, num_layers=1, activation="relu")`:
  h_t = act(W x_t + u * h_{t-1} + b) per layer (Li et al. 2018). Its state
  dict is the documented layout of `mtsrnn.from_indrnn_state_dict`:
  ``layers.{i}.weight_ih`` (hidden, input), ``layers.{i}.weight_hh``
  (hidden,), ``layers.{i}.bias`` (hidden,).
- `QRNN(input_size, hidden_size, num_layers=1, window=1, pooling="fo",
  zoneout=0.0)`: the torchqrnn layout (``layers.{i}.linear`` of (G*H,
  window*n), row blocks Z, F, [I], [O]; window 1 or 2) with pooling "f"
  (no output gate), "fo" or "ifo" (docs/spec.md 3; `mtsrnn.reference`):
  "f"/"fo": c_t = f' z + (1 - f') c_{t-1}, f' = f (1 - zoneout) in eval mode
  (zoneout drops f' to 0 at random while training, as torchqrnn);
  "ifo": c_t = p c_{t-1} + (1 - p)(f c_{t-1} + i z), p = zoneout in eval
  mode (while training c_{t-1} is kept at random with probability p);
  h_t = o c_t with an output gate, else c_t. Each layer keeps its last
  window-1 inputs only within one call (a call starts from zero inputs).
"""

from __future__ import annotations

import math

from .extras import optional

torch = optional("torch", "mtsrnn.torch (the PyTorch modules)")
nn = torch.nn

__all__ = ["IndRNN", "IndRNNLayer", "QRNN", "QRNNLayer"]


class IndRNNLayer(nn.Module):
    """One IndRNN layer: h_t = act(W x_t + u * h_{t-1} + b)."""

    def __init__(self, input_size: int, hidden_size: int, activation: str = "relu"):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.input_size, self.hidden_size, self.activation = input_size, hidden_size, activation
        bound = 1.0 / math.sqrt(input_size)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound,
                                                                                     bound))
        # |u| < 1 keeps a relu IndRNN from exploding at the start of training.
        self.weight_hh = nn.Parameter(torch.empty(hidden_size).uniform_(0.0, 1.0))
        self.bias = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        act = torch.relu if self.activation == "relu" else torch.tanh
        u = x @ self.weight_ih.T + self.bias  # every step's product at once
        h = x.new_zeros(x.shape[1], self.hidden_size) if h0 is None else h0
        rows = []
        for t in range(x.shape[0]):
            h = act(u[t] + self.weight_hh * h)
            rows.append(h)
        return torch.stack(rows), h


class IndRNN(nn.Module):
    """A stack of IndRNN layers: (L, B, n) -> ((L, B, H), h_n (layers, B, H))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 activation: str = "relu"):
        super().__init__()
        self.activation = activation
        self.layers = nn.ModuleList(
            IndRNNLayer(input_size if i == 0 else hidden_size, hidden_size, activation)
            for i in range(num_layers))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        finals = []
        for i, layer in enumerate(self.layers):
            x, h = layer(x, None if h0 is None else h0[i])
            finals.append(h)
        return x, torch.stack(finals)


_POOLINGS = {"f": (False, False), "fo": (False, True), "ifo": (True, True)}


class QRNNLayer(nn.Module):
    """One QRNN layer in the torchqrnn layout (`linear`, `window`, `output_gate`,
    `zoneout`) plus `pooling` ("f", "fo" or "ifo")."""

    def __init__(self, input_size: int, hidden_size: int, window: int = 1,
                 pooling: str = "fo", zoneout: float = 0.0):
        super().__init__()
        if window not in (1, 2):
            raise ValueError(f"window must be 1 or 2 (the torchqrnn layout), got {window!r}")
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {tuple(_POOLINGS)}, got {pooling!r}")
        if not 0.0 <= zoneout < 1.0:
            raise ValueError(f"zoneout must be in [0, 1), got {zoneout}")
        self.input_size, self.hidden_size, self.window = input_size, hidden_size, window
        self.pooling, self.zoneout = pooling, float(zoneout)
        self.input_gate, self.output_gate = _POOLINGS[pooling]
        gates = 2 + self.input_gate + self.output_gate
        self.linear = nn.Linear(window * input_size, gates * hidden_size)

    def forward(self, x: torch.Tensor, c0: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.window == 2:  # [x_t | x_{t-1}], x_{-1} = 0
            x = torch.cat([x, torch.cat([torch.zeros_like(x[:1]), x[:-1]])], dim=2)
        y = self.linear(x).chunk(2 + self.input_gate + self.output_gate, dim=2)
        z, f = torch.tanh(y[0]), torch.sigmoid(y[1])
        i = torch.sigmoid(y[2]) if self.input_gate else None
        o = torch.sigmoid(y[-1]) if self.output_gate else None
        p = self.zoneout
        if not self.input_gate and p > 0:
            # torchqrnn: zoneout drops f while training, scales it in eval mode.
            f = (f * torch.empty_like(f).bernoulli_(1 - p) if self.training
                 else f * (1 - p))
        c = x.new_zeros(x.shape[1], self.hidden_size) if c0 is None else c0
        rows = []
        for t in range(x.shape[0]):
            if self.input_gate:
                new = f[t] * c + i[t] * z[t]
                if p > 0 and self.training:
                    keep = torch.empty_like(c).bernoulli_(p)
                    c = keep * c + (1 - keep) * new
                else:
                    c = p * c + (1 - p) * new
            else:
                c = f[t] * z[t] + (1 - f[t]) * c
            rows.append(c)
        cs = torch.stack(rows)
        return (o * cs if o is not None else cs), c


class QRNN(nn.Module):
    """A stack of QRNN layers: (L, B, n) -> ((L, B, H), c_n (layers, B, H))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 window: int = 1, pooling: str = "fo", zoneout: float = 0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            QRNNLayer(input_size if i == 0 else hidden_size, hidden_size, window, pooling,
                      zoneout)
            for i in range(num_layers))

    def forward(self, x: torch.Tensor, c0: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        finals = []
        for i, layer in enumerate(self.layers):
            x, c = layer(x, None if c0 is None else c0[i])
            finals.append(c)
        return x, torch.stack(finals)
