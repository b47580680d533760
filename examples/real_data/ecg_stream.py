"""Streaming detection with a label per step: anomalous stretches of an ECG-like
signal (aeon 1.6.0's ecg-diff-count-3, a TimeEval/GutenTAG series: a
SYNTHETIC single-channel ECG of 10,000 steps with three labelled anomalous
stretches of 100 steps per file; files TRAIN_A, TRAIN_NA (no anomalies) and
TEST).

Why not Daphnet S06R02E0 (freezing of gait), which issue 15 names: the
excerpt aeon ships has no freezing episode (all 7,040 is_anomaly labels are
0; aeon 1.6.0 deprecates its loader for exactly that reason), so no detector
can be trained or scored on it. This is the one per-step labelled stream
among aeon's data files with labelled anomalies in a training file.

    python examples/real_data/ecg_stream.py [OUT_DIR]   # default build/examples/ecg_stream

Split, chronological: TRAIN_A's first 8,000 steps (two anomalies) and all of
TRAIN_NA train the model, in windows of 200 steps every 50; TRAIN_A's last
2,000 steps (one anomaly), streamed whole, are the validation data that
pick the epoch (F1 of the anomaly class); TEST (three anomalies) is only
written to test.npz, one stream of 10,000 steps that `mtsrnn eval` runs
from a reset state with a label per step.
"""

import numpy as np
import torch
import torch.nn.functional as F
from aeon_data import data_dir, read_timeeval_csv
from training import Classifier, export, fit, output_dir, setup

TASK = "ecg_stream"
CELL = "sru"  # the recurrent cell (training.py: CELLS)
SEED, HIDDEN, LAYERS, EPOCHS, BATCH, LR = 0, 16, 1, 20, 16, 0.01
WINDOW, STRIDE, SPLIT = 200, 50, 8000
ANOMALY_WEIGHT = 4.0  # the loss's weight of the rare class (3 % of the steps)


def load(part):
    values, labels, _ = read_timeeval_csv(data_dir() / "UnitTest" / f"ecg-diff-count-3_{part}.csv")
    return values, labels


def windows(values, labels):
    starts = range(0, len(values) - WINDOW + 1, STRIDE)
    return (np.stack([values[s:s + WINDOW] for s in starts]),
            np.stack([labels[s:s + WINDOW] for s in starts]))


def anomaly_f1(predicted, labels):
    hit = int(np.sum((predicted == 1) & (labels == 1)))
    total = int(np.sum(predicted == 1) + np.sum(labels == 1))
    return 2 * hit / total if total else 0.0


def main():
    setup(SEED)
    values_a, labels_a = load("TRAIN_A")
    values_na, labels_na = load("TRAIN_NA")
    parts = [windows(values_a[:SPLIT], labels_a[:SPLIT]), windows(values_na, labels_na)]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    validation_x = torch.from_numpy(values_a[None, SPLIT:])
    validation_y = labels_a[SPLIT:]
    model = Classifier(1, HIDDEN, 2, CELL, LAYERS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    weight = torch.tensor([1.0, ANOMALY_WEIGHT])

    def batches():
        order = torch.from_numpy(np.random.permutation(len(x)))
        return [order[i:i + BATCH] for i in range(0, len(order), BATCH)]

    def loss_of(model, batch):
        return F.cross_entropy(model(xt[batch]).reshape(-1, 2), yt[batch].reshape(-1),
                               weight=weight)

    def accuracy_of(model):  # the selection score: the anomaly class's F1
        return anomaly_f1(model(validation_x)[0].argmax(1).numpy(), validation_y)

    result = fit(model, loss_of, accuracy_of, EPOCHS, LR, batches)
    result["validation_f1"] = result.pop("validation")
    test_x, test_y = load("TEST")
    export(model, TASK, output_dir(TASK),
           {"x": test_x[None], "y": test_y[None]},
           x[:4], {"task": "ecg-diff-count-3 (per step)", "cell": CELL, "seed": SEED,
                   "hidden": HIDDEN, "layers": LAYERS, "train_windows": len(x),
                   "validation_steps": len(validation_y), "test_steps": len(test_y),
                   **result})


if __name__ == "__main__":
    main()
