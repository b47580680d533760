/* mps2-an505 under QEMU: Cortex-M33 (FPU, DSP extension; the core of the
 * RP2350, nRF5340, STM32U5), 20 MHz, secure. UART0 (CMSDK APB UART) at its
 * secure alias 0x50200000 (non-secure 0x40200000). Its interrupts are the
 * SSE's expansion interrupts 32 + n (QEMU hw/arm/mps2-tz.c: UART n RX 2n,
 * TX 2n + 1, combined 10 + n): RX on IRQ 32, combined on IRQ 42; both wake
 * the core. Counters: SysTick as instructions (run QEMU with -icount
 * shift=0); the DWT cycle counter reads 0 under QEMU. */
#include "cmsdk_uart.h"

static const cmsdk_uart uart0 = { .base = 0x50200000u, .rx_irq = 32u, .combined_irq = 42u };

int main(void)
{
    mts_cmsdk_board_run("mps2-an505", "cortex-m33", 20000000u, 115200u, &uart0);
}
