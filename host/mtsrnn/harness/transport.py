"""Byte links to a device, read into lines on a background thread.

`SerialTransport` opens any pyserial URL (`serial.serial_for_url`):
`/dev/ttyACM0`, `COM3`, `socket://127.0.0.1:4000`, `rfc2217://host:port`.
`PipeTransport` talks to a child process over its stdin/stdout (the Linux
device program). Both deliver received lines, without `\\r\\n`, through a
queue filled by a reader thread, so every read can have a timeout and a
device that stops answering never blocks the caller.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from dataclasses import dataclass

# The longest line the host accepts from a device. The protocol's own lines
# are short (a d- line is 130 bytes); anything longer is noise, delivered as
# one truncated line with `overlong` set so the client can reject it.
MAX_RECEIVED_LINE = 4096


class LinkClosed(Exception):
    """The link ended: the peer closed it, the process exited, or the port failed."""


@dataclass(frozen=True)
class RawLine:
    text: str
    overlong: bool = False


class _Closed:
    """Queue sentinel: the reader thread has ended, with the reason."""

    def __init__(self, reason: str):
        self.reason = reason


class Transport:
    """A line reader thread over some byte stream; subclasses give read/write/close."""

    def __init__(self, description: str):
        self.description = description
        self._lines: queue.Queue[RawLine | _Closed] = queue.Queue()
        self._closed_reason: str | None = None
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # subclasses ------------------------------------------------------------
    def _read_some(self) -> bytes:
        """Block briefly for bytes; b'' when nothing arrived; raise LinkClosed at the end."""
        raise NotImplementedError

    def _write_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def _close_link(self) -> None:
        raise NotImplementedError

    # common ----------------------------------------------------------------
    def _start_reader(self) -> None:
        self._thread = threading.Thread(target=self._reader, name=f"mtsrnn-reader {self}",
                                        daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        buffer = bytearray()
        overlong = False
        reason = "closed"
        try:
            while not self._stopping.is_set():
                chunk = self._read_some()
                if not chunk:
                    continue
                buffer += chunk
                while True:
                    end = buffer.find(b"\n")
                    if end < 0:
                        break
                    line = bytes(buffer[:end])
                    del buffer[:end + 1]
                    self._deliver(line, overlong)
                    overlong = False
                if len(buffer) > MAX_RECEIVED_LINE:
                    if not overlong:  # deliver the start once; drop the rest of the line
                        self._deliver(bytes(buffer[:MAX_RECEIVED_LINE]), True)
                    overlong = True
                    buffer.clear()
        except LinkClosed as error:
            reason = str(error) or "closed"
        except Exception as error:  # a port error of any kind ends the link
            reason = f"{type(error).__name__}: {error}"
        if buffer and not overlong:
            self._deliver(bytes(buffer), False)  # a last line without its newline
        self._lines.put(_Closed(reason))

    def _deliver(self, line: bytes, overlong: bool) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        self._lines.put(RawLine(line.decode("ascii", errors="replace"), overlong))

    def read_line(self, timeout: float) -> RawLine | None:
        """The next received line, or None after `timeout` seconds without one.
        Raises LinkClosed once the link has ended and every line was read."""
        if self._closed_reason is not None and self._lines.empty():
            raise LinkClosed(self._closed_reason)
        try:
            item = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if isinstance(item, _Closed):
            self._closed_reason = item.reason
            raise LinkClosed(item.reason)
        return item

    def discard_pending(self) -> list[RawLine]:
        """Remove and return every line received so far."""
        lines = []
        while True:
            try:
                item = self._lines.get_nowait()
            except queue.Empty:
                return lines
            if isinstance(item, _Closed):
                self._closed_reason = item.reason
                return lines
            lines.append(item)

    def write(self, data: bytes) -> None:
        """Send bytes and flush them."""
        if self._closed_reason is not None:
            raise LinkClosed(self._closed_reason)
        with self._write_lock:
            try:
                self._write_bytes(data)
            except LinkClosed:
                raise
            except Exception as error:
                raise LinkClosed(f"write failed: {type(error).__name__}: {error}") from None

    def write_line(self, text: str) -> None:
        self.write(text.encode("ascii") + b"\n")

    @property
    def closed(self) -> bool:
        return self._closed_reason is not None

    def close(self) -> None:
        self._stopping.set()
        try:
            self._close_link()
        finally:
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=2.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __str__(self) -> str:
        return self.description


class SerialTransport(Transport):
    """Any pyserial URL or port name."""

    def __init__(self, url: str, baudrate: int = 115200, connect_timeout: float = 0.0):
        """Open `url`; with `connect_timeout` > 0, retry a refused connection
        (a socket:// server still starting) for that many seconds."""
        try:
            import serial
        except ImportError:
            raise ImportError("the device harness needs pyserial (pip install pyserial)") \
                from None
        super().__init__(url)
        self._serial_module = serial
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05,
                                                   write_timeout=10.0)
                break
            except (serial.SerialException, OSError, ValueError) as error:
                if time.monotonic() >= deadline:
                    raise LinkClosed(f"cannot open {url}: {error}") from None
                time.sleep(0.05)
        self._start_reader()

    def _read_some(self) -> bytes:
        try:
            waiting = self._port.in_waiting
            return self._port.read(max(1, min(waiting, 65536)))
        except self._serial_module.SerialException as error:
            if self._stopping.is_set():
                raise LinkClosed("closed") from None
            raise LinkClosed(str(error)) from None
        except (OSError, TypeError, AttributeError) as error:
            # pyserial's socket:// can fail with these when closed under the reader
            raise LinkClosed("closed" if self._stopping.is_set() else str(error)) from None

    def _write_bytes(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def _close_link(self) -> None:
        try:
            self._port.close()
        except Exception:
            pass


class PipeTransport(Transport):
    """A child process's stdin (host to device) and stdout (device to host)."""

    def __init__(self, process: subprocess.Popen, description: str):
        super().__init__(description)
        if process.stdin is None or process.stdout is None:
            raise ValueError("the process needs stdin=PIPE and stdout=PIPE")
        self._process = process
        self._start_reader()

    def _read_some(self) -> bytes:
        stream = self._process.stdout
        # read1 on a buffered stream, read on a raw one (bufsize=0): one
        # system call, whatever is available.
        read = getattr(stream, "read1", None) or stream.read  # type: ignore[union-attr]
        data = read(65536)
        if not data:
            code = self._process.poll()
            raise LinkClosed("the device program closed its output" if code is None else
                             f"the device program exited with status {code}")
        return data

    def _write_bytes(self, data: bytes) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(data)
        self._process.stdin.flush()

    def _close_link(self) -> None:
        # End of input makes the device program exit, which ends the reader.
        # (Closing stdout under a blocked reader would wait for its lock.)
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
        except Exception:
            pass
        try:
            self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            try:
                self._process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self._process.kill()
