"""The client and fixtures the device protocol tests share (docs/protocol.md),
against the real mtsrnn-device.

The program built from firmware/linux (firmware/common is the same code the
MCU boards run) is started as a subprocess and driven over pipes (the
`device` fixture), over TCP and over a tty. Its outputs are compared with
the host kernels (`mtsrnn.load(...).forward`) and the float64 reference.
Hostile input must give the right `e-` line and leave the device answering.

Set MTSRNN_DEVICE to the built binary (build/.../firmware/linux/mtsrnn-device)
or to a script that runs it (e.g. under qemu-aarch64; then set
MTSRNN_DEVICE_CORE=aarch64, the machine the device reports).
The demo models are read from the `models` directory next to it (the build
writes them there); without it they are regenerated with
firmware/common/make_demo_models.py.

The test modules (test_protocol_*.py) import the helpers from here
(`from .conftest import ...`); pytest gives them the fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import subprocess
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

DEVICE = os.environ.get("MTSRNN_DEVICE")
# Every test module's pytestmark.
NEEDS_DEVICE = pytest.mark.skipif(
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


def checked(text: str) -> str:
    """A command with its check, as a host sends it in checked mode."""
    return f"{text} #{crc_hex(text.encode())}"


def unchecked(line: str) -> str:
    """A received line without its check; fails the test when the check is
    missing or wrong."""
    body, sep, check = line.rpartition(" #")
    assert sep and len(check) == 8, f"a line without its check: {line!r}"
    assert crc_hex(body.encode()) == check, f"a line failing its check: {line!r}"
    return body


def is_ready(line: str) -> bool:
    return line == "m-ready" or line.startswith("m-ready ")


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
        """The next line, its check (protocol 2: every line ends with " #" and
        the CRC-32 of its text) verified and removed."""
        line = self._lines.get(timeout=timeout)
        if line is None:
            raise EOFError("the device closed its output")
        return unchecked(line)

    def reply(self, timeout: float = TIMEOUT) -> list[str]:
        """Lines up to (without) m-ready; its fields in self.ready."""
        lines = []
        while True:
            line = self.line(timeout)
            if is_ready(line):
                self.ready = fields(line, "m-ready")
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
    assert is_ready(device.line()), "no m-ready at boot"
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
    assert len(reply) >= 3, reply
    produced = fields(reply[0], "m-infer")
    assert produced["block"] == str(block) and produced["steps"] == str(x.shape[0]), produced
    assert produced["state"] == dev.ready["state"] == str(int(produced["from"]) + 1)
    counters = fields(reply[1], "m-counter")
    header = fields(reply[2], "m-payload")
    out = b""
    for line in reply[3:]:
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
