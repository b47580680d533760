"""What the three real-data examples share: the model (an input norm, one
recurrent cell, a dense head), deterministic CPU training with model
selection on a validation split, and the export (from_torch, both int8
schemes, the test data file `mtsrnn eval` reads).

The recurrent cell is one choice, `cell=` of `Classifier` (each script's
CELL): "sru" (PyPI sru 2.6.0's sru.SRU) or "qrnn" (mtsrnn.torch.QRNN, the
torchqrnn layout: window 2, fo-pooling). Both are time-first and return
(h, state), so the rest of the model does not depend on the choice.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]

CELLS = ("sru", "qrnn")
SCHEMES = ("int8-w", "int8-wa")


def setup(seed: int) -> None:
    """Deterministic, single-threaded, CPU."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


def recurrent_module(cell: str, features: int, hidden: int, layers: int) -> nn.Module:
    """The recurrent stack (time-first input, returns (h, state))."""
    if cell == "sru":
        os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / "build" / "torch_extensions"))
        from mtsrnn.extras import optional  # sru without its CUDA_HOME warning

        sru = optional("sru", "this example's sru cell")
        return sru.SRU(features, hidden, num_layers=layers, dropout=0.0)
    if cell == "qrnn":
        from mtsrnn.torch import QRNN

        return QRNN(features, hidden, num_layers=layers, window=2, pooling="fo")
    raise SystemExit(f"cell {cell!r}: this example offers {', '.join(CELLS)}")


class Classifier(nn.Module):
    """(B, L, F) -> (B, L, classes) logits: BatchNorm1d over the features
    (the input's standardisation, learned), the recurrent stack, a ReLU
    dense layer and a dense output layer. Streaming: the output at step t
    depends on steps <= t only."""

    def __init__(self, features: int, hidden: int, classes: int, cell: str = "sru",
                 layers: int = 1):
        super().__init__()
        self.norm = nn.BatchNorm1d(features)
        self.rnn = recurrent_module(cell, features, hidden, layers)
        self.head = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        h, _ = self.rnn(x.transpose(0, 1))
        return self.out(torch.relu(self.head(h.transpose(0, 1))))


def last_step(logits: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, classes): each sequence's output at its last valid step."""
    return logits[torch.arange(logits.shape[0]), lengths - 1]


def split(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): `share` of each class to validation,
    chosen with `seed` (stratified)."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for k in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == k))
        count = max(1, round(share * len(members)))
        validation += list(members[:count])
        train += list(members[count:])
    return np.sort(train), np.sort(validation)


def fit(model: Classifier, loss_of, accuracy_of, epochs: int, lr: float,
        batches) -> dict[str, float]:
    """Adam over `epochs`; after each, `accuracy_of(model)` on the
    validation data; the weights of the best epoch (the first of equals)
    are kept. `batches()` yields each epoch's training batches, `loss_of`
    maps a batch to its loss."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, best_epoch = -1.0, None, 0
    start = time.monotonic()
    for epoch in range(epochs):
        model.train()
        for batch in batches():
            optimiser.zero_grad()
            loss = loss_of(model, batch)
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            accuracy = accuracy_of(model)
        if accuracy > best:
            best, best_epoch = accuracy, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    return {"validation": best, "epoch": best_epoch, "epochs": epochs,
            "seconds": time.monotonic() - start}


def export(model: Classifier, name: str, out: Path, test: dict[str, np.ndarray],
           check_x: np.ndarray, summary: dict) -> None:
    """NAME-float32.mts, NAME-int8-w.mts and NAME-int8-wa.mts (mtsrnn.from_torch,
    then mtsrnn.quantize; the stem names the model in a firmware), test.npz
    (the held-out data, for `mtsrnn eval`) and train.json (the run's summary)
    into `out`. The float model must compute
    what PyTorch computes on `check_x` (B, L, F) to 1e-4."""
    import mtsrnn
    from mtsrnn.evaluate import save_data

    out.mkdir(parents=True, exist_ok=True)
    converted = mtsrnn.from_torch(model)
    with torch.no_grad():
        expected = model(torch.from_numpy(check_x)).numpy()
    error = max(float(np.max(np.abs(converted.forward(np.ascontiguousarray(x), block=16)[0]
                                    - e))) for x, e in zip(check_x, expected, strict=True))
    if not error <= 1e-4:
        raise SystemExit(f"the converted model differs from PyTorch by {error:.3g} (> 1e-4)")
    converted.save(out / f"{name}-float32.mts")
    for scheme in SCHEMES:
        mtsrnn.quantize(converted, scheme).save(out / f"{name}-{scheme}.mts")
    save_data(out / "test.npz", test["x"], test["y"], test.get("lengths"))
    summary = {**summary, "conversion_max_abs_diff": error,
               "weight_bytes": converted.weight_bytes}
    (out / "train.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))
    print(f"wrote {out}/{name}-{{float32,int8-w,int8-wa}}.mts, test.npz, train.json")


def output_dir(task: str) -> Path:
    """Where a task's models and test data go: argv[1], else build/examples/<task>."""
    return Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "examples" / task
