"""Shared pytest setup: hypothesis profiles and builders of random PyTorch-layout models.

The builders write state_dicts in the third-party layouts of docs/spec.md
(``sru`` 2.6.0 ``rnn_lst.{i}.*``, torchqrnn ``layers.{l}.linear.*``) from NumPy
random numbers, so the golden tests never go through mtsrnn's own model
constructors. Test modules import them with ``from conftest import ...``
(tests/python is on sys.path under pytest's default import mode).
"""

import importlib
import importlib.util
import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# --------------------------------------------------------------------- profiles

# "ci": the same examples on every run (no flaky CI, no example database);
# "dev": fresh random examples each run. CI=true selects "ci";
# HYPOTHESIS_PROFILE overrides either way.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# ------------------------------------------------------------ shared constants

# Sizes include 1, odd sizes and sizes that are not multiples of 4, 8 or 16
# (kernel tile tails), plus one larger than every tile.
SIZES = (1, 3, 5, 7, 13, 17, 33, 67)
BLOCK_SIZES = (1, 2, 3, 4, 8, 16, 32, 64)
LONG_LENGTH = 100
GOLDEN_ABS_TOL = 1e-5
INVARIANCE_REL_TOL = 1e-6

# A layer norm multiplies any rounding error of its input (or of x - mean) by up to
# |weight| / sqrt(var + eps), about 500 when a row's values nearly coincide, so
# GOLDEN_ABS_TOL only holds where every normalised row has a spread of unit scale. Rows
# nearly coincide often over 2-4 features; rows are small everywhere without a skip term
# (h = r*g(c) can be ~0) and rank one with a single input feature. Random configurations
# therefore use layer norm only with a skip term, an input size of at least
# MIN_LAYER_NORM_INPUT_SIZE and widths of 1 (exact: x - mean == 0 gives the bias) or at
# least MIN_LAYER_NORM_INPUT_SIZE; test_golden checks the other cases on well-conditioned
# rows only, without loosening the tolerance.
MIN_LAYER_NORM_INPUT_SIZE = 5

# (pooling, output_gate) pairs that are valid; ("f", True) is rejected by design.
QRNN_POOLINGS = (("f", False), ("fo", True), ("fo", False), ("ifo", True), ("ifo", False))

REFERENCE_PATH = Path(__file__).resolve().parents[2] / "host" / "mtsrnn" / "reference.py"


def load_reference_standalone():
    """Load reference.py from its file path, without importing the mtsrnn package.

    The reference must stay usable (and testable) without the C extension.
    """
    spec = importlib.util.spec_from_file_location("mtsrnn_reference_standalone", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lengths_for_block(block):
    """The sequence lengths the issue names for block size T: 1, T-1, T, T+1, 100."""
    return sorted({1, block - 1, block, block + 1, LONG_LENGTH} - {0})


# --------------------------------------------------------------- model builders


def _uniform(rng, fan_in, shape):
    # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) keeps pre-activations of unit-scale inputs at unit scale.
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def sru_layer_input_sizes(input_size, hidden_size, num_layers, bidirectional):
    out = hidden_size * (2 if bidirectional else 1)
    return [input_size] + [out] * (num_layers - 1)


def sru_layer_norm_widths(input_size, hidden_size, num_layers, bidirectional, normalize_after):
    """The feature count each layer's layer norm normalises over."""
    out = hidden_size * (2 if bidirectional else 1)
    if normalize_after:
        return [out] * num_layers
    return sru_layer_input_sizes(input_size, hidden_size, num_layers, bidirectional)


def make_sru_state_dict(rng, input_size, hidden_size, num_layers=1, *, bidirectional=False,
                        projection_size=0, layer_norm=False, normalize_after=False,
                        use_tanh=False, has_skip_term=True, rescale=False, form="current"):
    """A random ``sru`` 2.6.0 ``SRU`` state_dict and the loader config that goes with it.

    form: "current" (random weight_c), "original-absent" (no weight_c key) or
    "original-zero" (weight_c present and zero, as ``sru`` stores v1=True).
    Layers follow ``sru``'s own rules: k = 4 when there is a skip term and the
    layer input size differs from out; a projection only where
    projection_size < n and < out. Every bias, weight_c, layer-norm parameter
    and (with rescale) scale_x is random, so no parameter can be ignored unseen.
    Returns (state_dict of float32 arrays, config for from_sru_state_dict / reference).
    """
    if form not in ("current", "original-absent", "original-zero"):
        raise ValueError(f"unknown SRU form {form!r}")
    out = hidden_size * (2 if bidirectional else 1)
    state_dict = {}
    for i, n in enumerate(sru_layer_input_sizes(input_size, hidden_size, num_layers,
                                                bidirectional)):
        prefix = f"rnn_lst.{i}."
        k = 4 if has_skip_term and n != out else 3
        product_input = n
        if 0 < projection_size < n and projection_size < out:
            state_dict[prefix + "weight_proj"] = _uniform(rng, n, (n, projection_size))
            product_input = projection_size
        state_dict[prefix + "weight"] = _uniform(rng, product_input, (product_input, out * k))
        if form == "current":
            state_dict[prefix + "weight_c"] = rng.uniform(-1, 1, 2 * out).astype(np.float32)
        elif form == "original-zero":
            state_dict[prefix + "weight_c"] = np.zeros(2 * out, np.float32)
        state_dict[prefix + "bias"] = rng.uniform(-1, 1, 2 * out).astype(np.float32)
        # With k = 4 scale_x is stored but must NOT be applied (it is folded into u3),
        # so a random value there catches a kernel that applies it anyway.
        scale_x = rng.uniform(0.5, 2.0) if rescale else 1.0
        state_dict[prefix + "scale_x"] = np.array([scale_x], np.float32)
        if layer_norm:
            width = out if normalize_after else n
            state_dict[prefix + "layer_norm.weight"] = rng.uniform(0.5, 1.5, width).astype(
                np.float32)
            state_dict[prefix + "layer_norm.bias"] = rng.uniform(-0.5, 0.5, width).astype(
                np.float32)
    config = dict(use_tanh=use_tanh, bidirectional=bidirectional, has_skip_term=has_skip_term,
                  normalize_after=normalize_after)
    return state_dict, config


def qrnn_gate_count(pooling, output_gate):
    return 2 + (pooling == "ifo") + bool(output_gate)


def make_qrnn_state_dict(rng, input_size, hidden_size, num_layers=1, *, window=1,
                         output_gate=True, pooling="fo", zoneout=0.0):
    """A random torchqrnn-layout ``QRNN`` state_dict and its loader config.

    ``layers.{l}.linear.weight`` (G*H, window*n) with row blocks Z, F, (I), (O);
    columns [x_t | x_{t-1} | ...]. Returns (state_dict, config).
    """
    gates = qrnn_gate_count(pooling, output_gate)
    state_dict = {}
    for layer in range(num_layers):
        n = input_size if layer == 0 else hidden_size
        prefix = f"layers.{layer}.linear."
        state_dict[prefix + "weight"] = _uniform(rng, window * n,
                                                 (gates * hidden_size, window * n))
        state_dict[prefix + "bias"] = rng.uniform(-1, 1, gates * hidden_size).astype(np.float32)
    config = dict(window=window, output_gate=output_gate, zoneout=zoneout, pooling=pooling)
    return state_dict, config


def random_inputs(rng, length, size):
    """Unit-scale input frames, C-contiguous float32 as the API requires."""
    return np.ascontiguousarray(rng.standard_normal((length, size)).astype(np.float32))


def random_cell_state(rng, num_layers, out):
    return rng.uniform(-1, 1, (num_layers, out)).astype(np.float32)


def random_prev_inputs(rng, input_size, hidden_size, num_layers, window):
    """QRNN carried frames: per layer (window-1, n_layer), row k-1 = x_{t-k}."""
    sizes = [input_size] + [hidden_size] * (num_layers - 1)
    return [random_inputs(rng, window - 1, n) for n in sizes]


# ----------------------------------------------------------------- comparisons


def max_abs_error(actual, expected):
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    return float(np.max(np.abs(actual - expected), initial=0.0))


def assert_abs_close(actual, expected, tol, what):
    error = max_abs_error(actual, expected)
    if not error <= tol:  # also catches NaN
        diff = np.abs(np.asarray(actual, np.float64) - np.asarray(expected, np.float64))
        where = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.size else ()
        raise AssertionError(f"{what}: max abs error {error:.3g} > {tol:g} at index {where}")


def assert_rel_close(actual, expected, tol, what):
    """|actual - expected| <= tol * max(1, |expected|) elementwise."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scaled = np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))
    worst = float(np.max(scaled, initial=0.0))
    if not worst <= tol:
        where = np.unravel_index(np.nanargmax(scaled), scaled.shape)
        raise AssertionError(f"{what}: relative error {worst:.3g} > {tol:g} at index {where}")


# ------------------------------------------------------- hypothesis strategies


@st.composite
def sru_specs(draw, *, allow_bidirectional=True):
    """Keyword arguments for make_sru_state_dict covering every SRU option."""
    bidirectional = allow_bidirectional and draw(st.booleans())
    hidden_size = draw(st.sampled_from(SIZES))
    out = hidden_size * (2 if bidirectional else 1)
    has_skip_term = draw(st.booleans())
    # k = 3 needs input_size == out; otherwise any size (k = 4, or no skip term).
    if has_skip_term and draw(st.booleans()):
        input_size = out
    else:
        input_size = draw(st.sampled_from(SIZES))
    num_layers = draw(st.integers(1, 3))
    normalize_after = draw(st.booleans())
    norm_widths = sru_layer_norm_widths(input_size, hidden_size, num_layers, bidirectional,
                                        normalize_after)
    # Layer norm only where its rows are well-conditioned (see MIN_LAYER_NORM_INPUT_SIZE).
    well_conditioned = has_skip_term and input_size >= MIN_LAYER_NORM_INPUT_SIZE and all(
        width == 1 or width >= MIN_LAYER_NORM_INPUT_SIZE for width in norm_widths)
    layer_norm = draw(st.booleans()) and well_conditioned
    return dict(
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        projection_size=draw(st.sampled_from((0, 0, 1, 3, 5, 13))),
        layer_norm=layer_norm,
        normalize_after=layer_norm and normalize_after,
        use_tanh=draw(st.booleans()),
        has_skip_term=has_skip_term,
        rescale=draw(st.booleans()),
        form=draw(st.sampled_from(("current", "current", "original-absent", "original-zero"))),
    )


@st.composite
def qrnn_specs(draw, *, windows=(1, 2, 3)):
    """Keyword arguments for make_qrnn_state_dict covering every QRNN option."""
    pooling, output_gate = draw(st.sampled_from(QRNN_POOLINGS))
    return dict(
        input_size=draw(st.sampled_from(SIZES)),
        hidden_size=draw(st.sampled_from(SIZES)),
        num_layers=draw(st.integers(1, 3)),
        window=draw(st.sampled_from(windows)),
        output_gate=output_gate,
        pooling=pooling,
        zoneout=draw(st.sampled_from((0.0, 0.0, 0.1, 0.5))),
    )


def sru_spec_id(spec):
    """A short readable test id for a make_sru_state_dict spec."""
    parts = [f"n{spec['input_size']}", f"d{spec['hidden_size']}", f"x{spec.get('num_layers', 1)}"]
    flags = ("bidirectional", "layer_norm", "normalize_after", "use_tanh", "rescale")
    parts += [name for name in flags if spec.get(name)]
    if not spec.get("has_skip_term", True):
        parts.append("noskip")
    if spec.get("projection_size"):
        parts.append(f"p{spec['projection_size']}")
    parts.append(spec.get("form", "current"))
    return "-".join(parts)


# --------------------------------------- configurations of mtsrnn's random models

# Keyword arguments of mtsrnn.random_sru / random_qrnn covering their options;
# shared by the golden test and the state-dict round trip.
RANDOM_SRU_KWARGS = [
    dict(input_size=5, hidden_size=7, num_layers=2),
    dict(input_size=6, hidden_size=3, num_layers=2, bidirectional=True, layer_norm=True),
    dict(input_size=13, hidden_size=13, projection_size=4, rescale=True, use_tanh=True),
    dict(input_size=4, hidden_size=9, layer_norm=True, normalize_after=True, v1=True),
    dict(input_size=3, hidden_size=5, has_skip_term=False, num_layers=3),
]
RANDOM_QRNN_KWARGS = [
    dict(input_size=5, hidden_size=7, num_layers=2, window=2),
    dict(input_size=3, hidden_size=4, window=3, pooling="ifo", zoneout=0.25),
    dict(input_size=6, hidden_size=2, output_gate=False, pooling="f", num_layers=3),
]


def kwargs_id(kwargs):
    return ",".join(f"{name}={value}" for name, value in kwargs.items())


# ------------------------------------------------------------ optional packages

# CI (or ci/test.sh, which sets MTSRNN_WITH_TORCH=1) installs torch, sru and
# mingru-pytorch: there a missing package is a failure, never a silent skip.
TORCH_REQUIRED = bool(os.environ.get("CI")) or os.environ.get("MTSRNN_WITH_TORCH") == "1"


def require_package(name):
    """Import an optional test dependency: skip the module without it, or fail
    under CI / MTSRNN_WITH_TORCH=1."""
    import warnings

    import pytest

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as error:
        if TORCH_REQUIRED:
            pytest.fail(f"CI or MTSRNN_WITH_TORCH=1 is set but {name!r} cannot be imported "
                        f"({error!r}); ci/setup.sh installs torch==2.13.0 and "
                        "`--no-deps mingru-pytorch==0.2.1 einops==0.8.2`", pytrace=False)
        pytest.skip(f"{name} is not installed ({error})", allow_module_level=True)
