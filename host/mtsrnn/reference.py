"""Independent per-step NumPy float64 golden reference for SRU and QRNN.

Written from docs/spec.md (sections 2, 3, 6 and 7) and nothing else: it reads the
PyTorch state_dict layouts directly, never a kernel-friendly reordering, and
imports nothing from mtsrnn, so it can be loaded standalone from its file path
(``importlib.util.spec_from_file_location``). Every time step and every layer
is a plain loop that reads like the equations; speed is not a goal.

SRU (docs/spec.md 2, ``sru`` 2.6.0 layout, per layer ``rnn_lst.{i}.``)::

    U_t  = x'_t @ weight      x'_t = layer_norm(x_t) (pre-norm) then @ weight_proj
    u0, u1, u2, u3 = U_t[(dir*d + j)*k + 0..3]
    f_t  = sigma(u1 + vf*c_{t-1} + bf)
    r_t  = sigma(u2 + vr*c_{t-1} + br)
    c_t  = (c_{t-1} - u0)*f_t + u0
    h_t  = (g(c_t) - s_t)*r_t + s_t       s_t = 0 | scale_x*x_t[dir*d + j] (k=3) | u3 (k=4)

QRNN (docs/spec.md 3 plus this project's ifo / general-window extension)::

    y_t  = W [x_t ; x_{t-1} ; ... ; x_{t-window+1}] + b     row blocks Z, F, (I), (O)
    z = tanh, f = i = o = sigma
    "f"/"fo":  c_t = f'*z + (1-f')*c_{t-1},  f' = f*(1-zoneout)     (torchqrnn convention)
    "ifo":     c_t = p*c_{t-1} + (1-p)*(f*c_{t-1} + i*z),  p = zoneout   (paper convention)
    h_t = o*c_t with an output gate, else c_t

Quantised products (docs/quantization.md), ``quantization="int8-w"`` or
``"int8-wa"``: the products' weights (SRU ``weight``, ``weight_proj``; QRNN
``linear.weight``) are quantised here per output, from the float weights::

    s_r = float32(max_i |W[r][i]| / 127),  Wq[r][i] = clip(rint(W[r][i] / s_r), -127, 127)
    int8-w:   y[r] = s_r * sum_i Wq[r][i] * x[i]                    (float64)
    int8-wa:  x32 = float32(x); a = max|x32|; inv = float32(127 / a)
              xq[i] = rint(clip(float32(x32[i] * inv), -127, 127))  (0 if a < 2^-96 or not finite)
              acc[r] = sum_i Wq[r][i] * xq[i]                       (exact integers)
              y[r] = float32(acc[r]) * float32(s_r * float32(a / 127))   (float32 steps)

The rest of the cell stays float64.

Whole models (issue 14), per step x_t -> y_t: norm "affine" y = x*w + b;
norm "layer" y = (x - mean x)/sqrt(var x + eps)*w + b (biased variance);
dense y = act(W x + b) with act identity, relu, tanh or sigmoid (W as
nn.Linear.weight, quantised like the cells' products when asked);
softmax y_i = exp(x_i - max x) / sum_j exp(x_j - max x) (log_softmax: the
log of it). `model_forward` chains parts from the zero state.

minGRU, minLSTM (docs/spec.md 6, ``mingru-pytorch`` 0.2.1 layout, its sequential path) and
IndRNN (docs/spec.md 7), one state dict per layer::

    minGRU:  [a; b] = W x_t   (to_hidden_and_gate.weight (2H, n): hidden rows, then gate rows)
             h_t = (1 - sigma(b)) h_{t-1} + sigma(b) g(a)      g(a) = a + 1/2 (a >= 0), sigma(a)
    minLSTM: [a; f; i] = W x_t   (to_hidden_and_f_i_gate.weight (3H, n))
             f = sigma(f), i = sigma(i), h_t = f/(f+i) h_{t-1} + i/(f+i) g(a)
    both:    y_t = W_out h_t  (to_out.weight (m, H), when present), else y_t = h_t
    IndRNN:  h_t = act(W x_t + u * h_{t-1} + b)   (weight_ih (H, n), weight_hh (H,), bias (H,))
"""

import numpy as np

__all__ = ["QUANTIZATIONS", "dense_forward", "indrnn_forward", "mingru_forward",
           "minlstm_forward", "model_forward", "norm_forward", "qrnn_forward",
           "quantize_activation", "quantize_outputs", "quantized_product", "softmax_forward",
           "sru_forward"]

QUANTIZATIONS = ("int8-w", "int8-wa")


def _sigmoid(x):
    # exp(-x) overflows to inf for very negative x, which correctly gives 0.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _as_float64(value):
    return np.asarray(value, dtype=np.float64)


def _layer_norm(x, weight, bias, eps):
    """torch.nn.LayerNorm over the last axis: biased variance, eps inside the sqrt."""
    mean = x.mean()
    variance = ((x - mean) ** 2).mean()
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


# ------------------------------------------------------------ quantised products

# Below this absmax (2^-96) a product input quantises to zeros: 127 / a could overflow.
_MIN_ABSMAX = 2.0 ** -96


def quantize_outputs(weight):
    """weight (outputs, inputs) -> (int8 (outputs, inputs), float32 scales (outputs,))."""
    weight = _as_float64(weight)
    scale = (np.abs(weight).max(axis=1) / 127.0).astype(np.float32)
    quantized = np.zeros(weight.shape)
    nonzero = scale > 0
    quantized[nonzero] = np.rint(weight[nonzero] / scale[nonzero, None].astype(np.float64))
    return np.clip(quantized, -127, 127).astype(np.int8), scale


def quantize_activation(x):
    """One product input x (depth,) -> (int8 xq (depth,), float32 a / 127), in float32."""
    x32 = np.asarray(x, dtype=np.float32)
    absmax = np.float32(np.abs(x32).max())
    if not np.isfinite(absmax) or absmax < _MIN_ABSMAX:
        return np.zeros(x32.shape, dtype=np.int8), np.float32(0)
    inv = np.float32(127) / absmax
    scaled = np.clip(x32 * inv, np.float32(-127), np.float32(127))
    return np.rint(scaled).astype(np.int8), absmax / np.float32(127)


def quantized_product(weight_q, scale, x, quantization):
    """y = W x for one input vector with int8 weights (outputs, inputs)."""
    if quantization == "int8-w":
        return scale.astype(np.float64) * (weight_q.astype(np.float64) @ _as_float64(x))
    xq, x_scale = quantize_activation(x)
    # Integer sums, exact in float64 (|acc| <= 127 * 127 * depth < 2^53).
    acc = (weight_q.astype(np.float64) @ xq.astype(np.float64)).astype(np.int64)
    return (acc.astype(np.float32) * (scale * x_scale)).astype(np.float64)


def _check_quantization(quantization):
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS} or None, "
                         f"got {quantization!r}")


def _product(weight_outputs, quantization):
    """y = W x, W given as (outputs, inputs): float64, or quantised as asked."""
    if quantization is None:
        return lambda x: weight_outputs @ x
    weight_q, scale = quantize_outputs(weight_outputs)
    return lambda x: quantized_product(weight_q, scale, x, quantization)


# --------------------------------------------------------------------------- SRU


def _sru_layers(state_dict):
    """Split an SRU state_dict into a list of per-layer dicts (prefix removed).

    Accepts the stacked ``SRU`` layout (``rnn_lst.{i}.name``) or a single
    ``SRUCell`` dict (``name``).
    """
    prefixed = [key for key in state_dict if key.startswith("rnn_lst.")]
    if not prefixed:
        if "weight" not in state_dict:
            raise ValueError("SRU state_dict has neither 'rnn_lst.{i}.weight' nor 'weight'")
        return [{key: _as_float64(value) for key, value in state_dict.items()}]
    layers = []
    while f"rnn_lst.{len(layers)}.weight" in state_dict:
        prefix = f"rnn_lst.{len(layers)}."
        layers.append(
            {
                key[len(prefix):]: _as_float64(value)
                for key, value in state_dict.items()
                if key.startswith(prefix)
            }
        )
    if not layers:
        raise ValueError("SRU state_dict has no 'rnn_lst.0.weight'")
    return layers


def _sru_layer(params, x, c0, *, use_tanh, num_directions, has_skip_term, normalize_after,
               layer_norm_eps, quantization=None):
    """One SRU layer over the whole sequence x (L, n); returns h (L, out), c_final (out,)."""
    length, input_size = x.shape
    bias = params["bias"]
    out = bias.shape[0] // 2
    d = out // num_directions
    if d * num_directions != out or 2 * out != bias.shape[0]:
        raise ValueError(f"bias of length {bias.shape[0]} does not fit {num_directions} directions")
    weight = params["weight"]
    k = weight.shape[1] // out
    if k not in (3, 4) or k * out != weight.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} columns, expected out*3 or out*4 "
                         f"with out={out}")
    # The original form (v1) has no vector recurrence: weight_c absent means v = 0.
    weight_c = params.get("weight_c", np.zeros(2 * out))
    scale_x = float(params.get("scale_x", np.ones(1)).reshape(-1)[0])
    weight_proj = params.get("weight_proj")
    has_layer_norm = "layer_norm.weight" in params
    if has_layer_norm:
        ln_weight = params["layer_norm.weight"]
        ln_bias = params.get("layer_norm.bias", np.zeros_like(ln_weight))
    if has_skip_term and k == 3 and input_size != out:
        raise ValueError(f"skip term with k=3 needs input size == out, got {input_size} != {out}")
    # Both are used as x @ W: their outputs are the columns.
    weight_product = _product(weight.T, quantization)
    proj_product = _product(weight_proj.T, quantization) if weight_proj is not None else None

    def gate_input(t):
        """The vector that multiplies `weight` at step t: pre-norm, then projection."""
        xt = x[t]
        if has_layer_norm and not normalize_after:
            xt = _layer_norm(xt, ln_weight, ln_bias, layer_norm_eps)
        if proj_product is not None:
            xt = proj_product(xt)
        return xt

    # Views of the interleaved PyTorch layout: column (dir*d + j)*k + g -> [dir, j, g].
    vf, vr = weight_c.reshape(2, num_directions, d)
    bf, br = bias.reshape(2, num_directions, d)
    h = np.zeros((length, out))
    c_final = np.zeros(out)
    for direction in range(num_directions):
        units = slice(direction * d, (direction + 1) * d)
        c = c0[units].copy()
        # The backward direction runs t = L-1 .. 0; its final state is the one at t = 0.
        time_steps = range(length) if direction == 0 else range(length - 1, -1, -1)
        for t in time_steps:
            u = weight_product(gate_input(t)).reshape(num_directions, d, k)[direction]
            f = _sigmoid(u[:, 1] + vf[direction] * c + bf[direction])
            r = _sigmoid(u[:, 2] + vr[direction] * c + br[direction])
            c = (c - u[:, 0]) * f + u[:, 0]
            g = np.tanh(c) if use_tanh else c
            if not has_skip_term:
                s = np.zeros(d)
            elif k == 4:
                s = u[:, 3]  # scale_x is already folded into the projected skip
            else:
                s = scale_x * x[t, units]  # the layer input before any pre-norm
            h[t, units] = (g - s) * r + s
        c_final[units] = c
    if has_layer_norm and normalize_after:
        for t in range(length):
            h[t] = _layer_norm(h[t], ln_weight, ln_bias, layer_norm_eps)
    return h, c_final


def sru_forward(state_dict, x, c0=None, *, use_tanh=False, bidirectional=False,
                has_skip_term=True, normalize_after=False, layer_norm_eps=1e-5,
                quantization=None):
    """x (L, n) -> (h (L, out), c (num_layers, out)), float64.

    quantization: None (float64 products), "int8-w" or "int8-wa" (the
    float weights quantised as in the module docstring).

    state_dict: ``sru`` 2.6.0 layout (``rnn_lst.{i}.weight`` ...) or one cell's
    dict without the prefix. c0: (num_layers, out) initial cell state of every
    layer (both directions of a bidirectional layer), None for zeros.
    """
    _check_quantization(quantization)
    layers = _sru_layers(state_dict)
    num_directions = 2 if bidirectional else 1
    out = layers[0]["bias"].shape[0] // 2
    x = _as_float64(x)
    if x.ndim != 2:
        raise ValueError(f"x must be (L, n), got shape {x.shape}")
    if c0 is None:
        c0 = np.zeros((len(layers), out))
    c0 = _as_float64(c0).reshape(len(layers), out)
    layer_input = x
    c_final = np.zeros((len(layers), out))
    for i, params in enumerate(layers):
        layer_input, c_final[i] = _sru_layer(
            params, layer_input, c0[i], use_tanh=use_tanh, num_directions=num_directions,
            has_skip_term=has_skip_term, normalize_after=normalize_after,
            layer_norm_eps=layer_norm_eps, quantization=quantization)
    return layer_input, c_final


# -------------------------------------------------------------------------- QRNN


def _qrnn_gate_count(pooling, output_gate):
    if pooling not in ("f", "fo", "ifo"):
        raise ValueError(f"pooling must be 'f', 'fo' or 'ifo', got {pooling!r}")
    if pooling == "f" and output_gate:
        raise ValueError("pooling 'f' has no output gate: use output_gate=False or pooling='fo'")
    return 2 + (pooling == "ifo") + bool(output_gate)


def _qrnn_layer(weight, bias, x, c0, prev, *, window, output_gate, zoneout, pooling,
                quantization=None):
    """One QRNN layer; x (L, n), prev (window-1, n) with row k-1 = x_{t-k}.

    Returns h (L, H), c_final (H,), new prev (window-1, n).
    """
    length, input_size = x.shape
    gates = _qrnn_gate_count(pooling, output_gate)
    hidden = bias.shape[0] // gates
    if weight.shape != (gates * hidden, window * input_size) or bias.shape[0] != gates * hidden:
        raise ValueError(f"linear.weight {weight.shape} / bias {bias.shape} do not fit "
                         f"{gates} gates, window {window}, input size {input_size}")
    # Chronological history: x_{-(window-1)}, ..., x_{-1}, x_0, ..., x_{L-1};
    # x_{t-k} is history[t + window - 1 - k].
    history = np.concatenate([prev[::-1], x], axis=0)
    z_rows = slice(0, hidden)
    f_rows = slice(hidden, 2 * hidden)
    i_rows = slice(2 * hidden, 3 * hidden)
    o_rows = slice((gates - 1) * hidden, gates * hidden)
    product = _product(weight, quantization)

    h = np.zeros((length, hidden))
    c = c0.copy()
    for t in range(length):
        # Columns of W: [x_t | x_{t-1} | ... | x_{t-window+1}], current input first.
        source = np.concatenate([history[t + window - 1 - k] for k in range(window)])
        y = product(source) + bias
        z = np.tanh(y[z_rows])
        f = _sigmoid(y[f_rows])
        if pooling == "ifo":
            i = _sigmoid(y[i_rows])
            c = zoneout * c + (1.0 - zoneout) * (f * c + i * z)
        else:
            # torchqrnn: f weighs the candidate; eval-time zoneout scales f.
            f = f * (1.0 - zoneout)
            c = f * z + (1.0 - f) * c
        h[t] = _sigmoid(y[o_rows]) * c if output_gate else c
    new_prev = np.array([history[length + window - 1 - k] for k in range(1, window)])
    return h, c, new_prev.reshape(window - 1, input_size)


def qrnn_forward(state_dict, x, c0=None, prev_inputs=None, *, window=1, output_gate=True,
                 zoneout=0.0, pooling="fo", quantization=None):
    """x (L, n) -> (h (L, H), c (num_layers, H), prev_inputs), float64.

    prev_inputs: list (one per layer) of arrays (window-1, n_layer), row k-1 =
    x_{t-k} (most recent frame first); None means zeros. quantization: None,
    "int8-w" or "int8-wa" (module docstring). The returned
    prev_inputs has the same layout and holds the last window-1 input frames of
    every layer, ready to continue the stream.
    """
    _check_quantization(quantization)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    _qrnn_gate_count(pooling, output_gate)
    num_layers = 0
    while f"layers.{num_layers}.linear.weight" in state_dict:
        num_layers += 1
    if num_layers == 0:
        raise ValueError("QRNN state_dict has no 'layers.0.linear.weight'")
    weights = [_as_float64(state_dict[f"layers.{i}.linear.weight"]) for i in range(num_layers)]
    biases = [_as_float64(state_dict[f"layers.{i}.linear.bias"]) for i in range(num_layers)]
    x = _as_float64(x)
    if x.ndim != 2:
        raise ValueError(f"x must be (L, n), got shape {x.shape}")
    hidden = weights[0].shape[0] // _qrnn_gate_count(pooling, output_gate)
    if c0 is None:
        c0 = np.zeros((num_layers, hidden))
    c0 = _as_float64(c0).reshape(num_layers, hidden)

    layer_input = x
    c_final = np.zeros((num_layers, hidden))
    new_prev_inputs = []
    for i in range(num_layers):
        input_size = layer_input.shape[1]
        if prev_inputs is None:
            prev = np.zeros((window - 1, input_size))
        else:
            prev = _as_float64(prev_inputs[i]).reshape(window - 1, input_size)
        layer_input, c_final[i], prev = _qrnn_layer(
            weights[i], biases[i], layer_input, c0[i], prev, window=window,
            output_gate=output_gate, zoneout=zoneout, pooling=pooling,
            quantization=quantization)
        new_prev_inputs.append(prev)
    return layer_input, c_final, new_prev_inputs


# ------------------------------------------------ norm, dense, softmax, whole models

DENSE_ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")


def norm_forward(x, weight, bias, *, mode="affine", eps=0.0):
    """x (L, n) -> (L, n). "affine": y = x * weight + bias per feature;
    "layer": y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias per frame."""
    x = _as_float64(x)
    weight, bias = _as_float64(weight), _as_float64(bias)
    if mode == "affine":
        return x * weight + bias
    if mode == "layer":
        return np.array([_layer_norm(frame, weight, bias, eps) for frame in x]).reshape(x.shape)
    raise ValueError(f"mode must be 'affine' or 'layer', got {mode!r}")


def _activation(name, y):
    if name == "identity":
        return y
    if name == "relu":
        return np.maximum(y, 0.0)
    if name == "tanh":
        return np.tanh(y)
    if name == "sigmoid":
        return _sigmoid(y)
    raise ValueError(f"activation must be one of {DENSE_ACTIVATIONS}, got {name!r}")


def dense_forward(x, weight, bias=None, *, activation="identity", quantization=None):
    """x (L, n) -> (L, m): y_t = act(W x_t + b), W (m, n) as nn.Linear.weight;
    quantization None, "int8-w" or "int8-wa" (the products as in the module
    docstring, the bias and activation in float64)."""
    _check_quantization(quantization)
    x = _as_float64(x)
    weight = _as_float64(weight)
    bias = np.zeros(weight.shape[0]) if bias is None else _as_float64(bias)
    product = _product(weight, quantization)
    return np.array([_activation(activation, product(frame) + bias)
                     for frame in x]).reshape(x.shape[0], weight.shape[0])


def softmax_forward(x, *, log=False):
    """x (L, n) -> (L, n): softmax over each frame's features (log_softmax when
    log), computed after subtracting the frame's maximum."""
    x = _as_float64(x)
    shifted = x - x.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted - log_sum if log else np.exp(shifted - log_sum)


def model_forward(parts, x, *, quantization=None):
    """A whole model from the zero state: x (L, n) -> y (L, output), float64.

    parts: (kind, state_dict, options) per part, in order (what
    ``mtsrnn.Model.reference_parts()`` returns):
    "sru" / "qrnn" a stack (state dict and keyword options of sru_forward /
    qrnn_forward); "norm" {weight, bias} with mode ("affine" / "layer") and
    eps; "dense" {weight, [bias]} with activation; "softmax" {} with log
    (and size); "mingru" / "minlstm" one layer's state dict (mingru_forward /
    minlstm_forward); "indrnn" {weight_ih, weight_hh, bias} with activation.
    quantization applies to the products of the recurrent and dense parts; norm
    and softmax stay float64."""
    _check_quantization(quantization)
    y = _as_float64(x)
    for kind, state_dict, options in parts:
        options = dict(options)
        if kind == "sru":
            y = sru_forward(state_dict, y, quantization=quantization, **options)[0]
        elif kind == "qrnn":
            y = qrnn_forward(state_dict, y, quantization=quantization, **options)[0]
        elif kind == "norm":
            y = norm_forward(y, state_dict["weight"], state_dict["bias"], mode=options["mode"],
                             eps=options.get("eps", 0.0))
        elif kind == "dense":
            y = dense_forward(y, state_dict["weight"], state_dict.get("bias"),
                              activation=options["activation"], quantization=quantization)
        elif kind == "softmax":
            y = softmax_forward(y, log=options.get("log", False))
        elif kind == "mingru":
            y = mingru_forward([state_dict], y, quantization=quantization)[0]
        elif kind == "minlstm":
            y = minlstm_forward([state_dict], y, quantization=quantization)[0]
        elif kind == "indrnn":
            y = indrnn_forward([state_dict], y, activation=options["activation"],
                               quantization=quantization)[0]
        else:
            raise ValueError(f"unknown part kind {kind!r}")
    return y

# ------------------------------------------------------- minGRU, minLSTM, IndRNN


def _g(a):
    """mingru-pytorch's g: a + 1/2 for a >= 0, sigma(a) below (continuous, always > 0)."""
    return np.where(a >= 0, a + 0.5, _sigmoid(np.minimum(a, 0.0)))


def _initial_states(h0, hidden_sizes):
    if h0 is None:
        return [np.zeros(size) for size in hidden_sizes]
    if len(h0) != len(hidden_sizes):
        raise ValueError(f"h0 must hold one state per layer ({len(hidden_sizes)}), "
                         f"got {len(h0)}")
    return [_as_float64(h).reshape(size).copy() for h, size in zip(h0, hidden_sizes, strict=True)]


def _min_cell_forward(layers, x, h0, quantization, weight_key, gates, scan):
    """The shared walk of minGRU and minLSTM: per layer one product, the scan, to_out."""
    _check_quantization(quantization)
    x = _as_float64(x)
    if x.ndim != 2:
        raise ValueError(f"x must be (L, n), got shape {x.shape}")
    weights = [_as_float64(layer[weight_key]) for layer in layers]
    for index, weight in enumerate(weights):
        if weight.ndim != 2 or weight.shape[0] % gates:
            raise ValueError(f"layer {index}: {weight_key} must be ({gates}H, n), "
                             f"got {weight.shape}")
    states = _initial_states(h0, [w.shape[0] // gates for w in weights])
    layer_input = x
    for index, (layer, weight) in enumerate(zip(layers, weights, strict=True)):
        if weight.shape[1] != layer_input.shape[1]:
            raise ValueError(f"layer {index}: {weight_key} takes {weight.shape[1]} inputs, "
                             f"the layer gets {layer_input.shape[1]}")
        hidden = weight.shape[0] // gates
        product = _product(weight, quantization)
        out_weight = layer.get("to_out.weight")
        project = None if out_weight is None else _product(_as_float64(out_weight), quantization)
        rows = []
        h = states[index]
        for t in range(layer_input.shape[0]):
            h = scan(product(layer_input[t]), h, hidden)
            rows.append(h if project is None else project(h))
        states[index] = h
        layer_input = np.array(rows).reshape(layer_input.shape[0], -1)
    return layer_input, states


def _mingru_step(u, h, hidden):
    z = _sigmoid(u[hidden:])
    return (1.0 - z) * h + z * _g(u[:hidden])


def _minlstm_step(u, h, hidden):
    f = _sigmoid(u[hidden:2 * hidden])
    i = _sigmoid(u[2 * hidden:])
    return f / (f + i) * h + i / (f + i) * _g(u[:hidden])


def mingru_forward(layers, x, h0=None, *, quantization=None):
    """minGRU stack: layers = one state dict per layer (``to_hidden_and_gate.weight``,
    optional ``to_out.weight``), x (L, n) -> (y (L, m), [h (H,) per layer]), float64."""
    return _min_cell_forward(layers, x, h0, quantization, "to_hidden_and_gate.weight", 2,
                             _mingru_step)


def minlstm_forward(layers, x, h0=None, *, quantization=None):
    """minLSTM stack: layers = one state dict per layer (``to_hidden_and_f_i_gate.weight``,
    optional ``to_out.weight``), x (L, n) -> (y (L, m), [h (H,) per layer]), float64."""
    return _min_cell_forward(layers, x, h0, quantization, "to_hidden_and_f_i_gate.weight", 3,
                             _minlstm_step)


def indrnn_forward(layers, x, h0=None, *, activation="relu", quantization=None):
    """IndRNN stack: layers = one state dict per layer (``weight_ih`` (H, n), ``weight_hh``
    (H,), ``bias`` (H,)), x (L, n) -> (y (L, H), [h (H,) per layer]), float64."""
    _check_quantization(quantization)
    if activation not in ("relu", "tanh"):
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
    act = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0.0))
    x = _as_float64(x)
    if x.ndim != 2:
        raise ValueError(f"x must be (L, n), got shape {x.shape}")
    states = _initial_states(h0, [np.shape(layer["weight_ih"])[0] for layer in layers])
    layer_input = x
    for index, layer in enumerate(layers):
        weight = _as_float64(layer["weight_ih"])
        u = _as_float64(layer["weight_hh"])
        bias = _as_float64(layer["bias"])
        hidden = weight.shape[0]
        if weight.shape[1] != layer_input.shape[1] or u.shape != (hidden,) or \
                bias.shape != (hidden,):
            raise ValueError(f"layer {index}: weight_ih {weight.shape}, weight_hh {u.shape}, "
                             f"bias {bias.shape} do not fit (H, {layer_input.shape[1]}), "
                             f"(H,), (H,)")
        product = _product(weight, quantization)
        h = states[index]
        rows = np.zeros((layer_input.shape[0], hidden))
        for t in range(layer_input.shape[0]):
            h = act(product(layer_input[t]) + u * h + bias)
            rows[t] = h
        states[index] = h
        layer_input = rows
    return layer_input, states
