"""The lines of the device protocol (docs/protocol.md) as the host sees
them: the errors, a parsed reply line, the line check (the CRC-32 suffix
every line of protocol 2 carries), payload chunks, and what `id` reports.
client.py (the Device) is built on these."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

PROTOCOL_VERSION = 2  # the major version: a device of another one is refused
PROTOCOL_MINOR = 2  # the revision this host knows (docs/protocol.md, "Versions")
MAX_DEVICE_LINE = 512  # MTS_PROTO_MAX_LINE: the longest line a device reads
CHUNK_BYTES = 64  # payload bytes per d line
DEFAULT_TIMEOUT = 10.0
# Host to device over an emulated UART runs at about 20 kB/s; give every
# byte sent that much time on top of a command's own timeout.
SEND_SECONDS_PER_BYTE = 1.0 / 10000

_HEX = re.compile(r"[0-9a-fA-F]*\Z")
# The longest timeout a call takes (a day): beyond, time.monotonic() + t
# and the queue's wait lose their meaning.
MAX_TIMEOUT = 86400.0


def check_timeout(value: float) -> float:
    """A timeout in seconds: a finite number > 0 and at most MAX_TIMEOUT."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"a timeout must be a number of seconds, got {value!r}") from None
    if not 0.0 < seconds <= MAX_TIMEOUT:  # NaN fails too
        raise ValueError(f"a timeout must be a finite number of seconds in (0, "
                         f"{MAX_TIMEOUT:g}], got {value!r}")
    return seconds


class HarnessError(Exception):
    """Base of the harness's errors."""


class ProtocolError(HarnessError):
    """The device's reply was malformed, failed a check, or did not come in time."""


class DeviceError(HarnessError):
    """The device answered with an error line `e-<code> <reason>`."""

    def __init__(self, command: str, code: str, reason: str, lines: list[Line] | None = None):
        self.command = command
        self.code = code
        self.reason = reason
        self.lines = lines or []
        super().__init__(f"{command!r}: device error {code}: {reason}" if reason
                         else f"{command!r}: device error {code}")


@dataclass(frozen=True)
class Line:
    """One reply line: kind 'm' (message), 'd' (data) or 'e' (error)."""

    kind: str
    text: str  # the line without its type prefix
    tag: str = ""  # m-: the first word when it is not key=value; e-: the code
    fields: dict[str, str] = field(default_factory=dict)  # m-: key=value pairs

    @property
    def raw(self) -> str:
        return f"{self.kind}-{self.text}"

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def int(self, key: str) -> int:
        try:
            return int(self.fields[key])
        except (KeyError, ValueError):
            raise ProtocolError(f"expected an integer {key}= in {self.raw!r}") from None


def parse_line(text: str) -> Line:
    """Parse one received line; ProtocolError when it is not a typed line."""
    if len(text) < 2 or text[1] != "-" or text[0] not in "mde":
        raise ProtocolError(f"not a protocol line: {_show(text)}")
    kind, body = text[0], text[2:]
    if kind == "d":
        return Line("d", body)
    if kind == "e":
        code, _, reason = body.partition(" ")
        if not code:
            raise ProtocolError(f"error line without a code: {_show(text)}")
        return Line("e", body, tag=code, fields={"reason": reason})
    words = body.split(" ")
    tag = ""
    if words and "=" not in words[0]:
        tag = words.pop(0)
    fields: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ProtocolError(f"expected key=value, got {word!r} in {_show(text)}")
        fields[key] = value
    if not tag and not fields:
        raise ProtocolError(f"empty message line: {_show(text)}")
    return Line("m", body, tag=tag, fields=fields)


def _check_word(what: str, text: str) -> None:
    """A word of a command: printable ASCII without spaces or '='."""
    if not text or not all(33 <= ord(c) <= 126 and c != "=" for c in text):
        raise ValueError(f"{what} must be printable ASCII without spaces or '=', got "
                         f"{text!r}")


def _show(text: str, limit: int = 80) -> str:
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def _counter_value(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ProtocolError(f"counter value {text!r} is not a number") from None


@dataclass
class ModelInfo:
    index: int
    name: str
    cell: str
    layers: int
    input: int
    output: int
    weight_bytes: int
    dtype: str
    # The weights' scheme (docs/quantization.md): "float32", "int8-w",
    # "int8-wa", or the schemes of a model mixing them joined by "+".
    # Firmware older than the int8 models sends no weights=: float32.
    weights: str = "float32"
    # The model's stages in order ("norm", "sru", "dense", ...; protocol 2.0).
    stages: tuple[str, ...] = ()
    # An uploaded model's file: its length and CRC-32 (protocol 2.1), which
    # tell the host which file the upload index holds; None for built-in ones.
    bytes: int | None = None
    crc32: int | None = None


def model_info(line: Line) -> ModelInfo:
    """The ModelInfo of an `m-model` line (its stages continue in any
    `m-stages` lines after it: Device.identify joins them)."""
    crc = line.fields.get("crc32")
    if crc is not None and (len(crc) != 8 or any(c not in "0123456789abcdef" for c in crc)):
        raise ProtocolError(f"'id': malformed crc32 in {line.raw!r}")
    return ModelInfo(
        index=line.int("index"), name=line.fields.get("name", ""),
        cell=line.fields.get("cell", ""), layers=line.int("layers"),
        input=line.int("input"), output=line.int("output"),
        weight_bytes=line.int("weight_bytes"), dtype=line.fields.get("dtype", "f32"),
        weights=line.fields.get("weights", "float32"),
        stages=tuple(s for s in line.fields.get("stages", "").split(",") if s),
        bytes=line.int("bytes") if "bytes" in line.fields else None,
        crc32=int(crc, 16) if crc is not None else None)


@dataclass
class VariantInfo:
    """A variant of the blocked product the device offers (`variant`)."""

    index: int
    name: str


@dataclass
class DeviceInfo:
    """What `id` reports."""

    firmware: dict[str, str]
    board: dict[str, str]
    counters: dict[str, bool]  # name -> available
    max_block: int
    max_steps: int
    models: list[ModelInfo]
    selected: int
    # The protocol's minor version (docs/protocol.md, "Versions"); a device
    # without protocol_minor= speaks 1.0.
    protocol_minor: int = 0
    # Every number of m-limits (2.1 adds arena=, stage_descriptor= and the
    # buffers an uploaded model must fit: workspace_bytes=, state_floats=,
    # input_floats=, output_floats=).
    limits: dict[str, int] = field(default_factory=dict)

    @property
    def arena(self) -> int:
        """Bytes of the upload arena (each half): 0 on a device without one
        or of protocol 2.0, which has no `upload`."""
        return self.limits.get("arena", 0) if self.protocol_minor >= 1 else 0

    @property
    def board_name(self) -> str:
        return self.board.get("name", "?")

    @property
    def available_counters(self) -> list[str]:
        return [name for name, available in self.counters.items() if available]

    def model(self, index: int | None = None) -> ModelInfo:
        index = self.selected if index is None else index
        for model in self.models:
            if model.index == index:
                return model
        raise HarnessError(f"the device has no model {index}")


def encode_payload(data: bytes) -> list[str]:
    """`d <hex>` lines of at most CHUNK_BYTES bytes each."""
    return [f"d {data[i:i + CHUNK_BYTES].hex()}" for i in range(0, len(data), CHUNK_BYTES)]


def decode_payload(lines: list[Line], announced: Line | None, command: str) -> bytes:
    """Check and join the d- lines of a reply against its m-payload line."""
    if announced is None:
        if lines:
            raise ProtocolError(f"{command!r}: data lines without an m-payload line")
        raise ProtocolError(f"{command!r}: the reply has no m-payload line")
    length = announced.int("bytes")
    crc_text = announced.fields.get("crc32", "")
    if len(crc_text) != 8 or not _HEX.match(crc_text):
        raise ProtocolError(f"{command!r}: bad crc32 in {announced.raw!r}")
    parts = []
    for line in lines:
        text = line.text
        if len(text) % 2 or len(text) > 2 * CHUNK_BYTES or not _HEX.match(text):
            raise ProtocolError(f"{command!r}: malformed data line {_show(line.raw)}")
        parts.append(bytes.fromhex(text))
    data = b"".join(parts)
    if len(data) != length:
        raise ProtocolError(f"{command!r}: payload of {len(data)} bytes, announced {length}")
    crc = zlib.crc32(data)
    if crc != int(crc_text, 16):
        raise ProtocolError(f"{command!r}: payload CRC-32 {crc:08x} does not match the "
                            f"announced {crc_text.lower()}")
    return data



def with_check(text: str) -> str:
    """A line with its check: the text, " #" and the CRC-32 of the text."""
    return f"{text} #{zlib.crc32(text.encode('ascii')):08x}"


def strip_check(text: str) -> str | None:
    """The text of a received line without its check, or None when it has
    none or the check does not match (the line was damaged on the way)."""
    body, sep, check = text.rpartition(" #")
    if not sep or len(check) != 8 or not _HEX.match(check):
        return None
    try:
        crc = zlib.crc32(body.encode("ascii"))
    except UnicodeEncodeError:
        return None
    return body if crc == int(check, 16) else None
