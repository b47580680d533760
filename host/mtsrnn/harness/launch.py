"""Starting and reaching a board: a Session (the device plus what must be
stopped afterwards) from the QEMU launcher, the Linux device program (native
or under QEMU user mode), a running board at a port URL, and pyocd flashing
of a real board.

    from mtsrnn.harness import open_board
    with open_board("qemu-mps2-an386") as session:     # boots QEMU, cleans it up
        print(session.device.identify())
    with open_board(port="/dev/ttyACM0") as session:   # a real board
        ...

QEMU runs the firmware .elf with its UART on a TCP socket of a free local
port (`-serial tcp:...,server=on,wait=on,nodelay=on`, `-icount shift=0`);
the emulator is always stopped (processes.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .boards import BOARDS, DEFAULT_BOARD, Board, BoardError, get_board
from .client import DEFAULT_TIMEOUT, Device, HarnessError
from .firmware import find_device_program, find_firmware, find_linux_program
from .processes import ChildProcess, free_port
from .transport import PipeTransport, SerialTransport


class Session:
    """An open board: `device` plus whatever must be stopped afterwards."""

    def __init__(self, board: Board, device: Device, child: ChildProcess | None = None,
                 firmware: Path | None = None):
        self.board = board
        self.device = device
        self.child = child
        self.firmware = firmware

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child is not None else None

    def close(self) -> None:
        try:
            self.device.close()
        finally:
            if self.child is not None:
                self.child.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def qemu_command(board: Board, elf: Path, port: int,
                 extra: list[str] | None = None) -> list[str]:
    return ["qemu-system-arm", "-M", board.machine, *(extra or []),
            "-display", "none", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
            "-kernel", str(elf),
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"]


def start_qemu(board: Board, firmware: str | os.PathLike | None = None,
               timeout: float = DEFAULT_TIMEOUT, boot_timeout: float = 20.0,
               handshake: bool = True,
               emulator_args: Callable[[Path], list[str]] | None = None) -> Session:
    """Boot `board`'s firmware in QEMU and connect to its UART. `emulator_args`
    gives extra QEMU arguments for the firmware's path (e.g. a -plugin)."""
    if board.kind != "qemu":
        raise BoardError(f"{board.name} is not a QEMU board")
    elf = find_firmware(board, firmware)
    if shutil.which("qemu-system-arm") is None:
        raise BoardError("qemu-system-arm not found (apt-get install qemu-system-arm, or "
                         "ci/install-toolchains.sh)")
    last_error = ""
    for _attempt in range(3):  # a free port can be taken before QEMU binds it
        port = free_port()
        extra = emulator_args(elf) if emulator_args else None
        child = ChildProcess(qemu_command(board, elf, port, extra), f"qemu {board.name}",
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            transport = _connect_tcp(port, child, boot_timeout)
        except BoardError as error:
            child.close()
            last_error = str(error)
            if "in use" in last_error.lower():
                continue
            raise
        except BaseException:
            child.close()
            raise
        device = Device(transport, timeout=timeout)
        session = Session(board, device, child, elf)
        if handshake:
            _handshake_or_close(session, child, f"{board.name} ({elf})", "QEMU says",
                                retries=max(1, int(boot_timeout / 0.5)))
        return session
    raise BoardError(f"cannot start QEMU for {board.name}: {last_error}")


def _handshake_or_close(session: Session, child: ChildProcess, what: str, says: str,
                        retries: int) -> None:
    """Handshake with a freshly started device; if it never answers, stop it
    and raise a BoardError carrying what the process printed."""
    try:
        session.device.handshake(retries=retries)
    except BaseException as error:
        session.close()
        if isinstance(error, HarnessError):
            detail = child.stderr_text()
            raise BoardError(f"{what} does not answer: {error}"
                             + (f"; {says}: {detail}" if detail else "")) from None
        raise


def _connect_tcp(port: int, child: ChildProcess, timeout: float) -> SerialTransport:
    deadline = time.monotonic() + timeout
    url = f"socket://127.0.0.1:{port}"
    while True:
        if not child.running():
            detail = child.stderr_text()
            raise BoardError(f"{child.name} exited with status {child.process.returncode}"
                             + (f": {detail}" if detail else ""))
        try:
            return SerialTransport(url)
        except Exception as error:
            if time.monotonic() >= deadline:
                raise BoardError(f"cannot connect to {child.name} on {url}: {error}") from None
            time.sleep(0.05)


def start_host(program: str | os.PathLike | None = None, tcp: bool = False,
               args: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
               handshake: bool = True, board: Board | None = None,
               emulator_args: Callable[[Path], list[str]] | None = None) -> Session:
    """Start the Linux device program and talk to it over a pipe (or TCP).
    With an emulated-linux `board`, its cross-built program under the board's
    qemu user-mode emulator (`emulator_args`: extra emulator arguments for the
    program's path, e.g. a -plugin)."""
    board = board or BOARDS["host"]
    env: dict[str, str] | None = None  # None: the caller's environment
    if board.kind == "emulated-linux":
        path = find_linux_program(board, program)
        emulator = shutil.which(board.emulator)
        if emulator is None:
            raise BoardError(f"{board.emulator} not found (apt-get install qemu-user, or "
                             "ci/install-toolchains.sh)")
        extra = emulator_args(path) if emulator_args else []
        argv = [emulator, *extra, str(path), *(args or [])]
        # Measuring under a plugin: the guest sees only the emulator's own
        # QEMU_* settings, so the size of the caller's environment does not
        # move the guest stack (and with it a few cache misses).
        if emulator_args:
            env = {k: v for k, v in os.environ.items() if k.startswith("QEMU_")}
        name = f"{board.emulator} mtsrnn-device"
    elif board.kind == "host":
        path = find_device_program(program)
        argv = [str(path), *(args or [])]
        name = "mtsrnn-device"
    else:
        raise BoardError(f"{board.name} does not run the Linux device program")
    child: ChildProcess | None = None
    try:
        if tcp:
            for attempt in range(3):  # a free port can be taken before the program binds it
                port = free_port()
                child = ChildProcess(argv + ["--tcp", str(port)], name, env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
                try:
                    transport = _connect_tcp(port, child, 20.0)
                    break
                except BoardError as error:
                    child.close()
                    child = None
                    if "in use" not in str(error).lower() or attempt == 2:
                        raise
        else:
            child = ChildProcess(argv, name, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, bufsize=0)
            transport = PipeTransport(child.process, f"{path} (pipe)")
        device = Device(transport, timeout=timeout)
        session = Session(board, device, child, path)
    except BaseException:
        if child is not None:
            child.close()
        raise
    if handshake:
        _handshake_or_close(session, child, str(path), "it says", retries=10)
    return session


def connect(port: str, baudrate: int = 115200, timeout: float = DEFAULT_TIMEOUT,
            handshake: bool = True) -> Session:
    """A board already running, at a pyserial URL or port name."""
    board = Board(port, "real", f"the device at {port}")
    device = Device.open(port, baudrate=baudrate, timeout=timeout, handshake=handshake)
    return Session(board, device)


@contextlib.contextmanager
def open_board(name: str | None = None, *, port: str | None = None,
               firmware: str | os.PathLike | None = None, timeout: float = DEFAULT_TIMEOUT,
               baudrate: int = 115200, device_args: list[str] | None = None,
               emulator_args: Callable[[Path], list[str]] | None = None
               ) -> Iterator[Session]:
    """A Session for a named board (QEMU or host) or a port URL; always closed."""
    if port is not None:
        session = connect(port, baudrate=baudrate, timeout=timeout)
    else:
        board = get_board(name or DEFAULT_BOARD)
        if board.kind == "qemu":
            session = start_qemu(board, firmware, timeout=timeout, emulator_args=emulator_args)
        elif board.kind == "host":
            session = start_host(firmware, args=device_args, timeout=timeout)
        elif board.kind == "emulated-linux":
            session = start_host(firmware, tcp=True, args=device_args, timeout=timeout,
                                 board=board, emulator_args=emulator_args)
        else:
            raise BoardError(f"{board.name} is a real board: flash it (mtsrnn flash --board "
                             f"{board.name}), then give its serial port with --port URL")
    try:
        yield session
    finally:
        session.close()
