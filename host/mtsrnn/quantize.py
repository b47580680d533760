"""Post-training int8 quantisation of a model's big products (docs/quantization.md).

Two schemes, both keeping biases, `weight_c`, norms and the recurrent state c
in float32:

- ``"int8-w"``: int8 weights with one float32 scale per output row; the
  product dequantises them on the fly and takes float32 inputs.
- ``"int8-wa"``: the same weights, and each product's input quantised per
  time step (dynamic, symmetric) to int8, summed in int32, then scaled back.

The quantised tensors are the products' weights: SRU ``weight`` and
``weight_proj``, QRNN ``linear.weight``, dense ``weight``; norm and softmax
stages stay float32. `quantize` builds the int8 stages
of a float model (`Stage.quantized`, whose one quantiser is `quantize_rows`);
both live in mtsrnn.stages, below the Model, so that the state-dict
importers can quantise too without an import cycle.
"""

from __future__ import annotations

from typing import Any

from .model import Model, Part
from .stages import SCHEME_CODES, SCHEMES, check_scheme, quantize_rows

__all__ = ["SCHEMES", "SCHEME_CODES", "check_scheme", "quantize", "quantize_rows"]


def quantize(model: Any, scheme: str) -> Model:
    """A new Model whose product weights are int8 under `scheme` ("int8-w" or
    "int8-wa"), converted from the float model's weights (post-training).
    The float model is left unchanged."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a mtsrnn.Model, got {type(model).__name__}")
    scheme = check_scheme(scheme)
    if model.quantization is not None:
        raise ValueError(f"model is already quantised ({model.quantization!r}); quantise "
                         "the float model instead")
    parts, index = [], 0
    for part in model.parts:
        stages = []
        for stage in part.stages:  # norm and softmax stages stay float (Stage.quantized)
            stages.append(stage.quantized(scheme, layer=index))
            index += 1
        parts.append(Part(part.kind, part.config, part.state_dict, tuple(stages)))
    return Model(parts, scheme)
