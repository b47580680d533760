"""Whole models: norm, dense and softmax stages, and `sequential` to chain them
with recurrent stacks (docs/model-format.md, version 2.0; issue 14).

    model = mtsrnn.sequential(
        mtsrnn.norm(scale, mean=mean),            # (x - mean) * scale per feature
        mtsrnn.random_sru(40, 64, num_layers=2),  # any Model: its parts are taken over
        mtsrnn.dense(weight, bias, activation="relu"),
        mtsrnn.dense(weight2, bias2),
        mtsrnn.softmax(12))

Each builder returns a `Part` (mtsrnn.model.Part): the arrays as given (the
PyTorch layout, which for these stages is the kernels' layout: nn.Linear's
weight is (output, input), output-major) and its one kernel stage. What each
stage computes per step (x_t in, y_t out):

- norm "affine": y = x * scale + bias, per feature (BatchNorm1d in eval mode,
  or given mean and scale: bias = -mean * scale);
- norm "layer": y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias over the
  features of one frame (nn.LayerNorm over the last dimension, biased variance);
- dense: y = act(W x + b), act identity, relu, tanh or sigmoid;
- softmax: y = softmax(x) or log_softmax(x) over the features of one frame.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import cells
from .model import Model, Part, _as_float32
from .stages import DENSE_ACTIVATIONS, NORM_AFFINE, NORM_LAYER, NORM_MODES, Stage

__all__ = ["ACTIVATIONS", "dense", "layer_norm", "norm", "part_from_stage", "sequential",
           "softmax"]

ACTIVATIONS = DENSE_ACTIVATIONS


def _vector(value: Any, name: str, size: int | None = None) -> np.ndarray:
    array = _as_float32(value, name)
    if array.ndim != 1 or array.size == 0 or (size is not None and array.size != size):
        expected = f"({size},)" if size is not None else "(n,) with n >= 1"
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or inf values")
    return array


def norm(scale: Any, bias: Any = None, *, mean: Any = None) -> Part:
    """A per-feature affine input normalisation, y = (x - mean) * scale + bias
    (mean and bias default to zero), stored as y = x * scale + (bias - mean *
    scale), folded in float64 and rounded once to float32."""
    scale = _vector(scale, "scale")
    size = scale.size
    shift = np.zeros(size) if bias is None else _vector(bias, "bias", size).astype(np.float64)
    if mean is not None:
        shift = shift - _vector(mean, "mean", size).astype(np.float64) * scale
    return _norm_part(NORM_AFFINE, scale, shift.astype(np.float32), 0.0)


def layer_norm(weight: Any, bias: Any = None, eps: float = 1e-5) -> Part:
    """nn.LayerNorm over the features of one frame: y = (x - mean(x)) /
    sqrt(var(x) + eps) * weight + bias (biased variance; bias defaults to 0)."""
    weight = _vector(weight, "weight")
    bias = (np.zeros(weight.size, np.float32) if bias is None
            else _vector(bias, "bias", weight.size))
    eps = float(eps)
    if not (np.isfinite(eps) and np.float32(eps) > 0):
        raise ValueError(f"eps must be a finite number > 0 (in float32), got {eps}")
    return _norm_part(NORM_LAYER, weight, bias, eps)


def _norm_part(mode: int, weight: np.ndarray, bias: np.ndarray, eps: float) -> Part:
    eps32 = float(np.float32(eps))
    stage = Stage("norm", dict(size=weight.size, mode=mode, eps=eps32),
                  {"weight": weight, "bias": bias})
    return Part("norm", {"mode": NORM_MODES[mode], "eps": eps32},
                {"weight": weight, "bias": bias}, (stage,))


def dense(weight: Any, bias: Any = None, activation: str = "identity") -> Part:
    """A dense layer y = act(W x + b): `weight` (output, input) as nn.Linear
    holds it, `bias` (output,) or None, `activation` one of ACTIVATIONS."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    weight = _as_float32(weight, "weight")
    if weight.ndim != 2 or weight.size == 0:
        raise ValueError(f"weight must have shape (output, input), got {weight.shape}")
    if not np.all(np.isfinite(weight)):
        raise ValueError("weight holds NaN or inf values")
    return _dense_part(weight, None if bias is None
                       else _vector(bias, "bias", weight.shape[0]), activation)


def _dense_part(weight: np.ndarray, bias: np.ndarray | None, activation: str) -> Part:
    state = {"weight": weight}
    if bias is not None:
        state["bias"] = bias
    stage = Stage("dense", dict(input_size=weight.shape[1], output_size=weight.shape[0],
                                activation=ACTIVATIONS.index(activation), quant=0), state)
    return Part("dense", {"activation": activation}, state, (stage,))


def softmax(size: int, log: bool = False) -> Part:
    """softmax (or log_softmax with log=True) over the `size` features of a frame."""
    if isinstance(size, bool):
        raise TypeError("size must be an integer, got bool")
    size = operator.index(size)
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    stage = Stage("softmax", dict(size=size, log=int(bool(log))), {})
    return Part("softmax", {"size": size, "log": bool(log)}, {}, (stage,))


def _float_weight(stage: Stage) -> np.ndarray:
    weight = stage.tensors["weight"]
    if weight.dtype == np.int8:  # Wq * s: the float weights a quantised file implies
        return np.ascontiguousarray(weight.astype(np.float32)
                                    * stage.tensors["weight_scale"][:, None])
    return weight


def part_from_stage(stage: Stage) -> Part:
    """The Part of a norm, dense, softmax, minGRU, minLSTM or IndRNN stage read
    from a file (a quantised stage keeps its int8 tensors; its state dict
    holds Wq * s)."""
    fields: Mapping[str, Any] = stage.fields
    if stage.cell == "norm":
        part = _norm_part(fields["mode"], stage.tensors["weight"], stage.tensors["bias"],
                          fields["eps"])
    elif stage.cell == "dense":
        # As read: the loader judged the file (its verdict is the C
        # loader's; tensor values, NaN included, are the file's business).
        part = _dense_part(_float_weight(stage), stage.tensors.get("bias"),
                           ACTIVATIONS[fields["activation"]])
    elif stage.cell == "softmax":
        part = softmax(fields["size"], bool(fields["log"]))
    elif stage.cell in ("mingru", "minlstm", "indrnn"):
        return cells.part_from_stage(stage)
    else:
        raise ValueError(f"a {stage.cell} stage is a recurrent stack's, not a part of its own")
    return Part(part.kind, part.config, part.state_dict, (stage,))


def sequential(*pieces: Model | Part) -> Model:
    """A Model of the pieces in order: Models (their parts are taken over) and
    the Parts of norm, layer_norm, dense and softmax. Every piece is float32;
    quantise the whole model afterwards (mtsrnn.quantize)."""
    parts: list[Part] = []
    for index, piece in enumerate(pieces):
        if isinstance(piece, Model):
            if piece.quantization is not None:
                raise ValueError(f"piece {index} is quantised ({piece.quantization!r}); "
                                 "chain float pieces, then quantise the whole model")
            parts.extend(piece.parts)
        elif isinstance(piece, Part):
            parts.append(piece)
        else:
            raise TypeError(f"piece {index} is a {type(piece).__name__}; expected a "
                            "mtsrnn.Model or a Part from mtsrnn.norm, layer_norm, dense, "
                            "softmax, mingru, minlstm or indrnn")
    if not parts:
        raise ValueError("sequential() needs at least one piece")
    return Model(parts)
