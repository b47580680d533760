/* mps2-an386 under QEMU: Cortex-M4F, 25 MHz, UART0 (CMSDK APB UART) at
 * 0x40004000 with its RX interrupt on IRQ 0 (QEMU hw/arm/mps2.c: UART n has
 * RX IRQ 2n, TX IRQ 2n + 1 for n < 3). Counters: SysTick as instructions
 * (run QEMU with -icount shift=0); the DWT cycle counter is probed and reads
 * 0 under QEMU. */
#include "cmsdk_uart.h"

static const cmsdk_uart uart0 = {
    .base = 0x40004000u, .rx_irq = 0u, .combined_irq = CMSDK_UART_NO_IRQ
};

int main(void)
{
    mts_cmsdk_board_run("mps2-an386", "cortex-m4f", 25000000u, 115200u, &uart0);
}
