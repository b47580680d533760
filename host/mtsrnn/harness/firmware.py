"""Where a board's program comes from: the Cortex-M firmware .elf (found in
the build trees, or built with given models), the Linux device program
mtsrnn-device, and its cross-built Cortex-A versions (checked by ELF
machine)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .boards import Board, BoardError


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
        machine = _elf_machine(path)
        if board.arch and machine not in (None, ARM_ELF_MACHINE):
            # e.g. mtsrnn-device given for a Cortex-M board: QEMU would run
            # nothing and the link would only time out.
            raise BoardError(f"firmware {path} is built for "
                             f"{ELF_MACHINE_NAMES.get(machine, f'e_machine {machine}')}, not "
                             f"the Arm Cortex-M of {board.name}")
        if board.kind == "qemu" and machine is None:
            raise BoardError(f"firmware {path}: not an ELF file (QEMU boots the .elf)")
        return path.absolute()
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
    of the demo models), in the per-user cache (cache_dir()/fw-model/<board>-
    <hash of the models, the options and the source tree's path>:
    model_firmware_dir(); reused when it exists, rebuilt incrementally: "using
    the cached firmware" when nothing was rebuilt). Needs the firmware sources
    (a source tree or sdist: repo_roots(), e.g. $MTSRNN_ROOT) and
    arm-none-eabi-gcc."""
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
    build_dir = model_firmware_dir(board, paths, root, max_block, max_steps)
    elf = build_dir / board.firmware_board / f"mtsrnn-{board.firmware_board}.elf"
    configure = ["cmake", "-S", str(root / "firmware" / "boards"), "-B", str(build_dir),
                 f"-DMTSRNN_FW_ARCH={board.arch}", f"-DMTSRNN_BOARDS={board.firmware_board}",
                 "-DMTSRNN_FW_MODEL=" + ";".join(map(str, paths)),
                 f"-DMTSRNN_FW_PYTHON={sys.executable}"]
    if max_block is not None:
        configure.append(f"-DMTSRNN_FW_MAX_BLOCK={max_block}")
    if max_steps is not None:
        configure.append(f"-DMTSRNN_FW_MAX_STEPS={max_steps}")
    if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").is_file():
        configure[1:1] = ["-G", "Ninja"]
    before = elf.stat().st_mtime_ns if elf.is_file() else None
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
    if log is not None:
        log(f"using the cached firmware {elf}" if elf.stat().st_mtime_ns == before
            else f"built {elf}")
    return elf


def model_firmware_dir(board: Board, paths: list[Path], root: Path,
                       max_block: int | None, max_steps: int | None) -> Path:
    """The cache directory of `board`'s firmware built from source tree `root`
    with the model files `paths`: named by a hash of the models' names and
    bytes, the size options and the source tree's path. A CMake build tree
    belongs to one source tree, so two checkouts (or a checkout and an
    unpacked sdist) sharing the per-user cache never share one."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        if not path.is_file():
            raise BoardError(f"{path}: no such file")
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{max_block}:{max_steps}".encode())
    digest.update(b"\0" + str(Path(root).resolve()).encode())
    return cache_dir() / "fw-model" / f"{board.firmware_board}-{digest.hexdigest()[:12]}"


def cache_dir() -> Path:
    """The per-user cache of built firmware: $MTSRNN_CACHE_DIR, else
    $XDG_CACHE_HOME/mtsrnn, else ~/.cache/mtsrnn (never the source tree)."""
    if os.environ.get("MTSRNN_CACHE_DIR"):
        return Path(os.environ["MTSRNN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtsrnn"


# e_machine of this machine's programs (ELF), by platform.machine().
HOST_ELF_MACHINES = {"x86_64": 62, "amd64": 62, "aarch64": 183, "arm64": 183, "armv7l": 40,
                     "armv6l": 40, "i686": 3, "riscv64": 243}
ELF_MACHINE_NAMES = {62: "x86-64", 183: "aarch64", 40: "arm", 3: "i386", 243: "riscv"}
ARM_ELF_MACHINE = 40  # every Cortex-M firmware (and 32-bit Arm Linux programs)


def check_host_program(path: Path) -> Path:
    """`path` if it is an ELF program for this machine's CPU (or a #! script);
    otherwise a BoardError saying which CPU it is for (instead of "Exec
    format error")."""
    import platform

    want = HOST_ELF_MACHINES.get(platform.machine().lower())
    got = _elf_machine(path)
    with open(path, "rb") as f:
        if f.read(2) == b"#!":
            return path  # a wrapper script (e.g. an emulator's): its program is its own
    if got is None:
        raise BoardError(f"device program {path}: not a (little-endian) ELF program")
    if want is not None and got != want:
        raise BoardError(f"device program {path} is built for "
                         f"{ELF_MACHINE_NAMES.get(got, f'e_machine {got}')}, not this "
                         f"{platform.machine()} machine; build mtsrnn-device for it or use "
                         "the installed one")
    return path


def find_device_program(program: str | os.PathLike | None = None) -> Path:
    """The Linux device program for this machine: the argument,
    $MTSRNN_DEVICE, the copy installed with the package, PATH, or the build
    tree; an explicit one must be an ELF program for this machine's CPU
    (check_host_program), others of another CPU are passed over."""
    if program is None:
        program = os.environ.get("MTSRNN_DEVICE") or None
    if program is not None:
        path = Path(program)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BoardError(f"device program {path}: not an executable file")
        # Absolute: a bare name ("mtsrnn-device", or "./x", which Path
        # shortens to "x") would be looked up on PATH when it is run.
        return check_host_program(path.absolute())
    candidates = [Path(__file__).resolve().parents[1] / "mtsrnn-device"]
    on_path = shutil.which("mtsrnn-device")
    if on_path:
        candidates.append(Path(on_path))
    for root in repo_roots():
        for pattern in ("build/firmware/linux/mtsrnn-device", "build*/firmware/linux/"
                        "mtsrnn-device", "build/*/firmware/linux/mtsrnn-device"):
            candidates += [Path(match) for match in sorted(glob.glob(str(root / pattern)))]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            try:
                return check_host_program(path)
            except BoardError:
                continue  # a cross-built program in the build tree
    raise BoardError("the device program mtsrnn-device for this machine was not found: build "
                     "it (CMake target mtsrnn-device, -DMTSRNN_FIRMWARE=ON) and set "
                     "MTSRNN_DEVICE=/path/to/mtsrnn-device")


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
        return path.absolute()
    candidates = linux_program_candidates(board)
    if not candidates:
        raise BoardError(
            f"no cross-built mtsrnn-device for {board.name} found (looked under "
            f"$MTSRNN_FIRMWARE_DIR and build/{board.linux_build}/firmware/linux); build it with "
            "ci/aarch64.sh or pass --firmware PATH")
    return candidates[0]
