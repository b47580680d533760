"""A whole model from a state dict (`mtsrnn convert`): the parts found by key prefix.

A state dict records tensors by module path, not the modules' types, their
options, the activations between them nor the order of the forward pass.
`parts_from_state_dict` infers what the keys show and reports what it had to
assume, as notes, never silently:

- recurrent sub-modules by their key prefixes: ``P.rnn_lst.{i}.*`` an sru.SRU
  stack, ``P.layers.{i}.linear.{weight,bias}`` a torchqrnn stack, ``P.weight_c``
  with ``P.weight`` an sru.SRUCell (P may be empty: a bare stack);
- ``P.running_mean`` / ``P.running_var`` an nn.BatchNorm1d (eval mode);
  a 2-D ``P.weight`` an nn.Linear (dense stage); a 1-D ``P.weight`` an
  nn.LayerNorm;
- the order: the state dict's (the order the modules were registered in,
  usually the forward's: a note says so);
- SRU options (use_tanh, bidirectional, has_skip_term, normalize_after,
  layer_norm_eps) and QRNN options (window, output_gate, zoneout, pooling):
  the ones given, else the defaults, listed in a note;
- activations of the dense stages: required, one per dense stage (a state
  dict cannot show them); a final softmax: given (default none, noted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import heads
from .model import Part, from_qrnn_state_dict, from_sru_state_dict

__all__ = ["SRU_DEFAULTS", "QRNN_DEFAULTS", "StateDictError", "parts_from_state_dict"]

SRU_DEFAULTS = dict(use_tanh=False, bidirectional=False, has_skip_term=True,
                    normalize_after=False, layer_norm_eps=1e-5)
QRNN_DEFAULTS = dict(window=1, output_gate=True, zoneout=0.0, pooling="fo")
_SRU_KEY = re.compile(r"(?:(.*)\.)?(rnn_lst\.\d+\..+)")
_QRNN_KEY = re.compile(r"(?:(.*)\.)?(layers\.\d+\.linear\.(?:weight|bias))")


class StateDictError(ValueError):
    """A state dict whose model cannot be told from its keys and the options."""


def _groups(state_dict: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind guess, prefix, {key without prefix: value}) per module, in key order."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    # sru.SRUCell: every key under a prefix that holds weight_c (its layer_norm.* too).
    cells = [key[:-len("weight_c")] for key in state_dict
             if key == "weight_c" or key.endswith(".weight_c")]
    for key, value in state_dict.items():
        cell = next((prefix for prefix in cells if key.startswith(prefix)
                     and not _SRU_KEY.fullmatch(key)), None)
        if cell is not None:
            groups.setdefault(("sru", cell.rstrip(".")), {})[key[len(cell):]] = value
            continue
        for kind, pattern in (("sru", _SRU_KEY), ("qrnn", _QRNN_KEY)):
            match = pattern.fullmatch(key)
            if match:
                groups.setdefault((kind, match.group(1) or ""), {})[match.group(2)] = value
                break
        else:
            prefix, _, name = key.rpartition(".")
            groups.setdefault(("module", prefix), {})[name] = value
    result = []
    for (kind, prefix), values in groups.items():
        if kind == "module":
            kind = _module_kind(prefix, values)
        result.append((kind, prefix, values))
    return result


def _module_kind(prefix: str, values: Mapping[str, Any]) -> str:
    names = set(values)
    where = repr(prefix) if prefix else "the top level"
    if "weight_c" in names and "weight" in names:
        return "sru"  # an sru.SRUCell
    if {"running_mean", "running_var"} <= names:
        return "batch_norm"
    weight = values.get("weight")
    if weight is not None and names <= {"weight", "bias"}:
        ndim = len(getattr(weight, "shape", ()))
        if ndim == 2:
            return "linear"
        if ndim == 1:
            return "layer_norm"
    raise StateDictError(f"cannot tell which module {where} is from its keys "
                         f"{sorted(names)}: expected sru (rnn_lst.N.* or weight_c), QRNN "
                         "(layers.N.linear.*), nn.Linear, nn.BatchNorm1d or nn.LayerNorm keys; "
                         "save the module itself (torch.save(model)) instead")


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    return np.asarray(value, dtype=np.float64)


def _options_note(what: str, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    assumed = {key: value for key, value in defaults.items() if key not in given}
    options = ", ".join(f"{key}={value!r}" for key, value in {**defaults, **given}.items())
    flags = ", ".join(assumed)
    return (f"{what} options {options}" + (f" (assumed, a state dict does not record "
                                           f"{flags}: give the flags if the model was built "
                                           "otherwise, and verify with --check)"
                                           if assumed else ""))


def parts_from_state_dict(state_dict: Mapping[str, Any], *, sru_options: Mapping[str, Any],
                          qrnn_options: Mapping[str, Any],
                          activations: Sequence[str] | None = None, softmax: str = "none",
                          batch_norm_eps: float = 1e-5, layer_norm_eps: float = 1e-5
                          ) -> tuple[list[Part], list[str]]:
    """The parts of a whole model's state dict (see the module docstring) and the
    notes on what was assumed. Raises StateDictError (one line) for keys that do
    not tell a model, or dense stages without their activations."""
    groups = _groups(state_dict)
    linears = [prefix for kind, prefix, _values in groups if kind == "linear"]
    if linears and activations is None:
        raise StateDictError(
            f"the state dict has {len(linears)} dense layer(s) ({', '.join(linears)}): give "
            f"their activations, which a state dict does not record, with --activations "
            f"A1,...,A{len(linears)} (each one of {', '.join(heads.ACTIVATIONS)})")
    if activations is not None and len(activations) != len(linears):
        raise StateDictError(f"--activations lists {len(activations)} activation(s) for "
                             f"{len(linears)} dense layer(s) ({', '.join(linears) or 'none'})")
    parts: list[Part] = []
    notes: list[str] = []
    dense_index = 0
    for kind, prefix, values in groups:
        name = prefix or "(top level)"
        try:
            if kind == "sru":
                parts.extend(from_sru_state_dict(values, **sru_options).parts)
                notes.append(f"{name}: SRU, " + _options_note("", sru_options, SRU_DEFAULTS)
                             .lstrip())
            elif kind == "qrnn":
                parts.extend(from_qrnn_state_dict(values, **qrnn_options).parts)
                notes.append(f"{name}: QRNN, " + _options_note("", qrnn_options, QRNN_DEFAULTS)
                             .lstrip())
            elif kind == "linear":
                activation = activations[dense_index]  # type: ignore[index]
                dense_index += 1
                parts.append(heads.dense(values["weight"], values.get("bias"), activation))
            elif kind == "batch_norm":
                mean, var = _array(values["running_mean"]), _array(values["running_var"])
                gamma = _array(values.get("weight", np.ones_like(mean)))
                beta = _array(values.get("bias", np.zeros_like(mean)))
                scale = gamma / np.sqrt(var + batch_norm_eps)
                parts.append(heads.norm(scale.astype(np.float32),
                                        (beta - mean * scale).astype(np.float32)))
                notes.append(f"{name}: BatchNorm1d (eval mode), eps {batch_norm_eps:g} "
                             "(assumed unless --batch-norm-eps)")
            else:  # layer_norm
                parts.append(heads.layer_norm(values["weight"], values.get("bias"),
                                              eps=layer_norm_eps))
                notes.append(f"{name}: LayerNorm over the features, eps {layer_norm_eps:g} "
                             "(assumed unless --norm-eps)")
        except (TypeError, ValueError) as error:
            if isinstance(error, StateDictError):
                raise
            raise StateDictError(f"{name}: {error}") from None
    if softmax != "none":
        parts.append(heads.softmax(parts[-1].stages[-1].output_size, log=softmax == "log"))
    if len(groups) > 1 or softmax != "none" or linears:
        order = ", ".join(f"{prefix or '(top level)'} ({kind})" for kind, prefix, _v in groups)
        notes.append(f"stages in state-dict order: {order}"
                     + (f", {softmax} softmax" if softmax != "none" else
                        " (no final softmax: --softmax softmax|log adds one)"))
    return parts, notes
