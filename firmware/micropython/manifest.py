# Freeze mtsrnn (the pure-MicroPython fallback, fallback/mtsrnn.py) and,
# optionally, a model into a MicroPython firmware (docs/micropython.md):
#
#   python firmware/micropython/freeze_model.py model.mts build/mtsrnn_model.py
#   MTSRNN_MODEL_MODULE=$PWD/build/mtsrnn_model.py \
#     make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$PWD/firmware/micropython/manifest.py
#
# On the board: `import mtsrnn, mtsrnn_model; m = mtsrnn.Model(mtsrnn_model.MODEL)`
# (a frozen bytes constant stays in flash). This manifest replaces the port's
# own, so it includes it first. (The C module is built with USER_C_MODULES
# instead: micropython.cmake / micropython.mk.)
import os

include("$(PORT_DIR)/boards/manifest.py")  # noqa: F821 (makemanifest.py provides it)
module("mtsrnn.py", base_path="fallback")  # noqa: F821 (relative to this manifest)
module("mtsrnn_loops.py", base_path="fallback")  # noqa: F821 (its hot loops)
if os.environ.get("MTSRNN_MODEL_MODULE"):
    model = os.path.abspath(os.environ["MTSRNN_MODEL_MODULE"])
    module(os.path.basename(model), base_path=os.path.dirname(model))  # noqa: F821
