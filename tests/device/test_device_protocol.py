"""The device protocol (docs/protocol.md) against the real mtsrnn-device.

The program built from firmware/linux (firmware/common is the same code the
MCU boards run) is started as a subprocess and driven over pipes, and once
over a real TCP socket. Its outputs are compared with the host kernels
(`mtsrnn.load(...).forward`) and the float64 reference. Hostile input must
give the right `e-` line and leave the device answering.

Set MTSRNN_DEVICE to the built binary (build/.../firmware/linux/mtsrnn-device)
or to a script that runs it (e.g. under qemu-aarch64; then set
MTSRNN_DEVICE_CORE=aarch64, the machine the device reports).
The demo models are read from the `models` directory next to it (the build
writes them there); without it they are regenerated with
firmware/common/make_demo_models.py.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import queue
import re
import select
import socket
import subprocess
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

DEVICE = os.environ.get("MTSRNN_DEVICE")
pytestmark = pytest.mark.skipif(
    not DEVICE, reason="MTSRNN_DEVICE is not set (path of the built mtsrnn-device; "
    "build with cmake -DMTSRNN_FIRMWARE=ON)")

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20.0
MAX_BLOCK, MAX_STEPS = 64, 256       # mtsrnn-device's defaults
ABS_TOL = 1e-5


# ---------------------------------------------------------------- the client

def encode_payload(data: bytes) -> list[str]:
    return ["d " + data[i:i + 64].hex() for i in range(0, len(data), 64)]


def crc_hex(data: bytes) -> str:
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


class Device:
    """A line client: a reader thread queues the device's lines; command()
    sends a line (and payload lines) and returns the reply up to m-ready."""

    def __init__(self, write, read_chunks, close):
        self._write = write
        self._close = close
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._reader, args=(read_chunks,), daemon=True)
        self._thread.start()

    def _reader(self, read_chunks):
        pending = b""
        for chunk in read_chunks():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._lines.put(line.decode("ascii"))  # the device sends ASCII only
        self._lines.put(None)

    def send(self, data: bytes) -> None:
        self._write(data)

    def line(self, timeout: float = TIMEOUT) -> str:
        line = self._lines.get(timeout=timeout)
        if line is None:
            raise EOFError("the device closed its output")
        return line

    def reply(self, timeout: float = TIMEOUT) -> list[str]:
        """Lines up to (without) m-ready."""
        lines = []
        while True:
            line = self.line(timeout)
            if line == "m-ready":
                return lines
            lines.append(line)

    def command(self, text: str, payload: list[str] | None = None) -> list[str]:
        data = (text + "\n").encode()
        if payload:
            data += ("\n".join(payload) + "\n").encode()
        self.send(data)
        return self.reply()

    def no_pending_lines(self, wait: float = 0.2) -> bool:
        time.sleep(wait)
        return self._lines.empty()

    def close(self) -> None:
        self._close()


def start_pipe_device(*args: str) -> tuple[Device, subprocess.Popen]:
    process = subprocess.Popen([DEVICE, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, bufsize=0)

    def write(data: bytes) -> None:
        process.stdin.write(data)
        process.stdin.flush()

    def read_chunks():
        while True:
            chunk = process.stdout.read1(65536) if hasattr(process.stdout, "read1") \
                else os.read(process.stdout.fileno(), 65536)
            if not chunk:
                return
            yield chunk

    def close() -> None:
        if process.stdin and not process.stdin.closed:
            process.stdin.close()

    device = Device(write, read_chunks, close)
    assert device.line() == "m-ready", "no m-ready at boot"
    return device, process


def stop(process: subprocess.Popen) -> int:
    try:
        if process.stdin and not process.stdin.closed:
            process.stdin.close()
        return process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def device():
    dev, process = start_pipe_device()
    yield dev
    assert stop(process) == 0


# ------------------------------------------------------------- reply parsing

def fields(line: str, prefix: str) -> dict[str, str]:
    assert line.startswith(prefix + " ") or line == prefix, f"expected {prefix!r}, got {line!r}"
    return dict(item.split("=", 1) for item in line[len(prefix):].split())


def infer(dev: Device, x: np.ndarray, block: int, output_size: int) -> tuple[np.ndarray, dict]:
    data = np.ascontiguousarray(x, dtype="<f4").tobytes()
    reply = dev.command(f"infer {x.shape[0]} {block} {len(data)} {crc_hex(data)}",
                        encode_payload(data))
    assert len(reply) >= 2, reply
    counters = fields(reply[0], "m-counter")
    header = fields(reply[1], "m-payload")
    out = b""
    for line in reply[2:]:
        assert line.startswith("d-"), line
        hex_text = line[2:]
        assert len(hex_text) % 2 == 0 and 0 < len(hex_text) <= 128, line
        out += bytes.fromhex(hex_text)
    assert int(header["bytes"]) == len(out) == x.shape[0] * output_size * 4
    assert header["crc32"] == crc_hex(out), "output CRC mismatch"
    return np.frombuffer(out, dtype="<f4").reshape(x.shape[0], output_size), counters


def assert_ok_afterwards(dev: Device) -> None:
    """The device still answers, with nothing stale in between."""
    reply = dev.command("id")
    assert reply[0].startswith("m-fw "), f"stale or wrong reply: {reply}"


# ------------------------------------------------------------------ models

def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_demo_models", ROOT / "firmware" / "common" / "make_demo_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The built-in models, in the device's order: the float demos and their int8
# versions (the generator's list).
DEMOS = tuple(_load_generator().DEMO_MODELS) if DEVICE else ("demo_sru", "demo_qrnn")


@pytest.fixture(scope="module")
def demo_paths(tmp_path_factory) -> dict[str, Path]:
    built = Path(DEVICE).resolve().parent / "models"
    if all((built / f"{name}.mts").is_file() for name in DEMOS):
        return {name: built / f"{name}.mts" for name in DEMOS}
    out = tmp_path_factory.mktemp("demo_models")
    generator = _load_generator()
    for name in DEMOS:
        generator.DEMO_MODELS[name]().save(out / f"{name}.mts")
    return {name: out / f"{name}.mts" for name in DEMOS}


@pytest.fixture(scope="module")
def demo_models(demo_paths):
    import mtsrnn
    return {name: mtsrnn.load(path) for name, path in demo_paths.items()}


def kernel_weight_bytes(model) -> int:
    from mtsrnn import mtsfile
    return sum(array.nbytes for _fields, tensors in mtsfile.kernel_layers(model)
               for array in tensors.values())


def frames(rng, steps: int, size: int) -> np.ndarray:
    return rng.standard_normal((steps, size)).astype(np.float32)


# ------------------------------------------------------------------- tests

def test_boot_ready_and_handshake(device):
    assert device.command("") == []          # an empty line: m-ready alone
    assert device.command("\r") == []        # \r before \n is ignored


def test_id_fields(device, demo_models):
    reply = device.command("id")
    assert fields(reply[0], "m-fw") == {"name": "mtsrnn", "version": "0.1.0", "protocol": "1"}
    board = fields(reply[1], "m-board")
    # MTSRNN_DEVICE_CORE: the device's machine when it runs under an emulator.
    assert board["name"] == "linux"
    assert board["core"] == os.environ.get("MTSRNN_DEVICE_CORE", platform.machine())
    assert int(board["clock_hz"]) >= 0
    counters = fields(reply[2], "m-counters")
    assert list(counters) == ["cycles", "instructions", "ns"]
    assert set(counters.values()) <= {"available", "unavailable"}
    assert counters["ns"] == "available"
    assert fields(reply[3], "m-limits") == {"max_block": str(MAX_BLOCK),
                                           "max_steps": str(MAX_STEPS)}
    model_lines = reply[4:-1]
    assert len(model_lines) == len(DEMOS)
    for index, (name, line) in enumerate(zip(DEMOS, model_lines, strict=True)):
        model = demo_models[name]
        assert fields(line, "m-model") == {
            "index": str(index), "name": name, "cell": model.cell,
            "layers": str(model.num_layers), "input": str(model.input_size),
            "output": str(model.output_size),
            "weight_bytes": str(kernel_weight_bytes(model)), "dtype": "f32",
            "weights": model.quantization or "float32"}
    assert reply[-1] == "m-selected index=0"


def test_demo_models_are_the_requested_ones(demo_models):
    sru, qrnn = demo_models["demo_sru"], demo_models["demo_qrnn"]
    assert sru.cell == "sru" and sru.num_layers == 2 and sru.output_size == 64
    assert qrnn.cell == "qrnn" and qrnn.config["window"] == 2


@pytest.mark.parametrize("index,name", list(enumerate(DEMOS)))
def test_infer_streams_and_matches_host(device, demo_models, index, name):
    from mtsrnn import reference
    model = demo_models[name]
    assert device.command(f"model {index}") == [f"m-selected index={index}"]
    rng = np.random.default_rng(index)
    # Pieces of several lengths and block sizes, including T > steps, T = 1
    # and the largest T and step count; the state carries between calls.
    pieces = [(5, 1), (17, 4), (1, 3), (40, 64), (MAX_STEPS, 7), (9, 9)]
    x = frames(rng, sum(steps for steps, _ in pieces), model.input_size)
    outputs, at = [], 0
    for steps, block in pieces:
        h, counters = infer(device, x[at:at + steps], block, model.output_size)
        assert set(counters) == {"ns"} and int(counters["ns"]) >= 0
        outputs.append(h)
        at += steps
    h_device = np.concatenate(outputs)
    h_host, _state = model.forward(x, block=8)
    np.testing.assert_allclose(h_device, h_host, rtol=0, atol=ABS_TOL)
    config = model.config
    # The reference of the model's own arithmetic (int8 schemes included).
    if model.cell == "sru":
        h_ref, _c = reference.sru_forward(
            model.state_dict(), x, use_tanh=config["use_tanh"],
            bidirectional=config["bidirectional"], has_skip_term=config["has_skip_term"],
            normalize_after=config["normalize_after"], layer_norm_eps=config["layer_norm_eps"],
            quantization=model.quantization)
    else:
        h_ref, _c, _prev = reference.qrnn_forward(
            model.state_dict(), x, window=config["window"], output_gate=config["output_gate"],
            zoneout=config["zoneout"], pooling=config["pooling"],
            quantization=model.quantization)
    np.testing.assert_allclose(h_device, np.asarray(h_ref, np.float64), rtol=0, atol=ABS_TOL)


def test_reset_and_model_select_restart_the_stream(device, demo_models):
    model = demo_models["demo_qrnn"]
    x = frames(np.random.default_rng(7), 6, model.input_size)
    device.command("model 1")
    first, _ = infer(device, x, 2, model.output_size)
    continued, _ = infer(device, x, 2, model.output_size)
    assert not np.array_equal(first, continued), "the state did not carry over"
    assert device.command("reset") == ["m-reset"]
    again, _ = infer(device, x, 2, model.output_size)
    np.testing.assert_array_equal(again, first)
    assert device.command("model 1") == ["m-selected index=1"]
    np.testing.assert_array_equal(infer(device, x, 5, model.output_size)[0], first)
    assert device.command("id")[-1] == "m-selected index=1"


@pytest.mark.parametrize("text", ["model", f"model {len(DEMOS)}", "model -1", "model x",
                                  "model 0 1",
                                  "model 99999999999", "reset now", "id x", "selftest 1"])
def test_bad_args_of_simple_commands(device, text):
    reply = device.command(text)
    assert len(reply) == 1 and reply[0].startswith("e-bad-args "), reply
    assert_ok_afterwards(device)


def test_bench(device, demo_models):
    reply = device.command("bench 1,2,4,8,64 steps=32")
    assert len(reply) == 5
    for block, line in zip((1, 2, 4, 8, 64), reply, strict=True):
        values = fields(line, "m-bench")
        assert values["block"] == str(block) and values["steps"] == "32"
        assert int(values["ns"]) > 0
        assert "cycles" not in values or int(values["cycles"]) > 0
    default = device.command("bench 16")
    assert len(default) == 1 and fields(default[0], "m-bench")["steps"] == str(MAX_STEPS)


def test_bench_and_selftest_leave_the_state_reset(device, demo_models):
    model = demo_models["demo_sru"]
    x = frames(np.random.default_rng(3), 4, model.input_size)
    fresh, _ = infer(device, x, 4, model.output_size)
    device.command("bench 2 steps=8")
    np.testing.assert_array_equal(infer(device, x, 4, model.output_size)[0], fresh)
    device.command("selftest")
    np.testing.assert_array_equal(infer(device, x, 4, model.output_size)[0], fresh)


@pytest.mark.parametrize("text", ["bench", "bench 0", "bench 65", "bench 1,,2", "bench 1,",
                                  "bench 1 steps=0", "bench 1 steps=257", "bench 1 step=4",
                                  "bench 1 steps=4 x", "bench a"])
def test_bench_bad_args(device, text):
    reply = device.command(text)
    assert len(reply) == 1 and reply[0].startswith("e-bad-args "), reply
    assert_ok_afterwards(device)


def test_selftest_passes(device):
    reply = device.command("selftest")
    assert len(reply) == len(DEMOS)
    for index, (name, line) in enumerate(zip(DEMOS, reply, strict=True)):
        values = fields(line, "m-selftest")
        assert values["index"] == str(index) and values["name"] == name
        assert values["result"] == "pass"
        assert float(values["max_abs_err"]) <= float(values["tolerance"]) == pytest.approx(1e-4)


def test_models_loaded_at_run_time(tmp_path):
    import mtsrnn
    extra = mtsrnn.random_qrnn(12, 20, num_layers=2, window=3, pooling="ifo", seed=5)
    path = tmp_path / "extra model.mts"
    extra.save(path)
    dev, process = start_pipe_device("--model", str(path), "--max-block", "8",
                                     "--max-steps", "16")
    try:
        reply = dev.command("id")
        assert fields(reply[3], "m-limits") == {"max_block": "8", "max_steps": "16"}
        extra_index = len(DEMOS)  # after the built-in demo models
        assert fields(reply[4 + extra_index], "m-model") == {
            "index": str(extra_index), "name": "extra_model", "cell": "qrnn", "layers": "2",
            "input": "12", "output": "20", "weight_bytes": str(kernel_weight_bytes(extra)),
            "dtype": "f32", "weights": "float32"}
        assert dev.command(f"model {extra_index}") == [f"m-selected index={extra_index}"]
        x = frames(np.random.default_rng(11), 16, 12)
        h1, _ = infer(dev, x[:10], 8, 20)   # 800 bytes: 12 chunks of 64 and one of 32
        h2, _ = infer(dev, x[10:], 3, 20)
        h_host, _ = extra.forward(x, block=16)
        np.testing.assert_allclose(np.concatenate([h1, h2]), h_host, rtol=0, atol=ABS_TOL)
        # Limits of this run: T 1..8, steps 1..16.
        data = x[:1].astype("<f4").tobytes()
        assert dev.command(f"infer 1 9 {len(data)} {crc_hex(data)}", encode_payload(data)) == \
            ["e-bad-args block out of 1..max_block"]
        assert dev.command("bench 8 steps=17")[0].startswith("e-bad-args")
        selftest = dev.command("selftest")
        assert [fields(line, "m-selftest")["result"] for line in selftest] == \
            ["pass"] * len(DEMOS) + ["skip"]
    finally:
        assert stop(process) == 0


def test_bad_model_file_is_refused(tmp_path):
    path = tmp_path / "broken.mts"
    path.write_bytes(b"MTSRNN\0\0" + bytes(100))
    result = subprocess.run([DEVICE, "--model", str(path)], input=b"", capture_output=True,
                            timeout=TIMEOUT)
    assert result.returncode == 2 and b"broken.mts" in result.stderr


def test_eof_ends_the_program():
    dev, process = start_pipe_device()
    dev.send(b"id")                          # a partial line, then EOF
    assert stop(process) == 0


# ------------------------------------------------------------ hostile input

def test_garbage_bytes(device):
    rng = np.random.default_rng(0)
    noise = bytes(b for b in rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
                  if b not in (0x0A, 0x0D, 0x20))
    device.send(noise + b"\n")
    reply = device.reply()
    assert len(reply) == 1 and reply[0].startswith("e-unknown-command "), reply
    shown = reply[0][len("e-unknown-command "):]
    assert len(shown) == 32 and re.fullmatch(r"[!-~]+", shown)
    expected = "".join(chr(b) if 0x21 <= b <= 0x7E else "?" for b in noise[:32])
    assert shown == expected
    assert_ok_afterwards(device)


def test_noise_lines_each_get_an_error(device):
    device.send(b"\x00\x01\x02\n\xff\xfe id\nID\n")
    assert device.reply() == ["e-unknown-command ???"]
    assert device.reply() == ["e-unknown-command ??"]
    assert device.reply() == ["e-unknown-command ID"]
    assert_ok_afterwards(device)


@pytest.mark.parametrize("length", [513, 600, 5000])
def test_overlong_line(device, length):
    device.send(b"x" * length + b"\n")
    assert device.reply() == ["e-overflow line longer than 512 bytes"]
    assert_ok_afterwards(device)


def test_longest_line_is_accepted(device):
    device.send(b"y" * 512 + b"\n")
    assert device.reply() == ["e-unknown-command " + "y" * 32]
    device.send(b"id " + b"a" * 509 + b"\r\n")   # 513 bytes before \n, the \r included
    assert device.reply() == ["e-overflow line longer than 512 bytes"]
    assert_ok_afterwards(device)


def test_crlf_line_endings(device):
    device.send(b"reset\r\n")
    assert device.reply() == ["m-reset"]


def test_unknown_command(device):
    assert device.command("foo bar baz") == ["e-unknown-command foo"]
    assert device.command("ids") == ["e-unknown-command ids"]
    assert device.command(" id") == ["e-unknown-command "]
    assert_ok_afterwards(device)


def test_d_line_without_command(device):
    assert device.command("d 0000803f") == ["e-unknown-command d"]
    assert device.command("d") == ["e-unknown-command d"]
    assert_ok_afterwards(device)


def _infer_lines(steps: int = 2, size: int = 64, seed: int = 0) -> tuple[bytes, list[str]]:
    x = frames(np.random.default_rng(seed), steps, size)
    data = x.astype("<f4").tobytes()
    return data, encode_payload(data)


def _state_untouched(device, demo_models):
    """After a failed infer the state is as before: the stream restarts clean."""
    model = demo_models["demo_sru"]
    x = frames(np.random.default_rng(99), 3, model.input_size)
    h, _ = infer(device, x, 3, model.output_size)
    h_host, _ = model.forward(x, block=3)
    np.testing.assert_allclose(h, h_host, rtol=0, atol=ABS_TOL)


def test_bad_crc(device, demo_models):
    data, lines = _infer_lines()
    wrong = f"{(zlib.crc32(data) ^ 1) & 0xFFFFFFFF:08x}"
    reply = device.command(f"infer 2 2 {len(data)} {wrong}", lines)
    assert reply == [f"e-payload crc32 mismatch: data {crc_hex(data)}, announced {wrong}"]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


def test_flipped_byte_is_caught_by_crc(device, demo_models):
    data, lines = _infer_lines()
    damaged = lines[0][:10] + ("0" if lines[0][10] != "0" else "1") + lines[0][11:]
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data)}", [damaged, *lines[1:]])
    assert len(reply) == 1 and reply[0].startswith("e-payload crc32 mismatch"), reply
    _state_untouched(device, demo_models)


def test_wrong_hex(device, demo_models):
    data, lines = _infer_lines()
    bad = lines[1][:2] + "zz" + lines[1][4:]
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data)}", [lines[0], bad, *lines[2:]])
    assert reply == ["e-payload chunk 2 is not hex"]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


def test_dropped_hex_digit(device, demo_models):
    data, lines = _infer_lines()
    odd = lines[0][:-1]                       # a byte lost on the wire: 127 digits
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data)}", [odd, *lines[1:]])
    assert reply == ["e-payload chunk 1 has 127 hex digits (even, 2..128)"]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


def test_chunk_too_long(device, demo_models):
    data, lines = _infer_lines()
    merged = lines[0] + lines[1][2:]          # a lost newline: 256 digits
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data)}", [merged, *lines[2:]])
    assert reply == ["e-payload chunk 1 has 256 hex digits (even, 2..128)"]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


def test_more_data_than_announced(device, demo_models):
    data, lines = _infer_lines()
    # The last chunk split in two, the second part one byte too long.
    split = lines[:-1] + [lines[-1][:-2], "d " + lines[-1][-2:] + "00"]
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data)}", split)
    assert reply == [f"e-payload chunk {len(lines) + 1} brings more bytes than announced"]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


def test_truncated_payload(device, demo_models):
    data, lines = _infer_lines()
    device.send(f"infer 2 2 {len(data)} {crc_hex(data)}\n{lines[0]}\n".encode())
    assert device.no_pending_lines(), "the device answered before the payload was complete"
    # The next command aborts the infer and is not executed.
    assert device.command("id") == ["e-payload expected a d line, got id"]
    assert_ok_afterwards(device)
    device.send(f"infer 2 2 {len(data)} {crc_hex(data)}\n{lines[0]}\n\n".encode())
    assert device.reply() == ["e-payload expected a d line, got an empty line"]
    device.send(f"infer 2 2 {len(data)} {crc_hex(data)}\n{lines[0]}\n".encode()
                + b"d " + b"0" * 600 + b"\n")
    assert device.reply() == ["e-overflow line longer than 512 bytes"]
    _state_untouched(device, demo_models)


@pytest.mark.parametrize("args,error", [
    ("0 1 0 00000000", "e-bad-args steps out of 1..max_steps"),
    ("257 1 65792 00000000", "e-bad-args steps out of 1..max_steps"),
    ("2 0 512 00000000", "e-bad-args block out of 1..max_block"),
    ("2 65 512 00000000", "e-bad-args block out of 1..max_block"),
    ("2 2 256 00000000", "e-bad-args bytes must be steps * input * 4"),
])
def test_infer_bad_args_consume_their_payload(device, demo_models, args, error):
    steps = int(args.split()[0])
    nbytes = int(args.split()[2])
    payload = encode_payload(bytes(nbytes)) if steps else []
    reply = device.command(f"infer {args}", payload)
    assert reply == [error]
    assert device.no_pending_lines()
    _state_untouched(device, demo_models)


@pytest.mark.parametrize("args", ["", "2", "2 2 512", "2 2 512 1234567", "2 2 512 123456789",
                                  "2 2 512 xyzxyzxy", "2 2 -512 00000000", "2 2 512 00000000 9",
                                  "2  2 512 00000000"])
def test_infer_unparseable_args(device, args):
    reply = device.command(f"infer {args}".rstrip())
    assert reply == ["e-bad-args infer needs <steps> <block> <bytes> <crc32>"]
    assert_ok_afterwards(device)


# -------------------------------------------------------------------- TCP

def test_tcp_one_client_at_a_time(demo_models):
    process = subprocess.Popen([DEVICE, "--tcp", "0"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        banner = process.stderr.readline().decode()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        port = int(match.group(1))
        model = demo_models["demo_sru"]
        x = frames(np.random.default_rng(5), 12, model.input_size)

        def connect() -> Device:
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def read_chunks():
                while True:
                    try:
                        chunk = sock.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    yield chunk

            def close() -> None:
                sock.shutdown(socket.SHUT_RDWR)   # wakes the reader; the device sees EOF
                sock.close()

            dev = Device(sock.sendall, read_chunks, close)
            assert dev.line() == "m-ready"
            return dev

        first = connect()
        assert first.command("id")[0].startswith("m-fw ")
        h1, _ = infer(first, x[:5], 4, model.output_size)
        first.close()
        # The next client continues the same device: the stream goes on.
        second = connect()
        h2, _ = infer(second, x[5:], 16, model.output_size)
        h_host, _ = model.forward(x, block=8)
        np.testing.assert_allclose(np.concatenate([h1, h2]), h_host, rtol=0, atol=ABS_TOL)
        second.send(b"\xff" * 2000 + b"\n")
        assert second.reply() == ["e-overflow line longer than 512 bytes"]
        assert [fields(line, "m-selftest")["result"] for line in second.command("selftest")] \
            == ["pass"] * len(DEMOS)
        second.close()
    finally:
        process.kill()
        process.wait()


def test_uppercase_hex_is_accepted(device, demo_models):
    model = demo_models["demo_sru"]
    x = frames(np.random.default_rng(4), 2, model.input_size)
    data = x.astype("<f4").tobytes()
    lines = [line.upper().replace("D ", "d ", 1) for line in encode_payload(data)]
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data).upper()}", lines)
    assert reply[1].startswith("m-payload "), reply
    h_host, _ = model.forward(x, block=2)
    h = np.frombuffer(b"".join(bytes.fromhex(line[2:]) for line in reply[2:]), "<f4")
    np.testing.assert_allclose(h.reshape(h_host.shape), h_host, rtol=0, atol=ABS_TOL)


def test_tty(demo_models):
    """--tty on a pseudo-terminal: raw mode, the same protocol; EOF when the
    other side hangs up."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    process = subprocess.Popen([DEVICE, "--tty", path], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        hang_up = threading.Event()

        def read_chunks():
            # Polled: closing an fd does not wake a read blocked on it.
            while not hang_up.is_set():
                if not select.select([master], [], [], 0.05)[0]:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                yield chunk

        dev = Device(lambda data: os.write(master, data), read_chunks, hang_up.set)
        assert dev.line() == "m-ready"
        os.close(slave)   # kept open until the device had it: a pty without one reads EIO
        slave = -1
        assert dev.command("id")[0].startswith("m-fw ")
        model = demo_models["demo_qrnn"]
        dev.command("model 1")
        x = frames(np.random.default_rng(8), 20, model.input_size)
        h, _ = infer(dev, x, 8, model.output_size)
        np.testing.assert_allclose(h, model.forward(x, block=8)[0], rtol=0, atol=ABS_TOL)
        dev.send(b"\x00" * 700 + b"\n")
        assert dev.reply() == ["e-overflow line longer than 512 bytes"]
        assert_ok_afterwards(dev)
        dev.close()
        dev._thread.join(TIMEOUT)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)   # the hang-up: the device's read fails and it exits
        try:
            process.wait(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_payload_line_lengths(device):
    """Output chunks are 64 bytes (128 hex digits) each."""
    data, lines = _infer_lines(steps=3)
    reply = device.command(f"infer 3 1 {len(data)} {crc_hex(data)}", lines)
    chunks = [line for line in reply if line.startswith("d-")]
    assert [len(c) - 2 for c in chunks] == [128] * 12
