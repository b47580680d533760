"""The host side of the device protocol (docs/protocol.md, version 2).

    from mtsrnn.harness import Device
    with Device.open("socket://127.0.0.1:4000") as device:
        info = device.identify()
        h, counters = device.infer(x, block=8)

What the host guarantees (docs/protocol.md, "What the host guarantees"):

- Every line the device sends ends with the CRC-32 of its text; a line whose
  check fails is never used, and a reply holding one raises ProtocolError.
- Every command the host sends carries its check too, so the device refuses
  a corrupted command (`e-check`) instead of running it as another one.
- A reply is paired with its command by the `re=` of its `m-ready` line (the
  check the device received): a late reply or an answer to line noise is
  never taken for the reply to this command.
- infer, bench and selftest replies name the model, the variant, T and the
  state generation that produced them; the host compares them with what it
  asked for and with the state it last confirmed.
- A failed command that changes the selection or state leaves the session
  unsynchronised: the next call re-establishes the model, the variant and
  the zero state, or raises when the state the caller expects (after an
  infer) is gone; no call runs on a selection or state the host did not
  confirm.
- Every call returns or raises within its timeout (an unsynchronised call:
  within its timeout plus one timeout per command that re-establishes the
  session).

An `e-` reply raises DeviceError (the device's code and reason); anything
malformed or failing a check, silence past the timeout or a closed link
raises ProtocolError.
"""

from __future__ import annotations

import dataclasses
import os
import time
import zlib
from typing import Any

import numpy as np

from .lines import (
    CHUNK_BYTES,
    DEFAULT_TIMEOUT,
    MAX_DEVICE_LINE,
    MAX_TIMEOUT,
    PROTOCOL_MINOR,
    PROTOCOL_VERSION,
    SEND_SECONDS_PER_BYTE,
    DeviceError,
    DeviceInfo,
    HarnessError,
    Line,
    ModelInfo,
    ProtocolError,
    VariantInfo,
    _check_word,
    _counter_value,
    _show,
    check_timeout,
    decode_payload,
    encode_payload,
    model_info,
    parse_line,
    strip_check,
    with_check,
)
from .session import SessionLost, SessionTracking, _Session
from .transport import LinkClosed, RawLine, SerialTransport, Transport
from .upload import Uploading

__all__ = [
    "CHUNK_BYTES", "DEFAULT_TIMEOUT", "MAX_DEVICE_LINE", "MAX_TIMEOUT", "PROTOCOL_MINOR",
    "PROTOCOL_VERSION", "Device", "DeviceError", "DeviceInfo", "HarnessError", "Line",
    "ModelInfo", "ProtocolError", "SessionLost", "VariantInfo", "check_timeout",
    "decode_payload", "encode_payload", "parse_line", "strip_check", "with_check",
]

class Device(SessionTracking, Uploading):
    """A device speaking the mtsrnn protocol over a Transport."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT,
                 log: Any = None):
        self.transport = transport
        self.timeout = timeout
        self.log = log  # a callable taking one str, for tracing every line
        self._need_sync = True
        self._info: DeviceInfo | None = None
        self._nonce = int.from_bytes(os.urandom(3), "big")
        # The fields of the last m-ready (model, variant, state): what the
        # device runs on now.
        self.status: dict[str, str] = {}
        self._session: _Session | None = None
        self._dirty = False  # a state-changing command failed since
        # (crc32, session before) of an upload whose outcome is unknown
        # (upload.py, _settle_upload).
        self._upload_pending: tuple[int, _Session | None] | None = None
        # What _settle_upload found and the caller was not told yet.
        self._unannounced: tuple[int, str] | None = None  # (upload index, message)

    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._timeout = check_timeout(value)

    @classmethod
    def open(cls, url: str, baudrate: int = 115200, timeout: float = DEFAULT_TIMEOUT,
             connect_timeout: float = 0.0, handshake: bool = True) -> Device:
        check_timeout(timeout)
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
            self._need_sync = True
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

    def _ready_fields(self, body: str) -> dict[str, str] | None:
        """The fields of a checked m-ready line, or None for another line."""
        if body != "m-ready" and not body.startswith("m-ready "):
            return None
        try:
            return parse_line(body).fields
        except ProtocolError:
            return None

    # ---- synchronisation ----------------------------------------------------
    def handshake(self, retries: int = 10, interval: float = 0.5) -> None:
        """Send empty lines until the device answers `m-ready`, then align the
        reply stream exactly (`resync`). ProtocolError when it never answers."""
        unchecked = 0
        for _ in range(max(1, retries)):
            if unchecked >= 2:
                break
            self.transport.discard_pending()
            self._send("")
            deadline = time.monotonic() + interval
            while True:
                line = self._receive(deadline)
                if line is None:
                    break
                if line.text == "m-ready":
                    unchecked += 1  # a protocol 1 device: no line checks
                    if unchecked >= 2:  # answering, but never with a check
                        break
                    continue
                body = strip_check(line.text)
                if body is not None and self._ready_fields(body) is not None:
                    self.resync(timeout=max(self.timeout, 2.0))
                    return
        self._need_sync = True
        if unchecked:
            raise ProtocolError(f"{self.transport} answers without line checks: its firmware "
                                f"speaks protocol 1, this host {PROTOCOL_VERSION} (rebuild "
                                "and flash the firmware of this version)")
        raise ProtocolError(f"no m-ready from {self.transport} after {retries} handshake "
                            f"attempt(s) {interval:g} s apart")

    def resync(self, timeout: float | None = None, attempts: int = 3) -> None:
        """Drop everything up to the device's answer to a fresh sync line;
        at most `timeout` seconds in all (over `attempts` sync lines)."""
        timeout = self.timeout if timeout is None else timeout
        end = time.monotonic() + timeout
        sent: set[str] = set()
        for attempt in range(max(1, attempts)):
            self._nonce = (self._nonce + 1) & 0xFFFFFF
            nonce = with_check(f"sync{self._nonce:06x}")
            sent.add(nonce[-8:])
            self.transport.discard_pending()
            # The empty line ends any half line the device holds (or the data
            # wait of an aborted infer); the sync line is answered with an
            # error line, then m-ready re=<its check>. An answer to an
            # earlier sync line of this call counts as well.
            self._send("")
            self._send(nonce)
            deadline = min(end, time.monotonic() + timeout / max(1, attempts)) \
                if attempt + 1 < attempts else end
            while True:
                line = self._receive(deadline)
                if line is None:
                    break
                body = strip_check(line.text)
                ready = self._ready_fields(body) if body is not None else None
                if ready is not None and ready.get("re") in sent:
                    self.status = ready
                    self._need_sync = False
                    return
            if time.monotonic() >= end:
                break
        self._need_sync = True
        raise ProtocolError(f"cannot resynchronise with {self.transport}: no answer to a "
                            f"sync line in {timeout:g} s")

    # ---- commands ---------------------------------------------------------
    def command(self, line: str, timeout: float | None = None,
                data: list[str] | None = None) -> list[Line]:
        """Send one command with its check (and `data` lines after it); return
        the typed reply lines before its `m-ready`. Raises DeviceError for an
        `e-` line and ProtocolError for anything malformed, a failed check or
        no complete reply in time. `timeout` bounds the whole call, a
        resynchronisation included."""
        if "\n" in line or "\r" in line:
            raise ValueError("a command is one line")
        if len(line) + 10 >= MAX_DEVICE_LINE:
            raise ValueError(f"a command line must be shorter than {MAX_DEVICE_LINE - 10} "
                             "bytes")
        timeout = check_timeout(self.timeout if timeout is None else timeout)
        end = time.monotonic() + timeout
        if self._need_sync:
            self.resync(timeout=timeout)
        else:
            stale = self.transport.discard_pending()
            for raw in stale:
                self._trace("  (dropped stale)", raw.text)
        self._need_sync = True  # until this reply has ended cleanly
        checked = with_check(line)
        check = checked[-8:]
        self._send(checked)
        for text in data or ():
            self._send(text)
        name = line.split(" ")[0]
        lines: list[Line] = []
        errors: list[Line] = []
        problem: str | None = None
        others: list[str] = []  # error lines of replies to other lines
        while True:
            raw = self._receive(end)
            if raw is None:
                shown = (f"; meanwhile the device answered another line with "
                         f"{_show(others[0])}, probably this command damaged on the way"
                         if others else "")
                raise ProtocolError(f"{name!r}: no complete reply from {self.transport} "
                                    f"within {timeout:g} s{shown}")
            body = None if raw.overlong else strip_check(raw.text)
            if body is None:
                if raw.text.startswith("m-ready") and f"re={check}" in raw.text:
                    problem = problem or f"a damaged line from the device ({_show(raw.text)})"
                    break  # the end of this reply, damaged
                problem = problem or (f"overlong line from the device ({_show(raw.text)})"
                                      if raw.overlong else
                                      f"a line failing its check ({_show(raw.text)})")
                continue
            ready = self._ready_fields(body)
            if ready is not None:
                if ready.get("re") == check:
                    self.status = ready
                    break
                # The end of a reply to another line (noise, a late reply):
                # forget what came with it.
                others += [f"e-{e.text}" for e in errors]
                lines, errors, problem = [], [], None
                self.status = ready
                continue
            try:
                parsed = parse_line(body)
            except ProtocolError as error:
                problem = problem or str(error)
                continue
            (errors if parsed.kind == "e" else lines).append(parsed)
        if problem is not None:
            # The reply ended, but what came with it cannot be trusted, and
            # the link may still carry more noise.
            raise ProtocolError(f"{name!r}: {problem}")
        if errors:
            # The device may have rejected the command before reading the
            # data lines, then answered each as a command: realign first.
            self._need_sync = bool(data)
            first = errors[0]
            raise DeviceError(line, first.tag, first.fields.get("reason", ""), errors + lines)
        self._need_sync = False
        return lines

    def exchange_raw(self, data: bytes, timeout: float | None = None) -> list[str]:
        """Send raw bytes (anything: noise, an overlong line) and return the
        received lines up to and without the first `m-ready`, their checks
        verified and removed. For tests and debugging; the link is
        resynchronised before the next command."""
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
            body = strip_check(raw.text)
            if body is None:
                raise ProtocolError(f"a line failing its check: {_show(raw.text)}")
            if self._ready_fields(body) is not None:
                return lines
            lines.append(body)

    # ---- the protocol's commands -------------------------------------------
    def identify(self, timeout: float | None = None) -> DeviceInfo:
        lines = self.command("id", timeout=timeout)
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
            elif line.tag == "stages":  # the rest of the last model's stages
                if not models or line.int("index") != models[-1].index:
                    raise ProtocolError(f"'id': {line.raw!r} does not follow its m-model")
                models[-1] = dataclasses.replace(models[-1], stages=models[-1].stages + tuple(
                    s for s in line.fields.get("stages", "").split(",") if s))
            elif line.tag == "model":
                models.append(model_info(line))
        missing = [name for name, value in (("m-fw", fw), ("m-board", board),
                                            ("m-counters", counters), ("m-limits", limits),
                                            ("m-selected", selected)) if value is None]
        if missing:
            raise ProtocolError(f"'id': the reply lacks {', '.join(missing)}")
        assert fw and board and counters and limits and selected
        protocol = fw.fields.get("protocol")
        if protocol is None or not protocol.isdigit():
            raise ProtocolError(f"'id': no protocol version in {fw.raw!r}")
        if protocol != str(PROTOCOL_VERSION):
            raise ProtocolError(f"the device speaks protocol {protocol}, this host "
                                f"{PROTOCOL_VERSION}: use firmware and host of one version")
        minor = fw.int("protocol_minor") if "protocol_minor" in fw.fields else 0
        for value in counters.fields.values():
            if value not in ("available", "unavailable"):
                raise ProtocolError(f"'id': bad counter state in {counters.raw!r}")
        info = DeviceInfo(
            firmware=dict(fw.fields), board=dict(board.fields),
            counters={k: v == "available" for k, v in counters.fields.items()},
            max_block=limits.int("max_block"), max_steps=limits.int("max_steps"),
            models=models, selected=selected.int("index"), protocol_minor=minor,
            limits={key: limits.int(key) for key in limits.fields})
        self._info = info
        return info

    @property
    def info(self) -> DeviceInfo:
        """The last `identify()` answer (asked for now if there is none)."""
        if self._info is None:
            return self.identify()
        return self._info

    def _check_selected(self, index: int, lines: list[Line]) -> None:
        chosen = [line for line in lines if line.kind == "m" and line.tag == "selected"]
        if len(chosen) != 1 or chosen[0].int("index") != index or \
                self.status.get("model") != str(index):
            self._need_sync = True
            raise ProtocolError(f"'model {index}': the reply does not confirm it: "
                                f"{[line.raw for line in lines]}, {self.status}")
        if self._info is not None:
            self._info.selected = index

    def select(self, index: int) -> None:
        """Select built-in model `index` (its state zeroed)."""
        index = int(index)
        end = time.monotonic() + self.timeout  # the whole call
        self._settle_upload(end)  # which file an upload index holds
        self._announce(index)
        dirty = self._dirty
        before = self._changing(model=index)
        try:
            lines = self.command(f"model {index}", timeout=self._left(end, f"model {index}"))
        except DeviceError as error:
            self._refused(error, before, dirty)
            raise
        self._check_selected(index, lines)
        self._confirm(zero=True)

    def _variant_word(self) -> str:
        """The variant command's name (and bench option's key): `variant`
        (protocol 2 keeps the 1.0 alias `kernel` for people, not hosts)."""
        return "variant"

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
        zero = self._session.zero if self._session is not None else False
        dirty = self._dirty
        before = self._changing(variant=name)
        try:
            chosen = self._variant_command(name, self.timeout)
        except DeviceError as error:
            self._refused(error, before, dirty)
            raise
        if dirty and self._session is not None:
            # The state is still to be re-established (or lost): keep
            # what was asked, with the new variant.
            self._session.variant = name
        else:
            self._confirm(zero=zero)
        return chosen

    def _variant_command(self, name: str, timeout: float) -> VariantInfo:
        word = self._variant_word()
        lines = self.command(f"{word} {name}", timeout=timeout)
        chosen = [line for line in lines
                  if line.kind == "m" and line.tag == f"selected-{word}"]
        if len(chosen) != 1 or chosen[0].fields.get("name") != name or \
                self.status.get("variant") != name:
            self._need_sync = True
            raise ProtocolError(f"'{word} {name}': the reply does not confirm it: "
                                f"{[line.raw for line in lines]}")
        return VariantInfo(chosen[0].int("index"), name)

    def reset(self) -> None:
        """The selected model's state to zeros."""
        end = time.monotonic() + self.timeout  # the whole call
        self._settle_upload(end)  # never a reset of a file the host does not know
        self._announce(None)
        self._changing(zero=True)
        before = self.status.get("state")
        lines = self.command("reset", timeout=self._left(end, "reset"))
        if len(lines) != 1 or lines[0].raw != "m-reset" or self.status.get("state") == before:
            self._need_sync = True
            raise ProtocolError(f"'reset': no m-reset and new state in "
                                f"{[line.raw for line in lines]}, {self.status}")
        self._confirm(zero=True)

    def infer(self, x: np.ndarray, block: int,
              timeout: float | None = None) -> tuple[np.ndarray, dict[str, int | float]]:
        """Run x (steps, input) float32 on the selected model with block size
        `block`, continuing from the device's state. Returns h (steps, output)
        and the counter readings of the kernel call. The output is accepted
        only when its length and CRC-32 match the device's announcement."""
        if timeout is not None:
            check_timeout(timeout)
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
        if timeout is None:
            timeout = min(MAX_TIMEOUT, self.timeout + 4 * len(payload) * SEND_SECONDS_PER_BYTE)
        end = time.monotonic() + timeout  # the whole call, re-establishing included
        self._settle(end)
        session = self._session
        data = encode_payload(payload)
        command = f"infer {steps} {block} {len(payload)} {zlib.crc32(payload):08x}"
        self._dirty = True
        lines = self.command(command, timeout=self._left(end, command), data=data)
        counters: dict[str, int | float] = {}
        announced: Line | None = None
        produced: Line | None = None
        chunks: list[Line] = []
        try:
            for line in lines:
                if line.tag == "infer" and produced is None and not chunks:
                    produced = line
                elif line.kind == "d":
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
            self._check_producer(command, produced, session, block, steps)
            expected = steps * model.output * 4
            if len(result) != expected:
                raise ProtocolError(f"{command!r}: {len(result)} output bytes, expected "
                                    f"{expected} ({steps} x {model.output} floats)")
        except ProtocolError:
            self._need_sync = True
            raise
        self._confirm(zero=False)
        h = np.frombuffer(result, dtype="<f4").astype(np.float32).reshape(steps, model.output)
        return h, counters

    def _check_producer(self, command: str, produced: Line | None,
                        session: _Session | None, block: int, steps: int) -> None:
        """The m-infer line names what produced the output: the model, the
        variant, T, the steps and the state it started from; each must be
        what was asked for, and the state the one this session confirmed."""
        if produced is None:
            raise ProtocolError(f"{command!r}: the reply does not say what produced it "
                                "(no m-infer line)")
        want = {"block": str(block), "steps": str(steps), "state": self.status.get("state")}
        if session is not None:
            want.update(model=str(session.model), variant=session.variant,
                        **{"from": str(session.state)})
        got = {key: produced.fields.get(key) for key in want}
        if got != want:
            wrong = ", ".join(f"{key}={got[key]} (asked for {want[key]})"
                              for key in want if got[key] != want[key])
            raise ProtocolError(f"{command!r}: the output was produced by something else "
                                f"than asked for: {wrong}")


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
              timeout: float | None = None, variant: str | None = None,
              product: bool = False, peer: str | None = None) -> list[dict[str, Any]]:
        """Per T: {'block', 'steps', counter name: total} from the device's
        `bench` command (a zero state, a fixed input; the state is reset after),
        with the variant `variant` (default: the selected one). `product`: the
        first layer's product alone (`product=1`), each row with its 'macs'.
        `peer`: a bench-only peer (harness.peers) in place of the int8-wa
        product (protocol 2.2)."""
        if not blocks:
            raise ValueError("bench needs at least one block size")
        if timeout is None:
            timeout = min(MAX_TIMEOUT, self.timeout * (1 + len(blocks)))
        end = time.monotonic() + check_timeout(timeout)  # the whole call
        self._settle(end)
        session = self._session
        command = "bench " + ",".join(str(int(b)) for b in blocks)
        if steps is not None:
            command += f" steps={int(steps)}"
        if variant is not None:
            _check_word("variant name", variant)
            command += f" {self._variant_word()}={variant}"
        if product:
            command += " product=1"
        if peer is not None:
            _check_word("peer name", peer)
            command += f" peer={peer}"
        dirty = self._dirty
        before = self._changing(zero=True)  # bench leaves the state at zeros
        try:
            lines = self.command(command, timeout=self._left(end, command))
        except DeviceError as error:
            self._refused(error, before, dirty)  # e.g. no such variant: nothing ran
            raise
        results = []
        # What produced the figures: the model and variant asked for.
        want = {"model": str(session.model) if session else None,
                "variant": variant if variant is not None else
                session.variant if session else None, "peer": peer}
        for line in lines:
            if line.kind != "m" or line.tag != "bench":
                self._need_sync = True
                raise ProtocolError(f"{command!r}: unexpected line {line.raw!r}")
            for key, value in want.items():
                if value is not None and line.fields.get(key) != value:
                    self._need_sync = True
                    raise ProtocolError(f"{command!r}: a result of {key} "
                                        f"{line.fields.get(key)}, asked for {value}: "
                                        f"{line.raw!r}")
            row: dict[str, Any] = {"block": line.int("block"), "steps": line.int("steps")}
            for key, value in line.fields.items():
                if key not in ("block", "steps", "model", "variant", "peer"):
                    row[key] = _counter_value(value)
            if steps is not None and row["steps"] != int(steps):
                self._need_sync = True
                raise ProtocolError(f"{command!r}: a result of {row['steps']} steps, asked "
                                    f"for {steps}")
            results.append(row)
        if [row["block"] for row in results] != [int(b) for b in blocks]:
            self._need_sync = True
            raise ProtocolError(f"{command!r}: results for T = "
                                f"{[row['block'] for row in results]}, asked for {blocks}")
        self._confirm(zero=True)
        return results

    def selftest(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Per built-in model: index, name, max_abs_err, tolerance, device_verdict,
        passed (True, False, or None when the device skipped it), and from
        devices that check every variant: variants (how many were run; the
        error is the largest over them) and worst_variant (which gave it;
        protocol 1.0 devices name these two kernels= and worst_kernel=)."""
        if timeout is not None:
            check_timeout(timeout)
        end = time.monotonic() + (timeout if timeout is not None
                                  else min(MAX_TIMEOUT, self.timeout * 3))  # the whole call
        self._settle_upload(end)
        self._announce(None)
        info = self.info
        self._changing(zero=True)  # selftest leaves the state at zeros
        lines = self.command("selftest", timeout=self._left(end, "selftest"))
        results = []
        for position, line in enumerate(lines):
            if line.kind != "m" or line.tag != "selftest":
                self._need_sync = True
                raise ProtocolError(f"'selftest': unexpected line {line.raw!r}")
            # What produced the result: each built-in model in turn, at the
            # device's largest T.
            named = position < len(info.models) and \
                line.fields.get("index") == str(info.models[position].index) and \
                line.fields.get("name") == info.models[position].name
            block = line.fields.get("block", str(info.max_block))
            if not named or block != str(info.max_block):
                self._need_sync = True
                raise ProtocolError(f"'selftest': result {position} should be model "
                                    f"{position} at T = {info.max_block}: {line.raw!r}")
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
        if len(results) != len(info.models):
            self._need_sync = True
            raise ProtocolError(f"'selftest': {len(results)} results for "
                                f"{len(info.models)} models")
        self._confirm(zero=True)
        return results
