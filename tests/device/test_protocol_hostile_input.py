"""Hostile input to the real mtsrnn-device (docs/protocol.md, "Lines",
"Binary payloads", "Details the device settles"): noise, overlong lines,
damaged payloads, bad arguments. Each must give the right `e-` line and
leave the device answering (conftest.py says how it is run)."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from .conftest import (
    ABS_TOL,
    NEEDS_DEVICE,
    assert_ok_afterwards,
    crc_hex,
    encode_payload,
    frames,
    infer,
)

pytestmark = NEEDS_DEVICE


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


def test_uppercase_hex_is_accepted(device, demo_models):
    model = demo_models["demo_sru"]
    x = frames(np.random.default_rng(4), 2, model.input_size)
    data = x.astype("<f4").tobytes()
    lines = [line.upper().replace("D ", "d ", 1) for line in encode_payload(data)]
    reply = device.command(f"infer 2 2 {len(data)} {crc_hex(data).upper()}", lines)
    assert reply[2].startswith("m-payload "), reply
    h_host, _ = model.forward(x, block=2)
    h = np.frombuffer(b"".join(bytes.fromhex(line[2:]) for line in reply[3:]), "<f4")
    np.testing.assert_allclose(h.reshape(h_host.shape), h_host, rtol=0, atol=ABS_TOL)


def test_payload_line_lengths(device):
    """Output chunks are 64 bytes (128 hex digits) each."""
    data, lines = _infer_lines(steps=3)
    reply = device.command(f"infer 3 1 {len(data)} {crc_hex(data)}", lines)
    chunks = [line for line in reply if line.startswith("d-")]
    assert [len(c) - 2 for c in chunks] == [128] * 12
