"""Accuracy of the kernels' own exp / sigmoid / tanh through the Python binding.

mtsrnn._core.vexpf(x, out), vsigmoidf(x, out), vtanhf(x, out) take contiguous
float32 arrays of one length (x read, out written) and wrap mts_vexpf & co.
mtsrnn._core.ACTIVATION_BOUNDS mirrors the bound macros of
kernels/include/mtsrnn/activation.h: key = macro name without "MTS_".

Truth is float64 NumPy. Error measures, as in tests/c/test_activation.c:
  rel = |y - t| / |t| where |t| >= 2^-126 (tanh: every finite x != 0),
  abs = |y - t| for subnormal results (exp, sigmoid) and over all x
        (sigmoid, tanh),
  ulp = |y - t| / 2^(max(floor(log2|t|), -126) - 23),
with a returned +-inf standing for +-2^128 where t is finite, and +inf
required where t >= 2^128.

MTSRNN_ACTIVATION_STRIDE (default 1021, prime) sets the step of the sweep
through all 2^32 float32 bit patterns; 1 is exhaustive (slow, memory-hungry).
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mtsrnn import _core

STRIDE = int(os.environ.get("MTSRNN_ACTIVATION_STRIDE", "1021"))
CHUNK = 1 << 20

NAMES = ("exp", "sigmoid", "tanh")
FUNCS = {"exp": _core.vexpf, "sigmoid": _core.vsigmoidf, "tanh": _core.vtanhf}
PREFIX = {"exp": "EXPF", "sigmoid": "SIGMOIDF", "tanh": "TANHF"}

EXPECTED_KEYS = {
    "LOGF_MAX_ABS_ERR",
    "LOGF_MAX_REL_ERR",
    "EXPF_MAX_REL_ERR",
    "EXPF_MAX_SUBNORMAL_ABS_ERR",
    "EXPF_MAX_ULP_ERR",
    "SIGMOIDF_MAX_REL_ERR",
    "SIGMOIDF_MAX_SUBNORMAL_ABS_ERR",
    "SIGMOIDF_MAX_ABS_ERR",
    "SIGMOIDF_MAX_ULP_ERR",
    "TANHF_MAX_REL_ERR",
    "TANHF_MAX_ABS_ERR",
    "TANHF_MAX_ULP_ERR",
    "RSQRTF_MAX_REL_ERR",
    "RSQRTF_MAX_ULP_ERR",
}

HEADER = Path(__file__).resolve().parents[2] / "kernels" / "include" / "mtsrnn" / "activation.h"

TWO128 = 2.0**128
FLT_MIN = 2.0**-126


def bound(name, what):
    return float(_core.ACTIVATION_BOUNDS[f"{PREFIX[name]}_MAX_{what}"])


def call(name, x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty_like(x)
    FUNCS[name](x, out)
    return out


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def same_results(a, b):
    """Same bits, except that any NaN matches any NaN."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and np.array_equal(bits(a)[~nan], bits(b)[~nan]))


def f32(u):
    return np.asarray(u, dtype=np.uint64).astype(np.uint32).view(np.float32)


def truth(name, x):
    """float64 reference; x is float64 and finite."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        if name == "exp":
            return np.exp(x)
        if name == "sigmoid":
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return np.tanh(x)


def inv_ulp(t):
    at = np.abs(t)
    e = np.frexp(at)[1].astype(np.int64) - 1  # floor(log2|t|)
    e = np.where(at < FLT_MIN, -126, e)
    return np.ldexp(1.0, (23 - e).astype(np.int32))


def errors(name, x32, y32):
    """Checks NaN/overflow rules; returns (x, rel, rel_x, sub, sub_x, ulp, abs)
    arrays of the finite nonzero inputs for bound checks."""
    with np.errstate(invalid="ignore"):  # casting signalling NaNs
        x = np.asarray(x32, dtype=np.float32).astype(np.float64)
        y = np.asarray(y32, dtype=np.float32).astype(np.float64)
    nan_in = np.isnan(x)
    assert np.isnan(y[nan_in]).all(), "NaN input gave a non-NaN result"
    bad = ~nan_in & np.isnan(y)
    assert not bad.any(), f"NaN result for x = {x[bad][:5]!r}"
    fin = np.isfinite(x) & (x != 0)
    x, y = x[fin], y[fin]
    t = truth(name, x)
    over = np.abs(t) >= TWO128
    assert np.isposinf(y[over]).all(), (
        f"must overflow to +inf at x = {x[over & ~np.isposinf(y)][:5]!r}"
    )
    x, y, t = x[~over], y[~over], t[~over]
    yd = np.where(np.isinf(y), np.copysign(TWO128, y), y)
    err = np.abs(yd - t)
    rel_mask = np.abs(t) >= FLT_MIN
    if name == "tanh":
        rel_mask = np.ones_like(rel_mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = err[rel_mask] / np.abs(t[rel_mask])
    return {
        "x": x,
        "rel": rel,
        "rel_x": x[rel_mask],
        "sub": err[~rel_mask],
        "sub_x": x[~rel_mask],
        "ulp": err * inv_ulp(t),
        "abs": err,
    }


def assert_within_bounds(name, x32, y32):
    e = errors(name, x32, y32)

    def worst(values, xs):
        i = int(np.argmax(values))
        return f"{values[i]:.6g} at x = {float(xs[i])!r} ({float(xs[i]).hex()})"

    if e["rel"].size:
        assert e["rel"].max() <= bound(name, "REL_ERR"), "{} rel err {}".format(
            name, worst(e["rel"], e["rel_x"])
        )
    if e["ulp"].size:
        assert e["ulp"].max() <= bound(name, "ULP_ERR"), "{} ulp err {}".format(
            name, worst(e["ulp"], e["x"])
        )
    if e["sub"].size:
        assert name != "tanh"
        assert e["sub"].max() <= bound(name, "SUBNORMAL_ABS_ERR"), "{} subnormal abs err {}".format(
            name,
            worst(e["sub"], e["sub_x"]),
        )
    if name in ("sigmoid", "tanh") and e["abs"].size:
        assert e["abs"].max() <= bound(name, "ABS_ERR"), "{} abs err {}".format(
            name, worst(e["abs"], e["x"])
        )


def assert_monotone(name, x32, y32):
    x = np.asarray(x32, dtype=np.float32)
    y = np.asarray(y32, dtype=np.float32)
    keep = ~np.isnan(x)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    drops = np.nonzero(ys[1:] < ys[:-1])[0]
    assert drops.size == 0, (
        f"{name} decreases between x = {xs[drops[0]]!r} and {xs[drops[0] + 1]!r}"
    )


# --------------------------------------------------------------------------
# the bounds dict


def test_bounds_dict_keys_and_sanity():
    b = _core.ACTIVATION_BOUNDS
    assert set(b) == EXPECTED_KEYS
    for k, v in b.items():
        assert isinstance(v, float) and v > 0, k
    for k in EXPECTED_KEYS:
        if k.endswith("_ULP_ERR"):
            assert b[k] <= 4.0, k  # the kernels promise a few ulp, not more
        elif k.endswith("_SUBNORMAL_ABS_ERR"):
            assert b[k] <= 2.0**-149 * 2, k
        else:
            assert b[k] <= 4.0e-7, k


def test_bounds_dict_matches_header():
    if not HEADER.is_file():
        pytest.skip("kernel header not found next to the tests")
    macros = dict(
        re.findall(r"^#define MTS_(\w+_ERR)\s+([0-9.eE+-]+)\s*$", HEADER.read_text(), re.M)
    )
    assert set(macros) == EXPECTED_KEYS
    for k, v in macros.items():
        assert _core.ACTIVATION_BOUNDS[k] == float(v), k


# --------------------------------------------------------------------------
# sweeps


@pytest.mark.parametrize("name", NAMES)
def test_whole_range_strided_sweep(name):
    """Every STRIDE-th float32 bit pattern (NaNs, infinities, subnormals,
    both signs), out of place and in place."""
    offset = NAMES.index(name) * 7 % STRIDE
    u = np.arange(offset, 1 << 32, STRIDE, dtype=np.uint64)
    x = f32(u)
    y = call(name, x)
    z = x.copy()
    FUNCS[name](z, z)
    assert same_results(y, z), "in-place result differs"
    for i in range(0, x.size, CHUNK):
        assert_within_bounds(name, x[i : i + CHUNK], y[i : i + CHUNK])
    assert_monotone(name, x, y)


DENSE = {
    # (lo, hi, stride) in float order; both signs where it matters
    "exp": [(88.0, 89.5, 1), (-104.5, -86.5, 5), (-(2.0**-20), 2.0**-20, 50021), (-1.0, 1.0, 997)],
    "sigmoid": [
        (15.0, 18.0, 5),
        (-20.5, -19.5, 3),
        (-104.5, -86.5, 5),
        (-1.5, -1.45, 1),
        (-1.0, 1.0, 997),
    ],
    "tanh": [(0.62, 0.63, 1), (-0.63, -0.62, 1), (8.5, 9.5, 5), (-9.5, -8.5, 5), (-1.0, 1.0, 997)],
}


def key_range(lo, hi, stride):
    """Every stride-th float32 from lo to hi in ascending order."""

    def key(v):
        b = int(np.float32(v).view(np.uint32))
        return (0x7FFFFFFF - (b & 0x7FFFFFFF)) if b & 0x80000000 else b + 0x80000000

    k = np.arange(key(lo), key(hi) + 1, stride, dtype=np.uint64)
    pos = k >= 0x80000000
    u = np.where(pos, k - 0x80000000, 0x80000000 | (0x7FFFFFFF - (k & 0x7FFFFFFF)))
    return f32(u)


@pytest.mark.parametrize("name", NAMES)
def test_dense_regions(name):
    for lo, hi, stride in DENSE[name]:
        x = key_range(lo, hi, stride)
        y = call(name, x)
        assert_within_bounds(name, x, y)
        assert_monotone(name, x, y)


@pytest.mark.parametrize("name", NAMES)
def test_subnormal_inputs(name):
    u = np.arange(0, 1 << 23, 97, dtype=np.uint64)
    x = np.concatenate([f32(u), f32(u | 0x80000000)])
    y = call(name, x)
    assert_within_bounds(name, x, y)
    if name == "tanh":
        assert np.array_equal(bits(y), bits(x))  # tanh(x) rounds to x there
    else:
        assert (y == np.float32(0.5 if name == "sigmoid" else 1.0)).all()


# --------------------------------------------------------------------------
# special values

INF = np.float32(np.inf)


def one(name, v):
    return call(name, np.array([v], dtype=np.float32))[0]


def same_bits(a, b):
    return int(np.float32(a).view(np.uint32)) == int(np.float32(b).view(np.uint32))


@pytest.mark.parametrize(
    "name,x,want",
    [
        ("exp", 0.0, 1.0),
        ("exp", -0.0, 1.0),
        ("exp", np.inf, np.inf),
        ("exp", -np.inf, 0.0),
        ("exp", 89.0, np.inf),
        ("exp", 3.4028235e38, np.inf),
        ("exp", -104.0, 0.0),
        ("exp", -3.4028235e38, 0.0),
        ("sigmoid", 0.0, 0.5),
        ("sigmoid", -0.0, 0.5),
        ("sigmoid", np.inf, 1.0),
        ("sigmoid", -np.inf, 0.0),
        ("sigmoid", 17.0, 1.0),
        ("sigmoid", -105.0, 0.0),
        ("tanh", 0.0, 0.0),
        ("tanh", -0.0, -0.0),
        ("tanh", np.inf, 1.0),
        ("tanh", -np.inf, -1.0),
        ("tanh", 9.1, 1.0),
        ("tanh", -9.1, -1.0),
        ("tanh", 3.4028235e38, 1.0),
        ("tanh", -3.4028235e38, -1.0),
    ],
)
def test_exact_special_values(name, x, want):
    got = one(name, np.float32(x))
    assert same_bits(got, np.float32(want)), f"{name}({x!r}) = {got!r}, want {want!r}"


def test_exp_subnormal_result_and_near_overflow():
    y = one("exp", np.float32(-100.0))
    assert 0 < y < np.float32(2.0**-126)
    assert abs(float(y) - np.exp(-100.0)) <= bound("exp", "SUBNORMAL_ABS_ERR")
    y = one("exp", np.float32(88.7))
    assert np.isfinite(y) and y > np.float32(3.3e38)


NAN_BITS = [
    0x7FC00000,
    0xFFC00000,
    0x7F800001,
    0xFF800001,
    0x7FA00000,
    0xFFBFFFFF,
    0x7FFFFFFF,
    0xFFFFFFFF,
]


@pytest.mark.parametrize("name", NAMES)
def test_nan_in_nan_out(name):
    x = f32(NAN_BITS)
    y = call(name, x)
    assert np.isnan(y).all()
    # neighbours unaffected
    x = np.array([1.0, np.nan, -2.0], dtype=np.float32)
    y = call(name, x)
    assert np.isnan(y[1]) and not np.isnan(y[0]) and not np.isnan(y[2])


@pytest.mark.parametrize("name", NAMES)
def test_input_untouched_and_empty(name):
    x = np.linspace(-5, 5, 37, dtype=np.float32)
    keep = x.copy()
    call(name, x)
    assert np.array_equal(bits(x), bits(keep))
    x = np.empty(0, dtype=np.float32)
    out = np.empty(0, dtype=np.float32)
    FUNCS[name](x, out)


def test_tanh_odd_and_sigmoid_symmetric_over_sweep():
    u = np.arange(0, 0x7F800000, 4093, dtype=np.uint64)
    x = f32(u)
    t_pos, t_neg = call("tanh", x), call("tanh", -x)
    assert np.array_equal(bits(t_neg), bits(t_pos) ^ np.uint32(0x80000000))
    s_pos, s_neg = call("sigmoid", x), call("sigmoid", -x)
    dev = np.abs(s_pos.astype(np.float64) + s_neg.astype(np.float64) - 1.0)
    assert dev.max() <= bound("sigmoid", "REL_ERR") + bound("sigmoid", "SUBNORMAL_ABS_ERR")


# --------------------------------------------------------------------------
# hypothesis

any_f32_bits = hnp.arrays(np.uint32, st.integers(0, 300), elements=st.integers(0, 2**32 - 1))
any_f32 = hnp.arrays(np.float32, st.integers(0, 300), elements=st.floats(width=32))
finite_f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None)
@given(u=any_f32_bits)
def test_random_bit_patterns(name, u):
    x = u.view(np.float32)
    y = call(name, x)
    assert_within_bounds(name, x, y)
    # each element depends on its own input only, whatever its position
    # (vector body vs remainder loop), and in place gives the same bits
    for i in range(min(x.size, 5)):
        assert same_results(call(name, x[i : i + 1]), y[i : i + 1])
    z = x.copy()
    FUNCS[name](z, z)
    assert same_results(y, z)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None)
@given(x=any_f32)
def test_random_floats(name, x):
    y = call(name, x)
    assert_within_bounds(name, x, y)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None)
@given(a=finite_f32, b=finite_f32)
def test_random_monotone(name, a, b):
    lo, hi = min(a, b), max(a, b)
    y = call(name, np.array([lo, hi], dtype=np.float32))
    assert y[0] <= y[1]


@settings(max_examples=300, deadline=None)
@given(x=finite_f32)
def test_random_symmetry(x):
    v = np.array([x, -x], dtype=np.float32)
    t = call("tanh", v)
    assert same_bits(t[1], -t[0])
    s = call("sigmoid", v).astype(np.float64)
    assert abs(s[0] + s[1] - 1.0) <= bound("sigmoid", "REL_ERR") + bound(
        "sigmoid", "SUBNORMAL_ABS_ERR"
    )
