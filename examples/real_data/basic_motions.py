"""BasicMotions: standing, walking, running or badminton, from a wrist
smartwatch's 3-axis accelerometer and 3-axis gyroscope (100 steps of 6
values at 10 Hz). Data: the UEA archive's split as aeon 1.6.0 ships it (40
training, 40 test recordings).

    python examples/real_data/basic_motions.py [OUT_DIR]   # default build/examples/basic_motions

A sequence classifier (the output at the last step). 25 % of the training
recordings (per class, seeded) are the validation split that picks the
epoch; training scores every step of the second half (the class is known
from there on), the prediction is the last step's; the test split is only
written to test.npz for `mtsrnn eval`.
"""

import numpy as np
import torch
import torch.nn.functional as F
from aeon_data import data_dir, pad, read_ts
from training import Classifier, export, fit, output_dir, setup, split

TASK = "basic_motions"
CELL = "qrnn"  # the recurrent cell (training.py: CELLS)
SEED, HIDDEN, LAYERS, EPOCHS, BATCH, LR = 0, 24, 1, 60, 8, 0.01


def load(part):
    cases, labels, names = read_ts(data_dir() / "BasicMotions" / f"BasicMotions_{part}.ts")
    x, _ = pad(cases)
    return x, np.array([names.index(label) for label in labels], np.int64), names


def main():
    setup(SEED)
    x, y, names = load("TRAIN")
    train, validation = split(y, 0.25, SEED)
    model = Classifier(x.shape[2], HIDDEN, len(names), CELL, LAYERS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def batches():
        order = torch.from_numpy(np.random.permutation(train))
        return [order[i:i + BATCH] for i in range(0, len(order), BATCH)]

    def loss_of(model, batch):  # every step of the second half predicts the class
        logits = model(xt[batch])[:, x.shape[1] // 2:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[2]),
                               yt[batch].repeat_interleave(logits.shape[1]))

    def accuracy_of(model):
        v = torch.from_numpy(validation)
        return float((model(xt[v])[:, -1].argmax(1) == yt[v]).float().mean())

    result = fit(model, loss_of, accuracy_of, EPOCHS, LR, batches)
    tx, ty, _ = load("TEST")
    export(model, TASK, output_dir(TASK),
           {"x": tx, "y": ty}, x[validation[:4]],
           {"task": "BasicMotions", "classes": names, "cell": CELL, "seed": SEED,
            "hidden": HIDDEN, "layers": LAYERS, "train": len(train),
            "validation_sequences": len(validation), "test": len(ty), **result})


if __name__ == "__main__":
    main()
