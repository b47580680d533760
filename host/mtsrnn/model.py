"""Models built from PyTorch-layout weights, run by the C kernels.

The PyTorch layouts (docs/spec.md 2.2 for `sru`, 3.1 for torchqrnn) are converted
once, here, into kernel stages (mtsrnn.stages: record fields and tensors in the
kernels' layout, see kernels/include/mtsrnn/sru.h and qrnn.h). A `Model`
writes the .mts image of its stages and runs it through `_core.load_file`,
the C loader every device runs (docs/model-format.md), so the kernels see a
model from a state dict exactly as they see it from a file. The model keeps
the original state dict too, so it can be compared against a reference.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from .mtsimage import stages_image
from .stages import (
    ACTIVATION_IDENTITY,
    ACTIVATION_TANH,
    MAX_DIM,
    MAX_LAYERS,
    MAX_WINDOW,
    NORM_AFTER,
    NORM_BEFORE,
    NORM_NONE,
    SKIP_NONE,
    SKIP_PROJECTED,
    SKIP_SCALED_INPUT,
    Stage,
    check_scheme,
)

# Variant names per weight scheme (None: float32), default first: the
# kernels' tables mts_gemm_f32_variants, mts_gemm_i8f32_variants and
# mts_gemm_i8i8_variants (kernels/include/mtsrnn/gemm.h).
_VARIANTS = {
    None: tuple(name for name, _summary in _core.gemm_variants()),
    **{scheme: tuple(name for name, _summary in table)
       for scheme, table in zip(("int8-w", "int8-wa"), _core.gemm_i8_variants(), strict=True)},
}

POOLINGS = ("f", "fo", "ifo")


def product_variants(quantization: str | None = None) -> tuple[str, ...]:
    """Names of the blocked-product variants built into the kernels for weights
    of that scheme (None: float32; "int8-w", "int8-wa": see mtsrnn.quantize),
    default first: the names `Model.forward(variant=...)` accepts for a model
    with that `quantization`."""
    if quantization is not None:
        check_scheme(quantization)
    return _VARIANTS[quantization]


def _as_float32(value: Any, name: str) -> np.ndarray:
    """A contiguous float32 copy of a state-dict value (NumPy array or torch tensor)."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must hold floating-point values, got dtype {array.dtype}")
    # A copy even of a float32 array: the model owns its state dict (the
    # kernels run on their own copy in the model's image).
    return np.array(array, dtype=np.float32, order="C")


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
    if not minimum <= value <= MAX_DIM:
        raise ValueError(f"{name} must be in [{minimum}, {MAX_DIM}], got {value}")
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
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers are supported, got {len(layers)}")
    return [layers[i] for i in range(len(layers))]


@dataclass(frozen=True)
class Part:
    """One piece of a model in the layout it was given in: a recurrent stack
    (kind "sru" or "qrnn": its PyTorch-layout state dict and the options a
    state dict does not record, as `from_sru_state_dict` / `from_qrnn_state_dict`
    take them) or one norm, dense or softmax stage (mtsrnn.heads: its arrays
    and options). `stages` are its kernel stages (quantised when the model is).
    (kind, state_dict, config) is what `mtsrnn.reference.model_forward` takes."""

    kind: str
    config: Mapping[str, Any]
    state_dict: Mapping[str, np.ndarray]
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class _LayerState:
    """Where one stage's state lies in the flat state buffer (floats)."""

    c_offset: int
    c_size: int
    prev_offset: int
    prev_frames: int  # window - 1 (QRNN), 0 for SRU
    prev_width: int  # the layer's input size


class State:
    """The carried state of a stream: SRU `c` per layer; QRNN `c` and the last
    window-1 inputs per layer (norm, dense and softmax stages carry none).
    Immutable from the outside: `forward` returns a new State and never
    modifies the one it is given."""

    __slots__ = ("_layout", "_buffer")

    def __init__(self, layout: tuple[_LayerState, ...], buffer: np.ndarray):
        self._layout = layout
        self._buffer = buffer

    @property
    def _recurrent(self) -> tuple[_LayerState, ...]:
        return tuple(s for s in self._layout if s.c_size)

    @property
    def cells(self) -> list[np.ndarray]:
        """Per recurrent stage, its cell state (float32 copies)."""
        return [self._buffer[s.c_offset:s.c_offset + s.c_size].copy() for s in self._recurrent]

    @property
    def c(self) -> np.ndarray:
        """(recurrent stages, output_size) float32: the cell state of every
        recurrent stage (they must have one size; else see `cells`)."""
        cells = self.cells
        if len({cell.size for cell in cells}) > 1:
            raise ValueError("the recurrent stages have different sizes: use State.cells")
        return np.stack(cells)

    @property
    def prev_inputs(self) -> list[np.ndarray] | None:
        """QRNN: per QRNN stage, (window-1, n_layer) float32, row k-1 = x_{t-k}.
        None when no stage keeps previous inputs (SRU)."""
        layers = [s for s in self._layout if s.prev_width]
        if not layers:
            return None
        return [
            self._buffer[s.prev_offset:s.prev_offset + s.prev_frames * s.prev_width]
            .reshape(s.prev_frames, s.prev_width).copy()
            for s in layers
        ]

    def __repr__(self) -> str:
        return f"State(stages={len(self._layout)}, floats={self._buffer.size})"


def _chain(parts: Sequence[Part]) -> tuple[Stage, ...]:
    """The stages of the parts in order, checked to chain (stage s+1's input
    size is stage s's output size), with a message naming both stages."""
    stages = tuple(stage for part in parts for stage in part.stages)
    for index in range(1, len(stages)):
        before, after = stages[index - 1], stages[index]
        if after.input_size != before.output_size:
            raise ValueError(f"stage {index} ({after.describe()}) takes input size "
                             f"{after.input_size}, but stage {index - 1} "
                             f"({before.describe()}) outputs {before.output_size}")
    return stages


class Model:
    """A sequence of stages (SRU and QRNN stacks, norm, dense and softmax
    stages) whose forward pass runs in the C kernels.

    Build one with `from_sru_state_dict`, `from_qrnn_state_dict`, `random_sru`
    or `random_qrnn` (a stack), `mtsrnn.sequential` (any stages, see
    mtsrnn.heads), `mtsrnn.load`, `mtsrnn.from_torch` or `mtsrnn.quantize`.
    `parts` are its pieces in the layout they were given in, `stages` its
    kernel stages (mtsrnn.stages.Stage), their tensors views into `image`, the
    .mts image the kernels run in place. `cell` is "sru" or "qrnn" for a stack
    of one cell (with `config` its options), else "model" (`config` empty: each
    part has its own)."""

    def __init__(self, parts: Sequence[Part], quantization: str | None = None):
        if not parts:
            raise ValueError("a model needs at least one part")
        self.parts = tuple(parts)
        # None for float32 weights, else the scheme of mtsrnn.quantize (the
        # parts' state dicts then hold the float weights it was made from).
        self.quantization = quantization
        self._image, self.stages = stages_image(_chain(self.parts))
        single = len(self.parts) == 1 and self.parts[0].kind in ("sru", "qrnn")
        self.cell = self.parts[0].kind if single else "model"
        self.config = dict(self.parts[0].config) if single else {}
        try:
            self._core = _core.load_file(self._image)
        except _core.ModelFileError as error:  # sizes only the kernels check
            raise ValueError(f"the kernels reject the model: {error.message}") from None
        layout = []
        offset = 0
        for stage in self.stages:
            c_size, frames, width = stage.state_layout
            layout.append(_LayerState(offset, c_size, offset + c_size, frames, width))
            offset += stage.state_floats
        assert offset == self._core.state_floats, (offset, self._core.state_floats)
        self._layout = tuple(layout)
        self.num_layers = len(self.stages)
        self.input_size = self._core.input_size
        self.output_size = self._core.output_size

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kind of every stage, in order."""
        return tuple(stage.cell for stage in self.stages)

    def describe(self) -> str:
        """The stages in one line, e.g. "norm, sru x2, dense, softmax"."""
        runs: list[list[Any]] = []
        for kind in self.kinds:
            if runs and runs[-1][0] == kind:
                runs[-1][1] += 1
            else:
                runs.append([kind, 1])
        return ", ".join(kind if count == 1 else f"{kind} x{count}" for kind, count in runs)

    def __repr__(self) -> str:
        quantized = f", quantization={self.quantization!r}" if self.quantization else ""
        if self.cell == "model":
            return (f"Model({self.describe()}, input={self.input_size}, "
                    f"output={self.output_size}{quantized})")
        options = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return (f"Model({self.cell}, layers={self.num_layers}, input={self.input_size}, "
                f"output={self.output_size}, {options}{quantized})")

    def reference_parts(self) -> list[tuple[str, dict[str, np.ndarray], dict[str, Any]]]:
        """(kind, state_dict, config) per part: what `mtsrnn.reference.model_forward`
        takes (float weights; pass `quantization` to it for a quantised model)."""
        return [(part.kind, {k: v.copy() for k, v in part.state_dict.items()},
                 dict(part.config)) for part in self.parts]

    @property
    def image(self) -> memoryview:
        """The model's .mts image (docs/model-format.md), read-only: what `save`
        writes and what the kernels run."""
        return memoryview(self._image).toreadonly()

    def save(self, path_or_file: Any) -> None:
        """Write the model as an .mts file to a path or a binary file object."""
        if hasattr(path_or_file, "write"):
            path_or_file.write(self.image)
            return
        with open(os.fspath(path_or_file), "wb") as f:
            f.write(self.image)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights in the PyTorch layout they were given in (float32 copies);
        for a model of several parts, part i's keys prefixed with "i."."""
        if len(self.parts) == 1:
            return {key: value.copy() for key, value in self.parts[0].state_dict.items()}
        return {f"{index}.{key}": value.copy() for index, part in enumerate(self.parts)
                for key, value in part.state_dict.items()}

    @property
    def quantized_tensors(self) -> tuple[dict[str, np.ndarray], ...]:
        """Per layer, the int8 arrays the kernels run on (kernel layout):
        weight_q, weight_scale and, for a projected SRU, weight_proj_q and
        weight_proj_scale. Empty for a float model."""
        if self.quantization is None:
            return ()
        result = []
        for stage in self.stages:
            arrays = {}
            for tensor in stage.kind.tensors:
                if tensor.scale and tensor.name in stage.tensors:
                    arrays[tensor.name + "_q"] = stage.tensors[tensor.name]
                    arrays[tensor.scale] = stage.tensors[tensor.scale]
            result.append(arrays)
        return tuple(result)

    @property
    def state_floats(self) -> int:
        """Floats of carried state the kernels need (a device sizes its RAM by it)."""
        return self._core.state_floats

    @property
    def weight_bytes(self) -> int:
        """Bytes of weights streamed per pass (one pass per block): the tensors
        of its stages (float32, or for a quantised model its int8 weights,
        their scales and the float32 rest), as the .mts file holds them."""
        return sum(stage.weight_bytes for stage in self.stages)

    def workspace_bytes(self, block: int, seq_len: int = 0) -> int:
        """Bytes of kernel workspace for one forward call with this block size.
        seq_len matters only for stacks of bidirectional layers."""
        block = _check_size(block, "block")
        seq_len = _check_size(seq_len, "seq_len", minimum=0) if seq_len else 0
        return self._core.workspace_size(block, seq_len)

    def initial_state(self, c: Any = None, prev_inputs: Any = None) -> State:
        """The state at the start of a stream: zeros, or the given cell states
        `c` (one per recurrent stage: an array (stages, size) or a list of
        arrays) and, for QRNN stages, the previous inputs (one
        (window-1, n_layer) array per QRNN stage, most recent first)."""
        buffer = np.zeros(self._core.state_floats, dtype=np.float32)
        recurrent = [layer for layer in self._layout if layer.c_size]
        if c is not None:
            if isinstance(c, np.ndarray):
                c = self._check_float32(c, "c")
                _expect_shape(c, (len(recurrent), recurrent[0].c_size if recurrent else 0), "c")
            elif not isinstance(c, (list, tuple)) or len(c) != len(recurrent):
                raise ValueError(f"c must hold {len(recurrent)} cell states (one per recurrent "
                                 f"stage), got {type(c).__name__}")
            for index, (layer, part) in enumerate(zip(recurrent, c, strict=True)):
                part = self._check_float32(part, f"c[{index}]")
                _expect_shape(part, (layer.c_size,), f"c[{index}]")
                buffer[layer.c_offset:layer.c_offset + layer.c_size] = part
        if prev_inputs is not None:
            windowed = [layer for layer in self._layout if layer.prev_width]
            if not windowed:
                raise ValueError("prev_inputs is a QRNN state; an SRU carries only c")
            if len(prev_inputs) != len(windowed):
                raise ValueError(f"prev_inputs must hold {len(windowed)} arrays (one per "
                                 f"QRNN layer), got {len(prev_inputs)}")
            for index, (layer, frames) in enumerate(zip(windowed, prev_inputs, strict=True)):
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
                variant: str | None = None) -> tuple[np.ndarray, State]:
        """Run x (L, input_size) float32 through the model, T = `block` time steps
        per pass over the weights. Returns h (L, output_size) and the new state;
        the state given is left unchanged. `variant` names a blocked-product variant
        for this model's weights (`product_variants(model.quantization)`); None takes
        the default."""
        x = self._check_float32(x, "x")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"x must have shape (L, {self.input_size}), got {x.shape}")
        if not x.flags.c_contiguous:
            raise ValueError("x must be C-contiguous (use np.ascontiguousarray)")
        block = _check_size(block, "block")
        if variant is not None and variant not in _VARIANTS[self.quantization]:
            weights = self.quantization or "float32"
            raise ValueError(f"variant must be one of {_VARIANTS[self.quantization]} (the "
                             f"products for {weights} weights) or None, got {variant!r}")
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
        self._core.forward(x, x.shape[0], buffer, h, block, variant)
        return h, State(self._layout, buffer)



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
    stages: list[Stage] = []
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

        skip = SKIP_NONE if not has_skip_term else SKIP_PROJECTED if k == 4 \
            else SKIP_SCALED_INPUT
        norm = NORM_NONE if not has_norm else NORM_AFTER if normalize_after else NORM_BEFORE
        fields = dict(
            input_size=n, hidden_size=hidden, num_directions=directions,
            projection_size=projection,
            activation=ACTIVATION_TANH if use_tanh else ACTIVATION_IDENTITY, skip=skip,
            norm=norm, quant=0, scale_x=float(np.float32(scale_x.reshape(()))),
            norm_eps=float(np.float32(layer_norm_eps)))
        tensors = {"weight": sru_weight_to_kernel(weight, directions, hidden, k)}
        if proj is not None:
            tensors["weight_proj"] = np.ascontiguousarray(proj.T)
        if weight_c is not None:
            tensors["weight_c"] = weight_c
        tensors["bias"] = bias
        if has_norm:
            tensors["norm_weight"] = arrays["layer_norm.weight"]
            tensors["norm_bias"] = arrays["layer_norm.bias"]
        stage = Stage("sru", fields, tensors)
        if quantization is not None:
            stage = stage.quantized(quantization, None if quantized_tensors is None
                                    else quantized_tensors[i], layer=i)
        stages.append(stage)
    config = dict(use_tanh=bool(use_tanh), bidirectional=bool(bidirectional),
                  has_skip_term=bool(has_skip_term), normalize_after=bool(normalize_after),
                  layer_norm_eps=float(layer_norm_eps))
    return Model([Part("sru", config, kept, tuple(stages))], quantization)


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
    if window > MAX_WINDOW:
        raise ValueError(f"window must be in [1, {MAX_WINDOW}], got {window}")
    if not 0.0 <= zoneout <= 1.0:
        raise ValueError(f"zoneout must be in [0, 1], got {zoneout}")
    input_gate, gates = _qrnn_gates(pooling, output_gate)
    layers = _layer_dicts(state_dict, r"layers\.(\d+)\.linear\.(weight|bias)", "QRNN")
    kept: dict[str, np.ndarray] = {}
    stages: list[Stage] = []
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
        stage = Stage("qrnn", dict(
            input_size=n, hidden_size=hidden, window=window, input_gate=int(input_gate),
            output_gate=int(bool(output_gate)), quant=0, zoneout=float(np.float32(zoneout))),
            {"weight": weight, "bias": bias})
        if quantization is not None:
            stage = stage.quantized(quantization, None if quantized_tensors is None
                                    else quantized_tensors[i], layer=i)
        stages.append(stage)
    config = dict(window=window, output_gate=bool(output_gate), zoneout=float(zoneout),
                  pooling=pooling)
    return Model([Part("qrnn", config, kept, tuple(stages))], quantization)


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
