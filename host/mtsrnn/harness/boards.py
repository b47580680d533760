"""The board registry: every board the harness knows, by name.

- `qemu-mps2-an386` (M4F), `qemu-mps3-an547` (M55), `qemu-mps2-an385` (M3),
  `qemu-mps2-an500` (M7), `qemu-mps2-an505` (M33), `qemu-netduinoplus2`
  (STM32F405, M4F), `qemu-microbit` (nRF51, M0): Cortex-M firmware in QEMU,
  its UART on a local TCP socket (launch.py).
- `host`: the Linux device program `mtsrnn-device` over a pipe or TCP.
- `qemu-aarch64`, `qemu-armv7`: `mtsrnn-device` cross-built for Cortex-A
  (ci/aarch64.sh: build/aarch64-neon, build/armv7-neon) under QEMU user
  mode, reached over TCP. Its counter is CLOCK_MONOTONIC time of an
  emulator: never performance.
- real boards (`nucleo-f446re`, `nrf52840dk`, `pico`, `pico2`): reached by
  `port=URL`, programmed by pyocd or (the Picos) by copying the .uf2 to the
  boot ROM's USB drive (flashing.py). Compiled here, never run here.

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
    uf2_drive: str = ""  # real boards flashed by copying a .uf2: the drive's volume label
    # Firmware boards' budgets (bytes; 0: unknown): flash for code and models,
    # RAM, the upload arena (both halves, firmware/boards/CMakeLists.txt) and
    # the stack within it (placement.check_firmware_fit).
    flash_bytes: int = 0
    ram_bytes: int = 0
    arena_bytes: int = 0
    stack_bytes: int = 0
    # The largest block size T and the frames per infer a firmware build
    # sizes its buffers for (MTSRNN_FW_MAX_BLOCK, _MAX_STEPS; a board with
    # little RAM caps them: firmware/boards/CMakeLists.txt _small_ram_boards).
    max_block: int = 32
    max_steps: int = 64

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
    Board("qemu-mps2-an385", "qemu", "Cortex-M3 (no FPU: soft float) on QEMU's MPS2 AN385",
          machine="mps2-an385", firmware_board="mps2-an385", arch="m3", emulated=True,
          flash_bytes=4 << 20, ram_bytes=4 << 20, arena_bytes=2 << 20, stack_bytes=16 << 10),
    Board("qemu-mps2-an500", "qemu", "Cortex-M7 on QEMU's MPS2 AN500",
          machine="mps2-an500", firmware_board="mps2-an500", arch="m7", emulated=True,
          flash_bytes=4 << 20, ram_bytes=4 << 20, arena_bytes=2 << 20, stack_bytes=16 << 10),
    Board("qemu-mps2-an505", "qemu", "Cortex-M33 (FPU, DSP; secure) on QEMU's MPS2 AN505",
          machine="mps2-an505", firmware_board="mps2-an505", arch="m33", emulated=True,
          flash_bytes=4 << 20, ram_bytes=4 << 20, arena_bytes=2 << 20, stack_bytes=16 << 10),
    Board("qemu-netduinoplus2", "qemu",
          "Cortex-M4F (STM32F405, the STM32 USART driver) on QEMU's netduinoplus2",
          machine="netduinoplus2", firmware_board="netduinoplus2", arch="m4f", emulated=True,
          flash_bytes=1 << 20, ram_bytes=128 << 10, arena_bytes=32 << 10,
          stack_bytes=8 << 10),
    Board("qemu-microbit", "qemu",
          "Cortex-M0 (nRF51822, Armv6-M, 16 KB RAM) on QEMU's BBC micro:bit",
          machine="microbit", firmware_board="microbit", arch="m0", emulated=True,
          flash_bytes=256 << 10, ram_bytes=16 << 10, stack_bytes=2 << 10, max_block=8,
          max_steps=16),
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
    Board("nrf52840dk", "real",
          "Nordic nRF52840-DK, Cortex-M4F (J-Link OB; not run here: no board attached)",
          firmware_board="nrf52840dk", pyocd_target="nrf52840", arch="m4f",
          flash_bytes=1 << 20, ram_bytes=256 << 10, arena_bytes=64 << 10,
          stack_bytes=8 << 10),
    Board("pico", "real",
          "Raspberry Pi Pico, RP2040 Cortex-M0+ (UF2 drive RPI-RP2, or pyocd with a debug "
          "probe; not run here: no board attached)",
          firmware_board="pico", pyocd_target="rp2040", arch="m0", uf2_drive="RPI-RP2",
          flash_bytes=2 << 20, ram_bytes=256 << 10, arena_bytes=64 << 10,
          stack_bytes=8 << 10),
    Board("pico2", "real",
          "Raspberry Pi Pico 2, RP2350 Cortex-M33 (UF2 drive RP2350; not run here: no board "
          "attached)", firmware_board="pico2", arch="m33", uf2_drive="RP2350",
          flash_bytes=4 << 20, ram_bytes=512 << 10, arena_bytes=128 << 10,
          stack_bytes=16 << 10),
)}
DEFAULT_BOARD = "qemu-mps2-an386"


def get_board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise BoardError(f"unknown board {name!r}; known: {', '.join(BOARDS)}") from None
