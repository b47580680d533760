"""The host side of the device protocol (docs/protocol.md).

    from mtsrnn.harness import Device
    with Device.open("socket://127.0.0.1:4000") as device:
        info = device.identify()
        h, counters = device.infer(x, block=8)

Every command has a timeout and returns only a reply that ended with
`m-ready`. An `e-` line raises `DeviceError` (with the device's code and
reason); anything malformed, a payload whose length or CRC-32 does not
check, silence past the timeout or a closed link raises `ProtocolError`.
After noise or a timeout the next command first resynchronises: it sends a
line with a fresh nonce, which the device echoes back in its
`e-unknown-command` (or `e-payload`) reply, and drops everything before it,
so a late reply to an old command is never taken for a new one.
"""

from __future__ import annotations

import os
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .transport import LinkClosed, RawLine, SerialTransport, Transport

PROTOCOL_VERSION = 1  # the major version: a device of another one is refused
PROTOCOL_MINOR = 2  # this host's revision (1.1: `variant`, 1.2: `stages=`; docs/protocol.md)
MAX_DEVICE_LINE = 512  # MTS_PROTO_MAX_LINE: the longest line a device reads
CHUNK_BYTES = 64  # payload bytes per d line
DEFAULT_TIMEOUT = 10.0
# Host to device over an emulated UART runs at about 20 kB/s; give every
# byte sent that much time on top of a command's own timeout.
SEND_SECONDS_PER_BYTE = 1.0 / 10000

_HEX = re.compile(r"[0-9a-fA-F]*\Z")


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
    # The model's stages in order ("norm", "sru", "dense", ...; protocol 1.2).
    # Firmware before 1.2 sends none: empty.
    stages: tuple[str, ...] = ()


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


def _answers_noise(text: str, command: str) -> bool:
    """Whether a first reply line can only answer something other than `command`:
    e-overflow (the host never sends an overlong line) or e-unknown-command
    naming another word."""
    if text.startswith("e-overflow"):
        return True
    prefix = "e-unknown-command"
    if not text.startswith(prefix):
        return False
    named = text[len(prefix):].strip()
    return named != command.split(" ")[0][:32]


class Device:
    """A device speaking the mtsrnn protocol over a Transport."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT,
                 log: Any = None):
        self.transport = transport
        self.timeout = timeout
        self.log = log  # a callable taking one str, for tracing every line
        self._need_sync = True
        self._info: DeviceInfo | None = None
        self._nonce = int.from_bytes(os.urandom(3), "big")

    @classmethod
    def open(cls, url: str, baudrate: int = 115200, timeout: float = DEFAULT_TIMEOUT,
             connect_timeout: float = 0.0, handshake: bool = True) -> Device:
        transport = SerialTransport(url, baudrate=baudrate, connect_timeout=connect_timeout)
        device = cls(transport, timeout=timeout)
        if handshake:
            try:
                device.handshake()
            except BaseException:
                transport.close()
                raise
        return device

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- lines ------------------------------------------------------------
    def _trace(self, direction: str, text: str) -> None:
        if self.log is not None:
            self.log(f"{direction} {text}")

    def _send(self, text: str) -> None:
        self._trace(">", text)
        try:
            self.transport.write_line(text)
        except LinkClosed as error:
            raise ProtocolError(f"link to {self.transport} closed: {error}") from None

    def _receive(self, deadline: float) -> RawLine | None:
        try:
            line = self.transport.read_line(deadline - time.monotonic())
        except LinkClosed as error:
            self._need_sync = True
            raise ProtocolError(f"link to {self.transport} closed: {error}") from None
        if line is not None:
            self._trace("<", line.text + (" [overlong, truncated]" if line.overlong else ""))
        return line

    # ---- synchronisation ----------------------------------------------------
    def handshake(self, retries: int = 10, interval: float = 0.5) -> None:
        """Send empty lines until the device answers `m-ready`, then align the
        reply stream exactly (`resync`). ProtocolError when it never answers."""
        for _ in range(max(1, retries)):
            self.transport.discard_pending()
            self._send("")
            deadline = time.monotonic() + interval
            while True:
                line = self._receive(deadline)
                if line is None:
                    break
                if line.text == "m-ready":
                    self.resync(timeout=max(self.timeout, 2.0))
                    return
        self._need_sync = True
        raise ProtocolError(f"no m-ready from {self.transport} after {retries} handshake "
                            f"attempt(s) {interval:g} s apart")

    def resync(self, timeout: float | None = None, attempts: int = 3) -> None:
        """Drop everything up to the device's answer to a fresh nonce line."""
        timeout = self.timeout if timeout is None else timeout
        for _ in range(max(1, attempts)):
            self._nonce = (self._nonce + 1) & 0xFFFFFF
            nonce = f"sync{self._nonce:06x}"
            self.transport.discard_pending()
            # The empty line ends any half line the device holds (or the data
            # wait of an aborted infer); the nonce line is then answered with
            # an error line that names it, followed by m-ready.
            self._send("")
            self._send(nonce)
            deadline = time.monotonic() + timeout
            seen = False
            while True:
                line = self._receive(deadline)
                if line is None:
                    break
                if not seen:
                    seen = line.text.startswith("e-") and nonce in line.text
                elif line.text == "m-ready":
                    self._need_sync = False
                    return
        self._need_sync = True
        raise ProtocolError(f"cannot resynchronise with {self.transport}: no answer naming "
                            f"the sync line in {timeout:g} s ({attempts} attempts)")

    # ---- commands ---------------------------------------------------------
    def command(self, line: str, timeout: float | None = None,
                data: list[str] | None = None) -> list[Line]:
        """Send one command (and `data` lines after it); return the typed reply
        lines before `m-ready`. Raises DeviceError for an `e-` line and
        ProtocolError for anything malformed or no complete reply in time."""
        if "\n" in line or "\r" in line:
            raise ValueError("a command is one line")
        if len(line) >= MAX_DEVICE_LINE:
            raise ValueError(f"a command line must be shorter than {MAX_DEVICE_LINE} bytes")
        timeout = self.timeout if timeout is None else timeout
        if self._need_sync:
            self.resync()
        else:
            stale = self.transport.discard_pending()
            for raw in stale:
                self._trace("  (dropped stale)", raw.text)
        self._need_sync = True  # until this reply has ended cleanly
        self._send(line)
        for text in data or ():
            self._send(text)
        deadline = time.monotonic() + timeout
        lines: list[Line] = []
        errors: list[Line] = []
        problem: str | None = None
        skipping = False
        while True:
            raw = self._receive(deadline)
            if raw is None:
                got = f" after {len(lines) + len(errors)} line(s)" if lines or errors else ""
                raise ProtocolError(f"{line.split(' ')[0]!r}: no complete reply from "
                                    f"{self.transport} within {timeout:g} s{got}")
            if raw.text == "m-ready":
                if skipping:
                    skipping = False
                    continue
                break
            if skipping:
                continue
            if not lines and not errors and problem is None and _answers_noise(raw.text, line):
                # The device's answer to line noise (a stray newline-terminated
                # burst) that arrived after this command was sent: it names a
                # word this command does not start with. Skip it up to its m-ready.
                self._trace("  (skipped: an answer to noise)", raw.text)
                skipping = True
                continue
            if raw.overlong:
                problem = problem or f"overlong line from the device ({_show(raw.text)})"
                continue
            try:
                parsed = parse_line(raw.text)
            except ProtocolError as error:
                problem = problem or str(error)
                continue
            (errors if parsed.kind == "e" else lines).append(parsed)
        if problem is not None:
            # Noise inside the reply: it ended with m-ready, but what came with it
            # cannot be trusted, and the link may still carry more noise.
            raise ProtocolError(f"{line.split(' ')[0]!r}: {problem}")
        if errors:
            if data:
                # The device may have rejected the command before reading the
                # data lines, then answered each as a command: realign first.
                self._need_sync = True
            else:
                self._need_sync = False
            first = errors[0]
            raise DeviceError(line, first.tag, first.fields.get("reason", ""), errors + lines)
        self._need_sync = False
        return lines

    def exchange_raw(self, data: bytes, timeout: float | None = None) -> list[str]:
        """Send raw bytes (anything: noise, an overlong line) and return the
        received lines up to and without the first `m-ready`, unparsed. For
        tests and debugging; the link is resynchronised before the next command."""
        timeout = self.timeout if timeout is None else timeout
        if self._need_sync:
            self.resync()
        self.transport.discard_pending()
        self._need_sync = True
        self._trace(">", repr(data))
        try:
            self.transport.write(data)
        except LinkClosed as error:
            raise ProtocolError(f"link to {self.transport} closed: {error}") from None
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            raw = self._receive(deadline)
            if raw is None:
                raise ProtocolError(f"no m-ready within {timeout:g} s after the raw bytes")
            if raw.text == "m-ready":
                return lines
            lines.append(raw.text)

    # ---- the protocol's commands -------------------------------------------
    def identify(self) -> DeviceInfo:
        lines = self.command("id")
        fw = board = counters = limits = selected = None
        models: list[ModelInfo] = []
        for line in lines:
            if line.kind != "m":
                raise ProtocolError(f"'id': unexpected line {line.raw!r}")
            if line.tag == "fw":
                fw = line
            elif line.tag == "board":
                board = line
            elif line.tag == "counters":
                counters = line
            elif line.tag == "limits":
                limits = line
            elif line.tag == "selected":
                selected = line
            elif line.tag == "model":
                models.append(ModelInfo(
                    index=line.int("index"), name=line.fields.get("name", ""),
                    cell=line.fields.get("cell", ""), layers=line.int("layers"),
                    input=line.int("input"), output=line.int("output"),
                    weight_bytes=line.int("weight_bytes"),
                    dtype=line.fields.get("dtype", "f32"),
                    weights=line.fields.get("weights", "float32"),
                    stages=tuple(s for s in line.fields.get("stages", "").split(",") if s)))
        missing = [name for name, value in (("m-fw", fw), ("m-board", board),
                                            ("m-counters", counters), ("m-limits", limits),
                                            ("m-selected", selected)) if value is None]
        if missing:
            raise ProtocolError(f"'id': the reply lacks {', '.join(missing)}")
        assert fw and board and counters and limits and selected
        protocol = fw.fields.get("protocol")
        if protocol != str(PROTOCOL_VERSION):
            raise ProtocolError(f"the device speaks protocol {protocol}, the host "
                                f"{PROTOCOL_VERSION}")
        minor = fw.int("protocol_minor") if "protocol_minor" in fw.fields else 0
        for value in counters.fields.values():
            if value not in ("available", "unavailable"):
                raise ProtocolError(f"'id': bad counter state in {counters.raw!r}")
        info = DeviceInfo(
            firmware=dict(fw.fields), board=dict(board.fields),
            counters={k: v == "available" for k, v in counters.fields.items()},
            max_block=limits.int("max_block"), max_steps=limits.int("max_steps"),
            models=models, selected=selected.int("index"), protocol_minor=minor)
        self._info = info
        return info

    @property
    def info(self) -> DeviceInfo:
        """The last `identify()` answer (asked for now if there is none)."""
        if self._info is None:
            return self.identify()
        return self._info

    def select(self, index: int) -> None:
        lines = self.command(f"model {int(index)}")
        chosen = [line for line in lines if line.kind == "m" and line.tag == "selected"]
        if not chosen or chosen[-1].int("index") != int(index):
            raise ProtocolError(f"'model {index}': the reply does not confirm it: "
                                f"{[line.raw for line in lines]}")
        if self._info is not None:
            self._info.selected = int(index)

    def _variant_word(self) -> str:
        """The variant command's name (and bench option's key) on this device:
        `variant` from protocol 1.1, its alias `kernel` on a 1.0 device."""
        return "variant" if self.info.protocol_minor >= 1 else "kernel"

    def variants(self) -> tuple[list[VariantInfo], VariantInfo]:
        """The variants of the blocked product the selected model offers (those
        of its weights' scheme) and the one it runs (`variant`).
        A device without the command (older firmware) raises DeviceError
        with code unknown-command."""
        word = self._variant_word()
        lines = self.command(word)
        listed = [VariantInfo(line.int("index"), line.fields.get("name", ""))
                  for line in lines if line.kind == "m" and line.tag == word]
        selected = [line for line in lines
                    if line.kind == "m" and line.tag == f"selected-{word}"]
        if not listed or len(selected) != 1 or len(listed) + 1 != len(lines):
            raise ProtocolError(f"{word!r}: expected m-{word} lines and one "
                                f"m-selected-{word}, got {[line.raw for line in lines]}")
        chosen = VariantInfo(selected[0].int("index"), selected[0].fields.get("name", ""))
        if chosen not in listed:
            raise ProtocolError(f"{word!r}: the selected variant {chosen} is not listed")
        return listed, chosen

    def select_variant(self, name: str) -> VariantInfo:
        """Choose the variant `name` for infer (and bench without variant=);
        every model offering it runs it, the others their default.
        DeviceError (bad-args) when the selected model offers no such variant."""
        _check_word("variant name", name)
        word = self._variant_word()
        lines = self.command(f"{word} {name}")
        chosen = [line for line in lines
                  if line.kind == "m" and line.tag == f"selected-{word}"]
        if len(chosen) != 1 or chosen[0].fields.get("name") != name:
            raise ProtocolError(f"'{word} {name}': the reply does not confirm it: "
                                f"{[line.raw for line in lines]}")
        return VariantInfo(chosen[0].int("index"), name)

    def reset(self) -> None:
        lines = self.command("reset")
        if not any(line.kind == "m" and line.tag == "reset" for line in lines):
            raise ProtocolError(f"'reset': no m-reset in {[line.raw for line in lines]}")

    def infer(self, x: np.ndarray, block: int,
              timeout: float | None = None) -> tuple[np.ndarray, dict[str, int | float]]:
        """Run x (steps, input) float32 on the selected model with block size
        `block`, continuing from the device's state. Returns h (steps, output)
        and the counter readings of the kernel call. The output is accepted
        only when its length and CRC-32 match the device's announcement."""
        array = np.ascontiguousarray(x, dtype="<f4")
        if array.ndim != 2:
            raise ValueError(f"x must have shape (steps, input), got {array.shape}")
        steps, width = array.shape
        info = self.info
        model = info.model()
        if width != model.input:
            raise ValueError(f"model {model.index} ({model.name}) takes {model.input} inputs "
                             f"per frame, x has {width}")
        if not 1 <= steps <= info.max_steps:
            raise ValueError(f"steps must be 1..{info.max_steps} on this device, got {steps}")
        if not 1 <= block <= info.max_block:
            raise ValueError(f"block must be 1..{info.max_block} on this device, got {block}")
        payload = array.tobytes()
        data = encode_payload(payload)
        command = f"infer {steps} {block} {len(payload)} {zlib.crc32(payload):08x}"
        if timeout is None:
            timeout = self.timeout + 4 * len(payload) * SEND_SECONDS_PER_BYTE
        lines = self.command(command, timeout=timeout, data=data)
        counters: dict[str, int | float] = {}
        announced: Line | None = None
        chunks: list[Line] = []
        try:
            for line in lines:
                if line.kind == "d":
                    if announced is None:
                        raise ProtocolError(f"{command!r}: a data line before m-payload")
                    chunks.append(line)
                elif line.tag == "counter":
                    counters.update({k: _counter_value(v) for k, v in line.fields.items()})
                elif line.tag == "payload":
                    if announced is not None:
                        raise ProtocolError(f"{command!r}: two m-payload lines")
                    announced = line
                else:
                    raise ProtocolError(f"{command!r}: unexpected line {line.raw!r}")
            result = decode_payload(chunks, announced, command)
            expected = steps * model.output * 4
            if len(result) != expected:
                raise ProtocolError(f"{command!r}: {len(result)} output bytes, expected "
                                    f"{expected} ({steps} x {model.output} floats)")
        except ProtocolError:
            self._need_sync = True
            raise
        h = np.frombuffer(result, dtype="<f4").astype(np.float32).reshape(steps, model.output)
        return h, counters

    def infer_stream(self, x: np.ndarray, block: int) -> tuple[np.ndarray, dict[str, int]]:
        """infer over any number of frames: split into calls of at most
        max_steps frames (the state carries across them); counters summed."""
        array = np.ascontiguousarray(x, dtype=np.float32)
        limit = self.info.max_steps
        outputs = []
        totals: dict[str, int] = {}
        for start in range(0, array.shape[0], limit):
            h, counters = self.infer(array[start:start + limit], block)
            outputs.append(h)
            for key, value in counters.items():
                totals[key] = totals.get(key, 0) + value
        if not outputs:
            return np.zeros((0, self.info.model().output), np.float32), totals
        return np.concatenate(outputs), totals

    def bench(self, blocks: list[int], steps: int | None = None,
              timeout: float | None = None, variant: str | None = None) -> list[dict[str, Any]]:
        """Per T: {'block', 'steps', counter name: total} from the device's
        `bench` command (a zero state, a fixed input; the state is reset after),
        with the variant `variant` (default: the selected one)."""
        if not blocks:
            raise ValueError("bench needs at least one block size")
        command = "bench " + ",".join(str(int(b)) for b in blocks)
        if steps is not None:
            command += f" steps={int(steps)}"
        if variant is not None:
            _check_word("variant name", variant)
            command += f" {self._variant_word()}={variant}"
        lines = self.command(command, timeout=timeout if timeout is not None
                             else self.timeout * (1 + len(blocks)))
        results = []
        for line in lines:
            if line.kind != "m" or line.tag != "bench":
                raise ProtocolError(f"{command!r}: unexpected line {line.raw!r}")
            row: dict[str, Any] = {"block": line.int("block"), "steps": line.int("steps")}
            for key, value in line.fields.items():
                if key not in ("block", "steps"):
                    row[key] = _counter_value(value)
            results.append(row)
        if [row["block"] for row in results] != [int(b) for b in blocks]:
            raise ProtocolError(f"{command!r}: results for T = "
                                f"{[row['block'] for row in results]}, asked for {blocks}")
        return results

    def selftest(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Per built-in model: index, name, max_abs_err, tolerance, device_verdict,
        passed (True, False, or None when the device skipped it), and from
        devices that check every variant: variants (how many were run; the
        error is the largest over them) and worst_variant (which gave it;
        protocol 1.0 devices name these two kernels= and worst_kernel=)."""
        lines = self.command("selftest", timeout=timeout if timeout is not None
                             else self.timeout * 3)
        results = []
        for line in lines:
            if line.kind != "m" or line.tag != "selftest":
                raise ProtocolError(f"'selftest': unexpected line {line.raw!r}")
            try:
                verdict = line["result"]
                default = "nan" if verdict == "skip" else None
                error = float(line.fields.get("max_abs_err", default))  # type: ignore[arg-type]
                tolerance = float(line.fields.get("tolerance", default))  # type: ignore[arg-type]
            except (KeyError, ValueError, TypeError):
                raise ProtocolError(f"'selftest': malformed line {line.raw!r}") from None
            if verdict not in ("pass", "fail", "skip"):
                raise ProtocolError(f"'selftest': bad result in {line.raw!r}")
            count = line.fields.get("variants", line.fields.get("kernels", ""))
            results.append({"index": line.int("index"), "name": line.fields.get("name", ""),
                            "max_abs_err": error, "tolerance": tolerance,
                            "device_verdict": verdict,
                            "variants": int(count) if count.isdigit() else None,
                            "worst_variant": line.fields.get(
                                "worst_variant", line.fields.get("worst_kernel")),
                            # None: skipped (no golden vectors). A NaN error fails:
                            # the host does not take "pass" on trust.
                            "passed": None if verdict == "skip"
                            else verdict == "pass" and error <= tolerance})
        if not results:
            raise ProtocolError("'selftest': the device reported no model")
        return results
