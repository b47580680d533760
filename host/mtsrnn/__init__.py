"""mtsrnn: multi-time-step SRU and QRNN inference, for whole streaming models
(input normalisation, recurrent stacks, dense heads, softmax).

SRU and QRNN multiply their weights only with the input, so T consecutive
time steps can share one pass over the weights: one (T x n)(n x m) product
per block, then a cheap elementwise recurrence (Sung & Park, arXiv
1803.11389). This package runs the project's C kernels from NumPy.

    import numpy as np, mtsrnn
    model = mtsrnn.random_sru(256, 256, num_layers=2, seed=1)
    state = model.initial_state()
    h, state = model.forward(np.zeros((40, 256), np.float32), state=state, block=16)
"""

from . import reference
from ._core import VERSION as __version__  # noqa: F401 (CMakeLists.txt's version)
from .cells import from_indrnn_state_dict, indrnn, mingru, minlstm
from .heads import dense, layer_norm, norm, sequential, softmax
from .model import (
    Model,
    Part,
    State,
    from_qrnn_state_dict,
    from_sru_state_dict,
    product_variants,
    random_qrnn,
    random_sru,
)
from .mtsfile import ModelFileError, UnsupportedModelError, load
from .products import cpu_features, product_choice
from .quantize import quantize
from .torch_import import UnsupportedModuleError, from_torch

__all__ = [
    "Model",
    "ModelFileError",
    "Part",
    "State",
    "cpu_features",
    "UnsupportedModelError",
    "UnsupportedModuleError",
    "dense",
    "from_indrnn_state_dict",
    "from_qrnn_state_dict",
    "from_sru_state_dict",
    "from_torch",
    "product_variants",
    "indrnn",
    "layer_norm",
    "load",
    "mingru",
    "minlstm",
    "norm",
    "product_choice",
    "quantize",
    "random_qrnn",
    "random_sru",
    "reference",
    "sequential",
    "softmax",
]
