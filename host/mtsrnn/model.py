"""Models built from PyTorch-layout weights, run by the C kernels.

The PyTorch layouts (docs/spec.md 2.2 for `sru`, 3.1 for torchqrnn) are converted
once, here, into the kernels' layout (output-major weight rows, see
kernels/include/mtsrnn/sru.h and qrnn.h). The model keeps the original
state dict too, so it can be saved or compared against a reference.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from .quantize import SCHEME_CODES, check_scheme, quantize_rows

# Variant names per weight scheme (None: float32), default first: the
# kernels' tables mts_gemm_f32_variants, mts_gemm_i8f32_variants and
# mts_gemm_i8i8_variants (kernels/include/mtsrnn/gemm.h).
_GEMM_VARIANTS = {
    None: tuple(name for name, _summary in _core.gemm_variants()),
    **{scheme: tuple(name for name, _summary in table)
       for scheme, table in zip(("int8-w", "int8-wa"), _core.gemm_i8_variants(), strict=True)},
}

# Kernel enum values (kernels/include/mtsrnn/sru.h).
_ACTIVATION_IDENTITY, _ACTIVATION_TANH = 0, 1
_SKIP_NONE, _SKIP_SCALED_INPUT, _SKIP_PROJECTED = 0, 1, 2
_NORM_NONE, _NORM_BEFORE, _NORM_AFTER = 0, 1, 2

POOLINGS = ("f", "fo", "ifo")


def gemm_variants(quantization: str | None = None) -> tuple[str, ...]:
    """Names of the blocked-product variants built into the kernels for weights
    of that scheme (None: float32; "int8-w", "int8-wa": see mtsrnn.quantize),
    default first: the names `Model.forward(gemm=...)` accepts for a model
    with that `quantization`."""
    if quantization is not None:
        check_scheme(quantization)
    return _GEMM_VARIANTS[quantization]


def _as_float32(value: Any, name: str) -> np.ndarray:
    """A contiguous float32 copy of a state-dict value (NumPy array or torch tensor)."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must hold floating-point values, got dtype {array.dtype}")
    return _aligned(np.ascontiguousarray(array, dtype=np.float32))


def _aligned(array: np.ndarray, alignment: int = 64) -> np.ndarray:
    """`array` itself if its data starts on a 64-byte boundary, else an aligned
    copy. The kernels' vector loads of a weight row straddle cache lines
    otherwise (1.5x slower with AVX-512), so the binding would copy a
    misaligned float array (host/src/_core.c); aligning here keeps one copy,
    the one the Model also holds. int8 weights get the same alignment (the
    binding uses them as given)."""
    if array.ctypes.data % alignment == 0:
        return array
    raw = np.empty(array.nbytes + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    aligned = raw[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    aligned[...] = array
    return aligned


def _expect_shape(array: np.ndarray, shape: tuple[int, ...], name: str) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")


def _check_size(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if not minimum <= value <= _core.MAX_DIM:
        raise ValueError(f"{name} must be in [{minimum}, {_core.MAX_DIM}], got {value}")
    return value


def sru_weight_to_kernel(weight: np.ndarray, directions: int, hidden: int,
                         k: int) -> np.ndarray:
    """sru's (depth, out*k), column (dir*d + j)*k + g  ->  the kernels' row
    (dir*k + g)*d + j, so each direction's product is one contiguous matrix
    and each gate a contiguous vector in the scan."""
    depth = weight.shape[0]
    return np.ascontiguousarray(weight.reshape(depth, directions, hidden, k)
                                .transpose(1, 3, 2, 0).reshape(directions * k * hidden, depth))


def sru_weight_from_kernel(weight: np.ndarray, directions: int, hidden: int,
                           k: int) -> np.ndarray:
    """The inverse of sru_weight_to_kernel."""
    depth = weight.shape[1]
    return np.ascontiguousarray(weight.reshape(directions, k, hidden, depth)
                                .transpose(3, 0, 2, 1).reshape(depth, directions * hidden * k))


def _layer_dicts(state_dict: Mapping[str, Any], pattern: str, what: str) -> list[dict[str, Any]]:
    """Group `prefix.{i}.rest` keys into one dict per layer i = 0, 1, ..."""
    layers: dict[int, dict[str, Any]] = {}
    regex = re.compile(pattern)
    for key, value in state_dict.items():
        match = regex.fullmatch(key)
        if match is None:
            raise ValueError(f"unexpected key {key!r} in a {what} state dict")
        layers.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if not layers:
        raise ValueError(f"empty {what} state dict")
    if sorted(layers) != list(range(len(layers))):
        raise ValueError(f"{what} layers must be numbered 0..N-1, got {sorted(layers)}")
    if len(layers) > _core.MAX_LAYERS:
        raise ValueError(f"at most {_core.MAX_LAYERS} layers are supported, got {len(layers)}")
    return [layers[i] for i in range(len(layers))]


@dataclass(frozen=True)
class _LayerState:
    """Where one layer's state lies in the flat state buffer (floats)."""

    c_offset: int
    c_size: int
    prev_offset: int
    prev_frames: int  # window - 1 (QRNN), 0 for SRU
    prev_width: int  # the layer's input size


class State:
    """The carried state of a stream: SRU `c` per layer; QRNN `c` and the last
    window-1 inputs per layer. Immutable from the outside: `forward` returns a
    new State and never modifies the one it is given."""

    __slots__ = ("_layout", "_buffer")

    def __init__(self, layout: tuple[_LayerState, ...], buffer: np.ndarray):
        self._layout = layout
        self._buffer = buffer

    @property
    def c(self) -> np.ndarray:
        """(num_layers, output_size) float32: the cell state of every layer."""
        return np.stack([self._buffer[s.c_offset:s.c_offset + s.c_size] for s in self._layout])

    @property
    def prev_inputs(self) -> list[np.ndarray] | None:
        """QRNN: per layer, (window-1, n_layer) float32, row k-1 = x_{t-k}. SRU: None."""
        if self._layout[0].prev_width == 0:
            return None
        return [
            self._buffer[s.prev_offset:s.prev_offset + s.prev_frames * s.prev_width]
            .reshape(s.prev_frames, s.prev_width).copy()
            for s in self._layout
        ]

    def __repr__(self) -> str:
        return f"State(layers={len(self._layout)}, floats={self._buffer.size})"


class Model:
    """A stack of SRU or QRNN layers whose forward pass runs in the C kernels.

    Build one with `from_sru_state_dict`, `from_qrnn_state_dict`, `random_sru`
    or `random_qrnn`."""

    def __init__(self, cell: str, config: dict[str, Any], state_dict: dict[str, np.ndarray],
                 core: Any, layout: tuple[_LayerState, ...], num_layers: int,
                 quantization: str | None = None, quantized_bytes: int = 0,
                 quantized_tensors: tuple[dict[str, np.ndarray], ...] = ()):
        self.cell = cell
        self.config = dict(config)
        # None for float32 weights, else the scheme of mtsrnn.quantize
        # (the state dict then holds the float weights it was made from).
        self.quantization = quantization
        self._quantized_bytes = quantized_bytes
        # Per layer, the int8 arrays the kernels run on (kernel layout):
        # weight_q, weight_scale and, for a projected SRU, weight_proj_q and
        # weight_proj_scale. Empty for a float model.
        self.quantized_tensors = quantized_tensors
        self._state_dict = state_dict
        self._core = core
        self._layout = layout
        self.num_layers = num_layers
        self.input_size = core.input_size
        self.output_size = core.output_size

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        quantized = f", quantization={self.quantization!r}" if self.quantization else ""
        return (f"Model({self.cell}, layers={self.num_layers}, input={self.input_size}, "
                f"output={self.output_size}, {options}{quantized})")

    def save(self, path: Any) -> None:
        """Write the model as an .mts file (docs/model-format.md)."""
        from .mtsfile import save

        save(self, path)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights in the PyTorch layout they were given in (float32 copies)."""
        return {key: value.copy() for key, value in self._state_dict.items()}

    @property
    def state_floats(self) -> int:
        """Floats of carried state the kernels need (a device sizes its RAM by it)."""
        return self._core.state_floats

    @property
    def weight_bytes(self) -> int:
        """Bytes of weights streamed per pass (one pass per block): float32, or
        for a quantised model its int8 weights, their scales and the float32 rest."""
        if self.quantization is not None:
            return self._quantized_bytes
        return sum(value.nbytes for value in self._state_dict.values())

    def workspace_bytes(self, block: int, seq_len: int = 0) -> int:
        """Bytes of kernel workspace for one forward call with this block size.
        seq_len matters only for stacks of bidirectional layers."""
        block = _check_size(block, "block")
        seq_len = _check_size(seq_len, "seq_len", minimum=0) if seq_len else 0
        return self._core.workspace_size(block, seq_len)

    def initial_state(self, c: Any = None, prev_inputs: Any = None) -> State:
        """The state at the start of a stream: zeros, or the given cell states
        `c` (num_layers, output_size) and, for QRNN, the previous inputs (one
        (window-1, n_layer) array per layer, most recent first)."""
        buffer = np.zeros(self._core.state_floats, dtype=np.float32)
        if c is not None:
            c = self._check_float32(c, "c")
            _expect_shape(c, (self.num_layers, self.output_size), "c")
            for layer, part in zip(self._layout, c, strict=True):
                buffer[layer.c_offset:layer.c_offset + layer.c_size] = part
        if prev_inputs is not None:
            if self.cell != "qrnn":
                raise ValueError("prev_inputs is a QRNN state; an SRU carries only c")
            if len(prev_inputs) != self.num_layers:
                raise ValueError(f"prev_inputs must hold {self.num_layers} arrays (one per "
                                 f"layer), got {len(prev_inputs)}")
            for index, (layer, frames) in enumerate(zip(self._layout, prev_inputs, strict=True)):
                frames = self._check_float32(frames, f"prev_inputs[{index}]")
                _expect_shape(frames, (layer.prev_frames, layer.prev_width),
                              f"prev_inputs[{index}]")
                size = layer.prev_frames * layer.prev_width
                buffer[layer.prev_offset:layer.prev_offset + size] = frames.reshape(-1)
        return State(self._layout, buffer)

    @staticmethod
    def _check_float32(array: Any, name: str) -> np.ndarray:
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray of float32, got "
                            f"{type(array).__name__}")
        if array.dtype != np.float32:
            raise TypeError(f"{name} must be float32, got {array.dtype}")
        return array

    def forward(self, x: np.ndarray, state: State | None = None, block: int = 16,
                gemm: str | None = None) -> tuple[np.ndarray, State]:
        """Run x (L, input_size) float32 through the model, T = `block` time steps
        per pass over the weights. Returns h (L, output_size) and the new state;
        the state given is left unchanged. `gemm` names a blocked-product variant
        for this model's weights (`gemm_variants(model.quantization)`); None takes
        the default."""
        x = self._check_float32(x, "x")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"x must have shape (L, {self.input_size}), got {x.shape}")
        if not x.flags.c_contiguous:
            raise ValueError("x must be C-contiguous (use np.ascontiguousarray)")
        block = _check_size(block, "block")
        # One index per weight dtype (float32, int8-w, int8-wa); the model's
        # layers all use the one of self.quantization.
        indices = [0, 0, 0]
        if gemm is not None:
            names = _GEMM_VARIANTS[self.quantization]
            if gemm not in names:
                weights = self.quantization or "float32"
                raise ValueError(f"gemm must be one of {names} (the products for {weights} "
                                 f"weights) or None, got {gemm!r}")
            slot = 0 if self.quantization is None else SCHEME_CODES[self.quantization]
            indices[slot] = names.index(gemm)
        if state is None:
            buffer = np.zeros(self._core.state_floats, dtype=np.float32)
        elif not isinstance(state, State):
            raise TypeError(f"state must be a mtsrnn.State, got {type(state).__name__}")
        elif state._layout != self._layout:
            raise ValueError("state belongs to a model of another structure (layer sizes, "
                             "window or cell differ); make one with this model's "
                             "initial_state()")
        else:
            buffer = state._buffer.copy()
        h = np.empty((x.shape[0], self.output_size), dtype=np.float32)
        self._core.forward(x, x.shape[0], buffer, h, block, *indices)
        return h, State(self._layout, buffer)


def _given_int8(given: Mapping[str, np.ndarray], name: str, weight: np.ndarray,
                layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Precomputed int8 rows of `weight` and their scales, checked."""
    weight_q = np.ascontiguousarray(given[name + "_q"])
    scale = np.ascontiguousarray(given[name + "_scale"])
    if weight_q.dtype != np.int8 or weight_q.shape != weight.shape:
        raise ValueError(f"layer {layer} {name}_q must be int8 of shape {weight.shape}, got "
                         f"{weight_q.dtype} {weight_q.shape}")
    if scale.dtype != np.float32 or scale.shape != (weight.shape[0],):
        raise ValueError(f"layer {layer} {name}_scale must be float32 of shape "
                         f"({weight.shape[0]},), got {scale.dtype} {scale.shape}")
    return weight_q, scale


# ---- SRU -------------------------------------------------------------------

_SRU_LAYER_KEYS = {"weight", "weight_c", "bias", "scale_x", "weight_proj",
                   "layer_norm.weight", "layer_norm.bias"}


def from_sru_state_dict(state_dict: Mapping[str, Any], *, use_tanh: bool = False,
                        bidirectional: bool = False, has_skip_term: bool = True,
                        normalize_after: bool = False, layer_norm_eps: float = 1e-5,
                        quantization: str | None = None,
                        quantized_tensors: Sequence[Mapping[str, np.ndarray]] | None = None
                        ) -> Model:
    """A model from an `sru.SRU` (keys `rnn_lst.{i}.*`) or `sru.SRUCell` state dict.

    The options that the state dict does not record are given as arguments,
    as for the `sru.SRU` constructor. A missing `weight_c` means the original
    form (vf = vr = 0); values may be NumPy arrays or torch tensors.
    `quantization` ("int8-w" or "int8-wa", see mtsrnn.quantize) runs the
    products with int8 weights made from the float ones, or with
    `quantized_tensors` (per layer weight_q, weight_scale and with a
    projection weight_proj_q, weight_proj_scale, kernel layout) when given."""
    if quantization is not None:
        check_scheme(quantization)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    if not layer_norm_eps > 0:
        raise ValueError(f"layer_norm_eps must be > 0, got {layer_norm_eps}")
    if any(key.startswith("rnn_lst.") for key in state_dict):
        layers = _layer_dicts(state_dict, r"rnn_lst\.(\d+)\.(.+)", "SRU")
        prefixes = [f"rnn_lst.{i}." for i in range(len(layers))]
    else:
        layers, prefixes = [dict(state_dict)], [""]
    directions = 2 if bidirectional else 1
    kept: dict[str, np.ndarray] = {}
    kernel_layers = []
    quantized_bytes = 0
    int8_tensors = []
    expected_input = None
    for i, (params, prefix) in enumerate(zip(layers, prefixes, strict=True)):
        unknown = set(params) - _SRU_LAYER_KEYS
        if unknown:
            raise ValueError(f"unexpected keys in SRU layer {i}: "
                             f"{sorted(prefix + key for key in unknown)}")
        for required in ("weight", "bias"):
            if required not in params:
                raise ValueError(f"SRU layer {i} is missing {prefix + required!r}")
        arrays = {key: _as_float32(value, prefix + key) for key, value in params.items()}
        bias = arrays["bias"]
        if bias.ndim != 1 or bias.size % (2 * directions) or bias.size == 0:
            raise ValueError(f"{prefix}bias must have shape (2*output_size,) with output_size "
                             f"divisible by {directions} direction(s), got {bias.shape}")
        out = bias.size // 2
        hidden = out // directions
        weight = arrays["weight"]
        if weight.ndim != 2:
            raise ValueError(f"{prefix}weight must be 2-D, got shape {weight.shape}")
        proj = arrays.get("weight_proj")
        if proj is not None:
            if proj.ndim != 2:
                raise ValueError(f"{prefix}weight_proj must be 2-D, got shape {proj.shape}")
            n, projection = proj.shape
            _expect_shape(weight, (projection, weight.shape[1]), prefix + "weight")
        else:
            n, projection = weight.shape[0], 0
        if expected_input is not None and n != expected_input:
            raise ValueError(f"SRU layer {i} has input size {n}, but layer {i - 1} outputs "
                             f"{expected_input}")
        expected_input = out
        k = 4 if has_skip_term and n != out else 3
        depth = projection or n
        _expect_shape(weight, (depth, out * k), prefix + "weight" + (
            f" (k={k} weight blocks: has_skip_term={has_skip_term}, input {n}, output {out})"))
        weight_c = arrays.get("weight_c")
        if weight_c is not None:
            _expect_shape(weight_c, (2 * out,), prefix + "weight_c")
        scale_x = arrays.get("scale_x", np.ones(1, dtype=np.float32))
        if scale_x.size != 1:
            raise ValueError(f"{prefix}scale_x must hold one value, got shape {scale_x.shape}")
        has_norm = "layer_norm.weight" in arrays or "layer_norm.bias" in arrays
        norm_size = out if normalize_after else n
        if has_norm:
            for key in ("layer_norm.weight", "layer_norm.bias"):
                if key not in arrays:
                    raise ValueError(f"SRU layer {i} is missing {prefix + key!r}")
                _expect_shape(arrays[key], (norm_size,), prefix + key + (
                    " (normalize_after=True: over the output)" if normalize_after
                    else " (normalize_after=False: over the input)"))
        for key, value in arrays.items():
            kept[prefix + key] = value

        kernel_weight = _aligned(sru_weight_to_kernel(weight, directions, hidden, k))
        kernel_proj = _aligned(np.ascontiguousarray(proj.T)) if proj is not None else None
        quantized = None
        if quantization is not None:
            if quantized_tensors is None:
                weight_q, weight_scale = quantize_rows(kernel_weight)
                proj_q, proj_scale = (quantize_rows(kernel_proj) if proj is not None
                                      else (None, None))
            else:
                given = quantized_tensors[i]
                weight_q, weight_scale = _given_int8(given, "weight", kernel_weight, i)
                proj_q, proj_scale = (_given_int8(given, "weight_proj", kernel_proj, i)
                                      if proj is not None else (None, None))
            # Aligned like the float weights (the int8 products' vector loads).
            weight_q = _aligned(weight_q)
            proj_q = _aligned(proj_q) if proj_q is not None else None
            quantized = (SCHEME_CODES[quantization], weight_q, weight_scale, proj_q, proj_scale)
            int8_tensors.append({
                key: value for key, value in (
                    ("weight_q", weight_q), ("weight_scale", weight_scale),
                    ("weight_proj_q", proj_q), ("weight_proj_scale", proj_scale))
                if value is not None})
            quantized_bytes += sum(a.nbytes for a in quantized[1:] if a is not None) + sum(
                value.nbytes for key, value in arrays.items() if key not in ("weight",
                                                                             "weight_proj"))
        skip = _SKIP_NONE if not has_skip_term else _SKIP_PROJECTED if k == 4 \
            else _SKIP_SCALED_INPUT
        norm = _NORM_NONE if not has_norm else _NORM_AFTER if normalize_after else _NORM_BEFORE
        kernel_layers.append((
            n, hidden, directions, projection,
            _ACTIVATION_TANH if use_tanh else _ACTIVATION_IDENTITY, skip, norm,
            float(scale_x.reshape(())), float(layer_norm_eps),
            None if quantized else kernel_weight,
            None if quantized else kernel_proj,
            weight_c, bias,
            arrays.get("layer_norm.weight"), arrays.get("layer_norm.bias"),
        ) + ((quantized,) if quantized else ()))
    core = _core.sru_model(kernel_layers)
    layout = tuple(_LayerState(i * core.output_size, core.output_size, 0, 0, 0)
                   for i in range(len(kernel_layers)))
    config = dict(use_tanh=bool(use_tanh), bidirectional=bool(bidirectional),
                  has_skip_term=bool(has_skip_term), normalize_after=bool(normalize_after),
                  layer_norm_eps=float(layer_norm_eps))
    return Model("sru", config, kept, core, layout, len(kernel_layers), quantization,
                 quantized_bytes, tuple(int8_tensors))


def random_sru(input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
               bidirectional: bool = False, projection_size: int = 0, layer_norm: bool = False,
               normalize_after: bool = False, use_tanh: bool = False,
               has_skip_term: bool = True, rescale: bool = False, v1: bool = False,
               highway_bias: float = -2.0) -> Model:
    """A randomly initialised SRU (weights scaled so activations stay near unit
    scale, every bias and vector randomised) for demos, tests and benchmarks."""
    input_size = _check_size(input_size, "input_size")
    hidden_size = _check_size(hidden_size, "hidden_size")
    num_layers = _check_size(num_layers, "num_layers")
    projection_size = _check_size(projection_size, "projection_size", minimum=0)
    rng = np.random.default_rng(seed)
    directions = 2 if bidirectional else 1
    out = directions * hidden_size

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = np.sqrt(3.0 / fan_in)  # variance 1/fan_in
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    state_dict: dict[str, np.ndarray] = {}
    n = input_size
    for i in range(num_layers):
        prefix = f"rnn_lst.{i}."
        k = 4 if has_skip_term and n != out else 3
        depth = n
        if projection_size:
            state_dict[prefix + "weight_proj"] = uniform((n, projection_size), n)
            depth = projection_size
        state_dict[prefix + "weight"] = uniform((depth, out * k), depth)
        if not v1:
            state_dict[prefix + "weight_c"] = rng.uniform(-0.5, 0.5, 2 * out).astype(np.float32)
        bias = rng.uniform(-0.5, 0.5, 2 * out).astype(np.float32)
        bias[out:] += np.float32(highway_bias)  # the reset gate, as sru initialises it
        state_dict[prefix + "bias"] = bias
        scale = np.sqrt(1 + np.exp(highway_bias) * 2) if rescale else 1.0
        state_dict[prefix + "scale_x"] = np.array([scale], dtype=np.float32)
        if layer_norm:
            size = out if normalize_after else n
            state_dict[prefix + "layer_norm.weight"] = (
                1 + rng.uniform(-0.2, 0.2, size)).astype(np.float32)
            state_dict[prefix + "layer_norm.bias"] = rng.uniform(-0.2, 0.2, size).astype(
                np.float32)
        n = out
    return from_sru_state_dict(state_dict, use_tanh=use_tanh, bidirectional=bidirectional,
                               has_skip_term=has_skip_term, normalize_after=normalize_after)


# ---- QRNN ------------------------------------------------------------------

def _qrnn_gates(pooling: str, output_gate: bool) -> tuple[bool, int]:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if pooling == "f" and output_gate:
        raise ValueError("f-pooling has no output gate: use output_gate=False, or "
                         "pooling='fo'")
    input_gate = pooling == "ifo"
    return input_gate, 2 + input_gate + bool(output_gate)


def from_qrnn_state_dict(state_dict: Mapping[str, Any], *, window: int = 1,
                         output_gate: bool = True, zoneout: float = 0.0,
                         pooling: str = "fo", quantization: str | None = None,
                         quantized_tensors: Sequence[Mapping[str, np.ndarray]] | None = None
                         ) -> Model:
    """A model from a torchqrnn-layout state dict (`layers.{l}.linear.weight`
    (G*H, window*n) and `.bias` (G*H,); row blocks Z, F, [I], [O]).

    pooling "fo" with output_gate=False is f-pooling (torchqrnn's
    output_gate=False); "ifo" adds an input-gate block after F. `quantization`
    ("int8-w" or "int8-wa", see mtsrnn.quantize) runs the product with int8
    weights made from the float ones, or with `quantized_tensors` (per layer
    weight_q and weight_scale) when given."""
    if quantization is not None:
        check_scheme(quantization)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    window = _check_size(window, "window")
    if window > 64:
        raise ValueError(f"window must be in [1, 64], got {window}")
    if not 0.0 <= zoneout <= 1.0:
        raise ValueError(f"zoneout must be in [0, 1], got {zoneout}")
    input_gate, gates = _qrnn_gates(pooling, output_gate)
    layers = _layer_dicts(state_dict, r"layers\.(\d+)\.linear\.(weight|bias)", "QRNN")
    kept: dict[str, np.ndarray] = {}
    kernel_layers = []
    layout = []
    offset = 0
    quantized_bytes = 0
    int8_tensors = []
    expected_input = None
    hidden_first = None
    for i, params in enumerate(layers):
        prefix = f"layers.{i}.linear."
        for required in ("weight", "bias"):
            if required not in params:
                raise ValueError(f"QRNN layer {i} is missing {prefix + required!r}")
        weight = _as_float32(params["weight"], prefix + "weight")
        bias = _as_float32(params["bias"], prefix + "bias")
        if weight.ndim != 2 or weight.shape[0] % gates or weight.shape[1] % window \
                or weight.size == 0:
            raise ValueError(
                f"{prefix}weight must have shape ({gates}*H, {window}*n) for pooling "
                f"{pooling!r}, output_gate={output_gate}, window={window}; got {weight.shape}")
        hidden = weight.shape[0] // gates
        n = weight.shape[1] // window
        _expect_shape(bias, (gates * hidden,), prefix + "bias")
        if expected_input is not None and n != expected_input:
            raise ValueError(f"QRNN layer {i} has input size {n}, but layer {i - 1} outputs "
                             f"{expected_input}")
        if hidden_first is not None and hidden != hidden_first:
            raise ValueError(f"all QRNN layers must have one hidden size; layer {i} has "
                             f"{hidden}, layer 0 {hidden_first}")
        expected_input = hidden_first = hidden
        kept[prefix + "weight"] = weight
        kept[prefix + "bias"] = bias
        if quantization is None:
            kernel_layers.append((n, hidden, window, int(input_gate), int(bool(output_gate)),
                                  float(zoneout), weight, bias))
        else:
            weight_q, weight_scale = (quantize_rows(weight) if quantized_tensors is None
                                      else _given_int8(quantized_tensors[i], "weight", weight, i))
            weight_q = _aligned(weight_q)
            kernel_layers.append((n, hidden, window, int(input_gate), int(bool(output_gate)),
                                  float(zoneout), None, bias,
                                  (SCHEME_CODES[quantization], weight_q, weight_scale)))
            quantized_bytes += weight_q.nbytes + weight_scale.nbytes + bias.nbytes
            int8_tensors.append({"weight_q": weight_q, "weight_scale": weight_scale})
        layout.append(_LayerState(offset, hidden, offset + hidden, window - 1, n))
        offset += hidden + (window - 1) * n
    core = _core.qrnn_model(kernel_layers)
    config = dict(window=window, output_gate=bool(output_gate), zoneout=float(zoneout),
                  pooling=pooling)
    return Model("qrnn", config, kept, core, tuple(layout), len(kernel_layers), quantization,
                 quantized_bytes, tuple(int8_tensors))


def random_qrnn(input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
                window: int = 1, output_gate: bool = True, pooling: str = "fo",
                zoneout: float = 0.0) -> Model:
    """A randomly initialised QRNN (unit-scale weights, random biases)."""
    input_size = _check_size(input_size, "input_size")
    hidden_size = _check_size(hidden_size, "hidden_size")
    num_layers = _check_size(num_layers, "num_layers")
    window = _check_size(window, "window")
    _input_gate, gates = _qrnn_gates(pooling, output_gate)
    rng = np.random.default_rng(seed)
    state_dict = {}
    n = input_size
    for i in range(num_layers):
        bound = np.sqrt(3.0 / (window * n))
        state_dict[f"layers.{i}.linear.weight"] = rng.uniform(
            -bound, bound, (gates * hidden_size, window * n)).astype(np.float32)
        state_dict[f"layers.{i}.linear.bias"] = rng.uniform(
            -0.5, 0.5, gates * hidden_size).astype(np.float32)
        n = hidden_size
    return from_qrnn_state_dict(state_dict, window=window, output_gate=output_gate,
                                zoneout=zoneout, pooling=pooling)
