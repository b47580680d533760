"""A small device written in Python for the harness tests: a
protocol-conformant peer (docs/protocol.md) on a real TCP socket or pty that
can misbehave on request (garbage lines, a corrupted payload, dropped bytes,
silence, a late reply, an overlong line, a closed link). Not a test module:
test_harness_protocol.py uses it, and runs it as a child process."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import zlib

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")


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

    def __init__(self, model, max_block=16, max_steps=32, late_delay=2.5,
                 checks: bool = True):
        self.model = model
        self.state = model.initial_state()
        self.max_block = max_block
        self.max_steps = max_steps
        self.fault: str | None = None
        self.late_delay = late_delay
        self.commands: list[str] = []
        self.lock = threading.Lock()
        self.generation = 0  # the state's generation (m-ready state=)
        self.answering = "-"  # the check of the line being answered (re=)
        self.checks = checks  # False: a protocol 1 device, lines without checks

    def ready(self) -> str:
        return f"m-ready model=0 variant=peer state={self.generation} re={self.answering}"

    def _new_state(self):
        self.generation += 1
        self.state = self.model.initial_state()

    # the line handler: returns the reply lines, or None to close the link
    def handle(self, line: str, read_line) -> list[str] | None:
        self.commands.append(line)
        self.answering = "-"
        if line == "":
            return [self.ready()]
        body, sep, check = line.rpartition(" #")
        if sep and len(check) == 8:
            self.answering = check
            if f"{zlib.crc32(body.encode('latin-1')):08x}" != check:
                return self._misbehave(["e-check mismatch: not executed"])
            line = body
        words = line.split(" ")
        name = words[0]
        try:
            if name == "id":
                reply = self._id()
            elif name == "model" and len(words) == 2:
                if words[1] != "0":
                    reply = ["e-bad-args no model " + words[1]]
                else:
                    self._new_state()
                    reply = ["m-selected index=0"]
            elif name == "reset":
                self._new_state()
                reply = ["m-reset"]
            elif name == "infer":
                reply = self._infer(words, read_line)
            elif name == "bench":
                reply = self._bench(words)
            elif name == "selftest":
                self._new_state()
                reply = [f"m-selftest index=0 name=peer max_abs_err=0 tolerance=0.0001 "
                         f"block={self.max_block} steps=4 result=pass"]
            else:
                shown = "".join(c if 32 < ord(c) < 127 else "?" for c in name[:32])
                reply = [f"e-unknown-command {shown}"]
        except ValueError as error:
            reply = [f"e-bad-args {error}"]
        return self._misbehave(reply)

    def _id(self):
        m = self.model
        return ["m-fw name=mtsrnn version=0.1.0 protocol=2 protocol_minor=0",
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
        self.generation += 1
        out = np.ascontiguousarray(h, "<f4").tobytes()
        reply = [f"m-infer model=0 variant=peer block={block} steps={steps} "
                 f"from={self.generation - 1} state={self.generation}",
                 f"m-counter instructions={1000 * steps}",
                 f"m-payload bytes={len(out)} crc32={zlib.crc32(out):08x}"]
        reply += ["d-" + out[i:i + 64].hex() for i in range(0, len(out), 64)]
        return reply

    def _bench(self, words):
        blocks = [int(b) for b in words[1].split(",")]
        steps = 32
        for word in words[2:]:
            if word.startswith("steps="):
                steps = int(word[6:])
        self._new_state()
        return [f"m-bench model=0 variant=peer block={b} steps={steps} "
                f"instructions={steps * (500 + 64000 // b)}" for b in blocks]

    def _misbehave(self, reply):
        fault, self.fault = self.fault, None
        if reply is None:
            return None
        data_lines = [i for i, line in enumerate(reply) if line.startswith("d-")]
        if fault == "garbage":
            reply.insert(len(reply) // 2, Raw("\x07\xff\x00garbage#noise"))
        elif fault == "bad-type":
            reply.insert(0, "hello world")
        elif fault == "damaged":  # the first line damaged on the way: 'protocol=2' -> '=\x32'
            first = with_check(reply[0])
            reply[0] = Raw(first.replace("protocol=2", "protocol=\x12", 1)
                           if "protocol=2" in first else first.replace("=", "+", 1))
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
        return reply + [self.ready()]


class Raw(str):
    """A reply line sent as it is, without a check (noise)."""


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


def with_check(text: str) -> str:
    """A line as the device sends it: its text, " #", the CRC-32 of the text
    (a fault's damaged text keeps the check of the text before the damage)."""
    return f"{text} #{zlib.crc32(text.encode('latin-1')):08x}"


def _serve(peer: PeerDevice, read, write, stop: threading.Event):
    reader = _LineReader(read)
    peer.write = write
    if not peer.checks:
        write(b"m-ready\n")
        while not stop.is_set() and reader() is not None:
            write(b"m-ready\n")  # protocol 1 answers the handshake's empty line so
        return
    write(with_check(peer.ready()).encode() + b"\n")
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
            if isinstance(text, Raw):
                write(text.encode("latin-1") + b"\n")
            else:
                write(with_check(text).encode("latin-1") + b"\n")


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


def _frames(rng, steps, width):
    return rng.standard_normal((steps, width)).astype(np.float32)
