"""The device harness (mtsrnn.harness) over real sockets and ptys, no mocks.

(a) Against the Linux device program (MTSRNN_DEVICE=/path/to/mtsrnn-device):
    identify, infer against the host, streaming, reset, bench, selftest.
(b) Against a small peer written here (a protocol-conformant device in
    Python on a real TCP socket or pty) that can misbehave on request:
    garbage lines, a corrupted payload, dropped bytes, silence, a late
    reply, an overlong line, a closed link. The harness must raise the right
    error within its timeout, never accept wrong data, and recover.
(c) With MTSRNN_FIRMWARE_DIR holding the Cortex-M .elf files: the same
    through the QEMU launcher, and QEMU is gone afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from mtsrnn.harness import (  # noqa: E402
    BOARDS,
    BoardError,
    Device,
    DeviceError,
    PipeTransport,
    ProtocolError,
    SerialTransport,
    live_children,
    open_board,
    parse_line,
    start_host,
    start_qemu,
)
from mtsrnn.harness.client import decode_payload, encode_payload  # noqa: E402

TOL = 1e-4
SHORT = 1.5  # seconds: the command timeout of the fault tests


# --------------------------------------------------------------- a Python peer

class PeerDevice:
    """The device side of docs/protocol.md in Python, for one model, with faults.

    `fault` names a misbehaviour for the next reply (then it clears):
    "garbage" (a line of random bytes inside the reply), "crc" (one output
    byte changed after the CRC was computed), "drop" (one hex digit pair
    dropped from a d- line), "odd" (one hex digit dropped), "silence" (no
    reply at all), "late" (the reply after `late_delay` seconds), "overlong"
    (a 10 kB line inside the reply), "close" (the link closed mid-reply),
    "bad-type" (an untyped line), "short" (a d- line missing, CRC of what is
    sent so only the length is wrong).
    """

    def __init__(self, model, max_block=16, max_steps=32, late_delay=2.5):
        self.model = model
        self.state = model.initial_state()
        self.max_block = max_block
        self.max_steps = max_steps
        self.fault: str | None = None
        self.late_delay = late_delay
        self.commands: list[str] = []
        self.lock = threading.Lock()

    # the line handler: returns the reply lines, or None to close the link
    def handle(self, line: str, read_line) -> list[str] | None:
        self.commands.append(line)
        if line == "":
            return ["m-ready"]
        words = line.split(" ")
        name = words[0]
        try:
            if name == "id":
                reply = self._id()
            elif name == "model" and len(words) == 2:
                if words[1] != "0":
                    reply = ["e-bad-args no model " + words[1]]
                else:
                    self.state = self.model.initial_state()
                    reply = ["m-selected index=0"]
            elif name == "reset":
                self.state = self.model.initial_state()
                reply = ["m-reset"]
            elif name == "infer":
                reply = self._infer(words, read_line)
            elif name == "bench":
                reply = self._bench(words)
            elif name == "selftest":
                reply = ["m-selftest index=0 name=peer max_abs_err=0 tolerance=0.0001 "
                         "result=pass"]
            else:
                shown = "".join(c if 32 < ord(c) < 127 else "?" for c in name[:32])
                reply = [f"e-unknown-command {shown}"]
        except ValueError as error:
            reply = [f"e-bad-args {error}"]
        return self._misbehave(reply)

    def _id(self):
        m = self.model
        return ["m-fw name=mtsrnn version=0.1.0 protocol=1",
                "m-board name=peer core=python clock_hz=0",
                "m-counters cycles=unavailable instructions=available ns=unavailable",
                f"m-limits max_block={self.max_block} max_steps={self.max_steps}",
                f"m-model index=0 name=peer cell={m.cell} layers={m.num_layers} "
                f"input={m.input_size} output={m.output_size} weight_bytes=1 dtype=f32",
                "m-selected index=0"]

    def _infer(self, words, read_line):
        if len(words) != 5:
            raise ValueError("infer needs <steps> <block> <bytes> <crc32>")
        steps, block, size = int(words[1]), int(words[2]), int(words[3])
        crc = int(words[4], 16)
        data = b""
        while len(data) < size:
            line = read_line()
            if line is None:
                return None
            if not line.startswith("d "):
                return [f"e-payload expected a d line, got {line.split(' ')[0][:32]}"]
            data += bytes.fromhex(line[2:])
        if len(data) != size or zlib.crc32(data) != crc:
            return ["e-payload bad length or crc"]
        if not (1 <= block <= self.max_block and 1 <= steps <= self.max_steps
                and size == steps * self.model.input_size * 4):
            raise ValueError("bad steps, block or bytes")
        x = np.frombuffer(data, "<f4").reshape(steps, self.model.input_size)
        h, self.state = self.model.forward(np.ascontiguousarray(x), self.state, block=block)
        out = np.ascontiguousarray(h, "<f4").tobytes()
        reply = [f"m-counter instructions={1000 * steps}",
                 f"m-payload bytes={len(out)} crc32={zlib.crc32(out):08x}"]
        reply += ["d-" + out[i:i + 64].hex() for i in range(0, len(out), 64)]
        return reply

    def _bench(self, words):
        blocks = [int(b) for b in words[1].split(",")]
        steps = 32
        for word in words[2:]:
            if word.startswith("steps="):
                steps = int(word[6:])
        self.state = self.model.initial_state()
        return [f"m-bench block={b} steps={steps} instructions={steps * (500 + 64000 // b)}"
                for b in blocks]

    def _misbehave(self, reply):
        fault, self.fault = self.fault, None
        if reply is None:
            return None
        data_lines = [i for i, line in enumerate(reply) if line.startswith("d-")]
        if fault == "garbage":
            reply.insert(len(reply) // 2, "\x07\xff\x00garbage#noise")
        elif fault == "bad-type":
            reply.insert(0, "hello world")
        elif fault == "crc" and data_lines:
            i = data_lines[0]
            digits = reply[i][2:]
            flipped = "%02x" % (int(digits[:2], 16) ^ 0x01)
            reply[i] = "d-" + flipped + digits[2:]
        elif fault == "drop" and data_lines:
            i = data_lines[-1]
            reply[i] = reply[i][:-2]
        elif fault == "odd" and data_lines:
            i = data_lines[0]
            reply[i] = reply[i][:-1]
        elif fault == "short" and len(data_lines) > 1:
            del reply[data_lines[-1]]
        elif fault == "overlong":
            reply.insert(0, "m-" + "x" * 10000)
        elif fault == "silence":
            return []
        elif fault == "late":
            time.sleep(self.late_delay)
        elif fault == "close":
            return reply[:2] + [None]
        return reply + ["m-ready"]


class _LineReader:
    """Lines from a byte source (a socket or a pty master fd)."""

    def __init__(self, read):
        self._read = read
        self._buffer = b""

    def __call__(self) -> str | None:
        while b"\n" not in self._buffer:
            try:
                chunk = self._read()
            except OSError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("latin-1")


def _serve(peer: PeerDevice, read, write, stop: threading.Event):
    reader = _LineReader(read)
    peer.write = write
    write(b"m-ready\n")
    while not stop.is_set():
        line = reader()
        if line is None:
            return
        reply = peer.handle(line, reader)
        if reply is None:
            return
        for text in reply:
            if text is None:
                return  # close mid-reply
            write(text.encode("latin-1") + b"\n")


@contextlib.contextmanager
def socket_peer(peer: PeerDevice):
    """A TCP server on a free port running `peer`; yields its socket:// URL."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.1)  # so the accept loop sees `stop`
    stop = threading.Event()
    connections = []

    def run():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            connections.append(conn)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _serve(peer, lambda c=conn: c.recv(4096), conn.sendall, stop)
            with contextlib.suppress(OSError):
                conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        server.close()
        thread.join(timeout=5)


@contextlib.contextmanager
def pty_peer(peer: PeerDevice):
    """`peer` on the master side of a real pty; yields the slave's path."""
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    stop = threading.Event()

    def write(data: bytes):
        view = memoryview(data)
        while view:
            n = os.write(master, view)
            view = view[n:]

    thread = threading.Thread(target=_serve, args=(peer, lambda: os.read(master, 4096),
                                                   write, stop), daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        thread.join(timeout=5)


@pytest.fixture
def small_model():
    return mtsrnn.random_sru(6, 6, num_layers=2, seed=3)


@pytest.fixture
def peer(small_model):
    return PeerDevice(small_model)


@pytest.fixture
def device(peer):
    with socket_peer(peer) as url:
        dev = Device.open(url, timeout=SHORT)
        try:
            yield dev
        finally:
            dev.close()


def _frames(rng, steps, width):
    return rng.standard_normal((steps, width)).astype(np.float32)


# ------------------------------------------------------------- (b) the protocol

def test_parse_lines():
    line = parse_line("m-model index=0 name=demo cell=sru")
    assert (line.kind, line.tag, line["name"], line.int("index")) == ("m", "model", "demo", 0)
    error = parse_line("e-bad-args infer needs <steps>")
    assert (error.tag, error.fields["reason"]) == ("bad-args", "infer needs <steps>")
    assert parse_line("d-00ff").text == "00ff"
    for bad in ("", "x", "hello", "m-", "m-key=1 word", "q-1", "e-"):
        with pytest.raises(ProtocolError):
            parse_line(bad)


def test_payload_round_trip_and_checks():
    data = bytes(range(200))
    lines = [parse_line("d-" + text[2:]) for text in encode_payload(data)]
    assert all(len(line.text) <= 128 for line in lines)
    announced = parse_line(f"m-payload bytes=200 crc32={zlib.crc32(data):08x}")
    assert decode_payload(lines, announced, "t") == data
    bad_crc = parse_line(f"m-payload bytes=200 crc32={zlib.crc32(data) ^ 1:08x}")
    with pytest.raises(ProtocolError, match="CRC"):
        decode_payload(lines, bad_crc, "t")
    with pytest.raises(ProtocolError, match="bytes"):
        decode_payload(lines[:-1], announced, "t")
    with pytest.raises(ProtocolError, match="malformed"):
        decode_payload([parse_line("d-0g")] + lines[1:], announced, "t")
    with pytest.raises(ProtocolError, match="m-payload"):
        decode_payload(lines, None, "t")


def test_identify_infer_stream_over_socket(device, small_model):
    info = device.identify()
    assert info.models[0].input == 6 and info.max_block == 16
    assert info.available_counters == ["instructions"]
    rng = np.random.default_rng(0)
    x = _frames(rng, 20, 6)
    expected, _ = small_model.forward(x, block=4)
    h1, counters = device.infer(x[:7], block=4)
    h2, _ = device.infer(x[7:], block=4)  # the state carries across calls
    assert counters == {"instructions": 7000}
    np.testing.assert_allclose(np.concatenate([h1, h2]), expected, atol=TOL, rtol=0)
    device.reset()
    h3, _ = device.infer(x[:7], block=2)
    np.testing.assert_allclose(h3, expected[:7], atol=TOL, rtol=0)
    long_x = _frames(rng, 70, 6)  # more than max_steps: split into calls
    device.reset()
    h4, totals = device.infer_stream(long_x, block=8)
    np.testing.assert_allclose(h4, small_model.forward(long_x, block=8)[0], atol=TOL, rtol=0)
    assert totals["instructions"] == 70000


def test_over_pty(peer, small_model):
    with pty_peer(peer) as path:
        with Device.open(path, timeout=SHORT) as dev:
            assert dev.identify().board_name == "peer"
            x = _frames(np.random.default_rng(1), 5, 6)
            h, _ = dev.infer(x, block=3)
            np.testing.assert_allclose(h, small_model.forward(x, block=3)[0], atol=TOL, rtol=0)
            assert [r["block"] for r in dev.bench([1, 2, 4], steps=8)] == [1, 2, 4]


def test_bench_and_selftest(device):
    rows = device.bench([1, 4, 16], steps=16)
    per_step = [r["instructions"] / r["steps"] for r in rows]
    assert per_step == sorted(per_step, reverse=True)
    result = device.selftest()
    assert result[0]["passed"] is True


def test_device_errors_keep_the_link(device, peer):
    with pytest.raises(DeviceError) as caught:
        device.command("frobnicate now")
    assert caught.value.code == "unknown-command"
    assert "frobnicate" in caught.value.reason
    with pytest.raises(DeviceError) as caught:
        device.select(5)
    assert caught.value.code == "bad-args"
    assert device.identify().board_name == "peer"
    with pytest.raises(ValueError):
        device.infer(np.zeros((3, 5), np.float32), block=2)  # wrong width: not sent
    with pytest.raises(ValueError):
        device.infer(np.zeros((3, 6), np.float32), block=99)  # beyond max_block


@pytest.mark.parametrize("fault", ["crc", "drop", "odd", "short", "garbage", "bad-type",
                                   "overlong"])
def test_corrupted_reply_is_rejected_then_recovered(device, peer, small_model, fault):
    x = _frames(np.random.default_rng(2), 9, 6)
    device.identify()
    peer.fault = fault
    with pytest.raises(ProtocolError):
        device.infer(x, block=4)
    # The device state advanced (it ran); start again from zero and check.
    device.reset()
    h, _ = device.infer(x, block=4)
    np.testing.assert_allclose(h, small_model.forward(x, block=4)[0], atol=TOL, rtol=0)


def test_silence_times_out_then_recovers(device, peer):
    device.identify()
    peer.fault = "silence"
    start = time.monotonic()
    with pytest.raises(ProtocolError, match="no complete reply"):
        device.command("reset")
    assert time.monotonic() - start < SHORT + 1.0
    assert device.identify().board_name == "peer"


def test_late_reply_is_not_taken_for_the_next(device, peer, small_model):
    """A reply that arrives after its timeout must not answer the next command."""
    x = _frames(np.random.default_rng(3), 4, 6)
    device.identify()
    peer.fault = "late"
    with pytest.raises(ProtocolError):
        device.command("bench 1 steps=4")
    device.timeout = 5.0  # the peer is still asleep for about a second
    device.reset()
    h, _ = device.infer(x, block=2)
    np.testing.assert_allclose(h, small_model.forward(x, block=2)[0], atol=TOL, rtol=0)


def test_noise_between_commands(peer, small_model):
    """Lines arriving unasked (a rebooting board, a stray m-ready) are dropped,
    never taken as (the end of) the next reply."""
    with socket_peer(peer) as url:
        with Device.open(url, timeout=SHORT) as dev:
            dev.identify()
            peer.write(b"\x00\xffnoise\nm-ready\nm-selected index=0\nm-ready\n")
            time.sleep(0.2)
            assert dev.identify().models[0].output == 6
            x = _frames(np.random.default_rng(6), 3, 6)
            h, _ = dev.infer(x, block=1)
            np.testing.assert_allclose(h, small_model.forward(x, block=1)[0], atol=TOL,
                                       rtol=0)


def test_link_closed_mid_reply(peer):
    with socket_peer(peer) as url:
        dev = Device.open(url, timeout=5.0)
        try:
            peer.fault = "close"
            start = time.monotonic()
            with pytest.raises(ProtocolError, match="closed"):
                dev.identify()
            assert time.monotonic() - start < 3.0  # not the full timeout
        finally:
            dev.close()


def test_no_device_handshake_fails_fast():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts, never answers
    try:
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        start = time.monotonic()
        transport = SerialTransport(url)
        dev = Device(transport, timeout=0.5)
        with pytest.raises(ProtocolError, match="handshake"):
            dev.handshake(retries=3, interval=0.2)
        dev.close()
        assert time.monotonic() - start < 3.0
    finally:
        server.close()


def test_pipe_transport_against_a_child_process(tmp_path, small_model):
    """The host board's pipe transport, with this file's peer as the child."""
    model_path = tmp_path / "m.mts"
    mtsrnn.mtsfile.save(small_model, str(model_path))
    script = tmp_path / "peer.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import mtsrnn\n"
        "from test_harness import PeerDevice, _serve\n"
        "import threading\n"
        f"peer = PeerDevice(mtsrnn.load({str(model_path)!r}))\n"
        "out = sys.stdout.buffer\n"
        "def write(b):\n"
        "    out.write(b); out.flush()\n"
        "_serve(peer, lambda: sys.stdin.buffer.read1(4096), write, threading.Event())\n")
    process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, bufsize=0)
    transport = PipeTransport(process, "peer (pipe)")
    dev = Device(transport, timeout=10.0)
    try:
        dev.handshake(retries=20)
        x = _frames(np.random.default_rng(4), 6, 6)
        h, _ = dev.infer(x, block=2)
        np.testing.assert_allclose(h, small_model.forward(x, block=2)[0], atol=TOL, rtol=0)
    finally:
        dev.close()
    assert process.wait(timeout=5) is not None


# ------------------------------------------------------------------ the CLI

def test_cli_bench_and_selftest_over_port(peer, tmp_path, capsys):
    import argparse

    from mtsrnn import cli_device

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench")
    targets = bench.add_subparsers(dest="target", required=True)
    cli_device.add_commands(commands, targets)
    with socket_peer(peer) as url:
        out_json = tmp_path / "bench.json"
        out_png = tmp_path / "bench.png"
        plot = ["--plot", str(out_png)] if importlib.util.find_spec("matplotlib") else []
        args = parser.parse_args(["bench", "device", "--port", url, "--block", "2,8",
                                  "--steps", "8", "--json", str(out_json), "--no-progress",
                                  *plot])
        assert args.run(args) == 0
        if plot:
            assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        text = capsys.readouterr().out
        header = text.splitlines()[1]
        assert "instructions/step" in header and "cycles" not in header
        assert "not performance" in text
        import json

        document = json.loads(out_json.read_text())
        assert [r["block"] for r in document["results"]] == [1, 2, 8]
        assert document["results"][0]["speedup"] == pytest.approx(1.0)
        assert document["results"][2]["speedup"] > 1.0
        args = parser.parse_args(["selftest", "--port", url])
        assert args.run(args) == 0
        x = _frames(np.random.default_rng(5), 10, 6)
        np.save(tmp_path / "x.npy", x)
        model_path = tmp_path / "m.mts"
        mtsrnn.mtsfile.save(peer.model, str(model_path))
        args = parser.parse_args(["run", "--port", url, "--model", str(model_path), "--input",
                                  str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                                  "--block", "4"])
        assert args.run(args) == 0
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"),
                                   peer.model.forward(x, block=4)[0], atol=TOL, rtol=0)
        other = mtsrnn.random_sru(6, 6, num_layers=2, seed=99)
        mtsrnn.mtsfile.save(other, str(model_path))
        assert args.run(args) == 1  # same shape, different weights: caught
        assert "differs" in capsys.readouterr().err


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
    assert lines and lines[0].startswith("e-unknown-command")
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


@needs_device
def test_device_program_over_pipe():
    with start_host(DEVICE_PROGRAM) as session:
        dev = session.device
        dev.identify()
        assert _check_against_host(dev, _host_models(dev, _device_dirs(DEVICE_PROGRAM))) >= 2
        _check_selftest_and_bench(dev)
        pid = session.pid
    assert pid not in live_children()


@needs_device
def test_device_program_with_model_files(tmp_path):
    models = _test_models()
    args = []
    for path in _save_models(tmp_path, models):
        args += ["--model", str(path)]
    with start_host(DEVICE_PROGRAM, args=args) as session:
        dev = session.device
        names = [m.name for m in dev.identify().models]
        assert set(models) <= set(names), names
        assert _check_against_host(dev, models) == len(models)


@needs_device
def test_device_program_over_tcp_with_faults():
    with start_host(DEVICE_PROGRAM, tcp=True) as session:
        dev = session.device
        _check_faults(dev)
        _check_selftest_and_bench(dev)


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
        _check_selftest_and_bench(dev)
        _check_faults(dev)
    assert pid not in _qemu_pids() and not _alive(pid)
    assert _qemu_pids() <= before


@pytest.mark.parametrize("board", QEMU_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_with_built_in_models(board, tmp_path):
    """Firmware built with several SRU and QRNN models, each against the host."""
    from mtsrnn.harness import get_board
    from mtsrnn.harness import build_firmware

    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("cmake") is None:
        pytest.skip("no arm-none-eabi-gcc or cmake to build firmware")
    models = _test_models()
    elf = build_firmware(get_board(board), _save_models(tmp_path, models))
    with open_board(board, firmware=elf) as session:
        dev = session.device
        assert [m.name for m in dev.identify().models] == list(models)
        assert _check_against_host(dev, models) == len(models)
        assert all(r["passed"] for r in dev.selftest())
        if BOARDS[board].arch in EXPECTED_KERNELS:
            # sizes that are no multiple of the tiles: every kernel's tails
            _check_every_kernel(dev, models)


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


CORTEX_M_BOARDS = [name for name in QEMU_BOARDS if BOARDS[name].arch in ("m4f", "m55")]
# The blocked products each Cortex-M build must offer (the kernels' table for
# the core, then the CMSIS-DSP baseline when the firmware was built with it).
EXPECTED_KERNELS = {"m4f": "m4f", "m55": "helium"}


def _golden(model, x):
    """The independent float64 NumPy reference (mtsrnn.reference) for x
    from the zero state, with the model's weight scheme (float32 or int8)."""
    from mtsrnn import reference

    config = model.config
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


def _check_every_kernel(dev: Device, twins: dict) -> list[str]:
    """Per model with a twin, each blocked product it offers (the table of its
    weights' scheme), chosen with `kernel <name>`: streamed over several T
    against the float64 reference of its scheme; bench with kernel=;
    selftest ran every model through all of its products. Returns the
    products of the first model (a float demo on every device here)."""
    info = dev.identify()
    rng = np.random.default_rng(17)
    offered: dict[int, list[str]] = {}
    for model in info.models:
        dev.select(model.index)
        kernels, selected = dev.kernels()
        names = offered[model.index] = [k.name for k in kernels]
        assert len(set(names)) == len(names) and selected.name in names, kernels
        twin = twins.get(model.name)
        if twin is None:
            continue
        steps = min(info.max_steps, 21)
        x = _frames(rng, steps, model.input)
        expected = _golden(twin, x)
        for kernel in names:
            assert dev.select_kernel(kernel).name == kernel
            assert dev.kernels()[1].name == kernel
            for block in (1, 3, 4, 16):
                dev.reset()
                cuts = [0, 5, steps]  # the state carried across two calls
                h = np.concatenate([dev.infer(x[a:b], block=block)[0]
                                    for a, b in zip(cuts, cuts[1:], strict=False)])
                np.testing.assert_allclose(h, expected, atol=TOL, rtol=0,
                                           err_msg=f"{kernel}: {model.name} T={block}")
            rows = dev.bench([1, 4], steps=8, kernel=kernel)
            assert [r["block"] for r in rows] == [1, 4]
            assert all(r[c] >= 0 for r in rows for c in info.available_counters if c in r), rows
        dev.select_kernel(names[0])
        assert dev.kernels()[1].index == 0
    dev.select(0)
    results = dev.selftest()
    assert all(r["passed"] and r["kernels"] == len(offered[r["index"]])
               and r["worst_kernel"] in offered[r["index"]] for r in results), results
    return offered[0]


def _check_bad_kernel(dev: Device) -> None:
    """An unknown kernel is an e-bad-args reply that changes nothing."""
    before = dev.kernels()[1]
    for command in ("kernel nosuch", "bench 1 kernel=nosuch", "bench 1 kernel=",
                    "kernel m4f helium", "bench 1 kernel=helium kernel=m4f"):
        with pytest.raises(DeviceError) as caught:
            dev.command(command)
        assert caught.value.code == "bad-args", command
    with pytest.raises(DeviceError, match="no kernel nosuch"):
        dev.select_kernel("nosuch")
    with pytest.raises(ValueError):
        dev.select_kernel("two words")
    assert dev.kernels()[1] == before


@pytest.mark.parametrize("board", CORTEX_M_BOARDS)
@needs_qemu[0]
@needs_qemu[1]
def test_qemu_board_every_kernel_against_the_reference(board):
    """The firmware's own variant (m4f on the Cortex-M4F, helium on the M55)
    and every other product it offers, the CMSIS-DSP baseline included,
    each selected and checked against the float64 reference on its core."""
    elf = _firmware(board)
    with open_board(board) as session:
        dev = session.device
        twins = _host_models(dev, [elf.parents[1] / "models"])
        assert len(twins) >= 2, f"no .mts twins under {elf.parents[1]}"
        names = _check_every_kernel(dev, twins)
        assert names[0] == EXPECTED_KERNELS[BOARDS[board].arch], names
        assert "reference" in names
        if (elf.parents[1] / "CMakeCache.txt").is_file() and "MTSRNN_FW_CMSIS:BOOL=ON" in (
                elf.parents[1] / "CMakeCache.txt").read_text():
            assert names[-1] == "cmsis-dsp-matvec", names
        _check_bad_kernel(dev)


@needs_device
def test_device_program_every_kernel():
    """mtsrnn-device offers the kernels' variant table through the same
    commands (firmware/common/mts_device.c), each checked like the firmware's."""
    with start_host(DEVICE_PROGRAM) as session:
        dev = session.device
        names = _check_every_kernel(dev, _host_models(dev, _device_dirs(DEVICE_PROGRAM)))
        assert "reference" in names and "cmsis-dsp-matvec" not in names
        _check_bad_kernel(dev)


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


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_demo_models(board):
    """What the Cortex-M boards go through (golden comparison over several T,
    streaming, reset, selftest, bench, faults), with the cross-built program
    under qemu user mode over TCP; the emulator is gone afterwards."""
    program = _cortex_a_program(board)
    emulator = BOARDS[board].emulator
    before = _qemu_pids(emulator)
    with open_board(board) as session:
        pid = session.pid
        assert pid in _qemu_pids(emulator)
        dev = session.device
        info = dev.identify()
        assert (info.board_name, info.board["core"]) == ("linux", CORTEX_A_CORES[board])
        assert info.counters.get("ns")
        twins = _host_models(dev, _device_dirs(str(program)))
        assert _check_against_host(dev, twins) >= 2, f"no .mts twins next to {program}"
        _check_selftest_and_bench(dev)
        _check_faults(dev)
        kernels = _check_every_kernel(dev, twins)
        if program.parts[-4].endswith("-neon"):  # build/<cpu>-neon/firmware/linux/...
            assert kernels[0] == "neon", kernels
        assert "reference" in kernels and "tiled" in kernels
        _check_bad_kernel(dev)
    assert pid not in _qemu_pids(emulator) and not _alive(pid)
    assert _qemu_pids(emulator) <= before


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_with_model_files(board, tmp_path):
    """Several SRU and QRNN models loaded from .mts files by the emulated
    program, each against the host."""
    _cortex_a_program(board)
    models = _test_models()
    args = []
    for path in _save_models(tmp_path, models):
        args += ["--model", str(path)]
    with open_board(board, device_args=args) as session:
        dev = session.device
        names = [m.name for m in dev.identify().models]
        assert set(models) <= set(names), names
        assert _check_against_host(dev, models) == len(models)


def test_cortex_a_cli(tmp_path, capsys):
    """mtsrnn selftest / run / bench on the qemu-aarch64 board, the bench
    through the `mtsrnn bench --board` shorthand: the table says emulated
    timings are not performance."""
    from mtsrnn import cli

    _cortex_a_program("qemu-aarch64")
    assert cli.main(["selftest", "--board", "qemu-aarch64"]) == 0
    assert "self-test passed" in capsys.readouterr().out
    model = mtsrnn.random_qrnn(7, 9, num_layers=2, window=2, seed=21)
    model_path = tmp_path / "q.mts"
    mtsrnn.mtsfile.save(model, str(model_path))
    x = _frames(np.random.default_rng(9), 30, 7)
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["run", "--board", "qemu-aarch64", "--model", str(model_path),
                     "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                     "--block", "4"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _golden(model, x), atol=TOL,
                               rtol=0)
    capsys.readouterr()
    assert cli.main(["bench", "--board", "qemu-aarch64", "--block", "1,4", "--steps", "8",
                     "--repeat", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "qemu-aarch64" in text and "ns/step" in text
    assert "timings under emulation are not performance" in text


def test_cortex_a_program_reached_by_port(capsys):
    """A Cortex-A board as a user runs one: the program started by hand with
    `--tcp 0 --bind 0.0.0.0 --once`, the host reaching it by URL through the
    `mtsrnn bench --port` shorthand (the program reports only `ns`, so the
    table is not marked emulated: it cannot know, as on real hardware)."""
    from mtsrnn import cli

    program = _cortex_a_program("qemu-aarch64")
    process = subprocess.Popen([BOARDS["qemu-aarch64"].emulator, str(program), "--tcp", "0",
                                "--bind", "0.0.0.0", "--once"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        assert banner.startswith("mtsrnn-device: listening on 0.0.0.0:"), banner
        port = int(banner.rsplit(":", 1)[1])
        assert cli.main(["bench", "--port", f"socket://127.0.0.1:{port}", "--block", "1,2",
                         "--steps", "4", "--repeat", "1", "--no-progress"]) == 0
        assert "ns/step" in capsys.readouterr().out
        assert process.wait(timeout=20) == 0  # --once: it ends with the connection
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()



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
        names = [k.name for k in dev.kernels()[0]]
        if model.weights in products:
            assert names == products[model.weights], (model.name, names)
        products[model.weights] = names
    for scheme, names in products.items():
        # float32: the kernels' table, and on Cortex-M the CMSIS-DSP peer
        baseline = scheme == "float32" and names[-1] == "cmsis-dsp-matvec"
        assert len(names) - baseline == _elf_size_t(image, TABLE_COUNT_SYMBOLS[scheme]), \
            (scheme, names)
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
        assert row["passed"] and row["kernels"] == len(products[scheme]), row
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
    before = dev.kernels()[1]
    x = _frames(rng, 6, int8.input)
    first, _ = dev.infer(x[:3], block=2)
    for name in float_only:
        with pytest.raises(DeviceError, match=f"no kernel {name} for model {int8.index}") as e:
            dev.select_kernel(name)
        assert e.value.code == "bad-args"
        with pytest.raises(DeviceError, match=f"no kernel {name}"):
            dev.bench([1], steps=4, kernel=name)
        assert dev.kernels()[1] == before
    continued, _ = dev.infer(x[3:], block=2)   # the stream went on untouched
    dev.reset()
    np.testing.assert_array_equal(np.concatenate([first, continued]),
                                  dev.infer(x, block=2)[0])
    # The choice is by name: kept where the next model offers it, else that
    # model's default.
    dev.select(0)
    dev.select_kernel("tiled")
    dev.select(int8.index)
    assert dev.kernels()[1].name == "tiled"
    if float_only:
        dev.select(0)
        dev.select_kernel(float_only[-1])
        dev.select(int8.index)
        assert dev.kernels()[1].index == 0
        dev.select(0)
        assert dev.kernels()[1].name == float_only[-1]
    dev.select(0)
    dev.select_kernel(products["float32"][0])
    return products


@pytest.mark.parametrize("board", CORTEX_M_BOARDS)
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
    if BOARDS[board].arch in EXPECTED_KERNELS and "cmsis-dsp-matvec" in products["float32"]:
        assert all("cmsis-dsp-matvec" not in products[s] for s in ("int8-w", "int8-wa"))
    # The CLI: selftest names the schemes; `run --model q.mts` with the
    # firmware given uses its built-in model of that shape and scheme.
    assert cli.main(["selftest", "--board", board, "--firmware", str(elf)]) == 0
    out = capsys.readouterr().out
    assert "demo_sru_i8wa (int8-wa weights)" in out and "demo_sru_i8w (int8-w weights)" in out
    x = _frames(np.random.default_rng(5), 20, 64)
    np.save(tmp_path / "x.npy", x)
    y = tmp_path / "y.npy"
    assert cli.main(["run", "--board", board, "--firmware", str(elf), "--model",
                     str(models_dir / "demo_sru_i8wa.mts"), "--input", str(tmp_path / "x.npy"),
                     "-o", str(y)]) == 0
    assert "(demo_sru_i8wa)" in capsys.readouterr().out
    np.testing.assert_allclose(np.load(y), _golden(twins["demo_sru_i8wa"], x), atol=1e-5,
                               rtol=0)
    assert cli.main(["bench", "device", "--board", board, "--firmware", str(elf), "--model",
                     str(models_dir / "demo_sru_i8w.mts"), "--variant", "nosuch",
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no variant nosuch for model" in err and "int8-w weights" in err
    assert ", ".join(products["int8-w"]) in err


@pytest.mark.parametrize("board", CORTEX_A_BOARDS)
def test_cortex_a_board_int8_models(board):
    program = _cortex_a_program(board)
    with open_board(board) as session:
        dev = session.device
        products = _check_int8_models(dev, program, _host_models(dev, _device_dirs(str(program))))
    if program.parts[-4].endswith("-neon"):  # build/<cpu>-neon/firmware/linux/...
        assert products["int8-w"][0] == products["int8-wa"][0] == "neon", products


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


def test_device_refuses_a_corrupt_scale_table(tmp_path):
    argv = _device_argv()
    if argv is None:
        pytest.skip("no mtsrnn-device: set MTSRNN_DEVICE or build build/aarch64-neon")
    for name, path in _corrupt_scale_files(tmp_path).items():
        result = subprocess.run([*argv, "--model", str(path)], input=b"id\n",
                                capture_output=True, timeout=60)
        # exit status 2 with the reason on stderr: no crash (a signal), no
        # protocol served with the damaged model
        assert result.returncode == 2, (name, result)
        assert path.name in result.stderr.decode() and b"m-ready" not in result.stdout, name


def test_device_model_mixing_schemes(tmp_path):
    """A model whose layers mix schemes (float32, then int8-wa), loaded by the
    device program from a hand-made .mts: `id` says so, it is offered the
    names common to both tables (in the float table's order), and its
    output is that of its two layers run one after the other on the host."""
    from mtsrnn import mtsfile

    argv = _device_argv()
    if argv is None:
        pytest.skip("no mtsrnn-device: set MTSRNN_DEVICE or build build/aarch64-neon")
    float_model = mtsrnn.random_sru(12, 12, num_layers=2, seed=43)
    int8_model = mtsrnn.quantize(float_model, "int8-wa")
    first, second = mtsfile.kernel_layers(float_model)[0], mtsfile.kernel_layers(int8_model)[1]
    mixed = tmp_path / "mixed.mts"
    mixed.write_bytes(mtsfile.encode("sru", [first, second]))
    halves = []
    for name, layer in (("first", first), ("second", second)):
        (tmp_path / f"{name}.mts").write_bytes(mtsfile.encode("sru", [layer]))
        halves.append(mtsrnn.load(str(tmp_path / f"{name}.mts")))
    if DEVICE_PROGRAM:
        session = start_host(DEVICE_PROGRAM, args=["--model", str(mixed)])
    else:
        session = start_host(argv[1], tcp=True, args=["--model", str(mixed)],
                             board=BOARDS["qemu-aarch64"])
    with session:
        dev = session.device
        info = dev.identify()
        model = next(m for m in info.models if m.name == "mixed")
        assert model.weights == "float32+int8-wa"
        dev.select(0)
        float_names = [k.name for k in dev.kernels()[0]]
        dev.select(next(m.index for m in info.models if m.weights == "int8-wa"))
        int8_names = [k.name for k in dev.kernels()[0]]
        dev.select(model.index)
        names = [k.name for k in dev.kernels()[0]]
        assert names == [k for k in float_names if k in int8_names], (names, float_names)
        x = _frames(np.random.default_rng(44), 10, 12)
        expected = halves[1].forward(halves[0].forward(x, block=4)[0], block=4)[0]
        for name in names:
            dev.select_kernel(name)
            dev.reset()
            np.testing.assert_allclose(dev.infer(x, block=4)[0], expected, atol=1e-5, rtol=0,
                                       err_msg=name)
        assert [r["device_verdict"] for r in dev.selftest() if r["name"] == "mixed"] == ["skip"]
