"""The benchmark machinery (mtsrnn.bench): that every peer computes the same
layer as the independent float64 reference, that the results hold every cell
of the grid and consistent ratios and bounds, and that the cachegrind counts
come out of the real valgrind. No assertion on any time."""

import importlib
import json
import os
import shutil
import warnings
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
from mtsrnn import reference
from mtsrnn.bench import dram, host, peers, roofline
from mtsrnn.cli import main

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / "build" / "torch_extensions"))
TORCH_REQUIRED = bool(os.environ.get("CI")) or os.environ.get("MTSRNN_WITH_TORCH") == "1"
TOL = 2e-5  # float32 peers against the float64 reference, unit-scale activations


def reference_h(model, x, quantization=None):
    if model.cell == "model":  # minGRU / minLSTM: one part
        return reference.model_forward(model.reference_parts(), x, quantization=quantization)
    forward = reference.sru_forward if model.cell == "sru" else reference.qrnn_forward
    return forward(model.state_dict(), x, quantization=quantization, **model.config)[0]


@pytest.fixture(params=[cell for cell in peers.CELLS if cell != "head"])
def small(request):
    model = peers.make_model(request.param, 24, seed=3)
    x = np.random.default_rng(4).standard_normal((11, 24)).astype(np.float32)
    return model, x


@pytest.mark.parametrize("block", [1, 3, 4, 16])
def test_numpy_peer_matches_reference(small, block):
    model, x = small
    peer = peers.NumpyBlocked(model)
    c0 = np.zeros(model.output_size, np.float32)
    h, c = peer.forward(x, c0, block)
    np.testing.assert_allclose(h, reference_h(model, x), atol=TOL, rtol=0)
    # The state carries across calls like the kernels': two pieces equal one call.
    h1, c1 = peer.forward(x[:5], c0, block)
    h2, c2 = peer.forward(x[5:], c1, block)
    np.testing.assert_allclose(np.vstack([h1, h2]), h, atol=TOL, rtol=0)
    np.testing.assert_allclose(c2, c, atol=TOL, rtol=0)


def test_whole_model_case_runs_the_kernels_and_int8():
    """The "head" case (issue 14: norm -> SRU -> dense relu -> dense -> softmax):
    mtsrnn and its int8 versions against the float64 reference; no NumPy or
    sru peer (said why); FLOPs of the three products."""
    model = peers.make_model("head", 24, seed=3)
    assert model.kinds == ("norm", "sru", "dense", "dense", "softmax")
    assert peers.flops_per_step(model) == 2 * (3 * 24 * 24 + 24 * 24 + peers.HEAD_CLASSES * 24)
    x = np.random.default_rng(4).standard_normal((11, 24)).astype(np.float32)
    found, missing = peers.runners(model, x, with_torch=False)
    # CMSIS-DSP's per-step product runs whole models too (when built in).
    cmsis = ["cmsis-matvec"] if peers.cmsis_available() else []
    assert [r.name for r in found] == ["mtsrnn", *peers.INT8_RUNNERS, *cmsis]
    assert "whole model" in missing["numpy"] and "whole model" in missing["sru"]
    want = reference_h(model, x)
    for runner in found:
        result = runner.run(4)  # the kernels' runners return (h, state), the peer h
        h = result if runner.name == "cmsis-matvec" else result[0]
        exact = runner.name in ("mtsrnn", "cmsis-matvec")
        assert np.max(np.abs(h - want)) <= (TOL if exact else 0.05), runner.name


def test_numpy_peer_rejects_what_it_does_not_run():
    with pytest.raises(ValueError, match="window 1"):
        peers.NumpyBlocked(mtsrnn.random_qrnn(8, 8, window=2))
    with pytest.raises(ValueError, match="one layer"):
        peers.NumpyBlocked(mtsrnn.random_sru(8, 8, num_layers=2))
    with pytest.raises(ValueError, match="k = 3"):
        peers.NumpyBlocked(mtsrnn.random_sru(8, 6))


@pytest.mark.skipif(not peers.cmsis_available(), reason="built without the cmsisdsp sdist")
def test_cmsis_peer_matches_reference(small):
    model, x = small
    np.testing.assert_allclose(peers.cmsis_matvec_forward(model, x), reference_h(model, x),
                               atol=TOL, rtol=0)


def test_cmsis_peer_is_built_in_ci():
    if TORCH_REQUIRED:  # ci/setup.sh fetches the sdist before installing mtsrnn
        assert peers.cmsis_available()


def _import_sru():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sru warns that it cannot build its CUDA kernel
            importlib.import_module("torch")
            return importlib.import_module("sru")
    except Exception as error:
        if TORCH_REQUIRED:
            pytest.fail(f"torch and sru are required here: {error!r}", pytrace=False)
        pytest.skip(f"torch or sru is not installed ({error})")


def test_sru_peers_match_reference():
    _import_sru()
    model = peers.make_model("sru", 24, seed=3)
    x = np.random.default_rng(4).standard_normal((11, 24)).astype(np.float32)
    rnn = peers.sru_module(model)
    expected = reference_h(model, x)
    np.testing.assert_allclose(peers.sru_step_by_step(rnn, x), expected, atol=TOL, rtol=0)
    np.testing.assert_allclose(peers.sru_whole_sequence(rnn, x), expected, atol=TOL, rtol=0)


def test_mtsrnn_default_variant_is_first():
    found, _missing = peers.runners(peers.make_model("sru", 8), np.zeros((4, 8), np.float32),
                                    with_torch=False)
    assert found[0].name == "mtsrnn" and mtsrnn.product_variants()[0] in found[0].note


def test_int8_runners_run_the_quantised_layer(small):
    """Each int8 runner is the model quantised by its scheme, with that
    scheme's default product: its output is the float64 reference of the same
    quantised arithmetic (docs/quantization.md: agreement within 1e-5), for
    every T, and it streams that model's weight bytes."""
    model, x = small
    found, _missing = peers.runners(model, x, with_torch=False)
    by_name = {r.name: r for r in found}
    assert [r.name for r in found][:3] == ["mtsrnn", "mtsrnn-int8-w", "mtsrnn-int8-wa"]
    for name, scheme in peers.INT8_RUNNERS.items():
        runner = by_name[name]
        assert runner.per_block and f"'{mtsrnn.product_variants(scheme)[0]}'" in runner.note
        assert runner.weight_bytes == mtsrnn.quantize(model, scheme).weight_bytes
        expected = reference_h(model, x, quantization=scheme)
        for block in (1, 4, 16):
            h, _state = runner.run(block)
            np.testing.assert_allclose(h, expected, atol=1e-5, rtol=0)
    without, _missing = peers.runners(model, x, with_torch=False, int8=False)
    assert not set(peers.INT8_RUNNERS) & {r.name for r in without}


def test_avx512_prefetch_path_matches_reference_variant():
    """The AVX-512 variant prefetches only for products of 32 MiB or more,
    which no other test reaches: one such product against the plain loop."""
    if "avx512" not in mtsrnn.product_variants():
        pytest.skip("this build has no AVX-512 variant")
    model = mtsrnn.random_qrnn(1024, 2752, seed=5)  # 8256 x 1024 floats: 33 MiB
    x = np.random.default_rng(6).standard_normal((5, 1024)).astype(np.float32)
    for block in (1, 5):
        fast, _ = model.forward(x, block=block, variant="avx512")
        plain, _ = model.forward(x, block=block, variant="reference")
        np.testing.assert_allclose(fast, plain, atol=1e-5, rtol=0)
    one, _ = model.forward(x, block=1, variant="avx512")
    assert np.array_equal(one, model.forward(x, block=5, variant="avx512")[0])


# ---------------------------------------------------------------- host grid

@pytest.fixture(scope="module")
def grid():
    settings = host.Settings(cells=["sru", "qrnn"], hidden=[16, 40], blocks=[1, 2, 4],
                             steps=8, rounds=2, min_seconds=0.0, with_torch=False,
                             dram_bytes=1 << 20, sgemm_size=64)
    return host.run(settings, log=lambda line: None)


def test_grid_has_every_cell(grid):
    assert [(c["cell"], c["hidden"]) for c in grid["cases"]] == [
        ("sru", 16), ("sru", 40), ("qrnn", 16), ("qrnn", 40)]
    for case in grid["cases"]:
        assert [row["block"] for row in case["rows"]] == [1, 2, 4]
        for row in case["rows"]:
            assert {"mtsrnn", "numpy"} <= set(row["seconds_per_step"])
            # int8 at the grid's T among host.INT8_BLOCKS only (1 here)
            int8 = set(peers.INT8_RUNNERS) & set(row["seconds_per_step"])
            assert int8 == (set(peers.INT8_RUNNERS) if row["block"] == 1 else set())
            assert all(s > 0 for s in row["seconds_per_step"].values())
        assert "sru" in case["missing"]
    json.dumps(grid)  # JSON-ready


def test_grid_ratios_and_bounds_are_consistent(grid):
    roof = grid["roofline"]
    assert roof["peak_flop_per_s"] >= max(roof["sgemm_flop_per_s"],
                                          roof["best_measured_flop_per_s"])
    assert set(roof["int8_peak_flop_per_s"]) == set(peers.INT8_RUNNERS)
    for name, peak in roof["int8_peak_flop_per_s"].items():
        assert peak == max(roof["peak_flop_per_s"], roof["best_measured_int8_flop_per_s"][name])
    for case in grid["cases"]:
        fixed = [n for n, per_t in case["depends_on_block"].items() if not per_t]
        assert set(case["int8_weight_bytes"]) == set(peers.INT8_RUNNERS)
        for name, nbytes in case["int8_weight_bytes"].items():
            # int8 product weights: a quarter of the bytes, plus scales and
            # the float32 rest (at these tiny sizes a large share)
            assert case["weight_bytes"] / 4 < nbytes < case["weight_bytes"] / 2, name
            assert case["depends_on_block"][name]
        for row in case["rows"]:
            t, seconds, bound = row["block"], row["seconds_per_step"], row["bound_seconds_per_step"]
            assert bound == pytest.approx(roofline.bound_seconds(
                case["weight_bytes"], case["flops_per_step"], t,
                case["bandwidth_bytes_per_s"], roof["peak_flop_per_s"]))
            bounds = {name: bound for name in seconds}
            assert set(row["int8_bound_seconds_per_step"]) == set(peers.INT8_RUNNERS) & set(seconds)
            for name, nbytes in case["int8_weight_bytes"].items():
                if name not in seconds:
                    continue
                bounds[name] = row["int8_bound_seconds_per_step"][name]
                assert bounds[name] == pytest.approx(roofline.bound_seconds(
                    nbytes, case["flops_per_step"], t,
                    case["int8_bandwidth_bytes_per_s"][name], roof["int8_peak_flop_per_s"][name]))
            # The bounds are bounds: no implementation beats the compute part
            # of its own (int8 products against the int8 peak).
            for a, s in seconds.items():
                peak = roof["int8_peak_flop_per_s"].get(a, roof["peak_flop_per_s"])
                assert s >= case["flops_per_step"] / peak, a
            for a, s in seconds.items():
                assert row["ratio_to_bound"][a] == pytest.approx(s / bounds[a])
                for b, ratio in row["ratio"][a].items():
                    assert ratio == pytest.approx(s / seconds[b])
                    assert ratio * row["ratio"][b][a] == pytest.approx(1.0)
            for name in fixed:  # a T-independent peer has one time for all T
                assert seconds[name] == case["rows"][0]["seconds_per_step"][name]


def test_report_and_plot(grid, tmp_path):
    text = host.format_report(grid)
    assert "SRU input = hidden = 40" in text and "x the bound" in text
    assert "int8 weights against float32 mtsrnn (float time / int8 time)" in text
    assert f"int8-wa {mtsrnn.product_variants('int8-wa')[0]}" in text
    assert host.INT8_BLOCKS == (1, 16, 64) and grid["settings"]["int8_blocks"] == [1]
    table = text.split("SRU input = hidden = 16")[1].split("speed-up")[0]
    row_t2 = next(line for line in table.splitlines() if line.split()[:1] == ["2"])
    assert row_t2.split()[4:6] == ["-", "-"]  # no int8 run at T = 2
    # int8 runners are not in the peers' speed-up table, which is float's.
    peers_table = text.split("mtsrnn's speed-up over each peer")[1].split("int8 weights")[0]
    assert "int8" not in peers_table
    assert "targets" in text
    pytest.importorskip("matplotlib")
    from mtsrnn.bench.plot import plot_host

    plot_host(grid, str(tmp_path / "host.png"))
    assert (tmp_path / "host.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_target_report_flags_misses():
    row = {"block": 1, "ratio_to_bound": {"mtsrnn": 1.3}, "ratio": {"mtsrnn": {"numpy": 1.1}}}
    row16 = {"block": 16, "ratio_to_bound": {"mtsrnn": 1.2},
             "ratio": {"mtsrnn": {"numpy": 0.5, "sru-step": 0.25},
                       "sru-step": {"mtsrnn": 4.0}}}
    lines = host.target_report({"cases": [{"cell": "sru", "hidden": 2048,
                                           "rows": [row, row16]}]})
    text = "\n".join(lines)
    assert "T=1 within 1.25x of the bandwidth bound: 1.300x MISSED" in text
    assert "T=16 within 1.5x of the compute bound: 1.200x met" in text
    assert "4.0x MISSED" in text
    assert "T=1 slower than NumPy blocked: 1.10x its time MISSED" in text


def test_int8_runners_run_at_every_t_if_the_grid_has_none_of_int8_blocks():
    settings = host.Settings(cells=["sru"], hidden=[8], blocks=[2, 3], steps=4, rounds=1,
                             min_seconds=0.0, with_torch=False, dram_bytes=1 << 20,
                             sgemm_size=32)
    data = host.run(settings, log=lambda line: None)
    assert data["settings"]["int8_blocks"] == [2, 3]
    for row in data["cases"][0]["rows"]:
        assert set(peers.INT8_RUNNERS) <= set(row["seconds_per_step"])
    settings.int8 = False
    data = host.run(settings, log=lambda line: None)
    assert not set(peers.INT8_RUNNERS) & set(data["cases"][0]["rows"][0]["seconds_per_step"])
    assert "int8 weights against" not in host.format_report(data)


def test_cli_bench_host_writes_json(tmp_path, capsys):
    out = tmp_path / "host.json"
    assert main(["bench", "host", "--cell", "qrnn", "--hidden", "8", "--block", "1,2",
                 "--steps", "4", "--rounds", "1", "--no-torch", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [r["block"] for r in data["cases"][0]["rows"]] == [1, 2]
    assert set(peers.INT8_RUNNERS) <= set(data["cases"][0]["rows"][0]["seconds_per_step"])
    assert "QRNN input = hidden = 8" in capsys.readouterr().out
    assert main(["bench", "host", "--cell", "qrnn", "--hidden", "8", "--block", "1",
                 "--steps", "4", "--rounds", "1", "--no-torch", "--no-int8",
                 "--json", str(out)]) == 0
    row = json.loads(out.read_text())["cases"][0]["rows"][0]
    assert not set(peers.INT8_RUNNERS) & set(row["seconds_per_step"])


def test_cli_rejects_unknown_cell(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "host", "--cell", "lstm"])
    assert "expected a comma-separated list of sru, qrnn" in capsys.readouterr().err


def test_bench_host_steps_must_cover_the_largest_block():
    with pytest.raises(ValueError, match="at least the largest block"):
        host.run(host.Settings(cells=["sru"], hidden=[8], blocks=[1, 16], steps=8),
                 log=lambda line: None)


# ---------------------------------------------------------------- dram

def test_parse_cachegrind(tmp_path):
    path = tmp_path / "cg.out"
    path.write_text("desc: I1 cache: ...\ncmd: probe\nevents: Ir DLmr DLmw\n"
                    "fn=main\n1 5 1 0\nsummary: 100 7 3\n")
    assert dram.parse_cachegrind(path) == {"Ir": 100, "DLmr": 7, "DLmw": 3}
    path.write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no events/summary"):
        dram.parse_cachegrind(path)


def test_dram_geometry_is_checked():
    with pytest.raises(ValueError, match="size,associativity,line_size"):
        dram.check_geometry("512k", "--ll")


def test_dram_json_gives_the_caches_as_numbers():
    data = json.loads(json.dumps(dram.to_json("sru", 8, "32768,8,64", "524288,16,64", [])))
    assert data["d1"] == {"size_bytes": 32768, "associativity": 8, "line_bytes": 64}
    assert data["ll"] == {"size_bytes": 524288, "associativity": 16, "line_bytes": 64}
    assert "cachegrind D1 32768,8,64, LL 524288,16,64" in dram.format_report(data)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_dram_counts_fall_with_the_block_size(capsys):
    """Real cachegrind on the installed probe: 768 KiB of SRU weights against a
    512 KiB last level, so each pass over them misses; at T = 4 a pass serves
    four steps. Deterministic counts, not times."""
    results = dram.measure("sru", 256, [1, 4], weights=["float32"], min_steps=8)
    by_block = {r.block: r for r in results}
    weight_lines = 3 * 256 * 256 * 4 / 64
    assert 0.9 * weight_lines <= by_block[1].ll_misses_per_step <= 1.2 * weight_lines
    assert by_block[4].ll_vs_t1 < 0.3
    assert by_block[4].instructions_per_step > 0
    text = dram.format_table("sru", 256, dram.DEFAULT_D1, dram.DEFAULT_LL, results)
    assert "LL misses/step" in text


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("cell, gates", [("mingru", 2), ("minlstm", 3)])
def test_dram_min_cells_stream_their_gate_rows(cell, gates):
    """minGRU (2 gate blocks) and minLSTM (3) in the probe: at T = 1 a step
    misses on every weight line (G * 256 * 256 floats against a 128 KiB last
    level), at T = 4 a pass serves four steps."""
    results = dram.measure(cell, 256, [1, 4], weights=["float32"], min_steps=8,
                           ll="131072,16,64")
    by_block = {r.block: r for r in results}
    weight_lines = gates * 256 * 256 * 4 / 64
    assert 0.9 * weight_lines <= by_block[1].ll_misses_per_step <= 1.2 * weight_lines
    assert by_block[4].ll_vs_t1 < 0.3


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_dram_whole_model_streams_every_stage_once_per_block():
    """The head case (norm -> SRU -> dense relu -> dense 16 -> softmax) in the
    probe: at T = 1 a step misses on the lines of all three products' weights
    (against a 128 KiB last level), at T = 4 a pass serves four steps."""
    results = dram.measure("head", 256, [1, 4], weights=["float32"], min_steps=8,
                           ll="131072,16,64")
    by_block = {r.block: r for r in results}
    weight_lines = (3 * 256 * 256 + 256 * 256 + 16 * 256) * 4 / 64
    assert 0.9 * weight_lines <= by_block[1].ll_misses_per_step <= 1.2 * weight_lines
    assert by_block[4].ll_vs_t1 < 0.3


def test_cli_bench_dram_reports_a_missing_probe(capsys):
    assert main(["bench", "dram", "--probe", "/nonexistent/probe", "--block", "1"]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_dram_int8_weights_stream_a_quarter_of_the_lines():
    """Real cachegrind, float32 and both int8 schemes side by side: SRU 512
    (3 MiB of float32 weights, 768 KiB of int8) against a 256 KiB last level,
    so every scheme's weights miss on each pass. int8 weights are a quarter of
    the bytes: at T = 1 the LL misses per step are the weight lines of each
    scheme, and at T = 16, with the inputs, outputs and workspace now a larger
    share, int8 stays well below float32. Deterministic counts, not times."""
    ll = "262144,16,64"
    results = dram.measure("sru", 512, [1, 16], min_steps=16, ll=ll)
    assert [(r.block, r.weights) for r in results] == [
        (t, w) for t in (1, 16) for w in ("float32", "int8-w", "int8-wa")]
    at = {(r.weights, r.block): r for r in results}
    for scheme, weight_bytes in (("float32", 4), ("int8-w", 1), ("int8-wa", 1)):
        lines = 3 * 512 * 512 * weight_bytes / 64
        assert 0.95 * lines <= at[scheme, 1].ll_misses_per_step <= 1.1 * lines, scheme
        assert at[scheme, 16].ll_vs_t1 < 0.1, scheme
        assert at[scheme, 16].ll_vs_t1 == pytest.approx(
            at[scheme, 16].ll_misses_per_step / at[scheme, 1].ll_misses_per_step)
    for scheme in ("int8-w", "int8-wa"):
        assert 0.24 <= at[scheme, 1].ll_vs_float <= 0.27, scheme
        assert at[scheme, 16].ll_vs_float < 0.4, scheme
        assert at[scheme, 16].ll_vs_float == pytest.approx(
            at[scheme, 16].ll_misses_per_step / at["float32", 16].ll_misses_per_step)
        # Each scheme ran the default (first) product of its own table.
        assert at[scheme, 16].variant == dram.probe_variants(dram.probe_path())[scheme][0]
    assert at["float32", 1].ll_vs_float == 1.0
    text = dram.format_table("sru", 512, dram.DEFAULT_D1, ll, results)
    assert "x float" in text and "int8-wa at T=16" in text
    data = json.loads(json.dumps(dram.to_json("sru", 512, dram.DEFAULT_D1, ll, results)))
    assert data["weights"] == ["float32", "int8-w", "int8-wa"]
    assert {"weights", "ll_vs_t1", "ll_vs_float"} <= set(data["results"][0])


def test_dram_bad_scheme_and_variant_names_say_what_exists(capsys):
    with pytest.raises(ValueError, match="weights must be among float32, int8-w, int8-wa"):
        dram.measure("sru", 8, [1], weights=["int4"])
    with pytest.raises(ValueError, match=r"no int8-w product variant 'nope' in the probe's "
                                         r"build; built: .*tiled.*reference"):
        dram.measure("sru", 8, [1], variants={"int8-w": "nope"})
    with pytest.raises(ValueError, match="int8-wa, which is not measured"):
        dram.measure("sru", 8, [1], weights=["float32"], variants={"int8-wa": "tiled"})
    with pytest.raises(ValueError, match="names no weight scheme.*SCHEME=VARIANT"):
        dram.parse_variants("tiled", ["float32", "int8-w"])
    with pytest.raises(ValueError, match="one of the measured weights"):
        dram.parse_variants("int4=tiled", ["float32", "int8-w"])
    assert dram.parse_variants("tiled", ["int8-wa"]) == {"int8-wa": "tiled"}
    assert dram.parse_variants("float32=reference,int8-w=tiled", ["float32", "int8-w"]) == {
        "float32": "reference", "int8-w": "tiled"}
    # The CLI: argparse rejects an unknown scheme, a bad variant is reported
    # before any valgrind run.
    with pytest.raises(SystemExit):
        main(["bench", "dram", "--weights", "float32,int4"])
    assert "expected a comma-separated list of float32, int8-w, int8-wa" in \
        capsys.readouterr().err
    assert main(["bench", "dram", "--block", "1", "--gemm", "int8-wa=nope"]) == 1
    assert "no int8-wa product variant 'nope'" in capsys.readouterr().err


def test_dram_probe_rejects_bad_arguments():
    """The C probe itself: exit 2 and a message naming what exists."""
    import subprocess

    probe = str(dram.probe_path())
    listed = subprocess.run([probe, "--list"], capture_output=True, text=True, check=True)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(dram.WEIGHTS)
    for args, message in (
            (["sru", "8", "1", "1", "1", "int4"], "unknown weight scheme 'int4'"),
            (["qrnn", "8", "1", "1", "1", "int8-w", "nope"],
             "unknown int8-w gemm variant 'nope'; this CPU runs:"),
            (["sru", "8", "0", "1", "1"], "usage"),
            (["lstm", "8", "1", "1", "1"], "usage")):
        done = subprocess.run([probe, *args], capture_output=True, text=True)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    done = subprocess.run([probe, "qrnn", "8", "3", "5", "2", "int8-wa", "reference"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("weights int8-wa gemm reference checksum ")


def test_device_report_labels_the_bench_only_peer(tmp_path):
    """bench device's report, per-MAC table and plot show a peer beside the
    int8-wa variants, marked as a peer with what its outputs are."""
    from mtsrnn.bench import device

    def rows(per_step):
        return [{"block": b, "steps": 16, "runs": 1, "totals": {},
                 "per_step": {"instructions": v, "instructions_per_mac": v / 1000}}
                for b, v in per_step]

    data = {"where": "qemu-mps2-an386 (QEMU, x.elf)", "board": {"name": "mps2-an386"},
            "model": {"index": 3, "name": "demo_sru_i8wa", "cell": "sru", "layers": 2,
                      "weights": "int8-wa", "weight_bytes": 1000},
            "counters": ["instructions"], "primary_counter": "instructions",
            "emulated": True, "note": "n", "product_only": True, "t1_added": False,
            "variant": "dsp", "results": rows([(1, 2000.0), (16, 1000.0)]),
            "variants": {"dsp": rows([(1, 2000.0), (16, 1000.0)]),
                         "tiled": rows([(1, 3000.0), (16, 2500.0)])},
            "peers": {"cmsis-dsp-q7": {"output": "q7 outputs (saturated)", "weights": "int8-wa",
                                       "results": rows([(1, 2200.0), (16, 2200.0)])}}}
    text = device.format_report(data)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("T "))
    assert header.split()[2:] == ["dsp", "/T=1", "/cmsis", "tiled", "/T=1", "/cmsis",
                                  "cmsis-dsp-q7", "(peer)", "/T=1"]
    assert "ratio to cmsis-dsp-q7 (peer), CMSIS-DSP's per-step product, a bench-only peer" \
        in text
    assert "cmsis-dsp-q7 (peer): in place of the int8-wa product; q7 outputs (saturated)" in text
    t16 = next(line for line in text.splitlines() if line.split()[:1] == ["16"])
    assert "0.455" in t16.split()  # dsp 1000 / peer 2200 at T = 16
    per_mac = text.split("per multiply-add\n")[1].splitlines()
    assert per_mac[0].split()[-2:] == ["cmsis-dsp-q7", "(peer)"]
    assert per_mac[2].split()[-1] == "2.200"
    if importlib.util.find_spec("matplotlib"):
        from mtsrnn.bench.plot import plot_device

        plot_device(data, str(tmp_path / "d.png"))
        assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
