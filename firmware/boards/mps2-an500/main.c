/* mps2-an500 under QEMU: Cortex-M7 (FPU, DSP extension), 25 MHz, UART0
 * (CMSDK APB UART) at 0x40004000 with its RX interrupt on IRQ 0, as on the
 * an386 (QEMU hw/arm/mps2.c). QEMU models no caches or dual issue: its
 * counts are instructions. Counters: SysTick as instructions (-icount
 * shift=0); the DWT cycle counter reads 0 under QEMU. */
#include "cmsdk_uart.h"

static const cmsdk_uart uart0 = {
    .base = 0x40004000u, .rx_irq = 0u, .combined_irq = CMSDK_UART_NO_IRQ
};

int main(void)
{
    mts_cmsdk_board_run("mps2-an500", "cortex-m7", 25000000u, 115200u, &uart0);
}
