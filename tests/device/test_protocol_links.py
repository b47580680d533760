"""The real mtsrnn-device over its other links: TCP (one client at a time,
the device going on across clients) and a tty (conftest.py)."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import threading

import numpy as np

from .conftest import (
    ABS_TOL,
    DEMOS,
    DEVICE,
    NEEDS_DEVICE,
    TIMEOUT,
    Device,
    assert_ok_afterwards,
    fields,
    frames,
    infer,
    is_ready,
)

pytestmark = NEEDS_DEVICE


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
            assert is_ready(dev.line())
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
        assert is_ready(dev.line())
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
