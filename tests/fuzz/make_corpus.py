"""Write the fuzzer's seed corpus: small valid .mts files covering every
option of both cells (the fuzzer mutates from these)."""

import sys
from pathlib import Path

import mtsrnn


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models = {
        "sru_plain": mtsrnn.random_sru(4, 4, seed=1),
        "sru_k4_2layers": mtsrnn.random_sru(5, 3, num_layers=2, seed=2),
        "sru_bidir_tanh": mtsrnn.random_sru(6, 3, num_layers=2, bidirectional=True,
                                            use_tanh=True, seed=3),
        "sru_proj_norm": mtsrnn.random_sru(8, 6, projection_size=3, layer_norm=True, seed=4),
        "sru_norm_after_v1": mtsrnn.random_sru(4, 4, layer_norm=True, normalize_after=True,
                                               v1=True, seed=5),
        "sru_no_skip": mtsrnn.random_sru(3, 5, has_skip_term=False, seed=6),
        "qrnn_fo": mtsrnn.random_qrnn(4, 3, seed=7),
        "qrnn_w2_2layers": mtsrnn.random_qrnn(5, 4, num_layers=2, window=2, seed=8),
        "qrnn_ifo_zoneout": mtsrnn.random_qrnn(3, 3, window=3, pooling="ifo", zoneout=0.2,
                                               seed=9),
        "qrnn_f": mtsrnn.random_qrnn(2, 2, output_gate=False, pooling="f", seed=10),
    }
    # Format 1.1: int8 weights with per-row scales (docs/quantization.md).
    models["sru_proj_bidir_int8w"] = mtsrnn.quantize(
        mtsrnn.random_sru(6, 3, bidirectional=True, projection_size=2, seed=11), "int8-w")
    models["qrnn_w2_int8wa"] = mtsrnn.quantize(mtsrnn.random_qrnn(3, 4, window=2, seed=12),
                                               "int8-wa")
    for name, model in models.items():
        model.save(out / f"{name}.mts")
    print(f"wrote {len(models)} seed files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/seeds"))
