"""Write the fuzzer's seed corpus: small valid .mts files covering every
option of both 1.x cells (format 1.x, the package's writer) and whole models of
every stage kind (format 2.0, written by tests/python/stage_files.py from
the format document); the fuzzer mutates from these."""

import sys
from pathlib import Path

import mtsrnn
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import stage_files  # noqa: E402  (the tests' own 2.0 writer)


def whole_models() -> dict[str, bytes]:
    """Format 2.0 seeds: every stage kind, option and weight scheme."""
    rng = np.random.default_rng(14)
    f32 = np.float32
    seeds = {
        "v2_whole_f32": stage_files.whole_model(rng),
        "v2_whole_int8w_logsoftmax": stage_files.whole_model(rng, quant=1, log=1),
        "v2_whole_int8wa_skip": stage_files.whole_model(rng, n=6, hidden=6, quant=2),
    }
    seeds["v2_layernorm_qrnn_dense_tanh"] = [
        ("norm", {"size": 3, "mode": 1, "eps": 1e-5},
         {"weight": rng.uniform(0.5, 1.5, 3).astype(f32), "bias": np.zeros(3, f32)}),
        ("qrnn", {"input_size": 3, "hidden_size": 4, "window": 2, "input_gate": 1,
                  "output_gate": 1, "zoneout": 0.1},
         {"weight": rng.uniform(-0.5, 0.5, (16, 6)).astype(f32),
          "bias": rng.uniform(-0.5, 0.5, 16).astype(f32)}),
        ("dense", {"input_size": 4, "output_size": 2, "activation": 2},
         {"weight": rng.uniform(-1, 1, (2, 4)).astype(f32)}),
    ]
    seeds["v2_sru_bidir_sru_dense_sigmoid"] = [
        ("sru", {"input_size": 3, "hidden_size": 2, "num_directions": 2, "scale_x": 1.0},
         {"weight": rng.uniform(-0.5, 0.5, (12, 3)).astype(f32),
          "bias": rng.uniform(-0.5, 0.5, 8).astype(f32)}),
        ("qrnn", {"input_size": 4, "hidden_size": 3, "window": 1, "output_gate": 1},
         {"weight": rng.uniform(-0.5, 0.5, (9, 4)).astype(f32),
          "bias": rng.uniform(-0.5, 0.5, 9).astype(f32)}),
        ("dense", {"input_size": 3, "output_size": 3, "activation": 3},
         {"weight": rng.uniform(-1, 1, (3, 3)).astype(f32),
          "bias": rng.uniform(-1, 1, 3).astype(f32)}),
        ("softmax", {"size": 3, "log": 0}, {}),
    ]
    # Issue 20: minGRU (with and without to_out), minLSTM, IndRNN relu / tanh.
    seeds["v2_mingru_out_minlstm_indrnn"] = [
        ("mingru", {"input_size": 3, "hidden_size": 4, "output_size": 2, "has_output": 1},
         {"weight": rng.uniform(-0.5, 0.5, (8, 3)).astype(f32),
          "weight_out": rng.uniform(-0.5, 0.5, (2, 4)).astype(f32)}),
        ("minlstm", {"input_size": 2, "hidden_size": 3, "output_size": 3},
         {"weight": rng.uniform(-0.5, 0.5, (9, 2)).astype(f32)}),
        ("indrnn", {"input_size": 3, "hidden_size": 2, "activation": 2},
         {"weight": rng.uniform(-0.5, 0.5, (2, 3)).astype(f32),
          "bias": rng.uniform(-0.2, 0.2, 2).astype(f32),
          "weight_hh": rng.uniform(-0.9, 0.9, 2).astype(f32)}),
    ]
    scale = np.full(6, 0.01, f32)
    seeds["v2_int8w_minlstm_out_indrnn_relu"] = [
        ("minlstm", {"input_size": 2, "hidden_size": 2, "output_size": 3, "has_output": 1,
                     "quant": 1},
         {"weight": rng.integers(-127, 128, (6, 2)).astype(np.int8), "weight_scale": scale,
          "weight_out": rng.integers(-127, 128, (3, 2)).astype(np.int8),
          "weight_out_scale": scale[:3]}),
        ("indrnn", {"input_size": 3, "hidden_size": 2, "activation": 1, "quant": 2},
         {"weight": rng.integers(-127, 128, (2, 3)).astype(np.int8),
          "weight_scale": scale[:2], "bias": np.zeros(2, f32),
          "weight_hh": np.full(2, 0.5, f32)}),
    ]
    return {name: stage_files.image(stages) for name, stages in seeds.items()}


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
    whole = whole_models()
    for name, data in whole.items():
        (out / f"{name}.mts").write_bytes(data)
    print(f"wrote {len(models) + len(whole)} seed files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/seeds"))
