"""The package's optional dependencies, imported in one place.

numpy and pyserial are dependencies; everything else a command may import
is an extra (pyproject.toml): `mtsrnn[bench]` (threadpoolctl, for `mtsrnn
bench host`), `mtsrnn[plot]` (matplotlib, for --plot), `mtsrnn[torch]`
(torch and sru: PyTorch checkpoints, `from_torch`'s users, the sru peers of
the benchmark). `optional` imports one and, when it is missing, raises an
ImportError naming the extra: the CLI prints that one line (exit 2).
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

EXTRAS = {"threadpoolctl": "bench", "matplotlib": "plot", "torch": "torch", "sru": "torch"}


def optional(module: str, purpose: str) -> ModuleType:
    """Import `module` (a key of EXTRAS) for `purpose` (what needs it, e.g.
    "mtsrnn bench host"). sru's warning that it cannot compile CUDA kernels
    (no CUDA_HOME; it runs on the CPU without them) is not shown."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*CUDA.*", category=UserWarning)
            return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{purpose} needs {module}, which is not installed: "
                          f"pip install 'mtsrnn[{EXTRAS[module]}]'") from None
