"""The child processes the harness starts (QEMU, the device program), each
stopped exactly once whatever happens: when its session ends (also on errors
and Ctrl-C), at interpreter exit (atexit), on SIGTERM/SIGHUP, and, on Linux,
when this process dies (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import atexit
import contextlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import weakref

_live: weakref.WeakSet[ChildProcess] = weakref.WeakSet()
_live_lock = threading.Lock()
_handlers_installed = False


def _stop_all_children() -> None:
    with _live_lock:
        children = list(_live)
    for child in children:
        child.stop()


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by hand
    _stop_all_children()
    # Become an ordinary exit (atexit and finally blocks run).
    raise SystemExit(128 + signum)


def _install_handlers() -> None:
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_stop_all_children)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is None:
                continue
            try:
                if signal.getsignal(signum) in (signal.SIG_DFL, None):
                    signal.signal(signum, _on_sigterm)
            except (ValueError, OSError):
                pass
    # Ctrl-C (SIGINT) is Python's KeyboardInterrupt: the `with` blocks and
    # atexit stop the children. They run in their own session so the terminal's
    # SIGINT does not kill them under the harness mid-command.


def _parent_death_signal():
    """A preexec_fn that asks Linux to SIGKILL the child when this process
    dies (PR_SET_PDEATHSIG), so not even a SIGKILLed harness leaves an
    emulator behind; None elsewhere. Everything is looked up here, in the
    parent: between fork and exec the child only makes the one call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    kill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(1, kill)  # PR_SET_PDEATHSIG

    return preexec


class ChildProcess:
    """A child process that is stopped exactly once, whatever happens."""

    def __init__(self, argv: list[str], name: str, **popen):
        _install_handlers()
        self.name = name
        self.argv = argv
        self._log = tempfile.TemporaryFile()
        popen.setdefault("stderr", self._log)
        # Its own session: the terminal's Ctrl-C reaches only the harness,
        # which then stops the child itself.
        self.process = subprocess.Popen(argv, start_new_session=True,
                                        preexec_fn=_parent_death_signal(), **popen)
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stderr_text(self, limit: int = 2000) -> str:
        try:
            self._log.seek(0)
            return self._log.read().decode(errors="replace")[-limit:].strip()
        except (OSError, ValueError):
            return ""

    def stop(self, grace: float = 2.0) -> None:
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5.0)
        with _live_lock:
            _live.discard(self)

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(Exception):
            self._log.close()


def live_children() -> list[int]:
    """PIDs of emulators and device programs started here and still running."""
    with _live_lock:
        return [child.pid for child in _live if child.running()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
