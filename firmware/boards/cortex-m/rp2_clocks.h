/* The RP2040/RP2350 blocks both Pico ports touch (RP2040 datasheet chapter
 * 2 and 4, RP2350 chapters 7, 8 and 9): the crystal oscillator, the clock
 * generators, the reset controller, the GPIO function select and pads. The
 * two chips lay these registers out alike at different base addresses,
 * which each board passes in. The project's own, no pico-sdk headers.
 *
 * rp2_clocks_from_xosc: start the 12 MHz crystal (XOSC), run clk_ref and
 * clk_sys from it (no PLL: the core at 12 MHz) and enable clk_peri from
 * clk_sys, the UART's clock. */
#ifndef MTSRNN_FW_RP2_CLOCKS_H
#define MTSRNN_FW_RP2_CLOCKS_H

#include <stdint.h>

#include "cortex_m.h"

#define RP2_XOSC_HZ 12000000u

typedef struct rp2_chip {
    uintptr_t xosc, clocks, resets, io_bank0, pads_bank0;
    uint32_t reset_bits;        /* io_bank0, pads_bank0 and uart0 in RESETS */
    int pads_isolate;           /* RP2350: pads start isolated (ISO, bit 8) */
} rp2_chip;

/* The atomic clear alias of a register block (write 1s to clear bits). */
#define RP2_CLR(addr) MTS_REG32((addr) + 0x3000u)

static inline void rp2_clocks_from_xosc(const rp2_chip *chip)
{
    MTS_REG32(chip->xosc + 0x0Cu) = 47u;                   /* STARTUP: ~1 ms at 12 MHz */
    MTS_REG32(chip->xosc + 0x00u) = (0xFABu << 12) | 0xAA0u;  /* ENABLE, 1-15 MHz */
    while (!(MTS_REG32(chip->xosc + 0x04u) & (1u << 31))) {   /* STATUS.STABLE */
    }
    MTS_REG32(chip->clocks + 0x30u) = 2u;                  /* CLK_REF_CTRL: xosc */
    while (MTS_REG32(chip->clocks + 0x38u) != (1u << 2)) {  /* CLK_REF_SELECTED */
    }
    MTS_REG32(chip->clocks + 0x3Cu) = 0u;                  /* CLK_SYS_CTRL: clk_ref */
    while (MTS_REG32(chip->clocks + 0x44u) != 1u) {        /* CLK_SYS_SELECTED */
    }
    MTS_REG32(chip->clocks + 0x48u) = 1u << 11;            /* CLK_PERI_CTRL: on, clk_sys */
}

/* Take IO_BANK0, PADS_BANK0 and UART0 out of reset; GPIO tx and rx to the
 * UART (function 2). */
static inline void rp2_uart0_pins(const rp2_chip *chip, unsigned tx, unsigned rx)
{
    RP2_CLR(chip->resets + 0x00u) = chip->reset_bits;      /* RESET */
    while ((MTS_REG32(chip->resets + 0x08u) & chip->reset_bits) != chip->reset_bits) {
    }
    MTS_REG32(chip->io_bank0 + 0x04u + 8u * tx) = 2u;      /* GPIOn_CTRL.FUNCSEL = UART */
    MTS_REG32(chip->io_bank0 + 0x04u + 8u * rx) = 2u;
    if (chip->pads_isolate) {
        RP2_CLR(chip->pads_bank0 + 0x04u + 4u * tx) = 1u << 8;   /* GPIOn.ISO */
        RP2_CLR(chip->pads_bank0 + 0x04u + 4u * rx) = 1u << 8;
    }
}

#endif /* MTSRNN_FW_RP2_CLOCKS_H */
