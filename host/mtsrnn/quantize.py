"""Post-training int8 quantisation of a model's big products (docs/quantization.md).

Two schemes, both keeping biases, `weight_c`, norms and the recurrent state c
in float32:

- ``"int8-w"``: int8 weights with one float32 scale per output row; the
  product dequantises them on the fly and takes float32 inputs.
- ``"int8-wa"``: the same weights, and each product's input quantised per
  time step (dynamic, symmetric) to int8, summed in int32, then scaled back.

The quantised tensors are the products' weights: SRU ``weight`` and
``weight_proj``, QRNN ``linear.weight``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCHEMES = ("int8-w", "int8-wa")

# mts_quant (kernels/include/mtsrnn/quantize.h).
SCHEME_CODES = {"int8-w": 1, "int8-wa": 2}


def check_scheme(scheme: Any) -> str:
    """The scheme name, or ValueError naming the ones that exist."""
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"quantisation scheme must be one of {SCHEMES}, got {scheme!r}")
    return scheme


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and per-row float32 scales of a (rows, depth) weight matrix whose
    row r produces output r (the kernels' layout):

        s_r = float32(max_i |W[r][i]| / 127)
        Wq[r][i] = clip(round_half_even(W[r][i] / s_r), -127, 127), 0 where s_r == 0
    """
    weight = np.asarray(weight)
    if weight.ndim != 2 or weight.dtype != np.float32:
        raise ValueError(f"weight must be a 2-D float32 array, got {weight.dtype} "
                         f"{weight.shape}")
    if not np.all(np.isfinite(weight)):
        raise ValueError("weight holds NaN or inf values, which int8 cannot represent")
    absmax = np.abs(weight.astype(np.float64)).max(axis=1)
    scale = (absmax / 127.0).astype(np.float32)
    divisor = np.where(scale > 0, scale.astype(np.float64), 1.0)[:, None]
    quantized = np.clip(np.rint(weight.astype(np.float64) / divisor), -127, 127)
    quantized[scale == 0] = 0
    return np.ascontiguousarray(quantized.astype(np.int8)), scale


def quantize(model: Any, scheme: str) -> Any:
    """A new Model whose product weights are int8 under `scheme` ("int8-w" or
    "int8-wa"), converted from the float model's weights (post-training).
    The float model is left unchanged."""
    from .model import Model, from_qrnn_state_dict, from_sru_state_dict

    if not isinstance(model, Model):
        raise TypeError(f"model must be a mtsrnn.Model, got {type(model).__name__}")
    scheme = check_scheme(scheme)
    if model.quantization is not None:
        raise ValueError(f"model is already quantised ({model.quantization!r}); quantise "
                         "the float model instead")
    build = from_sru_state_dict if model.cell == "sru" else from_qrnn_state_dict
    return build(model.state_dict(), quantization=scheme, **model.config)
