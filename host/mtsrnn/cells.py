"""minGRU, minLSTM and IndRNN layers as parts of a model (docs/spec.md 6, 7; issue 20).

Each builder returns one `Part` (mtsrnn.model.Part) holding one layer: its
weights in the PyTorch layout (which for these cells is the kernels' layout:
nn.Linear's weight is (output, input), output-major) and its one kernel
stage. Chain them with other stages through `mtsrnn.sequential`; quantise the
whole model afterwards (mtsrnn.quantize). What each layer computes per step:

- minGRU (mingru-pytorch 0.2.1, its sequential path): [a; b] = W x_t,
  z = sigmoid(b), h_t = (1 - z) h_{t-1} + z g(a), g(a) = a + 1/2 for a >= 0
  and sigmoid(a) below; y_t = W_out h_t with `to_out`, else h_t.
- minLSTM: [a; f; i] = W x_t, f = sigmoid(f), i = sigmoid(i),
  h_t = (f h_{t-1} + i g(a)) / (f + i); y_t as minGRU's.
- IndRNN (Li et al. 2018): h_t = act(W x_t + u * h_{t-1} + b), act relu or tanh.

The IndRNN state-dict layout (`from_indrnn_state_dict`, and the state dict of
`mtsrnn.torch.IndRNN`): per layer i, ``layers.{i}.weight_ih`` (hidden, input),
``layers.{i}.weight_hh`` (hidden,) the recurrent vector u, ``layers.{i}.bias``
(hidden,); a single layer may drop the ``layers.{i}.`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .model import Model, Part, _as_float32
from .stages import INDRNN_ACTIVATIONS, MIN_GATES, Stage

__all__ = ["MIN_WEIGHT_KEYS", "from_indrnn_state_dict", "indrnn", "mingru", "minlstm",
           "part_from_stage"]

# mingru-pytorch's names of the gate product, per kind.
MIN_WEIGHT_KEYS = {"mingru": "to_hidden_and_gate.weight",
                   "minlstm": "to_hidden_and_f_i_gate.weight"}
_INDRNN_CODES = {name: code for code, name in INDRNN_ACTIVATIONS.items()}


def _matrix(value: Any, name: str) -> np.ndarray:
    array = _as_float32(value, name)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or inf values")
    return array


def _vector(value: Any, name: str, size: int) -> np.ndarray:
    array = _as_float32(value, name)
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or inf values")
    return array


def _min_part(kind: str, weight: Any, weight_out: Any) -> Part:
    gates = MIN_GATES[kind]
    key = MIN_WEIGHT_KEYS[kind]
    weight = _matrix(weight, key)
    if weight.shape[0] % gates:
        raise ValueError(f"{key} must have shape ({gates} * hidden, input), got {weight.shape}")
    hidden = weight.shape[0] // gates
    state = {key: weight}
    tensors = {"weight": weight}
    output = hidden
    if weight_out is not None:
        weight_out = _matrix(weight_out, "to_out.weight")
        if weight_out.shape[1] != hidden:
            raise ValueError(f"to_out.weight must have shape (output, {hidden}), got "
                             f"{weight_out.shape}")
        state["to_out.weight"] = tensors["weight_out"] = weight_out
        output = weight_out.shape[0]
    stage = Stage(kind, dict(input_size=weight.shape[1], hidden_size=hidden, output_size=output,
                             has_output=int(weight_out is not None), quant=0), tensors)
    return Part(kind, {}, state, (stage,))


def mingru(weight: Any, weight_out: Any = None) -> Part:
    """A minGRU layer: `weight` (2H, n) is ``to_hidden_and_gate.weight`` (rows
    [0, H) the candidate, [H, 2H) the gate), `weight_out` (m, H) is
    ``to_out.weight`` or None (no output projection: y = h)."""
    return _min_part("mingru", weight, weight_out)


def minlstm(weight: Any, weight_out: Any = None) -> Part:
    """A minLSTM layer: `weight` (3H, n) is ``to_hidden_and_f_i_gate.weight``
    (candidate, forget, input gate rows), `weight_out` as for `mingru`."""
    return _min_part("minlstm", weight, weight_out)


def indrnn(weight_ih: Any, weight_hh: Any, bias: Any = None, activation: str = "relu") -> Part:
    """An IndRNN layer: `weight_ih` (H, n), `weight_hh` (H,) the recurrent
    vector u, `bias` (H,) (zeros when None), `activation` "relu" or "tanh"."""
    if activation not in _INDRNN_CODES:
        raise ValueError(f"activation must be one of {tuple(_INDRNN_CODES)}, got "
                         f"{activation!r}")
    weight = _matrix(weight_ih, "weight_ih")
    hidden = weight.shape[0]
    u = _vector(weight_hh, "weight_hh", hidden)
    b = (np.zeros(hidden, np.float32) if bias is None else _vector(bias, "bias", hidden))
    stage = Stage("indrnn", dict(input_size=weight.shape[1], hidden_size=hidden,
                                 activation=_INDRNN_CODES[activation], quant=0),
                  {"weight": weight, "bias": b, "weight_hh": u})
    return Part("indrnn", {"activation": activation},
                {"weight_ih": weight, "weight_hh": u, "bias": b}, (stage,))


def from_indrnn_state_dict(state_dict: Mapping[str, Any], *, activation: str = "relu") -> Model:
    """A Model of an IndRNN stack from its state dict (layout in the module
    docstring): ``layers.{i}.weight_ih`` / ``weight_hh`` / ``bias`` for i = 0..,
    or the three keys alone for one layer."""
    keys = set(state_dict)
    if keys <= {"weight_ih", "weight_hh", "bias"}:
        layers = [dict(state_dict)]
    else:
        found: dict[int, dict[str, Any]] = {}
        for key, value in state_dict.items():
            match = re.fullmatch(r"layers\.(\d+)\.(weight_ih|weight_hh|bias)", key)
            if match is None:
                raise ValueError(f"unexpected key {key!r}; an IndRNN state dict holds "
                                 "layers.{i}.weight_ih, layers.{i}.weight_hh, layers.{i}.bias")
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
        if sorted(found) != list(range(len(found))):
            raise ValueError(f"the layers must be numbered 0..{len(found) - 1}, got "
                             f"{sorted(found)}")
        layers = [found[i] for i in range(len(found))]
    for index, layer in enumerate(layers):
        for key in ("weight_ih", "weight_hh"):
            if key not in layer:
                raise ValueError(f"layer {index} has no {key}")
    return Model([indrnn(layer["weight_ih"], layer["weight_hh"], layer.get("bias"), activation)
                  for layer in layers])


def _float_tensor(stage: Stage, name: str) -> np.ndarray:
    """A weight as float32: int8 rows as Wq * s (what a quantised file implies)."""
    array = stage.tensors[name]
    scale = stage.kind.tensor(name).scale
    if array.dtype == np.int8 and scale is not None:
        return np.ascontiguousarray(array.astype(np.float32) * stage.tensors[scale][:, None])
    return array


def part_from_stage(stage: Stage) -> Part:
    """The Part of a minGRU, minLSTM or IndRNN stage read from a file (a
    quantised stage keeps its int8 tensors; its state dict holds Wq * s). The
    values are taken as the file holds them (the kernels run any float)."""
    if stage.cell in MIN_GATES:
        state = {MIN_WEIGHT_KEYS[stage.cell]: _float_tensor(stage, "weight")}
        if "weight_out" in stage.tensors:
            state["to_out.weight"] = _float_tensor(stage, "weight_out")
        return Part(stage.cell, {}, state, (stage,))
    if stage.cell == "indrnn":
        state = {"weight_ih": _float_tensor(stage, "weight"),
                 "weight_hh": stage.tensors["weight_hh"], "bias": stage.tensors["bias"]}
        return Part("indrnn", {"activation": INDRNN_ACTIVATIONS[stage.fields["activation"]]},
                    state, (stage,))
    raise ValueError(f"not a minGRU, minLSTM or IndRNN stage: {stage.cell}")
