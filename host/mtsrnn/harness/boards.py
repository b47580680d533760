"""Boards: where a device runs and how to reach it.

    from mtsrnn.harness import open_board
    with open_board("qemu-mps2-an386") as device:      # boots QEMU, cleans it up
        print(device.identify())
    with open_board(port="/dev/ttyACM0") as device:    # a real board
        ...

- `qemu-mps2-an386`, `qemu-mps3-an547`: the firmware .elf in QEMU, its UART
  on a TCP socket of a free local port (`-serial tcp:...,server=on,wait=on,
  nodelay=on`, `-icount shift=0`). The emulator is always stopped: when the
  context ends (also on errors and Ctrl-C), at interpreter exit (atexit),
  on SIGTERM, and, on Linux, when this process dies (PR_SET_PDEATHSIG).
- `host`: the Linux device program `mtsrnn-device` over a pipe (or over TCP
  with `tcp=True`).
- `qemu-aarch64`, `qemu-armv7`: `mtsrnn-device` cross-built for Cortex-A
  (ci/aarch64.sh: build/aarch64-neon, build/armv7-neon) run under QEMU user
  mode, reached over TCP: a Cortex-A board on this machine. Its counter is
  CLOCK_MONOTONIC time of an emulator: never performance.
- real boards (`nucleo-f446re`): reached by `port=URL`, programmed by pyocd.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .client import DEFAULT_TIMEOUT, Device, HarnessError
from .transport import PipeTransport, SerialTransport


def repo_roots() -> list[Path]:
    """Source trees whose build directories may hold firmware: $MTSRNN_ROOT,
    the working directory or a parent of it with firmware/, and the tree
    this package runs from (when it runs from a checkout)."""
    roots: list[Path] = []
    if os.environ.get("MTSRNN_ROOT"):
        roots.append(Path(os.environ["MTSRNN_ROOT"]))
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / "firmware").is_dir() and (directory / "host" / "mtsrnn").is_dir():
            roots.append(directory)
            break
    source = Path(__file__).resolve().parents[3]
    if (source / "firmware").is_dir():
        roots.append(source)
    return list(dict.fromkeys(roots))


class BoardError(HarnessError):
    """A board cannot be started, reached or programmed."""


@dataclass(frozen=True)
class Board:
    name: str
    kind: str  # "qemu", "host", "emulated-linux" (mtsrnn-device under qemu user mode), "real"
    description: str
    machine: str = ""  # qemu -M
    firmware_board: str = ""  # the name under firmware/boards/ and in the build tree
    pyocd_target: str = ""  # real boards
    arch: str = ""  # the firmware toolchain (firmware/boards, MTSRNN_FW_ARCH)
    emulator: str = ""  # emulated-linux: the qemu user-mode program
    linux_build: str = ""  # emulated-linux: the build directory under build/ (ci/aarch64.sh)
    elf_machine: int = 0  # emulated-linux: e_machine of the program (183 aarch64, 40 arm)
    emulated: bool = False  # counters come from an emulator: not performance

    @property
    def runs_linux_program(self) -> bool:
        """mtsrnn-device (natively or emulated), which loads .mts files itself."""
        return self.kind in ("host", "emulated-linux")


BOARDS: dict[str, Board] = {board.name: board for board in (
    Board("qemu-mps2-an386", "qemu", "Cortex-M4F on QEMU's MPS2 AN386 (default)",
          machine="mps2-an386", firmware_board="mps2-an386", arch="m4f", emulated=True),
    Board("qemu-mps3-an547", "qemu", "Cortex-M55 (Helium) on QEMU's MPS3 AN547",
          machine="mps3-an547", firmware_board="mps3-an547", arch="m55", emulated=True),
    Board("qemu-aarch64", "emulated-linux",
          "Cortex-A (aarch64, NEON): mtsrnn-device under qemu-aarch64",
          emulator="qemu-aarch64", linux_build="aarch64-neon", elf_machine=183, emulated=True),
    Board("qemu-armv7", "emulated-linux",
          "Cortex-A (armv7-a, NEON): mtsrnn-device under qemu-arm",
          emulator="qemu-arm", linux_build="armv7-neon", elf_machine=40, emulated=True),
    Board("host", "host", "the Linux device program mtsrnn-device on this machine"),
    Board("nucleo-f446re", "real",
          "ST Nucleo-64 STM32F446RE (ST-LINK; not run here: no board attached)",
          firmware_board="nucleo-f446re", pyocd_target="stm32f446retx", arch="m4f"),
)}
DEFAULT_BOARD = "qemu-mps2-an386"


def get_board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise BoardError(f"unknown board {name!r}; known: {', '.join(BOARDS)}") from None


# ---- locating the firmware and the device program ---------------------------

def firmware_candidates(board: Board) -> list[Path]:
    """Where a board's .elf may be, most specific first: $MTSRNN_FIRMWARE_DIR,
    then the build trees of ci/firmware.sh (build/fw-*/<board>/)."""
    name = board.firmware_board
    found: list[Path] = []

    def add(paths):
        for path in sorted(paths):
            if path.is_file() and path not in found:
                found.append(path)

    if os.environ.get("MTSRNN_FIRMWARE_DIR"):
        root = Path(os.environ["MTSRNN_FIRMWARE_DIR"])
        for pattern in (f"{name}/*{name}*.elf", f"*{name}*.elf", f"*/{name}/*{name}*.elf",
                        f"{name}/*.elf"):
            add(root.glob(pattern))
    for root in repo_roots():
        for pattern in (f"build/fw-*/{name}/*{name}*.elf", f"build/firmware/{name}/*.elf",
                        f"build/firmware/*/{name}/*.elf"):
            add(root.glob(pattern))
    return found


def find_firmware(board: Board, firmware: str | os.PathLike | None = None) -> Path:
    if firmware is not None:
        path = Path(firmware)
        if not path.is_file():
            raise BoardError(f"firmware {path}: no such file")
        return path
    candidates = firmware_candidates(board)
    if not candidates:
        raise BoardError(
            f"no firmware .elf for {board.name} found (looked under $MTSRNN_FIRMWARE_DIR, "
            f"build/firmware); build it with ci/firmware.sh or pass --firmware FILE.elf")
    return candidates[0]


def build_firmware(board: Board, models: list[str | os.PathLike], *,
                   max_block: int | None = None, max_steps: int | None = None,
                   log=None) -> Path:
    """Build `board`'s firmware with the given .mts models built in (instead
    of the demo models), in build/fw-model/<board>-<hash of the models>
    (reused when it exists, rebuilt incrementally). Needs the source tree and
    arm-none-eabi-gcc."""
    import hashlib

    if not board.arch:
        raise BoardError(f"{board.name} has no firmware to build")
    roots = repo_roots()
    if not roots:
        raise BoardError("building firmware needs the mtsrnn source tree: run from it or set "
                         "MTSRNN_ROOT")
    root = roots[0]
    if shutil.which("cmake") is None or shutil.which("arm-none-eabi-gcc") is None:
        raise BoardError("building firmware needs cmake and arm-none-eabi-gcc "
                         "(ci/install-toolchains.sh)")
    paths = [Path(m).resolve() for m in models]
    digest = hashlib.sha256()
    for path in paths:
        if not path.is_file():
            raise BoardError(f"{path}: no such file")
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{max_block}:{max_steps}".encode())
    build_dir = root / "build" / "fw-model" / f"{board.firmware_board}-{digest.hexdigest()[:12]}"
    elf = build_dir / board.firmware_board / f"mtsrnn-{board.firmware_board}.elf"
    configure = ["cmake", "-S", str(root / "firmware" / "boards"), "-B", str(build_dir),
                 f"-DMTSRNN_FW_ARCH={board.arch}", f"-DMTSRNN_BOARDS={board.firmware_board}",
                 "-DMTSRNN_FW_MODEL=" + ";".join(map(str, paths)),
                 f"-DMTSRNN_FW_PYTHON={sys.executable}"]
    if max_block is not None:
        configure.append(f"-DMTSRNN_FW_MAX_BLOCK={max_block}")
    if max_steps is not None:
        configure.append(f"-DMTSRNN_FW_MAX_STEPS={max_steps}")
    if shutil.which("ninja"):
        configure[1:1] = ["-G", "Ninja"]
    # An existing build tree is configured again (the models' paths may have
    # moved) and rebuilt incrementally: quick when nothing changed, and never
    # a stale image when the sources did.
    for argv in (configure, ["cmake", "--build", str(build_dir)]):
        if log is not None:
            log(" ".join(argv))
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise BoardError(f"building the {board.name} firmware with "
                             f"{', '.join(p.name for p in paths)} failed: {output[-800:]}")
    if not elf.is_file():
        raise BoardError(f"the firmware build did not produce {elf}")
    return elf


def find_device_program(program: str | os.PathLike | None = None) -> Path:
    """The Linux device program: the argument, $MTSRNN_DEVICE, PATH, or the build tree."""
    if program is None:
        program = os.environ.get("MTSRNN_DEVICE") or None
    if program is not None:
        path = Path(program)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BoardError(f"device program {path}: not an executable file")
        return path
    on_path = shutil.which("mtsrnn-device")
    if on_path:
        return Path(on_path)
    for root in repo_roots():
        for pattern in ("build/firmware/linux/mtsrnn-device", "build*/firmware/linux/"
                        "mtsrnn-device", "build/*/firmware/linux/mtsrnn-device"):
            for match in sorted(glob.glob(str(root / pattern))):
                if os.path.isfile(match) and os.access(match, os.X_OK):
                    return Path(match)
    raise BoardError("the device program mtsrnn-device was not found: build it (CMake "
                     "target mtsrnn-device) and set MTSRNN_DEVICE=/path/to/mtsrnn-device")


def _elf_machine(path: Path) -> int | None:
    """e_machine of an ELF file (little-endian), None for anything else."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF" or header[5] != 1:
        return None
    return int.from_bytes(header[18:20], "little")


def linux_program_candidates(board: Board) -> list[Path]:
    """Where an emulated-linux board's cross-built mtsrnn-device may be:
    $MTSRNN_FIRMWARE_DIR/<linux_build>/ (or the directory itself), then the
    source tree's build/<linux_build>/ (ci/aarch64.sh), then other builds for
    the same CPU (build/aarch64-*)."""
    found: list[Path] = []
    relative = Path("firmware") / "linux" / "mtsrnn-device"
    prefix = board.linux_build.split("-")[0]
    roots = []
    if os.environ.get("MTSRNN_FIRMWARE_DIR"):
        roots.append(Path(os.environ["MTSRNN_FIRMWARE_DIR"]))
    roots += [root / "build" for root in repo_roots()]
    for root in roots:
        for path in (root / board.linux_build / relative, root / relative,
                     *sorted(root.glob(f"{prefix}-*/{relative}"))):
            if (path.is_file() and path not in found
                    and _elf_machine(path) == board.elf_machine):
                found.append(path)
    return found


def find_linux_program(board: Board, program: str | os.PathLike | None = None) -> Path:
    """An emulated-linux board's cross-built mtsrnn-device: the argument or the
    build tree; it must be an ELF file for the board's CPU."""
    if program is not None:
        path = Path(program)
        if not path.is_file():
            raise BoardError(f"device program {path}: no such file")
        if _elf_machine(path) != board.elf_machine:
            raise BoardError(f"{path} is not an ELF program for {board.name} (e_machine "
                             f"{board.elf_machine}); build it with ci/aarch64.sh")
        return path
    candidates = linux_program_candidates(board)
    if not candidates:
        raise BoardError(
            f"no cross-built mtsrnn-device for {board.name} found (looked under "
            f"$MTSRNN_FIRMWARE_DIR and build/{board.linux_build}/firmware/linux); build it with "
            "ci/aarch64.sh or pass --firmware PATH")
    return candidates[0]


# ---- emulator and child process cleanup -------------------------------------

_live: weakref.WeakSet[_ChildProcess] = weakref.WeakSet()
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


class _ChildProcess:
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


# ---- sessions -------------------------------------------------------------

class Session:
    """An open board: `device` plus whatever must be stopped afterwards."""

    def __init__(self, board: Board, device: Device, child: _ChildProcess | None = None,
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


def qemu_command(board: Board, elf: Path, port: int) -> list[str]:
    return ["qemu-system-arm", "-M", board.machine, "-display", "none", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
            "-kernel", str(elf),
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"]


def start_qemu(board: Board, firmware: str | os.PathLike | None = None,
               timeout: float = DEFAULT_TIMEOUT, boot_timeout: float = 20.0,
               handshake: bool = True) -> Session:
    """Boot `board`'s firmware in QEMU and connect to its UART."""
    if board.kind != "qemu":
        raise BoardError(f"{board.name} is not a QEMU board")
    elf = find_firmware(board, firmware)
    if shutil.which("qemu-system-arm") is None:
        raise BoardError("qemu-system-arm not found (apt-get install qemu-system-arm, or "
                         "ci/install-toolchains.sh)")
    last_error = ""
    for _attempt in range(3):  # a free port can be taken before QEMU binds it
        port = free_port()
        child = _ChildProcess(qemu_command(board, elf, port), f"qemu {board.name}",
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


def _handshake_or_close(session: Session, child: _ChildProcess, what: str, says: str,
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


def _connect_tcp(port: int, child: _ChildProcess, timeout: float) -> SerialTransport:
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
               handshake: bool = True, board: Board | None = None) -> Session:
    """Start the Linux device program and talk to it over a pipe (or TCP).
    With an emulated-linux `board`, its cross-built program under the board's
    qemu user-mode emulator."""
    board = board or BOARDS["host"]
    if board.kind == "emulated-linux":
        path = find_linux_program(board, program)
        emulator = shutil.which(board.emulator)
        if emulator is None:
            raise BoardError(f"{board.emulator} not found (apt-get install qemu-user, or "
                             "ci/install-toolchains.sh)")
        argv = [emulator, str(path), *(args or [])]
        name = f"{board.emulator} mtsrnn-device"
    elif board.kind == "host":
        path = find_device_program(program)
        argv = [str(path), *(args or [])]
        name = "mtsrnn-device"
    else:
        raise BoardError(f"{board.name} does not run the Linux device program")
    child: _ChildProcess | None = None
    try:
        if tcp:
            for attempt in range(3):  # a free port can be taken before the program binds it
                port = free_port()
                child = _ChildProcess(argv + ["--tcp", str(port)], name,
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
            child = _ChildProcess(argv, name, stdin=subprocess.PIPE,
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
               baudrate: int = 115200, device_args: list[str] | None = None
               ) -> Iterator[Session]:
    """A Session for a named board (QEMU or host) or a port URL; always closed."""
    if port is not None:
        session = connect(port, baudrate=baudrate, timeout=timeout)
    else:
        board = get_board(name or DEFAULT_BOARD)
        if board.kind == "qemu":
            session = start_qemu(board, firmware, timeout=timeout)
        elif board.kind == "host":
            session = start_host(firmware, args=device_args, timeout=timeout)
        elif board.kind == "emulated-linux":
            session = start_host(firmware, tcp=True, args=device_args, timeout=timeout,
                                 board=board)
        else:
            raise BoardError(f"{board.name} is a real board: flash it (mtsrnn flash --board "
                             f"{board.name}), then give its serial port with --port URL")
    try:
        yield session
    finally:
        session.close()


# ---- flashing real boards -------------------------------------------------

def flash_real(board: Board, firmware: str | os.PathLike | None = None,
               probe: str | None = None) -> str:
    """Program a real board through pyocd; returns pyocd's output."""
    if board.kind != "real" or not board.pyocd_target:
        raise BoardError(f"{board.name} is not a board pyocd can program")
    elf = find_firmware(board, firmware)
    pyocd = shutil.which("pyocd")
    if pyocd is None:
        raise BoardError("flashing a real board needs pyocd (pip install pyocd) and a "
                         "connected debug probe (ST-LINK, CMSIS-DAP, J-Link)")
    argv = [pyocd, "flash", "-t", board.pyocd_target]
    if probe:
        argv += ["-u", probe]
    argv.append(str(elf))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        lowered = output.lower()
        if "no connected debug probes" in lowered or "no available debug probes" in lowered \
                or "no probe" in lowered:
            raise BoardError(f"no debug probe is connected: connect {board.name} over USB "
                             f"(its ST-LINK) and try again (pyocd: {output[-300:]})")
        if "target type" in lowered and "not recognized" in lowered:
            raise BoardError(f"pyocd does not know {board.pyocd_target}: run `pyocd pack "
                             f"install {board.pyocd_target}` first ({output[-300:]})")
        raise BoardError(f"pyocd flash failed (exit {result.returncode}): {output[-500:]}")
    return output
