"""JapaneseVowels: which of 9 speakers said a vowel, from 12 LPC cepstrum
coefficients per frame (7 to 29 frames). Data: the UEA archive's split as
aeon 1.6.0 ships it (270 training, 370 test utterances).

    python examples/real_data/japanese_vowels.py [OUT_DIR]
    # OUT_DIR: default build/examples/japanese_vowels

A sequence classifier: the prediction is the output at an utterance's last
frame; training scores every valid frame. 20 % of the training utterances
(per speaker, seeded) are the validation split that picks the epoch; the
test split is only written to test.npz for `mtsrnn eval`.
"""

import numpy as np
import torch
import torch.nn.functional as F
from aeon_data import data_dir, pad, read_ts
from training import Classifier, export, fit, last_step, output_dir, setup, split

TASK = "japanese_vowels"
CELL = "sru"  # the recurrent cell (training.py: CELLS)
SEED, HIDDEN, LAYERS, EPOCHS, BATCH, LR = 0, 32, 1, 60, 16, 0.01


def load(part):
    cases, labels, names = read_ts(data_dir() / "JapaneseVowels" / f"JapaneseVowels_{part}.ts")
    x, lengths = pad(cases, 29)
    return x, lengths, np.array([names.index(label) for label in labels], np.int64), names


def main():
    setup(SEED)
    x, lengths, y, names = load("TRAIN")
    train, validation = split(y, 0.2, SEED)
    model = Classifier(x.shape[2], HIDDEN, len(names), CELL, LAYERS)
    xt, lt, yt = (torch.from_numpy(a) for a in (x, lengths, y))

    def batches():
        order = torch.from_numpy(np.random.permutation(train))
        return [order[i:i + BATCH] for i in range(0, len(order), BATCH)]

    def loss_of(model, batch):  # every valid frame predicts the speaker
        logits = model(xt[batch])
        valid = torch.arange(x.shape[1])[None, :] < lt[batch][:, None]
        labels = yt[batch][:, None].expand(-1, x.shape[1])
        return F.cross_entropy(logits[valid], labels[valid])

    def accuracy_of(model):
        v = torch.from_numpy(validation)
        predicted = last_step(model(xt[v]), lt[v]).argmax(1)
        return float((predicted == yt[v]).float().mean())

    result = fit(model, loss_of, accuracy_of, EPOCHS, LR, batches)
    tx, tl, ty, _ = load("TEST")
    export(model, TASK, output_dir(TASK),
           {"x": tx, "y": ty, "lengths": tl},
           x[validation[:8]], {"task": "JapaneseVowels", "cell": CELL, "seed": SEED,
                               "hidden": HIDDEN, "layers": LAYERS, "train": len(train),
                               "validation_sequences": len(validation), "test": len(ty),
                               **result})


if __name__ == "__main__":
    main()
