"""Models uploaded over the line (protocol 2.1 `upload`, docs/protocol.md,
"Uploading a model"), against the real Linux device program and a real QEMU
board, through the fault-injecting link (fault_link.py): a CRC error in the
middle of an upload, a dropped line (truncation), silence mid-upload,
hostile files that pass the CRC, an upload larger than the arena, and a
second upload replacing the first. After each, the device answers and the
model selected before is intact: its outputs are checked against the host's
model (the .mts file's twin). The uploaded model is a whole model (norm,
SRU, dense, dense, softmax: demo_head). Also the one decision of
mtsrnn.harness.placement (upload, else load or build) through the CLI, with
no cross compiler on the PATH, and over --port."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from fault_link import FaultLink  # noqa: E402
from harness_devices import DEVICE_PROGRAM, _firmware, needs_device, needs_qemu  # noqa: E402
from mtsrnn import _core  # noqa: E402
from mtsrnn.harness import BOARDS, Device, DeviceError, HarnessError  # noqa: E402
from mtsrnn.harness.client import SessionLost  # noqa: E402
from mtsrnn.harness.launch import qemu_command  # noqa: E402
from mtsrnn.harness.lines import DeviceInfo, encode_payload, with_check  # noqa: E402
from mtsrnn.harness.processes import ChildProcess, free_port  # noqa: E402
from mtsrnn.harness.upload import ModelNeeds, UploadError, upload_fit  # noqa: E402
from mtsrnn.mtsfile import aligned_buffer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-4
LINUX_ARENA = 65536  # mtsrnn-device --arena: a small board's arena, quick to overflow


def _load_script(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """The models: A, the whole demo model demo_head; B, a small int8-wa SRU
    stack; their bytes and host twins."""
    demos = _load_script("make_demo_models", ROOT / "firmware" / "common" /
                         "make_demo_models.py").DEMO_MODELS
    directory = tmp_path_factory.mktemp("upload")
    models = {"a": demos["demo_head"](),
              "b": mtsrnn.quantize(mtsrnn.random_sru(24, 24, num_layers=2, seed=7), "int8-wa")}
    out = {}
    for key, model in models.items():
        path = directory / f"{key}.mts"
        model.save(str(path))
        out[key] = {"path": path, "bytes": path.read_bytes(), "twin": mtsrnn.load(str(path))}
    assert models["a"].kinds == ("norm", "sru", "dense", "dense", "softmax")
    return out


@contextlib.contextmanager
def _device_port(kind: str):
    port = free_port()
    if kind == "linux":
        if not DEVICE_PROGRAM:
            pytest.skip("set MTSRNN_DEVICE=/path/to/mtsrnn-device to test it")
        argv = [DEVICE_PROGRAM, "--tcp", str(port), "--arena", str(LINUX_ARENA)]
    else:
        if not os.environ.get("MTSRNN_FIRMWARE_DIR") or not shutil.which("qemu-system-arm"):
            pytest.skip("set MTSRNN_FIRMWARE_DIR and install qemu-system-arm to boot QEMU")
        board = BOARDS["qemu-mps2-an386"]
        argv = qemu_command(board, _firmware(board.name), port)
    child = ChildProcess(argv, kind, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        child.close()


@pytest.fixture(params=["linux", "qemu"], scope="module")
def kind(request) -> str:
    return request.param


@pytest.fixture
def linked(kind, files):
    """A device through a fault link (faults off) with A uploaded and checked."""
    with _device_port(kind) as port, FaultLink(port, seed=3) as link:
        link.enabled = False
        dev = Device.open(link.url, timeout=3.0 if kind == "linux" else 6.0,
                          connect_timeout=20.0)
        try:
            model = dev.upload(files["a"]["bytes"])
            _check_runs(dev, files["a"], model.index)
            yield dev, link, model.index
        finally:
            dev.close()


def _check_runs(dev: Device, entry: dict, index: int, seed: int = 0) -> None:
    """The device runs `entry`'s model as model `index`, selected before this
    call (no select here): from the zero state, against the host's twin."""
    twin = entry["twin"]
    described = dev.identify().model(index)
    assert dev.status["model"] == str(index)
    assert (described.input, described.output, described.stages) == \
        (twin.input_size, twin.output_size, twin.kinds)
    x = np.random.default_rng(seed).standard_normal((9, twin.input_size)).astype(np.float32)
    dev.reset()
    h, _ = dev.infer(x, block=4)
    expected, _ = twin.forward(x, block=4)
    np.testing.assert_allclose(h, expected, atol=TOL, rtol=0)


def _payload_offset(image: bytes, line: int, within: int = 0) -> tuple[int, list[str]]:
    """Bytes from the start of Device.upload's command line to `within` bytes
    into data line `line` (its "d " counted), and the data lines."""
    command = with_check(f"upload {len(image)} {zlib.crc32(image):08x}")
    lines = encode_payload(image)
    return len(command) + 1 + sum(len(text) + 1 for text in lines[:line]) + within, lines


# ------------------------------------------------------------------ faults

def test_a_crc_error_mid_upload_leaves_the_old_model(linked, files):
    dev, link, index = linked
    image = files["b"]["bytes"]
    dev.identify()  # nothing else is sent before the upload's command line
    offset, lines = _payload_offset(image, len(encode_payload(image)) // 2, within=12)
    link.damage_at("to-device", offset, "flip")
    with pytest.raises(DeviceError) as caught:
        dev.upload(image)
    assert caught.value.code == "payload", caught.value
    assert link.counts["to-device"]["flip"] == 1
    _check_runs(dev, files["a"], index, seed=1)


def test_a_dropped_line_truncates_the_upload_and_leaves_the_old_model(linked, files):
    dev, link, index = linked
    image = files["b"]["bytes"]
    dev.identify()
    middle = len(encode_payload(image)) // 2
    offset, lines = _payload_offset(image, middle)
    link.damage_at("to-device", offset, "drop", len(lines[middle]) + 1)
    start = time.monotonic()
    with pytest.raises(HarnessError, match="no complete reply"):
        dev.upload(image, timeout=2.0)  # the device waits for the missing bytes
    assert time.monotonic() - start < 2.0 + 0.5
    _check_runs(dev, files["a"], index, seed=2)  # the next call ends the wait


def test_silence_mid_upload_leaves_the_old_model(linked, files):
    dev, link, index = linked
    image = files["b"]["bytes"]
    dev.identify()
    offset, lines = _payload_offset(image, len(encode_payload(image)) // 3)
    link.damage_at("to-device", offset, "drop", 1 << 30)  # nothing more arrives
    with pytest.raises(HarnessError):
        dev.upload(image, timeout=1.5)
    time.sleep(1.0)  # the device sits in the payload wait
    with link._lock:  # the silence ends
        link._planned.clear()
    _check_runs(dev, files["a"], index, seed=3)


def test_hostile_files_that_pass_the_crc_are_refused_by_the_loader(linked, files):
    dev, _link, index = linked
    hostile = _load_script("make_hostile_corpus", ROOT / "tests" / "fuzz" /
                           "make_hostile_corpus.py")
    import random

    rng = random.Random(5)
    base = files["a"]["bytes"]
    cases = {"truncated": base[: len(base) // 2], "empty stages": base[:64]}
    while len(cases) < 6:
        name, data = hostile.mutate(base, rng)
        if name.startswith(("flip", "truncate")):
            continue  # only the mutations that fix the file's CRC
        image = aligned_buffer(len(data))
        image[:] = np.frombuffer(data, np.uint8)
        try:
            _core.load_file(image)
        except _core.ModelFileError:
            cases[name] = data  # the C loader rejects it on the host too
    for name, data in cases.items():
        with pytest.raises(DeviceError) as caught:
            dev.upload(data, check=False)
        assert caught.value.code == "upload", (name, caught.value)
        assert "the loader rejects the file" in caught.value.reason, name
        with pytest.raises(mtsrnn.ModelFileError):
            dev.upload(data)  # the host's check refuses it before sending
    _check_runs(dev, files["a"], index, seed=4)


def test_an_upload_larger_than_the_arena_is_refused(linked, files, kind, tmp_path):
    dev, _link, index = linked
    arena = dev.identify().arena
    if kind == "linux":  # the device's own refusal (a QEMU arena takes a minute to fill)
        assert arena == LINUX_ARENA
        too_large = files["a"]["bytes"] + bytes(arena)
        with pytest.raises(DeviceError) as caught:
            dev.upload(too_large, check=False)
        assert caught.value.code == "bad-args" and "arena" in caught.value.reason
    path = tmp_path / "big.mts"
    mtsrnn.random_sru(64, 512, num_layers=2, seed=9).save(str(path))
    assert path.stat().st_size > arena
    with pytest.raises(UploadError, match="bytes of the arena"):
        dev.upload(path)  # refused by the host: nothing sent
    _check_runs(dev, files["a"], index, seed=5)


def test_a_second_upload_replaces_the_first_and_a_failed_third_keeps_it(linked, files):
    dev, link, index = linked
    model = dev.upload(files["b"]["bytes"])
    assert model.index == index  # the same place, the built-in models untouched
    assert len(dev.info.models) == index + 1
    _check_runs(dev, files["b"], index, seed=6)
    # A damaged third upload goes to the half that held A: B stays intact.
    image = files["a"]["bytes"]
    dev.identify()
    offset, _ = _payload_offset(image, 3, within=5)
    link.damage_at("to-device", offset, "flip")
    with pytest.raises(DeviceError):
        dev.upload(image)
    _check_runs(dev, files["b"], index, seed=7)
    dev.upload(image)
    _check_runs(dev, files["a"], index, seed=8)


def test_a_completed_upload_whose_reply_was_lost_is_named_never_run_unknowingly(
        linked, files):
    """The device took upload B, but its reply was damaged: the host cannot
    know which file the upload index holds. The next call (reset here, as a
    caller retrying would do) learns it from `id` (the upload's crc32=) and
    raises SessionLost saying the upload completed; from then on the host
    knows the file, and B runs, verified."""
    dev, link, index = linked
    image = files["b"]["bytes"]
    dev.identify()  # nothing in flight: the next bytes to the host are the reply
    link.damage_at("to-host", 3, "flip")  # m-upload's line fails its check
    with pytest.raises(HarnessError):
        dev.upload(image)
    with pytest.raises(SessionLost, match="did complete"):
        dev.reset()
    assert dev.info.model(index).crc32 == zlib.crc32(image)
    assert dev.info.model(index).bytes == len(image)
    _check_runs(dev, files["b"], index, seed=9)   # reset, then B from zeros


def test_an_upload_without_reply_that_never_switched_keeps_the_old_model_and_state(
        linked, files):
    """Upload B goes silent mid-payload (no reply: its outcome is unknown to
    the host): the next infer, without a reset, finds the device's state
    unchanged, so A carries on from its state, knowingly (no error), and
    gives A's outputs."""
    dev, link, index = linked
    twin = files["a"]["twin"]
    rng = np.random.default_rng(10)
    first = rng.standard_normal((3, twin.input_size)).astype(np.float32)
    dev.reset()
    dev.infer(first, block=2)
    image = files["b"]["bytes"]
    dev.identify()
    offset, _ = _payload_offset(image, len(encode_payload(image)) // 2)
    link.damage_at("to-device", offset, "drop", 1 << 30)  # nothing more arrives
    with pytest.raises(HarnessError) as caught:
        dev.upload(image, timeout=1.5)
    assert not isinstance(caught.value, DeviceError)  # its outcome unknown to the host
    time.sleep(1.0)  # the device sits in the payload wait
    with link._lock:  # the silence ends
        link._planned.clear()
    second = rng.standard_normal((4, twin.input_size)).astype(np.float32)
    h, _ = dev.infer(second, block=2)
    _, state = twin.forward(first, block=2)
    expected, _ = twin.forward(second, state, block=2)
    np.testing.assert_allclose(h, expected, atol=TOL, rtol=0)
    assert dev.info.model(index).crc32 == zlib.crc32(files["a"]["bytes"])


def test_upload_names_the_file_in_id(linked, files):
    dev, _link, index = linked
    described = dev.identify().model(index)
    assert (described.bytes, described.crc32) == (len(files["a"]["bytes"]),
                                                  zlib.crc32(files["a"]["bytes"]))
    assert all(m.crc32 is None for m in dev.info.models if m.index != index)


def test_a_model_of_many_stages_is_described_whole(linked):
    """24 dense stages and a softmax: the stage list does not fit one m-model
    line of 256 bytes; it continues in m-stages lines, and nothing is cut
    (a cut line used to lose input=, output=, weights= and fail every id)."""
    dev, _link, index = linked
    rng = np.random.default_rng(24)
    model = mtsrnn.sequential(*[mtsrnn.dense(rng.normal(0.0, 0.5, (4, 4)),
                                             rng.normal(0.0, 0.1, 4), activation="relu")
                                for _ in range(24)], mtsrnn.softmax(4))
    described = dev.upload(bytes(model.image))
    assert described.stages == ("dense",) * 24 + ("softmax",)
    assert (described.input, described.output, described.weights) == (4, 4, "float32")
    twin = mtsrnn.load(bytes(model.image))
    _check_runs(dev, {"twin": twin}, index, seed=24)


def test_a_built_in_model_stays_selected_after_a_failed_upload(kind, files):
    with _device_port(kind) as port:
        dev = Device.open(f"socket://127.0.0.1:{port}", timeout=6.0, connect_timeout=20.0)
        try:
            dev.select(1)
            with pytest.raises(DeviceError):
                dev.upload(files["a"]["bytes"][:100], check=False)
            assert dev.status["model"] == "1"
            assert len(dev.identify().models) == dev.info.limits["built_in"]
        finally:
            dev.close()


# ------------------------------------------------------- the host's checks

def test_a_protocol_2_0_device_is_told_to_have_no_upload(files):
    info = DeviceInfo(firmware={}, board={"name": "old"}, counters={}, max_block=32,
                      max_steps=64, models=[], selected=0, protocol_minor=0,
                      limits={"max_block": 32, "max_steps": 64})
    reason = upload_fit(info, ModelNeeds.of(files["a"]["path"]))
    assert "protocol 2.0, which has no upload" in reason
    info.protocol_minor = 1  # 2.1 without an arena
    assert "no upload arena" in upload_fit(info, ModelNeeds.of(files["a"]["path"]))


# ------------------------------------------------- the decision, via the CLI

def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtsrnn", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def _path_without_cross_compiler(bin_dir: Path) -> str:
    """PATH without the directories holding arm-none-eabi-gcc, and bin_dir
    with QEMU alone (it often shares /usr/bin with the compiler)."""
    bin_dir.mkdir()
    (bin_dir / "qemu-system-arm").symlink_to(shutil.which("qemu-system-arm"))
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "arm-none-eabi-gcc").exists()]
    return os.pathsep.join([str(bin_dir), *keep])


@needs_qemu[0]
@needs_qemu[1]
def test_run_model_uploads_with_no_cross_compiler_on_the_path(files, tmp_path):
    env = dict(os.environ, PATH=_path_without_cross_compiler(tmp_path / "bin"),
               MTSRNN_CACHE_DIR=str(tmp_path / "cache"))
    assert shutil.which("arm-none-eabi-gcc", path=env["PATH"]) is None
    x = np.random.default_rng(10).standard_normal((12, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    done = _cli("run", "--model", str(files["a"]["path"]), "--input", str(tmp_path / "x.npy"),
                "-o", str(tmp_path / "y.npy"), env=env)
    assert done.returncode == 0, done.stderr
    assert "uploading" in done.stderr and "(upload)" in done.stdout
    expected, _ = files["a"]["twin"].forward(x, block=8)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=TOL, rtol=0)
    assert not (tmp_path / "cache").exists()  # nothing was built


@needs_device
def test_port_uploads_the_model_never_a_built_in_one_of_its_shape(tmp_path):
    """demo_sru is built in; a different model of its exact shape given by
    --model runs itself (uploaded), and a model that does not fit the arena
    is one error line, exit 2."""
    same_shape = mtsrnn.random_sru(64, 64, num_layers=2, seed=99)
    same_shape.save(str(tmp_path / "twin.mts"))
    x = np.random.default_rng(11).standard_normal((6, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    with _device_port("linux") as port:
        url = f"socket://127.0.0.1:{port}"
        time.sleep(0.3)
        done = _cli("run", "--port", url, "--model", str(tmp_path / "twin.mts"),
                    "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"))
        assert done.returncode == 2, done
        assert done.stderr.count("\n") == 1 and "does not fit the board at" in done.stderr
        assert "Traceback" not in done.stderr
        small = mtsrnn.quantize(same_shape, "int8-wa")
        small.save(str(tmp_path / "small.mts"))
        done = _cli("run", "--port", url, "--model", str(tmp_path / "small.mts"),
                    "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"))
    assert done.returncode == 0, done.stderr
    assert "(upload)" in done.stdout
    expected, _ = mtsrnn.load(str(tmp_path / "small.mts")).forward(x, block=8)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=TOL, rtol=0)


def test_board_table_arenas_are_the_firmware_builds():
    """The arena of every firmware board is written twice: in boards.py (the
    fit check and the upload decision need it before any build) and in
    firmware/boards/CMakeLists.txt (`_arena_<board>`, what the image
    reserves and `id` reports). They must agree; a board without a CMake
    entry has no arena."""
    import re

    cmake = (ROOT / "firmware" / "boards" / "CMakeLists.txt").read_text()
    built = {name: int(value) for name, value in
             re.findall(r"^set\(_arena_([\w-]+) (\d+)\)", cmake, re.MULTILINE)}
    assert built, "no set(_arena_<board> <bytes>) lines found"
    boards = {b.firmware_board: b for b in BOARDS.values() if b.firmware_board}
    assert set(built) <= set(boards), set(built) - set(boards)
    for name, board in boards.items():
        assert board.arena_bytes == built.get(name, 0), (board.name, board.arena_bytes,
                                                         built.get(name))


def test_board_table_block_limits_are_the_firmware_builds():
    """A board with little RAM builds its firmware for fewer frames: its
    T and frame limits are in boards.py (the fit check uses them before a
    build) and in firmware/boards/CMakeLists.txt (_small_ram_boards, what
    the image's buffers hold and `id` reports). They must agree."""
    import re

    cmake = (ROOT / "firmware" / "boards" / "CMakeLists.txt").read_text()
    small = re.search(r"^set\(_small_ram_boards ([\w -]+)\)", cmake, re.MULTILINE)
    block = re.search(r"if\(_max_block GREATER (\d+)\)", cmake)
    steps = re.search(r"if\(_max_steps GREATER (\d+)\)", cmake)
    default_block = re.search(r"^set\(MTSRNN_FW_MAX_BLOCK (\d+) ", cmake, re.MULTILINE)
    default_steps = re.search(r"^set\(MTSRNN_FW_MAX_STEPS (\d+) ", cmake, re.MULTILINE)
    assert small and block and steps and default_block and default_steps
    capped = set(small.group(1).split())
    for board in BOARDS.values():
        if not board.firmware_board:
            continue
        if board.firmware_board in capped:
            want = (int(block.group(1)), int(steps.group(1)))
        else:
            want = (int(default_block.group(1)), int(default_steps.group(1)))
        assert (board.max_block, board.max_steps) == want, board.name


def test_firmware_fit_is_checked_before_any_build(tmp_path):
    """A model the board cannot hold is one line naming the sizes and what
    would fit, before any firmware build (no cross compiler on the PATH:
    a build would fail with another message)."""
    from mtsrnn.harness import BoardError, check_firmware_fit

    path = tmp_path / "big.mts"
    big = mtsrnn.random_sru(512, 512, num_layers=2, seed=12)
    big.save(str(path))
    needs = ModelNeeds.of(path)
    with pytest.raises(BoardError, match=r"does not fit qemu-mps2-an386 firmware: flash: about "
                                         r"\d+ bytes .* the board has 4194304: quantize it"):
        check_firmware_fit(BOARDS["qemu-mps2-an386"], needs)
    with pytest.raises(BoardError, match=r"RAM: about \d+ bytes \(workspace \d+ at T = 32"):
        check_firmware_fit(BOARDS["qemu-mps3-an547"], needs)
    small = tmp_path / "small.mts"
    mtsrnn.quantize(big, "int8-wa").save(str(small))
    check_firmware_fit(BOARDS["qemu-mps2-an386"], ModelNeeds.of(small))  # 1.6 MB: fits
    np.save(tmp_path / "x.npy", np.zeros((2, 512), np.float32))
    env = dict(os.environ, PATH=os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "arm-none-eabi-gcc").exists()))
    done = _cli("run", "--board", "qemu-mps3-an547", "--model", str(path), "--input",
                str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"), env=env)
    assert done.returncode == 2, done
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("mtsrnn run: error: big.mts does not fit qemu-mps3-an547 "
                            "firmware"), done.stderr
    assert "quantize it" in error and "Traceback" not in done.stderr


@needs_device
def test_a_model_larger_than_the_arena_is_loaded_by_the_device_program(files):
    """The decision's other branch on mtsrnn-device: with a 4 KB arena, the
    file is loaded by the program itself (--model), never uploaded."""
    from mtsrnn.harness import open_with_model

    with open_with_model(files["a"]["path"], "host", device_args=["--arena", "4096"]) as placed:
        assert placed.how == "program"
        assert placed.session.device.info.arena == 4096
        _check_runs(placed.session.device, files["a"], placed.model.index, seed=12)
    with open_with_model(files["a"]["path"], "host") as placed:
        assert placed.how == "upload" and placed.model.name == "upload"
        _check_runs(placed.session.device, files["a"], placed.model.index, seed=13)
