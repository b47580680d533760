"""A fault-injecting link for the harness tests: a TCP proxy on 127.0.0.1
between the host and a device (the Linux device program's --tcp port, a QEMU
board's UART socket) that damages the bytes passing in both directions.
Seeded, so a failing run can be repeated; bounded in the number of faults.
Not a test module: test_harness_faults.py uses it.

    with FaultLink(device_port, seed=1, rate=1e-4, max_faults=200) as link:
        dev = Device.open(link.url)
        ...
        link.counts  # faults injected, by direction and kind
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time

KINDS = ("flip", "drop", "insert")
DIRECTIONS = ("to-device", "to-host")


class FaultLink:
    """Proxy one client to 127.0.0.1:`target_port`. Each byte is, with
    probability `rate` for each kind, flipped (one random bit), dropped, or
    followed by an inserted random byte, until `max_faults` were injected;
    `enabled` switches the random faults off and on. `rewrite(direction,
    old, new)` replaces the next occurrence of `old` in one direction once
    (a targeted fault: a bit flipped at a known place). `damage_at(direction,
    offset, kind, length)` damages the stream itself, wherever the reads
    split it: `length` bytes from `offset` bytes after the bytes passed so
    far in that direction, flipped (the low bit of each) or dropped."""

    def __init__(self, target_port: int, seed: int, rate: float = 0.0,
                 max_faults: int = 0, connect_timeout: float = 20.0):
        self.target_port = target_port
        self.rate = rate
        self.max_faults = max_faults
        self.enabled = True
        self.counts = {d: dict.fromkeys(KINDS, 0) for d in DIRECTIONS}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._rewrites: list[tuple[str, bytes, bytes]] = []
        self._passed = dict.fromkeys(DIRECTIONS, 0)  # bytes seen per direction
        self._planned: list[tuple[str, int, str, int]] = []  # direction, start, kind, length
        self._connect_timeout = connect_timeout
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def injected(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.counts.values())

    def rewrite(self, direction: str, old: bytes, new: bytes) -> None:
        with self._lock:
            self._rewrites.append((direction, old, new))

    def damage_at(self, direction: str, offset: int, kind: str, length: int = 1) -> None:
        if kind not in ("flip", "drop"):
            raise ValueError(f"kind must be flip or drop, got {kind!r}")
        with self._lock:
            self._planned.append((direction, self._passed[direction] + offset, kind, length))

    def _planned_damage(self, data: bytes, direction: str) -> bytes:
        """Apply the planned faults that fall into `data` (under the lock)."""
        start = self._passed[direction]
        self._passed[direction] += len(data)
        plans = [p for p in self._planned if p[0] == direction]
        if not plans:
            return data
        out = bytearray()
        for position, byte in enumerate(data, start):
            hit = [p for p in plans if p[1] <= position < p[1] + p[3]]
            if not hit:
                out.append(byte)
                continue
            if hit[0][2] == "flip":
                out.append(byte ^ 1)
            self.counts[direction][hit[0][2]] += 1
        self._planned = [p for p in self._planned
                         if p[0] != direction or p[1] + p[3] > self._passed[direction]]
        return bytes(out)

    def _accept(self) -> None:
        try:
            client, _ = self._server.accept()
        except OSError:
            return
        deadline = time.monotonic() + self._connect_timeout
        while True:
            try:
                device = socket.create_connection(("127.0.0.1", self.target_port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    client.close()
                    return
                time.sleep(0.05)
        for s in (client, device):
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sockets += [client, device]
        for source, sink, direction in ((client, device, "to-device"),
                                        (device, client, "to-host")):
            thread = threading.Thread(target=self._pump, args=(source, sink, direction),
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _damage(self, data: bytes, direction: str) -> bytes:
        with self._lock:
            data = self._planned_damage(data, direction)
            for i, (where, old, new) in enumerate(self._rewrites):
                if where == direction and old in data:
                    data = data.replace(old, new, 1)
                    del self._rewrites[i]
                    break
            if not self.enabled or self.rate <= 0:
                return data
            out = bytearray()
            counts = self.counts[direction]
            rng = self._random
            for byte in data:
                if self.injected >= self.max_faults:
                    out.append(byte)
                    continue
                draw = rng.random()
                if draw < self.rate:
                    counts["flip"] += 1
                    out.append(byte ^ (1 << rng.randrange(8)))
                elif draw < 2 * self.rate:
                    counts["drop"] += 1
                elif draw < 3 * self.rate:
                    counts["insert"] += 1
                    out += bytes((byte, rng.randrange(256)))
                else:
                    out.append(byte)
            return bytes(out)

    def _pump(self, source: socket.socket, sink: socket.socket, direction: str) -> None:
        try:
            while True:
                data = source.recv(4096)
                if not data:
                    break
                sink.sendall(self._damage(data, direction))
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._server.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def __enter__(self) -> FaultLink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
