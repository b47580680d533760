"""Run by ci/package.sh under `qemu-x86_64 -cpu CPU` with the wheel's Python:
`import mtsrnn` and a forward pass of every weight scheme work on that CPU,
agree with the float64 reference, and the default product is the one the
CPU's features allow (argv[1]: the expected float32 product)."""

import sys

import mtsrnn
import numpy as np

expected = sys.argv[1]
choice = mtsrnn.product_choice()
print(f"  float32: {choice}")
assert choice.startswith(f"{expected}:"), (expected, choice)
assert mtsrnn.product_variants()[0] == expected, mtsrnn.product_variants()
model = mtsrnn.random_sru(48, 40, num_layers=2, seed=5)
x = np.random.default_rng(1).standard_normal((9, 48)).astype(np.float32)
h, _state = model.forward(x, block=4)
h_ref, _c = mtsrnn.reference.sru_forward(model.state_dict(), x, **model.config)
error = float(np.abs(h - h_ref).max())
assert error < 1e-5, error
for scheme in ("int8-w", "int8-wa"):
    hq, _ = mtsrnn.quantize(model, scheme).forward(x, block=4)
    assert np.isfinite(hq).all() and float(np.abs(hq - h_ref).max()) < 0.1, scheme
    print(f"  {scheme}: {mtsrnn.product_choice(scheme)}")
print(f"  forward ok (float32 max abs error against the reference {error:.2g})")
