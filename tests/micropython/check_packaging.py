# Run by MicroPython (ci/micropython_packaging.sh): the mtsrnn module found on
# MICROPYPATH (installed by mip, or compiled from what manifest.py freezes)
# runs the model in the given module or .mts file on the host's input and
# matches the host's output.
#   micropython check_packaging.py CASE.json [MODEL_MODULE]
import array
import json
import sys

import mtsrnn

with open(sys.argv[1]) as f:
    case = json.load(f)
if len(sys.argv) > 2:
    data = __import__(sys.argv[2]).MODEL  # a frozen-style bytes constant
else:
    with open(case["mts"], "rb") as f:
        data = f.read()
model = mtsrnn.Model(data)
steps, n_out = case["steps"], case["output"]
x = array.array("f", case["x"])
y = array.array("f", bytearray(4 * steps * n_out))
assert model.stream(block=4).push(x, y) == steps
h = case["h"]
assert len(h) == len(y)
worst = max(abs(y[i] - h[i]) for i in range(len(y)))  # MicroPython's zip has no strict=
print("mtsrnn", mtsrnn.implementation, "from", mtsrnn.__file__, "max abs error", worst)
assert worst <= 1e-4, worst
