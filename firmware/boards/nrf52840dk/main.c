/* nRF52840-DK: nRF52840, Cortex-M4F at 64 MHz (from the internal HFINT
 * oscillator it starts on). UARTE0 (IRQ 2) on P0.06 (TX) / P0.08 (RX), the
 * J-Link OB's virtual COM port: 115200 8N1. Counters: the DWT cycle counter
 * (CYCCNT).
 *
 * COMPILED HERE, NEVER RUN HERE: no board was available; see docs/boards.md.
 */
#include "board_run.h"
#include "nrf_uarte.h"

#define BOARD_CLOCK_HZ 64000000u

static const nrf_uarte uarte0 = { .base = 0x40002000u, .irq = 2u, .tx_pin = 6u, .rx_pin = 8u };

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &uarte0, .write = nrf_uarte_write, .read_byte = nrf_uarte_read_byte
    };
    nrf_uarte_init(&uarte0);
    mts_fw_board_run("nrf52840dk", "cortex-m4f", BOARD_CLOCK_HZ, MTS_FW_TICKS_UNUSED, &console);
}
