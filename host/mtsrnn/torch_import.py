"""Import a PyTorch SRU or QRNN module: `from_torch(module)`.

The configuration is read from the module itself, the weights are copied
(``.detach().cpu()``, converted to float32) and the model is built by
`from_sru_state_dict` or `from_qrnn_state_dict`. torch is imported only when
`from_torch` is called, so ``import mtsrnn`` never needs it.

Accepted modules
----------------
``sru.SRU`` and ``sru.SRUCell`` (PyPI ``sru`` 2.6.0), recognised by their
attributes (``rnn_lst``; ``weight_c`` and ``num_matrices``) so that importing
the model never imports ``sru`` (which compiles a C++ extension).

A torchqrnn-style QRNN, duck-typed:

- a stack: an object with ``.layers``, an iterable of layers (optionally
  ``.bidirectional``, which must be false, and ``.dropout`` between layers);
- a layer: an object with ``.linear`` (an ``nn.Linear``-like object:
  ``.weight`` of shape (G*H, window*n), ``.bias`` of shape (G*H,) or None),
  ``.window`` (1 or 2), ``.output_gate`` (bool), ``.zoneout`` (float in
  [0, 1)), and optionally ``.hidden_size`` and ``.input_size`` (checked
  against the weight shape). A single layer is accepted as a one-layer stack.

The layer computes, as Salesforce torchqrnn does (docs/spec.md 3.1),
``[Z; F; O] = linear([x_t | x_{t-1}])`` (x_{-1} = 0), ``Z = tanh``,
``F = sigmoid`` (times ``1 - zoneout`` in eval mode), ``O = sigmoid``,
``c_t = F*Z + (1-F)*c_{t-1}``, ``h_t = O*c_t`` (``h_t = c_t`` without output
gate). torchqrnn keeps the last input of a stream in ``layer.prevX`` when
``save_prev_x`` is set: to continue such a stream in mtsrnn, pass those
frames as ``prev_inputs`` to ``Model.initial_state``.

Only inference is imported: a module in training mode with active dropout
(SRU ``dropout``/``rnn_dropout``, QRNN ``zoneout`` or ``dropout``) is rejected
with a request to call ``.eval()`` first, because its output is random.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import cells
from .model import Model, Part, from_qrnn_state_dict, from_sru_state_dict
from .torch_chain import UnsupportedModuleError, torch_parts

__all__ = ["UnsupportedModuleError", "from_torch", "parts_from_torch"]

_SRU_OPTIONS = ("use_tanh", "bidirectional", "has_skip_term", "normalize_after",
                "layer_norm_eps")
_QRNN_OPTIONS = ("window", "output_gate", "zoneout", "pooling")


def from_torch(module: Any, **overrides: Any) -> Model:
    """A `Model` that computes what `module` computes in eval mode.

    `module` is an ``sru.SRU``, an ``sru.SRUCell``, or a torchqrnn-style QRNN
    stack or layer (see the module docstring for the duck-typed contract), or
    a whole model: an ``nn.Sequential`` or a custom ``nn.Module`` whose forward
    is a straight chain of supported modules and functions around them
    (mtsrnn.torch_chain; anything else raises UnsupportedModuleError naming
    it). `Model.forward` takes one stream's frames (L, input) either way.
    Every configuration value is read from the module. `overrides` replace a
    value read from it, or supply one a duck-typed module lacks; the keys are
    those of `from_sru_state_dict` (use_tanh, bidirectional, has_skip_term,
    normalize_after, layer_norm_eps) or `from_qrnn_state_dict` (window,
    output_gate, zoneout, pooling). Parameters of any floating dtype and
    device are copied to float32 on the CPU; the module is not modified.

    Raises ValueError for what the kernels cannot compute (``custom_m``,
    ``proj_input_to_hidden_first``, an unknown activation, a bidirectional
    QRNN, layers whose options differ, a module in training mode with active
    dropout or zoneout) and TypeError for an unrecognised module or unknown
    override.
    """
    import torch  # (lazy: only users of from_torch need torch)

    if not _is_recurrent(module) and _is_chain(module, torch):
        # A whole model: a chain of modules and functions traced with torch.fx.
        if overrides:
            raise TypeError(f"overrides {sorted(overrides)} apply to a bare SRU or QRNN "
                            "module; a whole model's recurrent modules record their options")
        return Model(parts_from_torch(module))
    if _min_kind(module) is not None:
        _check_overrides(overrides, (), "minGRU / minLSTM")
        return Model([_from_min(module)])
    if _is_indrnn(module):
        _check_overrides(overrides, (), "IndRNN")
        return _from_indrnn(module)
    if hasattr(module, "rnn_lst"):
        _check_input_to_hidden(module)
        return _from_sru(list(module.rnn_lst), overrides, "SRU")
    if hasattr(module, "weight_c") and hasattr(module, "num_matrices"):
        return _from_sru([module], overrides, "SRUCell")
    layers = list(module.layers) if hasattr(module, "layers") else None
    if layers is not None and all(hasattr(layer, "linear") for layer in layers):
        if getattr(module, "bidirectional", False):
            raise ValueError("a bidirectional QRNN is not supported (torchqrnn does not "
                             "implement it either)")
        dropout = float(getattr(module, "dropout", 0.0) or 0.0)
        if getattr(module, "training", False) and dropout > 0:
            raise ValueError(f"the QRNN is in training mode with dropout={dropout} between "
                             "layers, so its output is random; call module.eval() first")
        return _from_qrnn(layers, overrides)
    if hasattr(module, "linear") and hasattr(module, "window"):
        return _from_qrnn([module], overrides)
    raise TypeError(
        f"from_torch does not recognise a {type(module).__module__}.{type(module).__name__}: "
        "expected an sru.SRU, an sru.SRUCell, a torchqrnn-style QRNN (an object with "
        ".layers) or QRNN layer (an object with .linear and .window), a "
        "minGRU_pytorch.minGRU or minLSTM, or an IndRNN (mtsrnn.torch.IndRNN)")


def parts_from_torch(module: Any) -> list[Part]:
    """The parts (mtsrnn.model.Part) that `from_torch(module)` chains into its
    Model, without building it: what `mtsrnn.reference.model_forward` takes
    through `(part.kind, part.state_dict, part.config)`."""
    import torch

    if _is_recurrent(module) or not _is_chain(module, torch):
        return list(from_torch(module).parts)
    return torch_parts(module, _is_recurrent, _import_leaf)


# ---- helpers ---------------------------------------------------------------

def _is_recurrent(module: Any) -> bool:
    """Whether from_torch imports `module` on its own (sru.SRU, sru.SRUCell, a
    torchqrnn-style QRNN stack or layer, minGRU / minLSTM, IndRNN): a leaf of
    a traced whole model."""
    if hasattr(module, "rnn_lst") or _min_kind(module) is not None or _is_indrnn(module):
        return True
    if hasattr(module, "weight_c") and hasattr(module, "num_matrices"):
        return True
    layers = getattr(module, "layers", None)
    if layers is not None and hasattr(layers, "__iter__"):
        layers = list(layers)
        if layers and all(hasattr(layer, "linear") for layer in layers):
            return True
    return hasattr(module, "linear") and hasattr(module, "window")


def _is_chain(module: Any, torch: Any) -> bool:
    """A module whose forward from_torch traces: an nn.Sequential or a user's
    nn.Module (torch.nn's own modules other than Sequential are fx leaves, not
    chains: an nn.LSTM is refused as an unrecognised module)."""
    if not isinstance(module, torch.nn.Module):
        return False
    return (isinstance(module, torch.nn.Sequential)
            or not type(module).__module__.startswith("torch."))


def _import_leaf(module: Any, name: str) -> Model:
    """A recurrent submodule of a whole model, with its name in messages."""
    try:
        return from_torch(module)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None


def _check_overrides(overrides: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"unknown override(s) {unknown} for a {what}; allowed: "
                        f"{', '.join(allowed)}")


def _tensor(value: Any, name: str) -> np.ndarray:
    """A float32 NumPy copy of a parameter (torch tensor of any floating dtype or device)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    return value.detach().cpu().to(torch.float32).numpy().copy()


def _all_equal(values: list[Any], option: str, what: str) -> Any:
    if any(value != values[0] for value in values[1:]):
        raise ValueError(f"all {what} layers must have one {option}, got {values}; mtsrnn "
                         "takes one value for the whole stack")
    return values[0]


def _attribute(obj: Any, name: str, what: str) -> Any:
    if not hasattr(obj, name):
        raise ValueError(f"{what} has no attribute {name!r}; pass {name}=... to from_torch")
    return getattr(obj, name)


# ---- SRU -------------------------------------------------------------------

def _from_sru(cells: list[Any], overrides: dict[str, Any], what: str) -> Model:
    import torch

    _check_overrides(overrides, _SRU_OPTIONS, what)
    if not cells:
        raise ValueError(f"the {what} has no layers")
    state_dict: dict[str, np.ndarray] = {}
    config: dict[str, list[Any]] = {key: [] for key in _SRU_OPTIONS}
    for i, cell in enumerate(cells):
        name = f"{what} layer {i}"
        prefix = f"rnn_lst.{i}." if what == "SRU" else ""
        if getattr(cell, "custom_m", None) is not None:
            raise ValueError(f"{name} uses custom_m (a user module computes U); only the "
                             "built-in weight / weight_proj product can be imported")
        if getattr(cell, "training", False):
            active = {key: float(getattr(cell, key, 0.0) or 0.0)
                      for key in ("dropout", "rnn_dropout")}
            active = {key: value for key, value in active.items() if value > 0}
            if active:
                raise ValueError(f"{name} is in training mode with "
                                 f"{', '.join(f'{k}={v}' for k, v in active.items())}, so its "
                                 "output is random; call module.eval() first")
        activation = getattr(cell, "activation_type", 0)
        if activation not in (0, 1):
            raise ValueError(f"{name} has activation_type {activation}; only 0 (identity) "
                             "and 1 (tanh) exist in sru 2.x")
        config["use_tanh"].append(activation == 1)
        config["bidirectional"].append(bool(cell.bidirectional))
        config["has_skip_term"].append(bool(cell.has_skip_term))

        weight_proj = getattr(cell, "weight_proj", None)
        if weight_proj is not None:
            state_dict[prefix + "weight_proj"] = _tensor(weight_proj, prefix + "weight_proj")
        state_dict[prefix + "weight"] = _tensor(cell.weight, prefix + "weight")
        # sru's forward always uses weight_c: v1=True only initialises it to zero and
        # freezes it (requires_grad=False). A v1 layer whose weight_c is still zero is
        # the original form, which the kernels run without weight_c (exactly equal);
        # any other weight_c is copied, since the module computes with it.
        weight_c = _tensor(cell.weight_c, prefix + "weight_c")
        if not (getattr(cell, "v1", False) and not np.any(weight_c)):
            state_dict[prefix + "weight_c"] = weight_c
        state_dict[prefix + "bias"] = _tensor(cell.bias, prefix + "bias")
        # forward passes scale_x only when rescale is set (else the skip term is x itself).
        if getattr(cell, "rescale", False):
            state_dict[prefix + "scale_x"] = _tensor(cell.scale_x, prefix + "scale_x")
        else:
            state_dict[prefix + "scale_x"] = np.ones(1, dtype=np.float32)

        norm = getattr(cell, "layer_norm", None)
        if norm is not None:
            if not isinstance(norm, torch.nn.LayerNorm):
                raise ValueError(f"{name} normalises with a {type(norm).__name__}; only "
                                 "torch.nn.LayerNorm is supported")
            if len(norm.normalized_shape) != 1:
                raise ValueError(f"{name} layer norm has normalized_shape "
                                 f"{tuple(norm.normalized_shape)}; expected one dimension")
            size = norm.normalized_shape[0]
            weight = getattr(norm, "weight", None)
            bias = getattr(norm, "bias", None)
            state_dict[prefix + "layer_norm.weight"] = (
                _tensor(weight, prefix + "layer_norm.weight") if weight is not None
                else np.ones(size, dtype=np.float32))
            state_dict[prefix + "layer_norm.bias"] = (
                _tensor(bias, prefix + "layer_norm.bias") if bias is not None
                else np.zeros(size, dtype=np.float32))
            config["normalize_after"].append(bool(getattr(cell, "normalize_after", False)))
            config["layer_norm_eps"].append(float(norm.eps))

    options: dict[str, Any] = {}
    for key in ("use_tanh", "bidirectional", "has_skip_term"):
        options[key] = _all_equal(config[key], key, what)
    if config["normalize_after"]:
        # from_sru_state_dict takes one normalize_after and eps: every layer with a
        # layer norm must agree (layers without one do not care).
        options["normalize_after"] = _all_equal(config["normalize_after"], "normalize_after",
                                                what)
        options["layer_norm_eps"] = _all_equal(config["layer_norm_eps"], "layer norm eps",
                                               what)
    options.update(overrides)
    return from_sru_state_dict(state_dict, **options)


def _check_input_to_hidden(module: Any) -> None:
    if getattr(module, "input_to_hidden", None) is not None:
        raise ValueError("the SRU was built with proj_input_to_hidden_first=True (an "
                         "nn.Linear before the first layer); this is not supported")


# ---- QRNN ------------------------------------------------------------------

def _from_qrnn(layers: list[Any], overrides: dict[str, Any]) -> Model:
    _check_overrides(overrides, _QRNN_OPTIONS, "QRNN")
    if not layers:
        raise ValueError("the QRNN has no layers")
    state_dict: dict[str, np.ndarray] = {}
    windows, gates, zoneouts, poolings = [], [], [], []
    for i, layer in enumerate(layers):
        name = f"QRNN layer {i}"
        prefix = f"layers.{i}.linear."
        window = overrides.get("window", _attribute(layer, "window", name))
        output_gate = overrides.get("output_gate", _attribute(layer, "output_gate", name))
        zoneout = overrides.get("zoneout", _attribute(layer, "zoneout", name))
        # mtsrnn.torch.QRNNLayer says its pooling; torchqrnn's is f or fo.
        pooling = overrides.get("pooling", getattr(layer, "pooling", None)
                                or ("fo" if output_gate else "f"))
        poolings.append(pooling)
        if isinstance(window, bool) or not isinstance(window, numbers.Integral) \
                or window not in (1, 2):
            raise ValueError(f"{name} has window {window!r}; the torchqrnn layout is defined "
                             "for window 1 and 2 only (use from_qrnn_state_dict for wider "
                             "windows)")
        zoneout = float(zoneout or 0.0)
        if not (math.isfinite(zoneout) and 0.0 <= zoneout < 1.0):
            raise ValueError(f"{name} has zoneout {zoneout}; expected 0 <= zoneout < 1")
        if getattr(layer, "training", False) and zoneout > 0 and "zoneout" not in overrides:
            raise ValueError(f"{name} is in training mode with zoneout={zoneout}, so its "
                             "output is random; call module.eval() first")
        windows.append(int(window))
        gates.append(bool(output_gate))
        zoneouts.append(zoneout)

        linear = _attribute(layer, "linear", name)
        weight = _tensor(_attribute(linear, "weight", f"{name}.linear"), prefix + "weight")
        bias = getattr(linear, "bias", None)
        if weight.ndim != 2:
            raise ValueError(f"{prefix}weight must be 2-D, got shape {weight.shape}")
        groups = 2 + (pooling == "ifo") + bool(output_gate)
        for attribute, expected in (("hidden_size", weight.shape[0] / groups),
                                    ("input_size", weight.shape[1] / window)):
            value = getattr(layer, attribute, None)
            if value is not None and value != expected:
                raise ValueError(f"{name} has {attribute}={value}, but its linear weight "
                                 f"{weight.shape} with window={window} and output_gate="
                                 f"{bool(output_gate)} implies {expected:g}")
        state_dict[prefix + "weight"] = weight
        state_dict[prefix + "bias"] = (_tensor(bias, prefix + "bias") if bias is not None
                                       else np.zeros(weight.shape[0], dtype=np.float32))

    options = dict(window=_all_equal(windows, "window", "QRNN"),
                   output_gate=_all_equal(gates, "output_gate", "QRNN"),
                   zoneout=_all_equal(zoneouts, "zoneout", "QRNN"),
                   pooling=_all_equal(poolings, "pooling", "QRNN"))
    # torchqrnn's output_gate=False is f-pooling, which from_qrnn_state_dict
    # spells pooling "fo" without an output gate.
    if options["pooling"] == "f":
        options["pooling"] = "fo"
    options.update(overrides)
    return from_qrnn_state_dict(state_dict, **options)


# ---- minGRU, minLSTM, IndRNN --------------------------------------------------

def _min_kind(module: Any) -> str | None:
    """"mingru" / "minlstm" for a minGRU_pytorch.minGRU / minLSTM (recognised by
    its product's name, so that importing the model never imports the package)."""
    if hasattr(module, "to_hidden_and_gate") and hasattr(module, "to_out"):
        return "mingru"
    if hasattr(module, "to_hidden_and_f_i_gate") and hasattr(module, "to_out"):
        return "minlstm"
    return None


def _from_min(module: Any) -> Part:
    """One minGRU / minLSTM layer: its gate product and, when `to_out` is an
    nn.Linear (expansion_factor != 1 or proj_out=True), the output projection."""
    kind = _min_kind(module)
    what = "minGRU" if kind == "mingru" else "minLSTM"
    product = getattr(module, "to_hidden_and_gate" if kind == "mingru"
                      else "to_hidden_and_f_i_gate")
    weight_out = None
    for name, linear in (("product", product), ("to_out", module.to_out)):
        if getattr(linear, "bias", None) is not None:
            raise ValueError(f"the {what}'s {name} has a bias; mingru-pytorch's layers have "
                             "none, and the kernels' minGRU / minLSTM take none")
    if hasattr(module.to_out, "weight"):
        weight_out = _tensor(module.to_out.weight, "to_out.weight")
    elif type(module.to_out).__name__ != "Identity":
        raise ValueError(f"the {what}'s to_out is a {type(module.to_out).__name__}; expected "
                         "an nn.Linear or nn.Identity")
    return (cells.mingru if kind == "mingru" else cells.minlstm)(
        _tensor(product.weight, cells.MIN_WEIGHT_KEYS[kind]), weight_out)


def _is_indrnn(module: Any) -> bool:
    """An IndRNN layer (weight_ih, weight_hh, activation) or a stack of them
    (.layers), as mtsrnn.torch.IndRNN."""
    def layer(m: Any) -> bool:
        # Looked up in the module's own dicts, not with getattr: torch.fx records
        # a parameter read while it traces (this runs in its is_leaf_module).
        names = {**getattr(m, "__dict__", {}), **(getattr(m, "_parameters", None) or {})}
        return all(name in names for name in ("weight_ih", "weight_hh", "activation"))

    layers = getattr(module, "layers", None)
    if layers is not None and hasattr(layers, "__iter__") and not layer(module):
        layers = list(layers)
        return bool(layers) and all(layer(m) for m in layers)
    return layer(module)


def _from_indrnn(module: Any) -> Model:
    layers = list(module.layers) if hasattr(module, "layers") else [module]
    activation = _all_equal([layer.activation for layer in layers], "activation", "IndRNN")
    state = {}
    for i, layer in enumerate(layers):
        for key in ("weight_ih", "weight_hh", "bias"):
            value = getattr(layer, key, None)
            if value is not None:
                state[f"layers.{i}.{key}"] = _tensor(value, f"layers.{i}.{key}")
    return cells.from_indrnn_state_dict(state, activation=activation)
