/* Raspberry Pi Pico: RP2040, dual Cortex-M0+ (Armv6-M; one core used, no
 * FPU: float runs in software), run from the 12 MHz crystal (no PLL: the
 * numbers are for 12 MHz). UART0 on GPIO0 (TX) / GPIO1 (RX), IRQ 20,
 * 115200 8N1 (a USB-serial adapter, or a Picoprobe / Debug Probe's UART).
 * Counters: SysTick counting clk_sys, reported as cycles (the M0+ has
 * no DWT cycle counter). Boot: boot2.c, then the vector table at 0x10000100.
 *
 * COMPILED HERE, NEVER RUN HERE: no board was available; see docs/boards.md.
 */
#include "board_run.h"
#include "pl011_uart.h"
#include "rp2_clocks.h"

static const rp2_chip rp2040 = {
    .xosc = 0x40024000u, .clocks = 0x40008000u, .resets = 0x4000C000u,
    .io_bank0 = 0x40014000u, .pads_bank0 = 0x4001C000u,
    .reset_bits = (1u << 5) | (1u << 8) | (1u << 22), .pads_isolate = 0
};
static const pl011_uart uart0 = { .base = 0x40034000u, .irq = 20u };

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &uart0, .write = pl011_uart_write, .read_byte = pl011_uart_read_byte
    };
    rp2_clocks_from_xosc(&rp2040);
    rp2_uart0_pins(&rp2040, 0u, 1u);
    pl011_uart_init(&uart0, RP2_XOSC_HZ, 115200u);
    mts_fw_board_run("pico", "cortex-m0plus", RP2_XOSC_HZ, MTS_FW_TICKS_CYCLES, &console);
}
