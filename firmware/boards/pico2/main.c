/* Raspberry Pi Pico 2: RP2350, Cortex-M33 (FPU, DSP extension: the
 * products of the mps2-an505 build), run from the 12 MHz crystal (no PLL:
 * the numbers are for 12 MHz). UART0 on GPIO0 (TX) / GPIO1 (RX), IRQ 33,
 * 115200 8N1. Counters: the DWT cycle counter (CYCCNT). Boot: the boot ROM
 * finds the IMAGE_DEF block (image_def.c) and starts the vector table at
 * 0x10000000 in the secure state.
 *
 * COMPILED HERE, NEVER RUN HERE: no board was available; see docs/boards.md.
 */
#include "board_run.h"
#include "pl011_uart.h"
#include "rp2_clocks.h"

static const rp2_chip rp2350 = {
    .xosc = 0x40048000u, .clocks = 0x40010000u, .resets = 0x40020000u,
    .io_bank0 = 0x40028000u, .pads_bank0 = 0x40038000u,
    .reset_bits = (1u << 6) | (1u << 9) | (1u << 26), .pads_isolate = 1
};
static const pl011_uart uart0 = { .base = 0x40070000u, .irq = 33u };

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &uart0, .write = pl011_uart_write, .read_byte = pl011_uart_read_byte
    };
    rp2_clocks_from_xosc(&rp2350);
    rp2_uart0_pins(&rp2350, 0u, 1u);
    pl011_uart_init(&uart0, RP2_XOSC_HZ, 115200u);
    mts_fw_board_run("pico2", "cortex-m33", RP2_XOSC_HZ, MTS_FW_TICKS_UNUSED, &console);
}
