"""Programming a real board: pyocd through a debug probe, or for the
Raspberry Pi Picos a copy of the firmware's .uf2 file to the USB drive their
boot ROM shows while BOOTSEL is held at power-up (RPI-RP2 for the RP2040,
RP2350 for the RP2350). Each failure is a BoardError of one line saying what
is missing (no pyocd, no probe, no drive)."""

from __future__ import annotations

import getpass
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

from .boards import Board, BoardError
from .firmware import find_firmware


def flash_real(board: Board, firmware: str | os.PathLike | None = None,
               probe: str | None = None, drive: str | os.PathLike | None = None) -> str:
    """Program a real board; returns what was done (pyocd's output, or the
    copy). A board with a UF2 drive is flashed by copying when its drive is
    mounted (or `drive` is given), otherwise through pyocd if it has a
    target; `drive` (or $MTSRNN_UF2_DRIVE) names the drive's directory."""
    if board.kind != "real" or not (board.pyocd_target or board.uf2_drive):
        raise BoardError(f"{board.name} is not a real board that can be programmed here")
    elf = find_firmware(board, firmware)
    if board.uf2_drive:
        mounted = uf2_drive_path(board, drive)
        if mounted is not None or not board.pyocd_target or shutil.which("pyocd") is None:
            if mounted is None:
                raise BoardError(
                    f"no {board.uf2_drive} drive is mounted: hold BOOTSEL while plugging "
                    f"{board.name} in over USB, or give the drive with --drive DIR")
            return copy_uf2(elf, mounted)
    return _pyocd_flash(board, elf, probe)


def uf2_drive_path(board: Board, drive: str | os.PathLike | None = None) -> Path | None:
    """The mounted drive of `board`'s boot ROM: `drive` or $MTSRNN_UF2_DRIVE
    if given (it must hold INFO_UF2.TXT, as every UF2 drive does), else the
    usual mount points of a drive labelled board.uf2_drive, else None."""
    given = drive or os.environ.get("MTSRNN_UF2_DRIVE")
    if given:
        path = Path(given)
        if not (path / "INFO_UF2.TXT").is_file():
            raise BoardError(f"{path} is not a UF2 drive (no INFO_UF2.TXT in it)")
        return path
    label = board.uf2_drive
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    candidates = [Path("/media") / user / label, Path("/run/media") / user / label,
                  Path("/media") / label, Path("/Volumes") / label]
    if sys.platform == "win32":
        candidates += [Path(f"{letter}:/") for letter in string.ascii_uppercase]
    for path in candidates:
        info = path / "INFO_UF2.TXT"
        if info.is_file() and (path.name == label or label in info.read_text(errors="replace")):
            return path
    return None


def copy_uf2(elf: Path, drive: Path) -> str:
    """Copy the .uf2 beside `elf` (or `elf` itself when it is a .uf2) to the
    drive; the boot ROM writes it to flash and restarts the board."""
    uf2 = elf if elf.suffix == ".uf2" else elf.with_suffix(".uf2")
    if not uf2.is_file():
        raise BoardError(f"no {uf2.name} beside {elf} (the firmware build writes it with "
                         "firmware/boards/make_uf2.py)")
    shutil.copyfile(uf2, drive / uf2.name)
    return f"copied {uf2} to {drive}"


def _pyocd_flash(board: Board, elf: Path, probe: str | None) -> str:
    pyocd = shutil.which("pyocd")
    if pyocd is None:
        raise BoardError(f"flashing {board.name} needs pyocd (pip install pyocd) and a "
                         "connected debug probe (ST-LINK, CMSIS-DAP, J-Link)")
    argv = [pyocd, "flash", "-t", board.pyocd_target]
    if probe:
        argv += ["-u", probe]
    argv.append(str(elf))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        lowered = output.lower()
        last = " ".join(output.split())[-300:]
        if "no connected debug probes" in lowered or "no available debug probes" in lowered \
                or "no probe" in lowered:
            raise BoardError(f"no debug probe is connected: connect {board.name} over USB "
                             f"and try again (pyocd: {last})")
        if "target type" in lowered and "not recognized" in lowered:
            raise BoardError(f"pyocd does not know {board.pyocd_target}: run `pyocd pack "
                             f"install {board.pyocd_target}` first ({last})")
        raise BoardError(f"pyocd flash failed (exit {result.returncode}): {last}")
    return output
