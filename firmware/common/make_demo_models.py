"""Write the firmware's built-in demo models: .mts files and their C export.

    python make_demo_models.py OUT_DIR [--block T] [--golden-steps N]
        [--models demo_sru,demo_qrnn]

For each demo model: `mtsrnn.random_*(...).save(OUT_DIR/<name>.mts)`, then
`python -m mtsrnn export-c OUT_DIR/<name>.mts -o OUT_DIR --name <name>`,
which writes <name>.h and <name>.c. Deterministic (fixed seeds), so a
rebuild writes the same files. The build (firmware/*/CMakeLists.txt) runs
it; the tests (tests/device) rebuild the same models from the .mts files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import mtsrnn
import numpy as np


def demo_sru() -> mtsrnn.Model:
    """SRU, 2 layers, hidden 64 (input 64: k = 3, scaled-input skip term)."""
    return mtsrnn.random_sru(64, 64, num_layers=2, seed=1)


def demo_qrnn() -> mtsrnn.Model:
    """QRNN, window 2 (a causal convolution over two frames), fo-pooling."""
    return mtsrnn.random_qrnn(64, 64, num_layers=2, window=2, seed=2)


def demo_head() -> mtsrnn.Model:
    """A whole model (a classifier): affine input norm (16 features) -> SRU
    (hidden 48, one layer) -> dense 48->32 relu -> dense 32->8 -> softmax.
    Small (about 14 KB of float weights) so every board with room for the
    stacks above holds it and its int8-wa version beside them."""
    rng = np.random.default_rng(3)
    features, hidden, inner, classes = 16, 48, 32, 8
    return mtsrnn.sequential(
        mtsrnn.norm(rng.uniform(0.5, 2.0, features), rng.normal(0.0, 0.1, features),
                    mean=rng.normal(0.0, 0.5, features)),
        mtsrnn.random_sru(features, hidden, num_layers=1, seed=4),
        mtsrnn.dense(rng.normal(0.0, 1.0 / np.sqrt(hidden), (inner, hidden)),
                     rng.normal(0.0, 0.1, inner), activation="relu"),
        mtsrnn.dense(rng.normal(0.0, 1.0 / np.sqrt(inner), (classes, inner)),
                     rng.normal(0.0, 0.1, classes)),
        mtsrnn.softmax(classes))


def demo_mingru() -> mtsrnn.Model:
    """minGRU and minLSTM (issue 20) in a classifier: minGRU 16 -> hidden 32
    with an output projection to 24 (mingru-pytorch's to_out) -> minLSTM
    (hidden 24) -> dense 24->8 -> softmax; about 15 KB of float weights."""
    rng = np.random.default_rng(20)

    def uniform(rows: int, cols: int) -> np.ndarray:
        return rng.uniform(-1.0, 1.0, (rows, cols)) / np.sqrt(cols)

    return mtsrnn.sequential(
        mtsrnn.mingru(uniform(64, 16), uniform(24, 32)),
        mtsrnn.minlstm(uniform(72, 24)),
        mtsrnn.dense(uniform(8, 24), rng.normal(0.0, 0.1, 8)),
        mtsrnn.softmax(8))


def demo_indrnn() -> mtsrnn.Model:
    """IndRNN (issue 20), 2 layers of hidden 48 (relu, |u| < 1) over 32
    features -> dense 48->8; about 17 KB of float weights."""
    rng = np.random.default_rng(21)
    layers = []
    for n in (32, 48):
        layers.append(mtsrnn.indrnn(rng.uniform(-1.0, 1.0, (48, n)) / np.sqrt(n),
                                    rng.uniform(0.0, 0.95, 48), rng.normal(0.0, 0.1, 48)))
    return mtsrnn.sequential(*layers, mtsrnn.dense(rng.uniform(-0.15, 0.15, (8, 48))))


# name -> a function making the model. Sizes are the protocol's demo sizes:
# small enough for every board's RAM and flash. The quantised demos are the
# float ones through mtsrnn.quantize (docs/quantization.md), so the float
# and int8 versions of the same weights sit side by side on a device.
DEMO_MODELS = {
    "demo_sru": demo_sru,
    "demo_qrnn": demo_qrnn,
    "demo_sru_i8w": lambda: mtsrnn.quantize(demo_sru(), "int8-w"),
    "demo_sru_i8wa": lambda: mtsrnn.quantize(demo_sru(), "int8-wa"),
    "demo_qrnn_i8w": lambda: mtsrnn.quantize(demo_qrnn(), "int8-w"),
    "demo_qrnn_i8wa": lambda: mtsrnn.quantize(demo_qrnn(), "int8-wa"),
    "demo_head": demo_head,
    "demo_head_i8wa": lambda: mtsrnn.quantize(demo_head(), "int8-wa"),
    "demo_mingru": demo_mingru,
    "demo_indrnn": demo_indrnn,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--block", type=int, default=32,
                        help="the firmware's max_block (sizes <NAME>_WORKSPACE_BYTES)")
    parser.add_argument("--golden-steps", type=int, default=16)
    parser.add_argument("--models", default=",".join(DEMO_MODELS),
                        help="comma-separated names out of " + ", ".join(DEMO_MODELS))
    args = parser.parse_args(argv)
    names = [name for name in args.models.split(",") if name]
    unknown = [name for name in names if name not in DEMO_MODELS]
    if unknown:
        parser.error(f"unknown demo model(s) {unknown}; known: {list(DEMO_MODELS)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = args.out_dir / f"{name}.mts"
        DEMO_MODELS[name]().save(path)
        subprocess.run([sys.executable, "-m", "mtsrnn", "export-c", str(path),
                        "-o", str(args.out_dir), "--name", name,
                        "--block", str(args.block), "--golden-steps", str(args.golden_steps)],
                       check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
