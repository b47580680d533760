/* microbit under QEMU: BBC micro:bit v1, nRF51822, Cortex-M0 (Armv6-M, no
 * FPU: float runs in software), 16 MHz, 16 KB RAM: the stand-in for
 * RP2040-class parts. The UART at 0x40002000 (IRQ 2; TX on P0.24, RX on
 * P0.25, the interface chip's serial port on a real micro:bit). Counters:
 * SysTick as instructions (run QEMU with -icount shift=0); Armv6-M has no
 * DWT cycle counter. */
#include "board_run.h"
#include "nrf_uart.h"

static const nrf_uart uart0 = { .base = 0x40002000u, .irq = 2u, .tx_pin = 24u, .rx_pin = 25u };

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &uart0, .write = nrf_uart_write, .read_byte = nrf_uart_read_byte
    };
    nrf_uart_init(&uart0);
    mts_fw_board_run("microbit", "cortex-m0", 16000000u, MTS_FW_TICKS_INSTRUCTIONS, &console);
}
