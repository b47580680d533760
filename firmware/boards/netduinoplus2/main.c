/* netduinoplus2 under QEMU: STM32F405, Cortex-M4F. QEMU's board clocks the
 * core at 168 MHz (SysTick counts it). Its first serial port is USART1 at
 * 0x40011000 (IRQ 37), driven by the STM32 USART driver shared with the
 * Nucleo port (cortex-m/stm32_usart.c). QEMU emulates neither the RCC nor
 * the GPIOs (writes to them are ignored), so no clock or pin set-up here; a
 * real STM32F405 would need the RCC_APB2ENR USART1 bit and PA9/PA10 in
 * alternate function 7, as nucleo-f446re does for its USART2.
 * Counters: SysTick as instructions (run QEMU with -icount shift=0). */
#include "board_run.h"
#include "stm32_usart.h"

#define BOARD_CLOCK_HZ 168000000u

static const stm32_usart usart1 = { .base = 0x40011000u, .irq = 37u };

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &usart1, .write = stm32_usart_write, .read_byte = stm32_usart_read_byte
    };
    /* APB2 at 84 MHz on a real F405 at 168 MHz; QEMU ignores the rate. */
    stm32_usart_init(&usart1, BOARD_CLOCK_HZ / 2u, 115200u);
    mts_fw_board_run("netduinoplus2", "cortex-m4f", BOARD_CLOCK_HZ,
                     MTS_FW_TICKS_INSTRUCTIONS, &console);
}
