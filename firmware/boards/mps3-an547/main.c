/* mps3-an547 under QEMU: Cortex-M55 (Helium), 32 MHz, UART0 (CMSDK APB UART)
 * at 0x59303000 (the secure alias the core boots in; 0x49303000 is the
 * non-secure one). Its RX interrupt is IRQ 33: measured under QEMU 7.2, a
 * received byte pends IRQs 33 and 43 (the combined TX/RX/overrun
 * interrupt); both are enabled to wake the core. Counters: SysTick as
 * instructions (run QEMU with -icount shift=0); the DWT cycle counter is
 * probed and reads 0 under QEMU. */
#include "cmsdk_uart.h"

static const cmsdk_uart uart0 = { .base = 0x59303000u, .rx_irq = 33u, .combined_irq = 43u };

int main(void)
{
    mts_cmsdk_board_run("mps3-an547", "cortex-m55", 32000000u, 115200u, &uart0);
}
