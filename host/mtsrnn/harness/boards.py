"""The board registry: every board the harness knows, by name.

- `qemu-mps2-an386`, `qemu-mps3-an547`: Cortex-M firmware in QEMU, its UART on
  a local TCP socket (launch.py).
- `host`: the Linux device program `mtsrnn-device` over a pipe or TCP.
- `qemu-aarch64`, `qemu-armv7`: `mtsrnn-device` cross-built for Cortex-A
  (ci/aarch64.sh: build/aarch64-neon, build/armv7-neon) under QEMU user
  mode, reached over TCP. Its counter is CLOCK_MONOTONIC time of an
  emulator: never performance.
- real boards (`nucleo-f446re`): reached by `port=URL`, programmed by pyocd.

Where each board's program comes from is firmware.py; starting and stopping
it is launch.py (with processes.py for the child processes).
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import HarnessError


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
    # Firmware boards' budgets (bytes; 0: unknown): flash for code and models,
    # RAM, the upload arena (both halves, firmware/boards/CMakeLists.txt) and
    # the stack within it (placement.check_firmware_fit).
    flash_bytes: int = 0
    ram_bytes: int = 0
    arena_bytes: int = 0
    stack_bytes: int = 0

    @property
    def runs_linux_program(self) -> bool:
        """mtsrnn-device (natively or emulated), which loads .mts files itself."""
        return self.kind in ("host", "emulated-linux")


BOARDS: dict[str, Board] = {board.name: board for board in (
    Board("qemu-mps2-an386", "qemu", "Cortex-M4F on QEMU's MPS2 AN386 (default)",
          machine="mps2-an386", firmware_board="mps2-an386", arch="m4f", emulated=True,
          flash_bytes=4 << 20, ram_bytes=4 << 20, arena_bytes=2 << 20, stack_bytes=16 << 10),
    Board("qemu-mps3-an547", "qemu", "Cortex-M55 (Helium) on QEMU's MPS3 AN547",
          machine="mps3-an547", firmware_board="mps3-an547", arch="m55", emulated=True,
          # the models' constants in its 4 MB SRAM (MTSRNN_FW_AN547_WEIGHTS=sram)
          flash_bytes=4 << 20, ram_bytes=512 << 10, arena_bytes=256 << 10,
          stack_bytes=16 << 10),
    Board("qemu-aarch64", "emulated-linux",
          "Cortex-A (aarch64, NEON): mtsrnn-device under qemu-aarch64",
          emulator="qemu-aarch64", linux_build="aarch64-neon", elf_machine=183, emulated=True),
    Board("qemu-armv7", "emulated-linux",
          "Cortex-A (armv7-a, NEON): mtsrnn-device under qemu-arm",
          emulator="qemu-arm", linux_build="armv7-neon", elf_machine=40, emulated=True),
    Board("host", "host", "the Linux device program mtsrnn-device on this machine"),
    Board("nucleo-f446re", "real",
          "ST Nucleo-64 STM32F446RE (ST-LINK; not run here: no board attached)",
          firmware_board="nucleo-f446re", pyocd_target="stm32f446retx", arch="m4f",
          flash_bytes=512 << 10, ram_bytes=128 << 10, arena_bytes=32 << 10,
          stack_bytes=8 << 10),
)}
DEFAULT_BOARD = "qemu-mps2-an386"


def get_board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise BoardError(f"unknown board {name!r}; known: {', '.join(BOARDS)}") from None
