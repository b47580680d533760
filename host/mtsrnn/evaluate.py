"""Accuracy of a streaming model on labelled sequences (`mtsrnn eval`, issue 15).

A data file is an .npz with

- ``x``: float32 ``(N, L, input_size)``, zero-padded after each sequence's end;
- ``lengths`` (optional): integers ``(N,)`` in 1..L, each sequence's valid
  steps (default: all L);
- ``y``: integers, either ``(N,)`` (sequence classification: the prediction
  is the argmax of the model's output at the last valid step) or ``(N, L)``
  (per-step labels, streaming detection: every valid step's argmax is
  scored; padded steps' labels are ignored).

Every sequence runs from a zero state (what a device's `reset` gives), so
the outputs of one sequence never depend on another. `load_data` checks
the file (DataFileError names the array and what was expected),
`host_outputs` runs the model on the host, `device_outputs` on a device
through the harness (reset, then infer in pieces of at most the device's
max_steps, the state carried), `score` turns outputs into predictions and
scores them (accuracy, confusion matrix, per-class F1 for per-step labels),
`compare` measures how a device's outputs agree with the host's.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .extras import optional


class DataFileError(ValueError):
    """A data file that `mtsrnn eval` cannot use: the message names the file,
    the array and what was expected."""


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # (N, L, input_size) float32
    lengths: np.ndarray  # (N,) int64, 1..L
    y: np.ndarray  # (N,) or (N, L) int64
    path: str = ""

    @property
    def per_step(self) -> bool:
        """Labels per time step (streaming detection), not per sequence."""
        return self.y.ndim == 2

    @property
    def count(self) -> int:
        return self.x.shape[0]

    @property
    def input_size(self) -> int:
        return self.x.shape[2]

    def sequence(self, index: int) -> np.ndarray:
        """Sequence `index`'s valid steps, (length, input_size) C-contiguous."""
        return np.ascontiguousarray(self.x[index, :self.lengths[index]])

    def labels(self) -> np.ndarray:
        """The scored labels, flat: one per sequence, or every valid step of
        every sequence in order."""
        if not self.per_step:
            return self.y
        return np.concatenate([self.y[i, :self.lengths[i]] for i in range(self.count)])

    def check_model(self, input_size: int, output_size: int) -> None:
        """DataFileError unless the frames fit a model of these sizes and
        every label is one of its outputs."""
        if self.input_size != input_size:
            raise DataFileError(f"{self.path}: x has frames of {self.input_size} values, the "
                                f"model takes {input_size}")
        labels = self.labels()
        if labels.size and labels.max() >= output_size:
            raise DataFileError(f"{self.path}: label {int(labels.max())} in y is outside the "
                                f"model's {output_size} outputs (labels must be 0.."
                                f"{output_size - 1})")


def _integer(array: np.ndarray, name: str, path: str) -> np.ndarray:
    if array.dtype.kind not in "iu":
        raise DataFileError(f"{path}: {name} must be integers, got {array.dtype}")
    return array.astype(np.int64)


def dataset(x: Any, y: Any, lengths: Any = None, path: str = "data") -> Dataset:
    """A checked Dataset from arrays (the rules of the module docstring)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != np.float32:
        raise DataFileError(f"{path}: x must be float32, got {x.dtype}")
    if x.ndim != 3 or 0 in x.shape:
        raise DataFileError(f"{path}: x must have shape (N, L, input_size) with none zero, "
                            f"got {x.shape}")
    n, steps = x.shape[:2]
    if lengths is None:
        lengths = np.full(n, steps, np.int64)
    else:
        lengths = _integer(np.asarray(lengths), "lengths", path)
        if lengths.shape != (n,):
            raise DataFileError(f"{path}: lengths must have shape ({n},) (one per sequence of "
                                f"x), got {lengths.shape}")
        bad = np.flatnonzero((lengths < 1) | (lengths > steps))
        if bad.size:
            raise DataFileError(f"{path}: lengths[{bad[0]}] = {lengths[bad[0]]} is outside "
                                f"1..{steps} (x's L)")
    y = _integer(y, "y", path)
    if y.shape not in ((n,), (n, steps)):
        raise DataFileError(f"{path}: y must have shape ({n},) (a label per sequence) or "
                            f"({n}, {steps}) (a label per step), got {y.shape}")
    valid = np.arange(steps)[None, :] < lengths[:, None]  # (N, L)
    if not np.isfinite(x[valid]).all():
        raise DataFileError(f"{path}: x holds a NaN or infinity in a valid step")
    data = Dataset(x, lengths, y, path)
    labels = data.labels()
    if labels.size and labels.min() < 0:
        where = "a valid step of y" if data.per_step else "y"
        raise DataFileError(f"{path}: label {int(labels.min())} in {where}: labels must be "
                            ">= 0 (class indices)")
    return data


def load_data(path: str | os.PathLike) -> Dataset:
    """Read and check an .npz data file; DataFileError (a ValueError) or
    OSError says what is wrong."""
    path = os.fspath(path)
    with open(path, "rb") as head:
        magic = head.read(6)
    # np.load takes anything else for a pickle and refuses it as one.
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        raise DataFileError(f"{path}: not an .npz file (it starts with {magic!r}); expected "
                            "a NumPy .npz archive of x, y [, lengths] (numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as file:
            if not hasattr(file, "files"):
                raise DataFileError(f"{path}: expected an .npz archive of arrays x, y "
                                    "[, lengths], got a single array")
            missing = [name for name in ("x", "y") if name not in file.files]
            if missing:
                raise DataFileError(f"{path}: no array {' or '.join(missing)} (it has: "
                                    f"{', '.join(file.files) or 'none'}); expected x, y "
                                    "[, lengths]")
            extra = sorted(set(file.files) - {"x", "y", "lengths"})
            if extra:
                raise DataFileError(f"{path}: unknown array(s) {', '.join(extra)}; expected "
                                    "x, y [, lengths]")
            arrays = {name: file[name] for name in file.files}
    except (zipfile.BadZipFile, EOFError) as error:
        raise DataFileError(f"{path}: not an .npz file ({error})") from None
    except ValueError as error:
        if isinstance(error, DataFileError):
            raise
        # np.load refuses object arrays (pickles) and unreadable files
        raise DataFileError(f"{path}: unreadable .npz ({' '.join(str(error).split())})") \
            from None
    return dataset(arrays["x"], arrays["y"], arrays.get("lengths"), path)


def save_data(path: str | os.PathLike, x: np.ndarray, y: np.ndarray,
              lengths: np.ndarray | None = None) -> None:
    """Write a data file `load_data` reads (checked first)."""
    data = dataset(x, y, lengths, os.fspath(path))
    np.savez_compressed(path, x=data.x, y=data.y, lengths=data.lengths.astype(np.int32))


# ---- running ---------------------------------------------------------------

def host_outputs(model: Any, data: Dataset, block: int) -> list[np.ndarray]:
    """The model's outputs for each sequence, each from a zero state."""
    return [model.forward(data.sequence(i), block=block)[0] for i in range(data.count)]


def device_outputs(device: Any, data: Dataset, block: int,
                   step: Callable[[], None] | None = None
                   ) -> tuple[list[np.ndarray], dict[str, int]]:
    """Each sequence through the device's selected model: `reset` (a zero
    state), then `infer` in pieces of at most its max_steps, the state
    carried between them. Returns the outputs and the counter totals over
    every sequence; `step` is called after each sequence."""
    outputs, totals = [], {}
    for i in range(data.count):
        device.reset()
        h, counters = device.infer_stream(data.sequence(i), block)
        outputs.append(h)
        for key, value in counters.items():
            totals[key] = totals.get(key, 0) + value
        if step is not None:
            step()
    return outputs, totals


# The MicroPython side of micropython_outputs: the module's Stream API
# (docs/micropython.md), every sequence from reset, outputs written in order.
# Files through open() on the unix port, through the test port's hostfile
# module there (it has no io module, firmware/micropython/port/main.c).
_MICROPYTHON_SCRIPT = """
import array, sys
try:
    import hostfile
    read, write = hostfile.read, hostfile.write
except ImportError:
    def read(path):
        with open(path, "rb") as f:
            return f.read()

    def write(path, data):
        with open(path, "wb") as f:
            f.write(data)
mtsrnn = __import__(sys.argv[1])
model = mtsrnn.Model(read(sys.argv[2]))
x = array.array("f", read(sys.argv[3]))
lengths = [int(v) for v in read(sys.argv[4]).decode().split()]
stream = model.stream(block=int(sys.argv[6]))
n, m = model.input_size, model.output_size
y = array.array("f", bytes(4 * m * sum(lengths)))
xv, yv = memoryview(x), memoryview(y)
t = 0
for length in lengths:
    stream.reset()
    stream.push(xv[t * n:(t + length) * n], yv[t * m:(t + length) * m])
    t += length
write(sys.argv[5], y)
print("OK", len(lengths), getattr(mtsrnn, "implementation", "unknown"))
"""


def micropython_outputs(model_path: str | os.PathLike, output_size: int, data: Dataset,
                        block: int, interpreter: str, module_dir: str | os.PathLike | None,
                        module: str = "mtsrnn", timeout: float = 3600.0,
                        info: dict[str, str] | None = None) -> list[np.ndarray]:
    """Each sequence through MicroPython (`interpreter`) from a reset stream
    per sequence: the unix port with the mtsrnn module found in `module_dir`
    (the pure-Python fallback, firmware/micropython/fallback), or the test
    port (firmware/micropython/port) with its built-in C module and
    `module_dir` None. `info`, when given, receives "implementation": the
    module's own `mtsrnn.implementation` ('c', 'native' or 'python').
    RuntimeError with MicroPython's own message when it fails."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mtsrnn-eval-") as work:
        x = np.concatenate([data.sequence(i) for i in range(data.count)])
        files = [os.path.join(work, name) for name in ("run.py", "x.f32", "lengths.txt",
                                                       "y.f32")]
        with open(files[0], "w") as f:
            f.write(_MICROPYTHON_SCRIPT)
        x.astype("<f4").tofile(files[1])
        with open(files[2], "w") as f:
            f.write(" ".join(str(int(n)) for n in data.lengths))
        env = dict(os.environ)
        if module_dir is not None:
            env["MICROPYPATH"] = os.fspath(module_dir)
        else:
            env.pop("MICROPYPATH", None)
        result = subprocess.run([interpreter, files[0], module, os.fspath(model_path),
                                 files[1], files[2], files[3], str(block)], env=env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0 or not result.stdout.startswith("OK"):
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"MicroPython ({interpreter}) failed: {last[0]}")
        if info is not None:
            info["implementation"] = (result.stdout.split() + ["unknown"] * 3)[2]
        y = np.fromfile(files[3], dtype="<f4").reshape(-1, output_size)
    ends = np.cumsum(data.lengths)
    return [y[end - n:end] for end, n in zip(ends, data.lengths, strict=True)]


# ---- scoring ---------------------------------------------------------------

def predictions(outputs: Sequence[np.ndarray], per_step: bool) -> np.ndarray:
    """Argmax of the last step's output per sequence, or of every step's
    (flattened in order) for per-step labels."""
    if per_step:
        return np.concatenate([np.argmax(h, axis=1) for h in outputs]) if outputs else \
            np.zeros(0, np.int64)
    return np.array([int(np.argmax(h[-1])) for h in outputs], np.int64)


def score(outputs: Sequence[np.ndarray], data: Dataset, classes: int) -> dict[str, Any]:
    """Accuracy, the confusion matrix (rows: labels, columns: predictions)
    and, for per-step labels, each class's F1 and their mean."""
    predicted = predictions(outputs, data.per_step)
    labels = data.labels()
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    result: dict[str, Any] = {
        "scored": int(labels.size),
        "correct": int(np.trace(confusion)),
        "accuracy": float(np.trace(confusion) / max(1, labels.size)),
        "confusion": confusion.tolist(),
    }
    if data.per_step:
        f1 = []
        for k in range(classes):
            true_positive = confusion[k, k]
            denominator = confusion[k, :].sum() + confusion[:, k].sum()
            # F1 = 2 TP / (2 TP + FP + FN); a class never labelled nor predicted has none
            f1.append(float(2 * true_positive / denominator) if denominator else None)
        present = [v for v in f1 if v is not None]
        result["f1"] = f1
        result["macro_f1"] = float(np.mean(present)) if present else None
    return result


def compare(device: Sequence[np.ndarray], host: Sequence[np.ndarray],
            per_step: bool) -> dict[str, Any]:
    """How the device's outputs agree with the host's: the share of equal
    predictions (scored as the labels are), the number that differ and the
    largest absolute output difference over every valid step."""
    a, b = predictions(device, per_step), predictions(host, per_step)
    largest = max((float(np.max(np.abs(d.astype(np.float64) - h), initial=0.0))
                   for d, h in zip(device, host, strict=True)), default=0.0)
    return {"agreement": float(np.mean(a == b)) if a.size else 1.0,
            "disagreements": int(np.sum(a != b)), "max_abs_diff": largest}


def plot_confusion(confusion: Sequence[Sequence[int]], path: str, title: str,
                   names: Sequence[str] | None = None) -> None:
    """The confusion matrix as a PNG (matplotlib: the `plot` extra)."""
    optional("matplotlib", "plotting the confusion matrix").use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(confusion)
    classes = matrix.shape[0]
    names = list(names) if names else [str(k) for k in range(classes)]
    size = 3.2 + 0.45 * classes
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        axes.text(column, row, str(value), ha="center", va="center", fontsize=8,
                  color="white" if value > matrix.max() / 2 else "black")
    axes.set_xticks(range(classes), names)
    axes.set_yticks(range(classes), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("label")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
