"""The device harness (mtsrnn.harness) over real sockets, ptys and pipes, no
mocks, against a small peer written in Python (harness_peer.py) that can
misbehave on request: the harness must raise the right error within its
timeout, never accept wrong data, and recover. Also the device commands of
the CLI against that peer."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

import mtsrnn  # noqa: E402
from harness_peer import (  # noqa: E402
    SHORT,
    TOL,
    PeerDevice,
    _frames,
    pty_peer,
    socket_peer,
)
from mtsrnn.harness import (  # noqa: E402
    Device,
    DeviceError,
    PipeTransport,
    ProtocolError,
    SerialTransport,
    parse_line,
)
from mtsrnn.harness.client import decode_payload, encode_payload  # noqa: E402


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


def test_a_damaged_id_line_is_noise_not_a_version_mismatch(device, peer):
    device.identify()
    peer.fault = "damaged"
    with pytest.raises(ProtocolError, match="failing its check") as caught:
        device.identify()
    assert "speaks protocol" not in str(caught.value)
    assert device.identify().firmware["protocol"] == "2"


def test_a_protocol_1_device_is_named_as_such(small_model):
    with socket_peer(PeerDevice(small_model, checks=False)) as url:
        with pytest.raises(ProtocolError, match="without line checks.*protocol 1"):
            Device.open(url, timeout=SHORT).close()


def test_timeouts_must_be_finite_and_positive(peer):
    with socket_peer(peer) as url:
        for bad in (float("inf"), float("nan"), 0, -1, 1e300, "soon"):
            with pytest.raises(ValueError, match="timeout"):
                Device.open(url, timeout=bad)
        with Device.open(url, timeout=SHORT) as dev:
            with pytest.raises(ValueError, match="timeout"):
                dev.command("id", timeout=float("inf"))
            with pytest.raises(ValueError, match="timeout"):
                dev.timeout = float("nan")


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
        "from harness_peer import PeerDevice, _serve\n"
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
        # A protocol 2.0 device has no upload: --model alone is one clear error,
        # never a built-in model of the same shape in its place.
        args = parser.parse_args(["run", "--port", url, "--model", str(model_path), "--input",
                                  str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                                  "--block", "4"])
        assert args.run(args) == 2
        assert "protocol 2.0, which has no upload" in capsys.readouterr().err
        # --index names the built-in model; --model checks its output.
        args = parser.parse_args(["run", "--port", url, "--model", str(model_path), "--index",
                                  "0", "--input", str(tmp_path / "x.npy"), "-o",
                                  str(tmp_path / "y.npy"), "--block", "4"])
        assert args.run(args) == 0
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"),
                                   peer.model.forward(x, block=4)[0], atol=TOL, rtol=0)
        other = mtsrnn.random_sru(6, 6, num_layers=2, seed=99)
        mtsrnn.mtsfile.save(other, str(model_path))
        assert args.run(args) == 1  # same shape, different weights: caught
        assert "differs" in capsys.readouterr().err
