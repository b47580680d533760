"""The fallback's hot loops (firmware/micropython/fallback/mtsrnn.py): the
blocked products, the int8-wa quantiser, the activations and the
elementwise scans of each stage, in pure MicroPython with
@micropython.native (compile with mpy-cross -march=<arch>, or drop the
decorators for a bytecode-only port). Each states its equation.
"""

import math

import micropython

_MIN_ABSMAX = 2.0 ** -96  # int8-wa: a smaller absmax quantises to zeros (127 / a may overflow)



@micropython.native
def _gemm(w, w_off, w_stride, rows, depth, x, x_off, x_stride, steps, out, accumulate):
    # out[t*rows + r] (+)= sum_{i<depth} w[w_off + r*w_stride + i] * x[x_off + t*x_stride + i]
    # Rows outer, steps inner: each weight row is read once per block of steps.
    for r in range(rows):
        wo = w_off + r * w_stride
        for t in range(steps):
            xo = x_off + t * x_stride
            acc = out[t * rows + r] if accumulate else 0.0
            for i in range(depth):
                acc += w[wo + i] * x[xo + i]
            out[t * rows + r] = acc


@micropython.native
def _gemm_i8f32(w, scale, rows, depth, x, x_off, x_stride, steps, out):
    # int8-w: out[t*rows + r] = scale[r] * sum_{i<depth} float(w[r*depth + i]) * x_t[i],
    # x_t[i] = x[x_off + t*x_stride + i]
    for r in range(rows):
        wo = r * depth
        s = scale[r]
        for t in range(steps):
            xo = x_off + t * x_stride
            acc = 0.0
            for i in range(depth):
                acc += w[wo + i] * x[xo + i]
            out[t * rows + r] = s * acc


@micropython.native
def _round_half_even(v):
    # v a float with |v| <= 127; no libm needed (int() truncates toward zero, and
    # v - int(v) is exact).
    i = int(v)
    frac = v - i
    if frac > 0.5 or (frac == 0.5 and i & 1):
        i += 1
    elif frac < -0.5 or (frac == -0.5 and i & 1):
        i -= 1
    return i


@micropython.native
def _quantize_rows(x, x_off, x_stride, depth, steps, xq, x_scale, f32):
    # int8-wa, per step t, in float32 (f32: a one-element array('f') that rounds):
    #   a = max_i |x_t[i]|; inv = f32(127 / a)
    #   xq[t*depth + i] = round_half_even(clamp(f32(x_t[i] * inv), -127, 127))
    #   x_scale[t] = f32(a / 127); all zeros when a < 2^-96 or x_t holds NaN or inf.
    for t in range(steps):
        xo = x_off + t * x_stride
        qo = t * depth
        a = 0.0
        finite = 0.0  # v - v is 0 for finite v, NaN for NaN and inf
        for i in range(depth):
            v = x[xo + i]
            finite += v - v
            if v < 0.0:
                v = -v
            if v > a:
                a = v
        if finite != 0.0 or a < _MIN_ABSMAX:
            for i in range(depth):
                xq[qo + i] = 0
            x_scale[t] = 0.0
            continue
        f32[0] = 127.0 / a
        inv = f32[0]
        for i in range(depth):
            f32[0] = x[xo + i] * inv
            v = f32[0]
            if v > 127.0:
                v = 127.0
            elif v < -127.0:
                v = -127.0
            xq[qo + i] = _round_half_even(v)
        x_scale[t] = a / 127.0  # rounded to float32 by the store


@micropython.native
def _gemm_i8i8(w, scale, rows, depth, xq, x_scale, steps, out, f32):
    # int8-wa: acc = sum_{i<depth} w[r*depth + i] * xq[t*depth + i]   (Python int: exact)
    #          out[t*rows + r] = f32(acc) * f32(scale[r] * x_scale[t])  (float32, this order)
    for r in range(rows):
        wo = r * depth
        s = scale[r]
        for t in range(steps):
            xo = t * depth
            acc = 0
            for i in range(depth):
                acc += w[wo + i] * xq[xo + i]
            f32[0] = s * x_scale[t]
            combined = f32[0]
            f32[0] = acc
            out[t * rows + r] = f32[0] * combined


@micropython.native
def _sigmoid(a):
    # exp of a large positive argument would overflow (MicroPython raises).
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@micropython.native
def _tanh(a):
    # From exp, as math.tanh is missing on ports built without special functions.
    e = math.exp(-2.0 * a if a >= 0.0 else 2.0 * a)
    t = (1.0 - e) / (1.0 + e)
    return t if a >= 0.0 else -t


@micropython.native
def _layer_norm(x, x_off, stride, width, steps, out, out_off, weight, bias, eps):
    # out_t = (x_t - mean) / sqrt(var + eps) * weight + bias, per row of width floats
    for t in range(steps):
        xo = x_off + t * stride
        oo = out_off + t * stride
        mean = 0.0
        for i in range(width):
            mean += x[xo + i]
        mean /= width
        var = 0.0
        for i in range(width):
            v = x[xo + i] - mean
            var += v * v
        scale = 1.0 / math.sqrt(var / width + eps)
        for i in range(width):
            out[oo + i] = (x[xo + i] - mean) * scale * weight[i] + bias[i]


@micropython.native
def _sru_scan(u, rows, steps, k, d, direction, c, c_off, wc, bias, out_width, use_tanh, skip,
              scale_x, x, x_off, x_stride, h, h_off, h_stride):
    # f = sigma(u1 + vf c + bf); r = sigma(u2 + vr c + br); c = (c - u0) f + u0;
    # h = (g(c) - s) r + s, s = 0 | scale_x x_t[dir*d + j] | u3; backward direction reversed.
    base = direction * k * d
    unit0 = direction * d
    for step in range(steps):
        t = step if direction == 0 else steps - 1 - step
        uo = t * rows + base
        for j in range(d):
            unit = unit0 + j
            cp = c[c_off + unit]
            u0 = u[uo + j]
            a = u[uo + d + j] + bias[unit]
            b = u[uo + 2 * d + j] + bias[out_width + unit]
            if wc is not None:
                a += wc[unit] * cp
                b += wc[out_width + unit] * cp
            f = _sigmoid(a)
            r = _sigmoid(b)
            cn = (cp - u0) * f + u0
            c[c_off + unit] = cn
            cn = c[c_off + unit]  # the state is float32, as in the kernels
            g = _tanh(cn) if use_tanh else cn
            if skip == 0:
                s = 0.0
            elif skip == 2:
                s = u[uo + 3 * d + j]
            else:
                s = scale_x * x[x_off + t * x_stride + unit]
            h[h_off + t * h_stride + unit] = (g - s) * r + s


@micropython.native
def _qrnn_scan(u, hidden, gates, steps, bias, c, c_off, input_gate, output_gate, zoneout,
               h, h_off, h_stride):
    # z = tanh, f/i/o = sigma of u + b; f/fo: f' = (1-p) f, c = f' z + (1-f') c;
    # ifo: c = p c + (1-p)(f c + i z); h = o c or c.
    rows = gates * hidden
    keep = 1.0 - zoneout
    for t in range(steps):
        uo = t * rows
        for j in range(hidden):
            z = _tanh(u[uo + j] + bias[j])
            f = _sigmoid(u[uo + hidden + j] + bias[hidden + j])
            cp = c[c_off + j]
            if input_gate:
                i = _sigmoid(u[uo + 2 * hidden + j] + bias[2 * hidden + j])
                cn = zoneout * cp + keep * (f * cp + i * z)
            else:
                f *= keep
                cn = f * z + (1.0 - f) * cp
            c[c_off + j] = cn
            if output_gate:
                o = _sigmoid(u[uo + (gates - 1) * hidden + j] + bias[(gates - 1) * hidden + j])
                h[h_off + t * h_stride + j] = o * c[c_off + j]
            else:
                h[h_off + t * h_stride + j] = c[c_off + j]


@micropython.native
def _bias_activation(u, rows, steps, bias, act, y, y_off):
    # y_t = act(u_t + b): 0 identity, 1 relu, 2 tanh, 3 sigmoid (dense stage)
    for i in range(steps * rows):
        v = u[i] + (bias[i % rows] if bias is not None else 0.0)
        if act == 1:
            v = v if v > 0.0 else 0.0
        elif act == 2:
            v = _tanh(v)
        elif act == 3:
            v = _sigmoid(v)
        y[y_off + i] = v


@micropython.native
def _affine(x, x_off, n, steps, y, y_off, weight, bias):
    # y_t = x_t * weight + bias (affine norm stage)
    for i in range(steps * n):
        y[y_off + i] = x[x_off + i] * weight[i % n] + bias[i % n]


@micropython.native
def _softmax(x, x_off, n, steps, y, y_off, log):
    # y = exp(x - max) / sum exp(x - max), or (x - max) - log(sum exp(x - max))
    for t in range(steps):
        xo, yo = x_off + t * n, y_off + t * n
        top = x[xo]
        for i in range(1, n):
            if x[xo + i] > top:
                top = x[xo + i]
        total = 0.0
        for i in range(n):
            total += math.exp(x[xo + i] - top)
        if log:
            lse = math.log(total)
            for i in range(n):
                y[yo + i] = (x[xo + i] - top) - lse
        else:
            for i in range(n):
                y[yo + i] = math.exp(x[xo + i] - top) / total


@micropython.native
def _min_scan(u, hidden, gates, steps, h, h_off, out, out_off):
    # minGRU (gates 2): h = h + z (g(a) - h); minLSTM (3): h = (f h + i g(a)) / (f + i);
    # g(a) = a + 1/2 (a >= 0), sigmoid(a) below; u rows [a | b] or [a | f | i]
    for t in range(steps):
        row = t * gates * hidden
        for j in range(hidden):
            a = u[row + j]
            g = a + 0.5 if a >= 0.0 else _sigmoid(a)
            old = h[h_off + j]
            if gates == 2:
                v = old + _sigmoid(u[row + hidden + j]) * (g - old)
            else:
                f = _sigmoid(u[row + hidden + j])
                i = _sigmoid(u[row + 2 * hidden + j])
                v = (f * old + i * g) / (f + i)
            h[h_off + j] = v
            out[out_off + t * hidden + j] = v


@micropython.native
def _indrnn_scan(u, hidden, steps, w_hh, bias, use_tanh, h, h_off, out, out_off):
    # h = act(u_t + w_hh * h + b), act relu or tanh
    for t in range(steps):
        for j in range(hidden):
            v = (u[t * hidden + j] + w_hh[j] * h[h_off + j]) + bias[j]
            v = _tanh(v) if use_tanh else (0.0 if v < 0.0 else v)
            h[h_off + j] = v
            out[out_off + t * hidden + j] = v
