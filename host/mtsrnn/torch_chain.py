"""Import a whole PyTorch model: an nn.Sequential or a custom nn.Module whose
forward is a straight chain of supported modules and functions (issue 14).

The forward is traced with torch.fx; the recurrent modules that
`mtsrnn.from_torch` imports on their own (sru.SRU, sru.SRUCell, a
torchqrnn-style QRNN stack or layer, minGRU_pytorch's minGRU / minLSTM,
mtsrnn.torch's IndRNN and QRNN) are leaves, as are the torch.nn modules.
The graph must be a chain from one input to one output. Supported, in order:

- modules: nn.Linear; nn.ReLU, nn.Tanh, nn.Sigmoid (right after an nn.Linear:
  they become its dense stage's activation); nn.Softmax / nn.LogSoftmax over
  the features; nn.BatchNorm1d in eval mode with running statistics (over
  axis 1: put the (N, C, L) transposes around it); nn.LayerNorm over the
  features; nn.Dropout in eval mode and nn.Identity (nothing);
- functions and methods: torch.relu / tanh / sigmoid, F.relu / tanh /
  sigmoid, x.relu() ... (after an nn.Linear, like the modules); F.softmax,
  F.log_softmax, torch.softmax, x.softmax(dim) ... over the features;
  x.transpose(i, j), torch.transpose, x.permute(...), x.contiguous();
- a recurrent module's call `h, _ = self.rnn(x)` (or `self.rnn(x)[0]`):
  time-first (sru.SRU takes (L, B, n)); batch-first models transpose around
  it, and the tracer follows the axes, so every recurrent module must see the
  same input axis as time. minGRU_pytorch's minGRU / minLSTM are batch-first
  and return the output alone: `h = self.min_gru(x)` with x (B, L, n).

Anything else (nn.GRU, nn.Conv1d, a branch, a residual add, a function of two
tensors, a softmax over another axis, a reshape, an initial state passed to a
recurrent module, ...) raises `UnsupportedModuleError` naming the module or
operation and the fx node where it is.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import heads
from .model import Part


class UnsupportedModuleError(TypeError):
    """A PyTorch module that from_torch cannot import: the message names the
    module or operation and where it is (the fx node's name and target)."""


_ACTIVATION_NAMES = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}


@dataclass
class _Value:
    """A traced tensor: its axes by name (the input's are "a", "b", "F" when
    3-D; "F" is the features) and whether its rank is known."""

    axes: tuple[str, ...]
    rank_known: bool = False


@dataclass
class _Outputs:
    """A recurrent module's tuple output: element 0 is the chain's tensor."""

    value: _Value
    module: str


class _Chain:
    def __init__(self, root: Any, is_recurrent: Any, import_recurrent: Any):
        self.root = root
        self.is_recurrent = is_recurrent
        self.import_recurrent = import_recurrent
        self.parts: list[Part] = []
        self.linear_node: Any = None  # the fx node of the last nn.Linear
        self.time_axis: str | None = None
        self.where = type(root).__name__

    def fail(self, node: Any, what: str) -> UnsupportedModuleError:
        return UnsupportedModuleError(
            f"{self.where}: {what} at fx node {node.name!r} (target {_target_name(node)}); "
            "from_torch imports a straight chain of nn.Linear (+ ReLU/Tanh/Sigmoid), "
            "BatchNorm1d, LayerNorm, softmax over the features and SRU/QRNN modules")

    # ---- the axes ----------------------------------------------------------------

    def _dim(self, node: Any, value: _Value, dim: Any) -> int:
        if not isinstance(dim, int):
            raise self.fail(node, f"a non-constant dimension {dim!r}")
        rank = len(value.axes)
        if not -rank <= dim < rank:
            raise self.fail(node, f"dimension {dim} of a {rank}-D tensor")
        return dim % rank

    def feature_dim_ok(self, node: Any, value: _Value, dim: Any) -> None:
        if value.axes[self._dim(node, value, dim)] != "F":
            raise self.fail(node, f"a softmax over dim={dim}, which is not the feature axis "
                                  f"(axes {value.axes}); mtsrnn's softmax is per frame, over "
                                  "the features (dim=-1)")

    # ---- stages ------------------------------------------------------------------

    def add(self, part: Part) -> None:
        self.parts.append(part)

    def activation(self, node: Any, name: str) -> None:
        last = self.parts[-1] if self.parts else None
        if (last is None or last.kind != "dense" or last.config["activation"] != "identity"
                or node.all_input_nodes[0] is not self.linear_node):
            raise self.fail(node, f"a {name} that does not directly follow an nn.Linear "
                                  "(mtsrnn applies activations in dense stages)")
        self.parts[-1] = heads.dense(last.state_dict["weight"], last.state_dict.get("bias"),
                                     name)

    def softmax(self, node: Any, value: _Value, dim: Any, log: bool) -> None:
        self.feature_dim_ok(node, value, dim)
        size = self.features(node)
        self.add(heads.softmax(size, log=log))

    def features(self, node: Any) -> int:
        if not self.parts:
            raise self.fail(node, "a softmax or activation on the model's input (its size is "
                                  "unknown until a stage with weights)")
        return self.parts[-1].stages[-1].output_size


def _target_name(node: Any) -> str:
    target = node.target
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{getattr(target, '__name__', repr(target))}".lstrip(".")


def _tensor(value: Any) -> np.ndarray:
    import torch

    return value.detach().cpu().to(torch.float32).numpy().copy()


def torch_parts(module: Any, is_recurrent: Any, import_recurrent: Any) -> list[Part]:
    """The parts of a chain module (see the module docstring). `is_recurrent(m)`
    says whether a submodule is a recurrent leaf, `import_recurrent(m)` imports
    it as a Model (mtsrnn.torch_import)."""
    import torch
    import torch.fx
    import torch.nn.functional as F

    nn = torch.nn

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
            return is_recurrent(m) or super().is_leaf_module(m, qualified_name)

    chain = _Chain(module, is_recurrent, import_recurrent)
    try:
        graph = Tracer().trace(module)
    except Exception as error:  # fx raises TraceError, TypeError, ... for dynamic code
        raise UnsupportedModuleError(
            f"{chain.where}: torch.fx cannot trace its forward ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}); from_torch imports a "
            "forward that is a straight chain of supported modules and functions") from None
    modules = dict(module.named_modules())
    values: dict[Any, Any] = {}
    inputs = [node for node in graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        raise UnsupportedModuleError(
            f"{chain.where}: forward takes {len(inputs)} tensors "
            f"({', '.join(node.name for node in inputs)}); from_torch imports a forward of "
            "one input")
    activations = {torch.relu: "relu", torch.tanh: "tanh", torch.sigmoid: "sigmoid",
                   F.relu: "relu", F.tanh: "tanh", F.sigmoid: "sigmoid",
                   torch.nn.functional.relu_: "relu"}
    softmaxes = {F.softmax: False, F.log_softmax: True, torch.softmax: False,
                 torch.log_softmax: True}
    for node in graph.nodes:
        if node.op == "placeholder":
            values[node] = _Value(("a", "b", "F"))
            continue
        tensor_args = list(node.all_input_nodes)
        for arg in tensor_args:
            if isinstance(values.get(arg), _Value) and len(arg.users) > 1:
                users = ", ".join(repr(user.name) for user in arg.users)
                raise chain.fail(arg, f"a branch: the result is used by {len(arg.users)} "
                                      f"operations ({users})")
        if node.op == "get_attr":
            for user in node.users:
                if user.op == "call_module" and is_recurrent(modules[user.target]):
                    raise chain.fail(user, "a call of a recurrent module with more than the "
                                           "input (an initial state or mask: mtsrnn starts "
                                           "from the model's own state)")
            raise chain.fail(node, "a direct use of a parameter or buffer (e.g. x @ self.W)")
        if node.op == "output":
            result = node.args[0]
            if not isinstance(result, torch.fx.Node) or not isinstance(values.get(result),
                                                                       _Value):
                raise chain.fail(node, "a forward that does not return one tensor (it "
                                       f"returns {result!r})")
            continue
        if len(tensor_args) != 1:
            raise chain.fail(node, f"an operation on {len(tensor_args)} tensors "
                                   f"({', '.join(arg.name for arg in tensor_args)}), e.g. a "
                                   "residual add or a concatenation")
        source = values.get(tensor_args[0])
        if node.op == "call_function" and node.target is operator.getitem:
            if not isinstance(source, _Outputs):
                raise chain.fail(node, "indexing or slicing a tensor")
            if node.args[1] == 0:
                values[node] = source.value
            else:
                values[node] = None  # the final state: the chain may not use it
            continue
        if source is None:
            raise chain.fail(node, "a use of a recurrent module's final state (only its "
                                   "output h, element 0, continues the chain)")
        if isinstance(source, _Outputs):
            raise chain.fail(node, f"a use of the tuple that {source.module} returns (take "
                                   "its output with `h, _ = ...` or `[0]`)")
        values[node] = _step(chain, node, source, modules, activations, softmaxes, nn)
    if not chain.parts:
        raise UnsupportedModuleError(f"{chain.where}: the forward holds no stage mtsrnn can "
                                     "run (no nn.Linear, norm, softmax or recurrent module)")
    return chain.parts


def _step(chain: _Chain, node: Any, value: _Value, modules: dict[str, Any],
          activations: dict[Any, str], softmaxes: dict[Any, bool], nn: Any) -> Any:
    """What one fx node does to the chain; returns its traced value."""
    kwargs = dict(node.kwargs)
    if node.op == "call_module":
        sub = modules[node.target]
        name = f"{type(sub).__module__}.{type(sub).__name__}"
        if chain.is_recurrent(sub):
            if any(arg is not None for arg in (*node.args[1:], *kwargs.values())):
                raise chain.fail(node, f"a call of {name} with more than the input (an "
                                       "initial state or mask: mtsrnn starts from the model's "
                                       "own state)")
            # minGRU_pytorch's modules are batch-first and return the output
            # alone; the others are time-first and return (output, state).
            batch_first = hasattr(sub, "to_out")
            expected = "(batch, time, features)" if batch_first else "(time, batch, features)"
            if len(value.axes) != 3 or value.axes[-1] != "F":
                raise chain.fail(node, f"a recurrent module whose input has axes {value.axes} "
                                       f"(expected {expected})")
            time = value.axes[1] if batch_first else value.axes[0]
            if chain.time_axis not in (None, time):
                raise chain.fail(node, f"a recurrent module that sees input axis {time!r} as "
                                       f"time where an earlier one saw {chain.time_axis!r}")
            chain.time_axis = time
            value.rank_known = True
            chain.parts.extend(chain.import_recurrent(sub, node.target).parts)
            if batch_first:
                return _Value(value.axes, True)
            return _Outputs(_Value(value.axes, True), name)
        if isinstance(sub, nn.Linear):
            if value.axes[-1] != "F":
                raise chain.fail(node, f"an nn.Linear over axis {len(value.axes) - 1} of axes "
                                       f"{value.axes}, not the features")
            chain.add(heads.dense(_tensor(sub.weight),
                                  None if sub.bias is None else _tensor(sub.bias)))
            chain.linear_node = node
            return value
        for cls, act in ((nn.ReLU, "relu"), (nn.Tanh, "tanh"), (nn.Sigmoid, "sigmoid")):
            if type(sub) is cls:
                chain.activation(node, act)
                return value
        if isinstance(sub, (nn.Softmax, nn.LogSoftmax)):
            dim = sub.dim if sub.dim is not None else -1
            chain.softmax(node, value, dim, isinstance(sub, nn.LogSoftmax))
            return value
        if isinstance(sub, nn.Identity) or (isinstance(sub, nn.Dropout) and
                                            (not sub.training or sub.p == 0)):
            return value
        if isinstance(sub, nn.BatchNorm1d):
            _batch_norm(chain, node, sub, value)
            return value
        if isinstance(sub, nn.LayerNorm):
            if len(sub.normalized_shape) != 1 or value.axes[-1] != "F":
                raise chain.fail(node, f"an nn.LayerNorm over {tuple(sub.normalized_shape)} "
                                       f"of axes {value.axes}; only a LayerNorm over the "
                                       "features (the last axis) is a per-frame stage")
            size = sub.normalized_shape[0]
            weight = (_tensor(sub.weight) if getattr(sub, "weight", None) is not None
                      else np.ones(size, np.float32))
            bias = (_tensor(sub.bias) if getattr(sub, "bias", None) is not None
                    else np.zeros(size, np.float32))
            chain.add(heads.layer_norm(weight, bias, eps=sub.eps))
            return value
        if isinstance(sub, nn.Dropout):
            raise chain.fail(node, f"an nn.Dropout(p={sub.p}) in training mode (its output "
                                   "is random); call module.eval() first")
        raise chain.fail(node, f"an unsupported module {name} ({node.target})")
    if node.op in ("call_function", "call_method"):
        target = node.target
        args = node.args[1:]
        name = target if isinstance(target, str) else getattr(target, "__name__", "")
        if target in activations or (node.op == "call_method" and
                                     target in ("relu", "tanh", "sigmoid")):
            chain.activation(node, activations.get(target, target))
            return value
        if target in softmaxes or (node.op == "call_method" and
                                   target in ("softmax", "log_softmax")):
            dim = kwargs.get("dim", args[0] if args else None)
            if dim is None:
                raise chain.fail(node, "a softmax without dim (give dim=-1)")
            if kwargs.get("dtype") is not None:
                raise chain.fail(node, "a softmax with a dtype")
            log = softmaxes.get(target, target == "log_softmax")
            chain.softmax(node, value, dim, log)
            return value
        if name == "contiguous":
            return value
        if name == "transpose":
            if len(args) != 2:
                args = (kwargs.get("dim0"), kwargs.get("dim1"))
            first, second = (chain._dim(node, value, dim) for dim in args)
            axes = list(value.axes)
            axes[first], axes[second] = axes[second], axes[first]
            return _Value(tuple(axes), value.rank_known)
        if name == "permute":
            dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            dims = [chain._dim(node, value, dim) for dim in dims]
            if sorted(dims) != list(range(len(value.axes))):
                raise chain.fail(node, f"a permute {tuple(dims)} of a {len(value.axes)}-D "
                                       "tensor")
            return _Value(tuple(value.axes[dim] for dim in dims), True)
        raise chain.fail(node, f"an unsupported {node.op.replace('_', ' ')} {name or target}")
    raise chain.fail(node, f"an unsupported fx operation {node.op}")


def _batch_norm(chain: _Chain, node: Any, sub: Any, value: _Value) -> None:
    """nn.BatchNorm1d in eval mode: y = (x - running_mean) / sqrt(running_var + eps)
    * gamma + beta over axis 1 (the features of an (N, C) or (N, C, L) input)."""
    if sub.training:
        raise chain.fail(node, "an nn.BatchNorm1d in training mode (it normalises with "
                               "the batch's statistics); call module.eval() first")
    if sub.running_mean is None or sub.running_var is None:
        raise chain.fail(node, "an nn.BatchNorm1d without running statistics "
                               "(track_running_stats=False normalises with the batch's)")
    feature_axis = value.axes.index("F")
    if not value.rank_known and feature_axis == len(value.axes) - 1:
        # The rank of the model's input is not known yet: an (N, C) input.
        value.axes = value.axes[-2:]
        value.rank_known = True
        feature_axis = 1
    if feature_axis != 1:
        raise chain.fail(node, f"an nn.BatchNorm1d over axis 1 of a tensor whose features "
                               f"are on axis {feature_axis} (axes {value.axes}); transpose "
                               "to (N, C, L) around it")
    mean = _tensor(sub.running_mean).astype(np.float64)
    var = _tensor(sub.running_var).astype(np.float64)
    size = mean.size
    gamma = _tensor(sub.weight).astype(np.float64) if sub.weight is not None else np.ones(size)
    beta = _tensor(sub.bias).astype(np.float64) if sub.bias is not None else np.zeros(size)
    scale = gamma / np.sqrt(var + sub.eps)
    chain.add(heads.norm(scale.astype(np.float32), (beta - mean * scale).astype(np.float32)))
