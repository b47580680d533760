"""`mtsrnn bench device --memory PART`: memory traffic per step measured on
the device's own binary, and time and energy under a named part as a stated
MODEL (docs/performance.md, "Memory traffic on the ARM targets").

The QEMU TCG plugin tools/qemu-plugin/mtsmem.c (built by
ci/qemu-plugin.sh into build/qemu-plugin/libmtsmem.so) watches every load and
store of the firmware (qemu-system-arm) or of mtsrnn-device (qemu-aarch64,
qemu-arm) inside the window the device's `bench` marks
(firmware/common/mts_device_mem.c), and counts instructions by class, bytes
read from the model's weights and per memory region, and the misses of the
part's cache model. Those counts are measured (deterministic); the cycles and
energy derived here from the part's parameter table are modelled, never
measured, and every output says so.

    args = plugin_arguments(PARTS["rp2040"], elf, out)   # QEMU's -plugin ...
    add_memory(data, PARTS["rp2040"], read_windows(out)) # data of bench/device.run
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .device import product_columns

MARKER_SYMBOL = "mts_mem_marker"
PLUGIN_NAME = "libmtsmem.so"
CLASSES = ("fmac", "imac", "falu", "load", "store", "branch", "div", "other")
MODEL_NOTE = ("modelled, not measured: cycles and energy come from the counts above through "
              "the part's parameter table (docs/performance.md); instructions, bytes and "
              "misses are measured on the binary under QEMU")


@dataclass(frozen=True)
class Param:
    value: float | None  # None: the core has no such instruction
    unit: str
    source: str


@dataclass(frozen=True)
class Part:
    """A named part's memory system and cost table (every number with its source)."""
    name: str
    title: str
    boards: tuple[str, ...]          # the boards whose binary stands for it
    clock_hz: float
    cpi: dict[str, Param]            # cycles per instruction of each class
    caches: tuple[tuple[str, int, int, int], ...]  # (name, size, line, ways), core first
    scope: str                       # the region the caches sit in front of, or "all"
    penalty: dict[str, Param]        # cycles per miss of each cache level
    energy_cycle_nj: Param           # core energy per cycle
    energy_byte_nj: Param            # energy per byte fetched behind the last level
    how: str                         # how the part is modelled from the binary
    leaves_out: tuple[str, ...] = field(default=())
    # a symbol the binary must define (e.g. the Armv6-M product: the rp2040
    # model times Thumb-1 code, not the Cortex-M3 build of the same board)
    needs_symbol: tuple[str, str] | None = None  # (symbol, what it means)
    # the -cpu of a user-mode emulator run per board: the part's own core, so
    # the binary's run-time choices are the part's (no SDOT on a Cortex-A72)
    emulator_cpu: tuple[tuple[str, str], ...] = ()


_M4_TRM = "Cortex-M4 TRM r0p1, 3.3.1 Table 3-1"
_M4_FPU = "Cortex-M4 TRM r0p1, 7.2.3 Table 7-1 (FPU instruction timing)"
# A public gem5 Cortex-M4 model (MinorCPU for the STM32G474RE, UC Davis and
# Cornell, 2026) quotes the TRM's FPU table: "VADD/VSUB/VMUL/VCMP = 1 cy
# [Table 7-1] ... VDIV/VSQRT = 14 cy [Table 7-1]".
_M4_GEM5 = "the TRM's Table 7-1 quoted in a public gem5 Cortex-M4 MinorCPU model"
# The Cortex-M4 has the Cortex-M3's integer pipeline; LLVM's M3 model states
# its load and taken-branch costs (the M4 TRM's Table 3-1 is not in the
# stored copies).
_M3_LLVM = "LLVM's Cortex-M3 model (ARMScheduleM3.td)"
_M0P_TRM = ("Cortex-M0+ TRM r0p1, 3.3 (instruction timing; LDR/STR 2 confirmed: the RP2040 "
            "datasheet's copy of the table, 2.4.3.3 Table 81, quoted in raspberrypi/"
            "pico-feedback#154: '2 if to AHB interface or SCS, 1 if to single-cycle I/O "
            "port'; the Cortex-M0 table gives MULS 1 or 32; taken branch 2 not found "
            "verbatim)")
_NO_FPU = ("none: Armv6-M has no FPU and no divide instruction; the soft-float and "
           "division routines are counted as the integer instructions they run")
# The Cortex-A72 Software Optimization Guide (UAN0016A) itself was not found in
# the stored copies. LLVM schedules the A72 with its Cortex-A57 model, whose
# unit counts and per-instruction units the A57 guide states, and Chips and
# Cheese's A72 article describes "two ALU pipes, two AGU pipes, and 64-bit wide
# FPUs": a 128-bit (Q-form) NEON instruction occupies both FP pipes.
_A72_LLVM = ("partly confirmed (UAN0016A itself not found): LLVM schedules the A72 with its "
             "A57 model "
             "(ProcessorModel<\"cortex-a72\", CortexA57Model>, ARM.td), llvm/llvm-project "
             "AArch64SchedA57.td@1d7cce3")
_A72_CHEESE = ("chipsandcheese.com/2023/11/10/arms-cortex-a72-aarch64-for-the-masses: 'two "
               "ALU pipes, two AGU pipes, and 64-bit wide FPUs'")


def _xip_line(sck_per_transfer: int, clkdiv: int) -> int:
    """Cycles to fill both halves of an 8-byte XIP cache line: the RP2040's
    cache fills 4 bytes per SSI transfer (one preconfigured transfer size, at
    most the 32-bit APB width; raspberrypi/pico-sdk#1182), so a line whose two
    halves are read, as the weight stream reads them, costs two transfers."""
    return 2 * sck_per_transfer * clkdiv


_XIP_SERIAL = _xip_line(8 + 24 + 32, 4)  # 03h: command, address, 32 data bits, SCK = clk / 4
_XIP_QUAD = _xip_line(8 + 4 + 8, 2)      # 0xEB continuous: address+mode, dummy, data; clk / 2
_XIP_HALF_LINE = ("the cache fills half a line, 4 bytes, per SSI transfer (confirmed: Luke "
                  "Wren, raspberrypi/pico-sdk#1182, 2023-01-23: 'the Synopsys SSI only "
                  "supports a single preconfigured transfer size, and for XIP this must be "
                  "no larger than the APB data bus width of 32 bits. The unusual cache line "
                  "layout (8 bytes with an upper/lower valid bit) is a workaround for this. "
                  "Issuing an 8-byte fill from the cache would just trigger two 4-byte "
                  "accesses'), so a line of the weight stream costs two transfers")
# A flash's read current over the time its SSI transfers take; the current
# itself is the unconfirmed part (see the energy source).
_FLASH_READ_W = 15e-3 * 3.3
_RP2040_HZ = 133e6


def _flash_nj_per_byte(line_cycles: int) -> float:
    return round(_FLASH_READ_W * line_cycles / _RP2040_HZ / 8 * 1e9, 2)


def _flash_energy_source(line_cycles: int) -> str:
    return ("UNCONFIRMED: a W25Q-class flash's read current, about 15 mA at 3.3 V (recalled; "
            "the Pico's W25Q16JV datasheet copies found in the stored pages, e.g. "
            "pdf.datasheet.wiki winbond.com W25Q16JV rev F, are stored without their "
            f"current table), over the {line_cycles} cycles a line's two transfers keep "
            f"it reading ({line_cycles / _RP2040_HZ * 1e6:.2f} us at 133 MHz), per 8 bytes")


PARTS: dict[str, Part] = {
    "stm32f446": Part(
        "stm32f446", "STM32F446 (Cortex-M4F, 180 MHz, flash behind the ART accelerator)",
        ("qemu-mps2-an386",), 180e6,
        cpi={"fmac": Param(3, "cycles", _M4_FPU + ": VFMA/VMLA.F32 3 (confirmed: the TRM's "
                                      "3 quoted in electronics.stackexchange.com/questions/"
                                      "544886, which adds that chained VFMAs may forward)"),
             "imac": Param(1, "cycles", _M4_TRM + ": MLA, SMLAD 1 (confirmed for MUL/MLA: TI "
                                        "SWCU192 Table 3-25, the Cortex-M4F cycle table)"),
             "falu": Param(1, "cycles", _M4_FPU + ": VADD/VMUL/VCVT.F32 1 (confirmed: "
                                        + _M4_GEM5 + ")"),
             "load": Param(2, "cycles", _M4_TRM + ": LDR 2 (1 when pipelined: not "
                                        "modelled); partly confirmed: " + _M3_LLVM
                                        + " 'LoadLatency = 2; // Latency when not "
                                        "pipelined'"),
             "store": Param(1, "cycles", _M4_TRM + ": STR 1 (confirmed: TI SWCU192, "
                                         "Cortex-M4F instruction pairing, 'STR Rx,[Ry,#imm] "
                                         "is always one cycle')"),
             "branch": Param(2, "cycles", _M4_TRM + ": taken B 1 + P, P = 1..3, taken as "
                                          "1; partly confirmed: " + _M3_LLVM + " "
                                          "'MispredictPenalty = 2; // Best case branch "
                                          "taken cost'"),
             "div": Param(14, "cycles", _M4_FPU + ": VDIV/VSQRT.F32 14 (confirmed: "
                                       + _M4_GEM5 + ")"),
             "other": Param(1, "cycles", _M4_TRM + ": data processing 1 (confirmed: TI "
                                         "SWCU192 Table 3-25)")},
        caches=(("art", 128, 16, 8),), scope="flash",
        penalty={"art": Param(5, "cycles", "5 wait states at 180 MHz: RM0390 3.4.1 Table 5 "
                                           "(150 < HCLK <= 180 MHz, 2.7-3.6 V) UNCONFIRMED "
                                           "(not in the stored RM0390 copies: st.com "
                                           "dm00135183, stm32.dirba.io rm0390 chapters 2 "
                                           "and 5 only); corroborated by code that runs the "
                                           "F446 at 180 MHz with 5: iree-org/iree-bare-"
                                           "metal-arm utils/stm32f446xx_cmsis.h@0e31109 "
                                           "(FLASH_ACR_LATENCY_5WS, PLL_N 180); 8 D-Code "
                                           "lines of 128 bits confirmed for the F4 ART "
                                           "(RM0090 3.2 at stm32.dirba.io: '8 cache lines "
                                           "of 128 bits on D-Code'), not found for the F446")},
        energy_cycle_nj=Param(0.70, "nJ", "UNCONFIRMED: DS10693 (STM32F446 datasheet) run-"
                                          "mode current at 180 MHz from flash, ART on, "
                                          "peripherals off, about 38 mA at 3.3 V (recalled) "
                                          "/ 180 MHz; searched: pages and docs for the "
                                          "DS10693 current table (found only RM0390 5 and "
                                          "the F405/F407 datasheet's ratings)"),
        energy_byte_nj=Param(0.0, "nJ", "none: the datasheet gives no per-access flash "
                                        "energy; flash reads are inside the run current, "
                                        "so wait-state cycles cost the run current"),
        how="the firmware of qemu-mps2-an386 (the same Cortex-M4F code the Nucleo-F446RE "
            "image is built from); its flash 0x00000000-0x00400000 stands for the F446's "
            "flash, its SRAM for the F446's SRAM (zero wait states)",
        leaves_out=("instruction fetches (assumed to hit the ART's 1 KB instruction cache)",
                    "the ART prefetch buffer (sequential flash lines would arrive earlier)",
                    "pipelined LDR (1 cycle each after the first)")),
    "rp2040": Part(
        "rp2040", "RP2040 (Cortex-M0+, 133 MHz, the project's boot2, set up as the pico-sdk's "
                  "generic one: serial XIP at clk_sys / 4 behind its 16 KB cache)",
        ("qemu-mps2-an385",), _RP2040_HZ,
        cpi={"fmac": Param(None, "cycles", _NO_FPU), "falu": Param(None, "cycles", _NO_FPU),
             "div": Param(None, "cycles", _NO_FPU),
             "imac": Param(None, "cycles", "none: Armv6-M has no multiply-accumulate (MULS "
                                           "is `other`)"),
             "load": Param(2, "cycles", _M0P_TRM + ": LDR, LDRB, LDRSB 2 (LDM, POP 1 + N: "
                                        "taken as 2)"),
             "store": Param(2, "cycles", _M0P_TRM + ": STR, STRB 2 (STM, PUSH 1 + N: "
                                         "taken as 2)"),
             "branch": Param(2, "cycles", _M0P_TRM + ": B taken 2 (not taken 1, BL 3: "
                                          "taken as 2)"),
             "other": Param(1, "cycles", _M0P_TRM + ": data processing 1; MULS 1 (RP2040: "
                                         "the single-cycle multiplier option, RP2040 "
                                         "datasheet 2.4.1, UNCONFIRMED: the stored datasheet "
                                         "copies hold its first pages only, and code "
                                         "comments saying so are no primary source)")},
        # confirmed: RP2040 datasheet 2.6.3.1 "16 kB, two way set-associative, 1 cycle
        # hit", 2.6.3.2 "8 bytes per line" (copies at manualshelf.com, datasheet p. 152)
        caches=(("xip", 16384, 8, 2),), scope="flash",
        penalty={"xip": Param(_XIP_SERIAL, "cycles", (
            "confirmed: the project's boot2 (firmware/boards/pico/boot2.c) sets the SSI to "
            "the serial 03h read, 32-bit frames, SCK = clk_sys / 4: a transfer is 8 command "
            "+ 24 address + 32 data SCK = 256 cycles, measured 'a little over 2us (64 flash "
            "cycles, 4 cpu cycles per each flash cycle)' at 125 MHz (KevinOConnor, "
            "Klipper3d/klipper#6464, GENERIC_03H with CLKDIV 4); the same set-up as the "
            "pico-sdk's boot2_generic_03h.S for a flash it does not know (raspberrypi/"
            "pico-sdk src/rp2040/boot_stage2@5b60434: CMD_READ 0x03, 32 clocks per data "
            "frame, PICO_FLASH_SPI_CLKDIV 4 unless set: 'boot from almost anything ... The "
            "tradeoff is performance around 3x worse than QSPI XIP', 256 against 80 cycles "
            "a transfer at that divider); " + _XIP_HALF_LINE
            + f": {_XIP_SERIAL}"))},
        energy_cycle_nj=Param(0.50, "nJ", "UNCONFIRMED by a datasheet, corroborated: about "
                                          "20 mA at 3.3 V for a busy core at 125-133 MHz "
                                          "(recalled), a Pico board "
                                          "measured at '~20mA' at 125 MHz and '~6mA' at 20 "
                                          "MHz under CircuitPython (Lanzaa, adafruit/"
                                          "circuitpython#7430, 2023-01-08; supply voltage "
                                          "not stated); the RP2040 datasheet 5.4 gives "
                                          "currents only for its four use cases (48 MHz "
                                          "media demo, BOOTSEL, DORMANT, SLEEP)"),
        energy_byte_nj=Param(_flash_nj_per_byte(_XIP_SERIAL), "nJ",
                             _flash_energy_source(_XIP_SERIAL)),
        how="the Armv6-M (Thumb-1, soft float) build of the qemu-mps2-an385 image "
            "(cmake -DMTSRNN_FW_ARCH=m0 -DMTSRNN_BOARDS=mps2-an385: the pico's code, "
            "QEMU's Cortex-M3 runs it unchanged), the model built in (MTSRNN_FW_MODEL, "
            "--index): its flash stands for the XIP flash, its SRAM for the RP2040's "
            "striped SRAM (no wait states)",
        leaves_out=("instruction fetches (the pico image runs from XIP flash: its loops "
                    "assumed to stay in the cache beside the weights)",
                    "the SSI's and the bus's own cycles around each transfer (the "
                    "measurements say 'a minimum of' and 'a little over' the SCK count)",
                    "a line of which only one half is read costs one transfer, not two "
                    "(the weights are read whole; a scattered read would cost less)",
                    "LDM/STM/PUSH/POP as 2 cycles whatever their register count; every "
                    "branch as taken"),
        needs_symbol=("mtsi_gemm_i8i8_armv6m", "an Armv6-M build (the int8 product "
                      "`armv6m` is only built there)")),
    "cortex-a72": Part(
        "cortex-a72", "Raspberry Pi 4 class Cortex-A72 (1.5 GHz, 32 KB L1D, 1 MB L2, "
                      "LPDDR4)",
        ("qemu-aarch64", "qemu-armv7"), 1.5e9,
        cpi={"fmac": Param(1, "cycles", _A72_LLVM + ": FMLA Q-form (4 x f32, what the NEON "
                                        "products run) on both FP pipes, A57WriteFPVMAQ "
                                        "[A57UnitV, A57UnitV]: 1 a cycle (D-form 2); "
                                        + _A72_CHEESE),
             "imac": Param(1, "cycles", _A72_LLVM + ": SMLAL/UMLAL (long) on the one W pipe, "
                                        "A57Write_5cyc_1W: 1 a cycle (MLA Q-form 2W: 2); "
                                        "SDOT is Armv8.2, not on the A72"),
             "falu": Param(1, "cycles", _A72_LLVM + ": FADD/FMUL Q-form A57Write_5cyc_2V: "
                                        "1 a cycle (D-form and scalar 2)"),
             "load": Param(1, "cycles", _A72_LLVM + ": one L pipe (A57UnitL: "
                                        "ProcResource<1>), LDR q 1L; " + _A72_CHEESE),
             "store": Param(1, "cycles", _A72_LLVM + ": one S pipe (A57UnitS: "
                                         "ProcResource<1>; a Q-form ST1 is 2S: 2)"),
             "branch": Param(1, "cycles", _A72_LLVM + ": one B pipe (A57UnitB: "
                                          "ProcResource<1>)"),
             "div": Param(17, "cycles", _A72_LLVM + ": FDIV (single) A57Write_17cyc_1W, "
                                        "ReleaseAtCycles 17: the W pipe busy 17 cycles"),
             "other": Param(0.5, "cycles", _A72_LLVM + ": two I pipes (A57UnitI: "
                                           "ProcResource<2>)")},
        caches=(("l1d", 32768, 64, 2), ("l2", 1048576, 64, 16)), scope="all",
        penalty={"l1d": Param(4, "cycles", "UNCONFIRMED: L2 to L1 refill, prefetched stream, "
                                           "64 B at about 16 B/cycle (Cortex-A72 TRM r0p3 "
                                           "7.x not found; searched: the A72 articles of "
                                           "chipsandcheese.com and sandsoftwaresound.net "
                                           "(Pi 4 pointer chase), stored without their "
                                           "latency results)"),
                 "l2": Param(24, "cycles", "UNCONFIRMED: 64 B per line at about 4 GB/s single-"
                                           "core streaming read = 16 ns = 24 cycles at "
                                           "1.5 GHz (no single-core read bandwidth found; "
                                           "of the order of STREAM's 'Copy: 5527.3' MB/s, "
                                           "reads + writes, on a Pi 4: sci-pi.org.uk/bench/"
                                           "stream.html; LPDDR4 confirmed: "
                                           "magpi.raspberrypi.com Pi 4 specs)")},
        energy_cycle_nj=Param(0.6, "nJ", "UNCONFIRMED: Raspberry Pi 4, about 0.9 W per "
                                         "busy core above idle at 1.5 GHz (recalled board "
                                         "measurements); bounded by a published one: the "
                                         "whole board at 2.1 W idle and 6.41 W with its four "
                                         "cores under stress-ng and the GPU under glxgears "
                                         "(beta firmware; G. Halfacree, The MagPi 88, "
                                         "'Thermal testing Raspberry Pi 4', as reported at "
                                         "zeusbtc.com/articles/asic-miner-troubleshooting/"
                                         "2292-raspberry-pi-4-firmware-update), so at most "
                                         "(6.41 - 2.1) / 4 = 1.08 W a core, 0.72 nJ a cycle"),
        energy_byte_nj=Param(0.16, "nJ", "UNCONFIRMED (recalled; searched: pages for "
                                          "Horowitz, ISSCC 2014, not found): 1.3-2.6 nJ per "
                                          "64-bit DRAM access, 20 pJ/bit (DDR3; LPDDR4 is "
                                          "lower: an upper value); bounded below by a "
                                          "datasheet: an LPDDR3-1600 x32 device's read "
                                          "burst, (IDD4R2 230 - IDD3N2 34 mA) x VDD2 1.2 V "
                                          "/ 6.4 GB/s = 0.037 nJ a byte, its array and core "
                                          "alone, no I/O, PHY or controller (Micron "
                                          "EDF8132A1MC's values as gem5 enters them: "
                                          "gem5/gem5 src/mem/DRAMInterface.py@1db206b, "
                                          "LPDDR3_1600_1x32)"),
        how="mtsrnn-device cross-built for aarch64 (NEON) under qemu-aarch64 -cpu cortex-a72 "
            "(so its run-time choice is the A72's: no SDOT, the int8 products take `neon`); "
            "every data access goes through the L1D and L2 models; L2 misses are the DRAM "
            "traffic",
        emulator_cpu=(("qemu-aarch64", "cortex-a72"),),
        leaves_out=("out-of-order overlap of compute and memory (the cycles add up: an "
                    "upper bound)", "instruction fetches and the L1I",
                    "L1 write-backs into L2 (as in cachegrind)", "TLBs",
                    "the other cores sharing the L2",
                    "D-form and scalar FP instructions at their 2 a cycle (all taken as "
                    "Q-form)")),
}

# A Raspberry Pi Pico running the pico-sdk's boot2 for its W25Q080 instead of
# the generic one (the same binary and counts; only the XIP transfer differs).
PARTS["rp2040-qspi"] = replace(
    PARTS["rp2040"], name="rp2040-qspi",
    title="RP2040 (Cortex-M0+, 133 MHz, the pico-sdk's W25Q080 boot2 on a Pico: quad-I/O "
          "XIP at clk_sys / 2 behind its 16 KB cache)",
    penalty={"xip": Param(_XIP_QUAD, "cycles", (
        "confirmed: the pico-sdk's boot2_w25q080.S (raspberrypi/pico-sdk src/rp2040/"
        "boot_stage2@978e15c) sets quad-I/O continuous read (CMD_READ 0xeb, "
        "MODE_CONTINUOUS_READ 0xa0, ADDR_L 8, WAIT_CYCLES 4) at SCK = clk_sys / "
        "PICO_FLASH_SPI_CLKDIV, 4 in that file but 2 on a Pico (src/boards/include/boards/"
        "pico.h@05090d9: '#define PICO_FLASH_SPI_CLKDIV 2'): a transfer is 8 address+mode "
        "+ 4 dummy + 8 data SCK = 40 cycles, measured 'a minimum of 320ns (20 flash "
        "cycles, 2 cpu cycles per each flash cycle)' at 125 MHz (Klipper3d/klipper#6464); "
        + _XIP_HALF_LINE + f": {_XIP_QUAD}"))},
    energy_byte_nj=Param(_flash_nj_per_byte(_XIP_QUAD), "nJ", _flash_energy_source(_XIP_QUAD)))

# The memory regions of each board's binary, [lo, hi) (docs/boards.md).
REGIONS = {
    "qemu-mps2-an386": (("flash", 0x0, 0x400000), ("sram", 0x20000000, 0x20400000)),
    "qemu-mps2-an385": (("flash", 0x0, 0x400000), ("sram", 0x20000000, 0x20400000)),
    "qemu-mps3-an547": (("itcm", 0x0, 0x80000), ("sram", 0x01000000, 0x01200000),
                        ("dtcm", 0x20000000, 0x20080000)),
}


def elf_symbol(path: str | os.PathLike, name: str) -> int:
    """The address of a symbol in an ELF file's symbol table (32 or 64-bit,
    little-endian). ValueError when the file or the symbol is missing."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[5] != 1:
        raise ValueError(f"{path}: not a little-endian ELF file")
    wide = data[4] == 2
    if wide:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = []
    for i in range(shnum):
        at = shoff + i * shentsize
        if wide:
            _n, kind, _f, _a, off, size, link, _i, _al, entsize = struct.unpack_from(
                "<IIQQQQIIQQ", data, at)
        else:
            _n, kind, _f, _a, off, size, link, _i, _al, entsize = struct.unpack_from(
                "<IIIIIIIIII", data, at)
        sections.append((kind, off, size, link, entsize))
    wanted = name.encode()
    for kind, off, size, link, entsize in sections:
        if kind != 2 or entsize == 0:  # SHT_SYMTAB
            continue
        strings = sections[link]
        for at in range(off, off + size, entsize):
            if wide:
                name_at, _info, _other, _shndx, value, _size = struct.unpack_from(
                    "<IBBHQQ", data, at)
            else:
                name_at, value, _size, _info, _other, _shndx = struct.unpack_from(
                    "<IIIBBH", data, at)
            start = strings[1] + name_at
            if data[start:data.index(b"\0", start)] == wanted:
                return value
    raise ValueError(f"{path}: no symbol {name} (a firmware older than the memory window?)")


def find_plugin() -> Path:
    """The built plugin: $MTSRNN_QEMU_PLUGIN, or build/qemu-plugin/ of a source tree."""
    from ..harness.firmware import repo_roots

    if os.environ.get("MTSRNN_QEMU_PLUGIN"):
        path = Path(os.environ["MTSRNN_QEMU_PLUGIN"])
        if not path.is_file():
            raise ValueError(f"MTSRNN_QEMU_PLUGIN={path}: no such file")
        return path
    for root in repo_roots():
        path = root / "build" / "qemu-plugin" / PLUGIN_NAME
        if path.is_file():
            return path
    raise ValueError(f"the QEMU plugin {PLUGIN_NAME} was not found: build it with "
                     "`bash ci/qemu-plugin.sh` (or set MTSRNN_QEMU_PLUGIN)")


def check_board(part: Part, board: str) -> None:
    if board not in part.boards:
        raise ValueError(f"--memory {part.name} models the binary of "
                         f"{' or '.join(part.boards)}, not {board}: add --board "
                         f"{part.boards[0]}")


def plugin_arguments(part: Part, board: str, elf: str | os.PathLike,
                     out: str | os.PathLike) -> list[str]:
    """QEMU's -plugin argument for `part` on `board`'s binary `elf`."""
    if part.needs_symbol:
        symbol, what = part.needs_symbol
        try:
            elf_symbol(elf, symbol)
        except ValueError:
            raise ValueError(f"--memory {part.name} times {what}; {elf} is not one (no "
                             f"symbol {symbol}): {part.how}") from None
    options = [f"marker={elf_symbol(elf, MARKER_SYMBOL):#x}", f"out={out}"]
    options += [f"region={n}:{lo:#x}:{hi:#x}" for n, lo, hi in REGIONS.get(board, ())]
    options += [f"cache={n}:{size}:{line}:{ways}" for n, size, line, ways in part.caches]
    options.append(f"scope={part.scope}")
    cpu = dict(part.emulator_cpu).get(board)
    return [*(["-cpu", cpu] if cpu else []), "-plugin", ",".join([str(find_plugin()), *options])]


def read_windows(path: str | os.PathLike) -> list[dict[str, int]]:
    """The plugin's windows, in order: one dict of counts each."""
    windows = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("window="):
            windows.append({k: int(v) for k, v in (w.split("=", 1) for w in line.split())})
    return windows


def model_step(part: Part, window: dict[str, int], steps: int) -> dict[str, Any]:
    """Per step: the measured counts of one window and the part's modelled cycles
    and energy (additive: core cycles by class plus miss penalties)."""
    for c in CLASSES:
        if part.cpi[c].value is None and window[f"i_{c}"]:
            raise ValueError(f"{part.name} has no `{c}` instructions "
                             f"({part.cpi[c].source}), but the binary ran "
                             f"{window[f'i_{c}']:,} of them")
    core = sum(window[f"i_{c}"] * (part.cpi[c].value or 0) for c in CLASSES)
    misses = {name: window[f"{name}_miss"] for name, *_ in part.caches}
    stall = sum(misses[name] * part.penalty[name].value for name in misses)
    last, last_line = part.caches[-1][0], part.caches[-1][2]
    fetched = misses[last] * last_line
    cycles = core + stall
    energy = cycles * part.energy_cycle_nj.value + fetched * part.energy_byte_nj.value
    return {"instructions": window["insns"] / steps,
            "weight_bytes": window["weight_read"] / steps,
            # the weights' share of the traffic behind the last cache level
            "weight_memory_bytes": window["last_miss_weights"] * last_line / steps,
            "misses": {name: n / steps for name, n in misses.items()},
            "memory_bytes": fetched / steps,
            "cycles_model": cycles / steps,
            "energy_model_nj": energy / steps}


def add_memory(data: dict[str, Any], part: Part, windows: list[dict[str, int]]) -> None:
    """Fold the plugin's windows (one per bench run, in the order of
    bench/device.run: per variant, per T, then per peer, per T) into
    `data`'s rows, with the modelled speed-up and energy saving against
    T = 1 of the same product."""
    groups = list(product_columns(data).values())
    runs = sum(len(rows) for rows in groups)
    if len(windows) != runs:
        raise ValueError(f"the plugin saw {len(windows)} measured windows for {runs} bench "
                         "runs (a firmware without the memory window?)")
    it = iter(windows)
    for rows in groups:
        for row in rows:
            step = row["per_step"]
            step.update(model_step(part, next(it), row["steps"]))
            if step.get("macs"):  # the product alone: the plugin's instructions per MAC
                step["instructions_per_mac"] = step["instructions"] / step["macs"]
        base = next((r for r in rows if r["block"] == 1), None)
        for row in rows:
            step, ref = row["per_step"], base["per_step"] if base else None
            row["speedup_model"] = ref["cycles_model"] / step["cycles_model"] if ref else None
            row["energy_saving_model"] = (ref["energy_model_nj"] / step["energy_model_nj"]
                                          if ref else None)
    if "variants" in data:  # the first variant's rows are also results
        data["results"] = next(iter(data["variants"].values()))
    data["memory"] = {"part": part.name, "title": part.title, "clock_hz": part.clock_hz,
                      "caches": [dict(zip(("name", "size", "line", "ways"), c, strict=True))
                                 for c in part.caches],
                      "scope": part.scope, "how": part.how, "note": MODEL_NOTE,
                      "leaves_out": list(part.leaves_out)}


def format_memory(data: dict[str, Any]) -> str:
    """The memory table of every variant: measured counts, then the modelled cost."""
    memory = data["memory"]
    groups = product_columns(data)
    names = [c["name"] for c in memory["caches"]]
    header = ["variant", "T", "instr/step", "weight B/step", "weight mem B/step",
              *[f"{n} miss/step" for n in names], "mem B/step", "cycles/step (model)",
              "nJ/step (model)", "speed-up (model)", "energy saving (model)"]
    body = []
    for name, rows in groups.items():
        for row in rows:
            s = row["per_step"]
            body.append([str(name), str(row["block"]), f"{s['instructions']:,.0f}",
                         f"{s['weight_bytes']:,.0f}", f"{s['weight_memory_bytes']:,.0f}",
                         *[f"{s['misses'][n]:,.1f}" for n in names],
                         f"{s['memory_bytes']:,.0f}", f"{s['cycles_model']:,.0f}",
                         f"{s['energy_model_nj']:,.0f}", f"{row['speedup_model']:.2f}x",
                         f"{row['energy_saving_model']:.2f}x"])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    table = "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
                      for r in [header, *body])
    return (f"memory under {memory['title']}:\n{table}\nnote: {memory['note']}\n"
            f"how: {memory['how']}")


def parts_help() -> str:
    return "; ".join(f"{p.name}: {p.title}" for p in PARTS.values())


def parameter_tables() -> str:
    """Every part's parameter table with its sources, as docs/performance.md shows it."""
    out = []
    for p in PARTS.values():
        rows = [f"**{p.name}**: {p.title}", "", "| parameter | value | source |",
                "|---|---|---|", f"| clock | {p.clock_hz / 1e6:g} MHz | |"]
        rows += [f"| cycles per `{c}` instruction | "
                 f"{'-' if v.value is None else format(v.value, 'g')} | {v.source} |"
                 for c, v in p.cpi.items()]
        rows += [f"| cache `{n}` | {s} B, {line} B lines, {w}-way, LRU, in front of "
                 f"{p.scope} | |" for n, s, line, w in p.caches]
        rows += [f"| miss penalty `{c}` | {v.value:g} cycles | {v.source} |"
                 for c, v in p.penalty.items()]
        rows += [f"| core energy per cycle | {p.energy_cycle_nj.value:g} nJ | "
                 f"{p.energy_cycle_nj.source} |",
                 f"| energy per byte fetched behind the last cache | "
                 f"{p.energy_byte_nj.value:g} nJ | {p.energy_byte_nj.source} |", ""]
        out.append("\n".join(rows))
    return "\n".join(out)
