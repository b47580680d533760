"""The harness on the QEMU Cortex-M boards (MTSRNN_FIRMWARE_DIR holding the
.elf files, ci/firmware.sh): the demo and built-in models against the host,
every product variant against the float64 reference, the int8 models, the
CLI, and QEMU gone afterwards whatever happens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

from harness_devices import (  # noqa: E402
    CORTEX_M_BOARDS,
    EXPECTED_INT8WA,
    EXPECTED_VARIANTS,
    FULL_BOARDS,
    INT8_DEMO_BOARDS,
    QEMU_BOARDS,
    VARIANT_BOARDS,
    _alive,
    _check_against_host,
    _check_bad_variant,
    _check_every_variant,
    _check_faults,
    _check_int8_models,
    _check_selftest_and_bench,
    _check_whole_model_demos,
    _firmware,
    _golden,
    _host_models,
    _qemu_pids,
    _save_models,
    _test_models,
    needs_qemu,
)
from harness_peer import _frames  # noqa: E402
from mtsrnn.harness import (  # noqa: E402
    BOARDS,
    BoardError,
    DeviceError,
    ProtocolError,
    open_board,
    start_qemu,
)


@pytest.mark.parametrize("board", QEMU_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_demo_models(board):
    elf = _firmware(board)
    before = _qemu_pids()
    with open_board(board) as session:
        pid = session.pid
        assert pid in _qemu_pids()
        dev = session.device
        info = dev.identify()
        assert info.board_name == BOARDS[board].machine
        assert info.counters.get("instructions") and not info.counters.get("cycles")
        twins = _host_models(dev, [elf.parents[1] / "models"])
        assert _check_against_host(dev, twins) >= 2, f"no .mts twins under {elf.parents[1]}"
        worst = _check_whole_model_demos(dev, twins)
        print(f"{board}: whole-model demos, max |device - host| per variant: {worst}")
        _check_selftest_and_bench(dev)
        _check_faults(dev)
        # The core's own products are the defaults: the int8-wa whole model
        # on every board (SMLAD "dsp" on M4F/M7/M33, "armv6m" on the M0).
        arch = BOARDS[board].arch
        dev.select(next(m.index for m in dev.identify().models if m.name == "demo_head_i8wa"))
        assert dev.variants()[0][0].name == EXPECTED_INT8WA[arch]
        dev.select(0)
        assert dev.variants()[0][0].name == EXPECTED_VARIANTS[arch]
    assert pid not in _qemu_pids() and not _alive(pid)
    assert _qemu_pids() <= before


@pytest.mark.parametrize("board", FULL_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_with_built_in_models(board, tmp_path):
    """Firmware built with several SRU and QRNN models, each against the host."""
    from mtsrnn.harness import build_firmware, get_board

    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("cmake") is None:
        pytest.skip("no arm-none-eabi-gcc or cmake to build firmware")
    models = _test_models()
    elf = build_firmware(get_board(board), _save_models(tmp_path, models))
    with open_board(board, firmware=elf) as session:
        dev = session.device
        assert [m.name for m in dev.identify().models] == list(models)
        assert _check_against_host(dev, models) == len(models)
        assert all(r["passed"] for r in dev.selftest())
        if BOARDS[board].arch in EXPECTED_VARIANTS:
            # sizes that are no multiple of the tiles: every variant's tails
            _check_every_variant(dev, models)


@needs_qemu[0]
@needs_qemu[1]
def test_qemu_killed_mid_command_is_a_clear_error():
    board = QEMU_BOARDS[0]
    _firmware(board)
    session = start_qemu(BOARDS[board], timeout=5.0)
    try:
        session.device.identify()
        threading.Timer(0.3, session.child.process.kill).start()
        start = time.monotonic()
        with pytest.raises(ProtocolError, match="closed") as caught:
            while time.monotonic() - start < 10.0:  # commands until the kill hits one
                session.device.bench([1, 2, 4, 8, 16, 32],
                                     steps=session.device.info.max_steps, timeout=30.0)
        assert time.monotonic() - start < 10.0, caught.value
    finally:
        session.close()
    assert session.pid not in _qemu_pids()


@needs_qemu[0]
@needs_qemu[1]
def test_qemu_cleaned_up_on_error_and_interrupt():
    board = QEMU_BOARDS[0]
    _firmware(board)
    for exception in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(exception):
            with open_board(board) as session:
                pid = session.pid
                raise exception("stop")
        assert pid not in _qemu_pids()
    # a process killed by SIGTERM stops its emulator too (the emulator is its
    # child, so look for it by pid, not among this process's children)
    script = ("import time, sys\n"
              "from mtsrnn.harness import open_board\n"
              f"with open_board({board!r}) as s:\n"
              "    print(s.pid, flush=True)\n"
              "    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             env={**os.environ}, cwd=str(Path(__file__).parents[2]))
    try:
        pid = int(child.stdout.readline())
        assert _alive(pid)
        child.terminate()
        child.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.parametrize("board", VARIANT_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_every_variant_against_the_reference(board):
    """The firmware's own variant (m4f on the Cortex-M4F, helium on the M55)
    and every other product it offers, the CMSIS-DSP baseline included,
    each selected and checked against the float64 reference on its core."""
    elf = _firmware(board)
    with open_board(board) as session:
        dev = session.device
        twins = _host_models(dev, [elf.parents[1] / "models"])
        assert len(twins) >= 2, f"no .mts twins under {elf.parents[1]}"
        names = _check_every_variant(dev, twins)
        assert names[0] == EXPECTED_VARIANTS[BOARDS[board].arch], names
        assert "reference" in names
        if (elf.parents[1] / "CMakeCache.txt").is_file() and "MTSRNN_FW_CMSIS:BOOL=ON" in (
                elf.parents[1] / "CMakeCache.txt").read_text():
            assert names[-1] == "cmsis-dsp-matvec", names
        _check_bad_variant(dev)


@pytest.mark.parametrize("board", INT8_DEMO_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_int8_models(board, capsys, tmp_path):
    from mtsrnn import cli

    elf = _firmware(board)
    models_dir = elf.parents[1] / "models"
    with open_board(board) as session:
        dev = session.device
        twins = _host_models(dev, [models_dir])
        products = _check_int8_models(dev, elf, twins)
    # The core's own int8-wa product is the default (SMLAD where the DSP
    # extension is, the Armv6-M product on the M0, "tiled" on the M3).
    assert products["int8-wa"][0] == EXPECTED_INT8WA[BOARDS[board].arch], products
    if BOARDS[board].arch in EXPECTED_VARIANTS and "cmsis-dsp-matvec" in products["float32"]:
        assert all("cmsis-dsp-matvec" not in products[s] for s in ("int8-w", "int8-wa"))
    # The CLI: selftest names the schemes; `run --model q.mts` uploads the
    # file (protocol 2.1: never a built-in model of its shape in its place);
    # with --index the built-in model runs, checked against the file.
    assert cli.main(["selftest", "--board", board, "--firmware", str(elf)]) == 0
    out = capsys.readouterr().out
    assert "demo_sru_i8wa (int8-wa weights)" in out and "demo_sru_i8w (int8-w weights)" in out
    x = _frames(np.random.default_rng(5), 20, 64)
    np.save(tmp_path / "x.npy", x)
    y = tmp_path / "y.npy"
    upload = models_dir / "demo_sru_i8wa.mts"
    run_upload = ["run", "--board", board, "--firmware", str(elf), "--model", str(upload),
                  "--input", str(tmp_path / "x.npy"), "-o", str(y)]
    half = BOARDS[board].arena_bytes // 2  # the arena's two halves: one holds the file
    if upload.stat().st_size > half:
        # e.g. the netduinoplus2's 2 x 16 KB arena: a clear refusal, no substitute
        assert cli.main(run_upload) == 2
        err = capsys.readouterr().err
        assert "does not fit the upload arena" in err and "needs" in err, err
    else:
        assert cli.main(run_upload) == 0
        assert "(upload)" in capsys.readouterr().out
        np.testing.assert_allclose(np.load(y), _golden(twins["demo_sru_i8wa"], x), atol=1e-5,
                                   rtol=0)
    assert cli.main(["run", "--board", board, "--firmware", str(elf), "--model",
                     str(models_dir / "demo_sru_i8wa.mts"), "--index", "demo_sru_i8wa",
                     "--input", str(tmp_path / "x.npy"), "-o", str(y)]) == 0
    assert "(demo_sru_i8wa)" in capsys.readouterr().out
    np.testing.assert_allclose(np.load(y), _golden(twins["demo_sru_i8wa"], x), atol=1e-5,
                               rtol=0)
    assert cli.main(["bench", "device", "--board", board, "--firmware", str(elf), "--index",
                     "demo_sru_i8w", "--variant", "nosuch", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no variant nosuch for model" in err and "int8-w weights" in err
    assert ", ".join(products["int8-w"]) in err


def test_model_firmware_is_cached_per_source_tree(tmp_path, monkeypatch):
    """Two checkouts sharing the per-user cache must not share a CMake build
    tree (CMake refuses a build tree made from another source tree): the
    cache directory differs by source tree, and by model bytes and options,
    and is the same when all of them are."""
    from mtsrnn.harness import get_board
    from mtsrnn.harness.firmware import model_firmware_dir

    monkeypatch.setenv("MTSRNN_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "m.mts"
    model.write_bytes(b"one model")
    board = get_board(QEMU_BOARDS[0])
    here = model_firmware_dir(board, [model], tmp_path / "a", None, None)
    assert here == model_firmware_dir(board, [model], tmp_path / "a", None, None)
    assert here.parent == tmp_path / "cache" / "fw-model"
    assert here != model_firmware_dir(board, [model], tmp_path / "b", None, None)
    assert here != model_firmware_dir(board, [model], tmp_path / "a", 8, None)
    model.write_bytes(b"another model")
    assert here != model_firmware_dir(board, [model], tmp_path / "a", None, None)
    with pytest.raises(BoardError, match="no such file"):
        model_firmware_dir(board, [tmp_path / "absent.mts"], tmp_path / "a", None, None)


def _probe_inputs() -> tuple[np.ndarray, np.ndarray]:
    """The `peer <name>` probe's Wq (6 x 20) and Xq (2 x 20), from the
    sequence docs/protocol.md ("Peers") defines."""
    state, values = 0x2545F491, []
    for _ in range(6 * 20 + 2 * 20):
        state = (state * 1664525 + 1013904223) % 2**32
        values.append((state >> 27) - 16)
    v = np.array(values, dtype=np.float64)
    return v[:120].reshape(6, 20), v[120:].reshape(2, 20)


@pytest.mark.parametrize("board", CORTEX_M_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_cmsis_q7_peer(board, capsys):
    """CMSIS-DSP's arm_mat_vec_mult_q7 beside the int8-wa products on every
    board that runs int8 models: a bench-only peer whose probe output is
    (W x) >> 7 (float64 reference, no saturation), never a variant, and
    measured by bench device per step and per multiply-add beside them."""
    from mtsrnn.bench import device as bench
    from mtsrnn.harness.peers import list_peers, probe

    elf = _firmware(board)
    cache = elf.parents[1] / "CMakeCache.txt"
    if not cache.is_file() or "MTSRNN_FW_CMSIS:BOOL=ON" not in cache.read_text():
        pytest.skip(f"{elf} was built without CMSIS-DSP (MTSRNN_FW_CMSIS=OFF)")
    with open_board(board) as session:
        dev = session.device
        assert [(p.name, p.weights) for p in list_peers(dev)] == [("cmsis-dsp-q7", "int8-wa")]
        w, x = _probe_inputs()
        sums = x @ w.T  # (steps, rows)
        assert np.abs(sums).max() < 128 * 128  # no q7 saturation on this probe
        got = probe(dev, "cmsis-dsp-q7")
        np.testing.assert_array_equal(got["y"], np.floor(sums / 128.0))
        # Never a variant: refused by name, not listed, not in selftest.
        model = next(m for m in dev.identify().models if m.name == "demo_head_i8wa")
        dev.select(model.index)
        with pytest.raises(DeviceError, match="bench-only peer") as refused:
            dev.select_variant("cmsis-dsp-q7")
        assert refused.value.code == "bad-args"
        offered = [v.name for v in dev.variants()[0]]
        assert "cmsis-dsp-q7" not in offered
        row = next(r for r in dev.selftest() if r["name"] == "demo_head_i8wa")
        assert row["passed"] and row["variants"] == len(offered)
        with pytest.raises(DeviceError, match="no peer cmsis-dsp-q7"):
            dev.select(0)  # a float model: no int8-wa product to replace
            dev.bench([1], steps=4, peer="cmsis-dsp-q7")
        dev.select(model.index)
        product = bench.run(session, dev.info.model(), [1, 4], product=True, progress=False)
        whole = bench.run(session, dev.info.model(), [1], steps=8, progress=False)
    for data in (product, whole):
        peer = data["peers"]["cmsis-dsp-q7"]
        assert "q7" in peer["output"] and peer["weights"] == "int8-wa"
        default = data["variants"][EXPECTED_INT8WA[BOARDS[board].arch]]
        for mine, theirs in zip(peer["results"], default, strict=True):
            ratio = mine["per_step"]["instructions"] / theirs["per_step"]["instructions"]
            assert 0.05 < ratio < 20, (board, ratio)  # the same work within reason
        text = bench.format_report(data)
        assert "cmsis-dsp-q7 (peer)" in text and "saturated" in text
    per_mac = [r["per_step"]["instructions_per_mac"] for r in product["peers"]["cmsis-dsp-q7"][
        "results"]]
    assert all(0.5 < v < 200 for v in per_mac), per_mac
    if board == CORTEX_M_BOARDS[0]:  # the CLI's one-line refusal (one more boot)
        from mtsrnn import cli

        assert cli.main(["bench", "device", "--board", board, "--firmware", str(elf),
                         "--index", "demo_head_i8wa", "--variant", "cmsis-dsp-q7",
                         "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "cmsis-dsp-q7 is a bench-only peer, not a variant" in err, err
    print(f"{board}: cmsis-dsp-q7 instructions per multiply-add (T = 1, 4): {per_mac}")
