"""The data files shipped inside PyPI aeon 1.6.0, read with parsers of our own.

aeon is installed without its dependencies (`pip install --no-deps
aeon==1.6.0`, ci/setup.sh) and never imported: only its data directory is
used, found through importlib's module spec. Nothing is downloaded.

- `read_ts(path)`: a UEA/UCR .ts file (sktime/aeon's text format: @-headers,
  then one case per line, its dimensions separated by ':' and the class label
  last), as a list of float32 arrays (length, dimensions) and the labels.
- `read_timeeval_csv(path)`: a TimeEval-style .csv (timestamp, channels...,
  is_anomaly), as float32 (steps, channels) and int64 (steps,) labels.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np

AEON_VERSION = "1.6.0"


def data_dir() -> Path:
    """aeon's datasets/data directory (aeon found, not imported)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"PyPI aeon {AEON_VERSION} is not installed: pip install --no-deps "
                         f"aeon=={AEON_VERSION} (only its data files are used)")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    if not path.is_dir():
        raise SystemExit(f"{path}: aeon's data directory is missing")
    return path


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str], list[str]]:
    """(cases, labels, class names in the header's order) of a .ts file."""
    header: dict[str, str] = {}
    cases, labels = [], []
    in_data = False
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if line.lower() == "@data":
                    in_data = True
                elif line.startswith("@"):
                    key, _, value = line[1:].partition(" ")
                    header[key.lower()] = value.strip()
                continue
            *dimensions, label = line.split(":")
            try:
                series = [np.array([float(v) for v in d.split(",")], np.float64)
                          for d in dimensions]
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            if len({len(s) for s in series}) != 1:
                raise ValueError(f"{path}:{number}: dimensions of different lengths")
            cases.append(np.stack(series, axis=1).astype(np.float32))
            labels.append(label.strip())
    if header.get("timestamps", "false") != "false" or header.get("missing", "false") != "false":
        raise ValueError(f"{path}: timestamps or missing values are not supported")
    dims = int(header["dimensions"]) if "dimensions" in header else cases[0].shape[1]
    bad = [i for i, c in enumerate(cases) if c.shape[1] != dims]
    if bad:
        raise ValueError(f"{path}: case {bad[0]} has {cases[bad[0]].shape[1]} dimensions, the "
                         f"header says {dims}")
    names = header.get("classlabel", "").split()[1:]  # "true a b c"
    return cases, labels, names


def read_timeeval_csv(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(values (steps, channels) float32, is_anomaly (steps,) int64, channel names)."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    head, body = rows[0], rows[1:]
    if head[0] != "timestamp" or head[-1] != "is_anomaly":
        raise ValueError(f"{path}: expected columns timestamp, ..., is_anomaly, got {head}")
    values = np.array([[float(v) for v in row[1:-1]] for row in body], np.float32)
    labels = np.array([int(float(row[-1])) for row in body], np.int64)
    return values, labels, head[1:-1]


def pad(cases: list[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded float32 (N, L, F) and the lengths (N,)."""
    lengths = np.array([len(c) for c in cases], np.int64)
    length = length or int(lengths.max())
    x = np.zeros((len(cases), length, cases[0].shape[1]), np.float32)
    for i, c in enumerate(cases):
        x[i, :len(c)] = c
    return x, lengths
