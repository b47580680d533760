"""What the harness tests against real device programs share: the models
they load or build in, the checks against the host and the float64
reference, and where the Linux device program, the QEMU boards' firmware and
the Cortex-A programs are (MTSRNN_DEVICE, MTSRNN_FIRMWARE_DIR, the build
tree). Not a test module."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from harness_peer import (  # noqa: E402
    TOL,
    _frames,
)
from mtsrnn.harness import (  # noqa: E402
    BOARDS,
    BoardError,
    Device,
    DeviceError,
    ProtocolError,
)
from mtsrnn.harness.client import encode_payload  # noqa: E402

# ------------------------------------------------- (a) the Linux device program

DEVICE_PROGRAM = os.environ.get("MTSRNN_DEVICE")
needs_device = pytest.mark.skipif(
    not DEVICE_PROGRAM, reason="set MTSRNN_DEVICE=/path/to/mtsrnn-device to test it")
BLOCKS = (1, 2, 3, 8, 32)


def _test_models():
    """Models of several sizes for the device to load or build in: SRU and QRNN,
    float and int8 (sizes no multiple of the products' tiles)."""
    return {
        "t_sru_small": mtsrnn.random_sru(5, 7, num_layers=1, seed=11),
        "t_sru_deep": mtsrnn.random_sru(16, 16, num_layers=3, seed=12),
        "t_qrnn_w2": mtsrnn.random_qrnn(10, 12, num_layers=2, seed=13, window=2),
        "t_qrnn_ifo": mtsrnn.random_qrnn(9, 20, num_layers=1, seed=14, pooling="ifo"),
        "t_sru_i8w": mtsrnn.quantize(mtsrnn.random_sru(13, 13, num_layers=2, seed=15),
                                     "int8-w"),
        "t_qrnn_i8wa": mtsrnn.quantize(
            mtsrnn.random_qrnn(11, 18, num_layers=2, seed=16, window=2), "int8-wa"),
    }


def _save_models(directory: Path, models) -> list[Path]:
    paths = []
    for name, model in models.items():
        path = directory / f"{name}.mts"
        mtsrnn.mtsfile.save(model, str(path))
        paths.append(path)
    return paths


def _host_models(dev: Device, model_dirs: list[Path], extra: dict | None = None) -> dict:
    """Host twins of the device's models by name: the given ones and the
    demo models' .mts files the build wrote next to the device's image."""
    twins = dict(extra or {})
    for model in dev.info.models:
        if model.name in twins:
            continue
        for directory in model_dirs:
            path = directory / f"{model.name}.mts"
            if path.is_file():
                twins[model.name] = mtsrnn.load(str(path))
                break
    return twins


def _check_against_host(dev: Device, twins: dict) -> int:
    """Every device model with a host twin: outputs for several T, streaming
    across infer calls, reset. Returns how many models were compared."""
    info = dev.identify()
    rng = np.random.default_rng(7)
    compared = 0
    for model in info.models:
        twin = twins.get(model.name)
        if twin is None:
            continue
        dev.select(model.index)
        steps = min(info.max_steps, 24)
        x = _frames(rng, steps, model.input)
        for block in (b for b in BLOCKS if b <= info.max_block):
            expected, _ = twin.forward(x, block=block)
            dev.reset()
            # streaming: three calls, the state carried by the device
            cuts = [0, steps // 3, steps // 3 + 1, steps]
            parts = [dev.infer(x[a:b], block=block)[0] for a, b in zip(cuts, cuts[1:], strict=False)
                     if b > a]
            np.testing.assert_allclose(np.concatenate(parts), expected, atol=TOL, rtol=0,
                                       err_msg=f"{model.name} T={block}")
        dev.reset()  # after a reset the same input gives the first output again
        h, counters = dev.infer(x[:4], block=2)
        np.testing.assert_allclose(h, twin.forward(x[:4], block=2)[0], atol=TOL, rtol=0)
        assert counters and all(v >= 0 for v in counters.values())
        compared += 1
    return compared


def _check_selftest_and_bench(dev: Device) -> None:
    results = dev.selftest()
    assert all(r["passed"] is not False for r in results), results
    assert any(r["passed"] for r in results)
    info = dev.info
    blocks = [b for b in (1, 2, 4, 8, 16, 32) if b <= info.max_block]
    rows = dev.bench(blocks, steps=min(32, info.max_steps))
    assert [r["block"] for r in rows] == blocks
    for row in rows:
        assert all(row[c] > 0 for c in info.available_counters if c in row), row


def _check_faults(dev: Device) -> None:
    """Noise, overlong lines, bad and short payloads against a real device:
    each an error, the device still right afterwards, no wrong data accepted."""
    info = dev.identify()
    model = info.model()
    dev.transport.write(b"\x00\xff\x13garbage\n")  # noise whose answer may come late
    with pytest.raises(DeviceError) as caught:
        dev.command("nonsense-command")
    assert caught.value.code == "unknown-command" and "nonsense" in caught.value.reason
    lines = dev.exchange_raw(b"id " + b"x" * 700 + b"\n")
    assert [line.split(" ")[0] for line in lines] == ["e-overflow"]
    lines = dev.exchange_raw(bytes(range(1, 10)) + b"\xfe\xff zz\n")
    # The host put the device in checked mode: a line without a check is refused.
    assert lines and lines[0].startswith("e-check missing")
    x = _frames(np.random.default_rng(8), 3, model.input)
    payload = x.tobytes()
    with pytest.raises(DeviceError) as caught:  # bad CRC
        dev.command(f"infer 3 1 {len(payload)} {zlib.crc32(payload) ^ 1:08x}",
                    data=encode_payload(payload))
    assert caught.value.code == "payload"
    chunks = encode_payload(payload)
    chunks[0] = chunks[0][:-1]  # a dropped hex digit: odd length
    with pytest.raises(DeviceError) as caught:
        dev.command(f"infer 3 1 {len(payload)} {zlib.crc32(payload):08x}", data=chunks)
    assert caught.value.code == "payload"
    chunks = encode_payload(payload)
    chunks[1] = chunks[1][:-2]  # a dropped byte: the device waits for the rest
    with pytest.raises((ProtocolError, DeviceError)):
        dev.command(f"infer 3 1 {len(payload)} {zlib.crc32(payload):08x}", data=chunks,
                    timeout=1.0)
    with pytest.raises(DeviceError) as caught:  # a command instead of the data
        dev.command(f"infer 3 1 {len(payload)} {zlib.crc32(payload):08x}", data=["id"])
    assert caught.value.code == "payload"
    with pytest.raises(DeviceError) as caught:
        dev.command(f"infer 3 {info.max_block + 1} {len(payload)} "
                    f"{zlib.crc32(payload):08x}", data=encode_payload(payload))
    assert caught.value.code == "bad-args"
    # still answering, and right: the failed commands had no effect on the state
    dev.reset()
    h1, _ = dev.infer(x, block=1)
    dev.reset()
    h2, _ = dev.infer(x, block=1)
    np.testing.assert_array_equal(h1, h2)
    assert dev.identify().models


def _device_dirs(program: str) -> list[Path]:
    return [Path(program).resolve().parent / "models"]


# ----------------------------------------------------- (c) QEMU Cortex-M boards

FIRMWARE_DIR = os.environ.get("MTSRNN_FIRMWARE_DIR")
QEMU_BOARDS = [name for name, board in BOARDS.items() if board.kind == "qemu"]
needs_qemu = [
    pytest.mark.skipif(not FIRMWARE_DIR, reason="set MTSRNN_FIRMWARE_DIR to the Cortex-M "
                       ".elf files' build root (ci/firmware.sh: build/) to boot them in QEMU"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]


def _qemu_pids(emulator: str = "qemu-system-arm") -> set[int]:
    """Running `emulator` processes started by this process (other
    programs on the machine may run their own)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if emulator.encode() not in (entry / "cmdline").read_bytes():
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[1]) == os.getpid():
                    pids.add(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _firmware(board_name: str) -> Path:
    from mtsrnn.harness import find_firmware, get_board

    try:
        return find_firmware(get_board(board_name))
    except BoardError as error:
        pytest.skip(str(error))


# The blocked products each Cortex-M build must offer first (the kernels'
# table for the core, then the CMSIS-DSP baseline when the firmware was built
# with it): float32 on the FPU cores the register-blocked "m4f" (M4F, M7,
# M33) or "helium" (M55), on the FPU-less cores (M3, M0: soft float) the
# portable "tiled"; int8-wa the SMLAD "dsp" where the DSP extension is (M4F,
# M7, M33), "helium" on the M55, "armv6m" on Armv6-M (M0), "tiled" on the M3
# (Thumb-2's MLA: no core-specific product beats it there).
EXPECTED_VARIANTS = {"m4f": "m4f", "m55": "helium", "m7": "m4f", "m33": "m4f", "m3": "tiled",
                     "m0": "tiled"}
EXPECTED_INT8WA = {"m4f": "dsp", "m55": "helium", "m7": "dsp", "m33": "dsp", "m3": "tiled",
                   "m0": "armv6m"}
CORTEX_M_BOARDS = [name for name in QEMU_BOARDS if BOARDS[name].arch in EXPECTED_VARIANTS]
# CI time: the boards every test runs on. The others (M3, M7, M33,
# netduinoplus2) run the demo-model test (selftest of every product of every
# built-in model, infer against the host, bench: 40-60 s each, measured on
# the shared 2-core machine) and the int8 test (10-16 s); the every-variant
# test (85-110 s on each of them, the same products as the an386's) and the
# firmware build with the test models (30-60 s) run on the first two boards
# and the M0 (microbit: its own instruction set and product) only.
FULL_BOARDS = ["qemu-mps2-an386", "qemu-mps3-an547", "qemu-microbit"]
VARIANT_BOARDS = FULL_BOARDS
# The boards whose demo set holds the int8 SRU pair (all but the microbit,
# whose 16 KB of RAM holds the whole-model pair only).
INT8_DEMO_BOARDS = [name for name in CORTEX_M_BOARDS if name != "qemu-microbit"]


def _golden(model, x):
    """The independent float64 NumPy reference (mtsrnn.reference) for x
    from the zero state, with the model's weight scheme (float32 or int8)."""
    from mtsrnn import reference

    config = model.config
    if model.cell == "model":  # a whole model (demo_head): stage by stage
        return np.asarray(reference.model_forward(model.reference_parts(), x,
                                                  quantization=model.quantization), np.float64)
    if model.cell == "sru":
        h, _c = reference.sru_forward(
            model.state_dict(), x, use_tanh=config["use_tanh"],
            bidirectional=config["bidirectional"], has_skip_term=config["has_skip_term"],
            normalize_after=config["normalize_after"], layer_norm_eps=config["layer_norm_eps"],
            quantization=model.quantization)
    else:
        h, _c, _prev = reference.qrnn_forward(
            model.state_dict(), x, window=config["window"], output_gate=config["output_gate"],
            zoneout=config["zoneout"], pooling=config["pooling"],
            quantization=model.quantization)
    return np.asarray(h, np.float64)


def _check_every_variant(dev: Device, twins: dict) -> list[str]:
    """Per model with a twin, each variant it offers (the table of its
    weights' scheme), chosen with `variant <name>`: streamed over several T
    against the float64 reference of its scheme; bench with variant=;
    selftest ran every model through all of its variants. Returns the
    variants of the first model (a float demo on every device here)."""
    info = dev.identify()
    rng = np.random.default_rng(17)
    offered: dict[int, list[str]] = {}
    for model in info.models:
        dev.select(model.index)
        variants, selected = dev.variants()
        names = offered[model.index] = [k.name for k in variants]
        assert len(set(names)) == len(names) and selected.name in names, variants
        twin = twins.get(model.name)
        if twin is None:
            continue
        steps = min(info.max_steps, 21)
        x = _frames(rng, steps, model.input)
        expected = _golden(twin, x)
        for variant in names:
            assert dev.select_variant(variant).name == variant
            assert dev.variants()[1].name == variant
            for block in (b for b in (1, 3, 4, 16) if b <= info.max_block):
                dev.reset()
                cuts = [0, 5, steps]  # the state carried across two calls
                h = np.concatenate([dev.infer(x[a:b], block=block)[0]
                                    for a, b in zip(cuts, cuts[1:], strict=False)])
                np.testing.assert_allclose(h, expected, atol=TOL, rtol=0,
                                           err_msg=f"{variant}: {model.name} T={block}")
            rows = dev.bench([1, 4], steps=8, variant=variant)
            assert [r["block"] for r in rows] == [1, 4]
            assert all(r[c] >= 0 for r in rows for c in info.available_counters if c in r), rows
        dev.select_variant(names[0])
        assert dev.variants()[1].index == 0
    dev.select(0)
    results = dev.selftest()
    assert all(r["passed"] and r["variants"] == len(offered[r["index"]])
               and r["worst_variant"] in offered[r["index"]] for r in results), results
    return offered[0]


def _check_bad_variant(dev: Device) -> None:
    """An unknown variant is an e-bad-args reply that changes nothing, also
    through the 1.0 alias `kernel` (and `kernel=`), in its 1.0 words."""
    before = dev.variants()[1]
    for command in ("variant nosuch", "bench 1 variant=nosuch", "bench 1 variant=",
                    "variant m4f helium", "bench 1 variant=helium variant=m4f",
                    "bench 1 variant=helium kernel=m4f", "bench 1 kernel=m4f variant=helium",
                    "kernel nosuch", "bench 1 kernel=nosuch", "bench 1 kernel=",
                    "kernel m4f helium", "bench 1 kernel=helium kernel=m4f"):
        with pytest.raises(DeviceError) as caught:
            dev.command(command)
        assert caught.value.code == "bad-args", command
    with pytest.raises(DeviceError, match="no variant nosuch"):
        dev.select_variant("nosuch")
    with pytest.raises(DeviceError, match=r"no kernel nosuch for model \d+ \(`kernel` lists"):
        dev.command("kernel nosuch")
    with pytest.raises(ValueError):
        dev.select_variant("two words")
    assert dev.variants()[1] == before


# ------------------------------------ (d) Cortex-A: mtsrnn-device under qemu user mode

CORTEX_A_BOARDS = [name for name, board in BOARDS.items() if board.kind == "emulated-linux"]
CORTEX_A_CORES = {"qemu-aarch64": "aarch64", "qemu-armv7": "armv7l"}


def _cortex_a_program(board_name: str) -> Path:
    """The board's cross-built mtsrnn-device (ci/aarch64.sh builds it; CI
    always does, so there these tests never skip)."""
    from mtsrnn.harness import linux_program_candidates

    board = BOARDS[board_name]
    if shutil.which(board.emulator) is None:
        pytest.skip(f"no {board.emulator} (qemu-user; ci/install-toolchains.sh)")
    candidates = linux_program_candidates(board)
    if not candidates:
        pytest.skip(f"no cross-built mtsrnn-device for {board_name}: build "
                    f"build/{board.linux_build} with ci/aarch64.sh")
    return candidates[0]


# ------------------------------------------ (d2) a whole model with a head

# The whole-model demos (firmware/common/make_demo_models.py: demo_head) and
# the stages `id` must report for them, written here from the model's design
# (norm -> SRU -> dense relu -> dense -> softmax), not read from the twin.
WHOLE_MODEL_DEMOS = {"demo_head": "float32", "demo_head_i8wa": "int8-wa"}
WHOLE_MODEL_STAGES = ("norm", "sru", "dense", "dense", "softmax")


def _check_whole_model_demos(dev: Device, twins: dict) -> dict[str, float]:
    """The whole-model demos on a device (both on every device here): `id`
    lists their stages (stages=), cell, recurrent layers and sizes; each of
    their variants, chosen with `variant`, streams the same outputs as the
    host's Model.forward of the .mts twin (<= 1e-5) and rows that sum to 1
    (softmax); selftest ran them through every variant against their golden
    vectors. Returns the largest |device - host| per model and variant."""
    info = dev.identify()
    by_name = {m.name: m for m in info.models}
    assert set(WHOLE_MODEL_DEMOS) <= set(by_name), list(by_name)
    results = {r["name"]: r for r in dev.selftest()}
    rng = np.random.default_rng(41)
    worst: dict[str, float] = {}
    for name, scheme in WHOLE_MODEL_DEMOS.items():
        model, twin = by_name[name], twins[name]
        assert model.stages == WHOLE_MODEL_STAGES, (name, model.stages)
        assert twin.kinds == WHOLE_MODEL_STAGES, (name, twin.kinds)
        assert (model.cell, model.layers, model.input, model.output, model.weights) == \
            ("sru", 1, 16, 8, scheme), model
        dev.select(model.index)
        variants = [k.name for k in dev.variants()[0]]
        row = results[name]
        assert row["passed"] and row["variants"] == len(variants), row
        steps = min(info.max_steps, 20)
        x = _frames(rng, steps, model.input)
        expected, _ = twin.forward(x, block=4)
        for variant in variants:
            assert dev.select_variant(variant).name == variant
            dev.reset()
            cuts = [0, 7, steps]  # the state carried across two calls
            h = np.concatenate([dev.infer(x[a:b], block=min(4, info.max_block))[0]
                                for a, b in zip(cuts, cuts[1:], strict=False)])
            # The same C stages on both sides, products summing in other
            # orders: float32 rounding of outputs in [0, 1].
            np.testing.assert_allclose(h, expected, atol=1e-5, rtol=0,
                                       err_msg=f"{name} variant {variant}")
            np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-5, rtol=0)
            worst[f"{name}/{variant}"] = float(np.max(np.abs(h - expected)))
        dev.select_variant(variants[0])
    dev.select(0)
    return worst


# ------------------------------------------ (e) int8 models on the devices

QUANTIZED_DEMOS = {"demo_sru_i8w": ("demo_sru", "int8-w"), "demo_sru_i8wa": ("demo_sru", "int8-wa"),
                   "demo_qrnn_i8w": ("demo_qrnn", "int8-w"),
                   "demo_qrnn_i8wa": ("demo_qrnn", "int8-wa")}
# The table of each scheme, as the kernels name its length (gemm.h).
TABLE_COUNT_SYMBOLS = {"float32": "mts_gemm_f32_variant_count",
                       "int8-w": "mts_gemm_i8f32_variant_count",
                       "int8-wa": "mts_gemm_i8i8_variant_count"}


def _elf_size_t(path: Path, symbol: str) -> int:
    """The value of a `const size_t` in an ELF image, read with binutils (nm
    for its address and size, objdump for its bytes): what the image was
    built with, independent of the device's protocol code."""
    listing = subprocess.run(["nm", "-S", str(path)], capture_output=True, text=True,
                             check=True).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == symbol:
            address, size = int(parts[0], 16), int(parts[1], 16)
            break
    else:
        raise AssertionError(f"{symbol} not in {path}")
    dump = subprocess.run(["objdump", "-s", f"--start-address={address:#x}",
                           f"--stop-address={address + size:#x}", str(path)],
                          capture_output=True, text=True, check=True).stdout
    words = [line.split()[1:1 + (size + 3) // 4] for line in dump.splitlines()
             if line.startswith(" ") and line.split()[0].strip() == f"{address:x}"]
    assert words, f"no bytes of {symbol} in objdump's output: {dump!r}"
    return int.from_bytes(bytes.fromhex("".join(words[0]))[:size], "little")


def _check_int8_models(dev: Device, image: Path, twins: dict) -> dict[str, list[str]]:
    """The quantised demo models on a device: `id` reports their scheme and
    their int8 weight bytes; each offers exactly its scheme's product table
    (its length read from the image), the float-only products are refused
    and change nothing; selftest runs each through all of its products;
    infer matches the host's Model.forward of the same quantised model and
    the float64 reference of its scheme. Returns the products per scheme."""
    from mtsrnn import mtsfile

    info = dev.identify()
    by_name = {m.name: m for m in info.models}
    present = [name for name in QUANTIZED_DEMOS if name in by_name]
    # Every board's default set holds the int8 SRU pair (docs/boards.md).
    assert {"demo_sru_i8w", "demo_sru_i8wa"} <= set(present), list(by_name)
    products: dict[str, list[str]] = {}
    for model in info.models:
        dev.select(model.index)
        names = [k.name for k in dev.variants()[0]]
        if model.weights in products:
            assert names == products[model.weights], (model.name, names)
        products[model.weights] = names
    for scheme, names in products.items():
        # float32: the kernels' table, and on Cortex-M the CMSIS-DSP peer
        baseline = scheme == "float32" and names[-1] == "cmsis-dsp-matvec"
        # aarch64 Linux builds neon-sdot into every table and offers it only
        # where the (emulated) CPU has SDOT (kernels/src/isa.h): one fewer.
        no_sdot = scheme == "int8-wa" and "neon" in names and "neon-sdot" not in names
        built = _elf_size_t(image, TABLE_COUNT_SYMBOLS[scheme])
        assert len(names) - baseline in ((built, built - 1) if no_sdot else (built,)), \
            (scheme, names, built)
        assert "tiled" in names and "reference" in names, (scheme, names)
    results = {r["name"]: r for r in dev.selftest()}
    rng = np.random.default_rng(31)
    for name in present:
        model, twin = by_name[name], twins[name]
        float_name, scheme = QUANTIZED_DEMOS[name]
        assert model.weights == scheme == twin.quantization
        assert model.weight_bytes == sum(a.nbytes for _f, tensors in mtsfile.kernel_layers(twin)
                                         for a in tensors.values())
        assert model.weight_bytes < by_name[float_name].weight_bytes / 3
        row = results[name]
        assert row["passed"] and row["variants"] == len(products[scheme]), row
        dev.select(model.index)
        x = _frames(rng, min(info.max_steps, 40), model.input)
        h, _ = dev.infer(x, block=min(16, info.max_block))
        host, _ = twin.forward(x, block=16)
        # The same quantised arithmetic in C on both sides: int8-wa integer
        # sums are exact, so what differs is float32 rounding of the scans
        # (and of int8-w sums in another order), a few ulp of |h| <= ~1.
        np.testing.assert_allclose(h, host, atol=1e-5, rtol=0, err_msg=name)
        np.testing.assert_allclose(h, _golden(twin, x), atol=1e-5, rtol=0, err_msg=name)
    # Products of the float table that no int8 table has (CMSIS-DSP's
    # per-step product, the float SIMD variants): refused for an int8 model,
    # with the selection and the state left as they were.
    float_only = [k for k in products["float32"]
                  if all(k not in products[s] for s in ("int8-w", "int8-wa") if s in products)]
    int8 = by_name["demo_sru_i8wa"]
    dev.select(int8.index)
    before = dev.variants()[1]
    x = _frames(rng, 6, int8.input)
    first, _ = dev.infer(x[:3], block=2)
    for name in float_only:
        with pytest.raises(DeviceError, match=f"no variant {name} for model {int8.index}") as e:
            dev.select_variant(name)
        assert e.value.code == "bad-args"
        with pytest.raises(DeviceError, match=f"no variant {name}"):
            dev.bench([1], steps=4, variant=name)
        assert dev.variants()[1] == before
    continued, _ = dev.infer(x[3:], block=2)   # the stream went on untouched
    dev.reset()
    np.testing.assert_array_equal(np.concatenate([first, continued]),
                                  dev.infer(x, block=2)[0])
    # The choice is by name: kept where the next model offers it, else that
    # model's default.
    dev.select(0)
    dev.select_variant("tiled")
    dev.select(int8.index)
    assert dev.variants()[1].name == "tiled"
    if float_only:
        dev.select(0)
        dev.select_variant(float_only[-1])
        dev.select(int8.index)
        assert dev.variants()[1].index == 0
        dev.select(0)
        assert dev.variants()[1].name == float_only[-1]
    dev.select(0)
    dev.select_variant(products["float32"][0])
    return products


def _corrupt_scale_files(directory: Path) -> dict[str, Path]:
    """Quantised .mts files whose scale tables are damaged: a flipped byte
    (the CRC catches it), one scale short, the scales of another layer's
    size, and scales stored as int8 (each re-encoded with a valid CRC)."""
    from mtsrnn import mtsfile

    model = mtsrnn.quantize(mtsrnn.random_sru(12, 12, num_layers=2, seed=41), "int8-wa")
    good = mtsfile.encode(model.cell, mtsfile.kernel_layers(model))
    layers = mtsfile.kernel_layers(model)
    scale_kind = next(k for k, a in layers[0][1].items() if a.dtype == np.float32
                      and a.shape == (layers[0][1][1].shape[0],))
    scales = layers[0][1][scale_kind]
    at = good.find(scales.tobytes())
    assert at > 0
    files = {}
    flipped = bytearray(good)
    flipped[at + 5] ^= 0x40
    files["flipped"] = flipped

    def variant(array):
        changed = mtsfile.kernel_layers(model)
        changed[0][1][scale_kind] = array
        return mtsfile.encode(model.cell, changed)

    files["short"] = variant(scales[:-1].copy())
    files["long"] = variant(np.concatenate([scales, scales[:3]]))
    files["int8"] = variant(np.zeros(scales.shape, np.int8))
    paths = {}
    for name, data in files.items():
        paths[name] = directory / f"scale_{name}.mts"
        paths[name].write_bytes(bytes(data))
    return paths


def _device_argv() -> list[str] | None:
    """The Linux device program to start by hand: MTSRNN_DEVICE, or the
    qemu-aarch64 board's cross-built program under its emulator."""
    if DEVICE_PROGRAM:
        return [DEVICE_PROGRAM]
    from mtsrnn.harness import linux_program_candidates

    board = BOARDS["qemu-aarch64"]
    candidates = linux_program_candidates(board)
    if shutil.which(board.emulator) is None or not candidates:
        return None
    return [board.emulator, str(candidates[0])]
