/* NUCLEO-F446RE: STM32F446RE, Cortex-M4F, running from the 16 MHz HSI it
 * starts on (no PLL set-up: the numbers are for 16 MHz, zero flash wait
 * states). USART2 on PA2 (TX) / PA3 (RX), alternate function 7, is wired to
 * the ST-LINK's virtual COM port: 115200 8N1 (the STM32 USART driver,
 * cortex-m/stm32_usart.c, shared with netduinoplus2). Counters: the DWT
 * cycle counter (CYCCNT).
 *
 * COMPILED HERE, NEVER RUN HERE: no board was available; see docs/boards.md.
 */
#include "board_run.h"
#include "stm32_usart.h"
#include "stm32f446.h"

#define BOARD_CLOCK_HZ 16000000u    /* HSI, the reset default; APB1 = HCLK */

static const stm32_usart usart2 = { .base = USART2_BASE, .irq = USART2_IRQn };

static void usart2_pins(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR;              /* a read-back delays until the clock runs */

    /* PA2, PA3: alternate function 7 (USART2), high speed, pull-up on RX. */
    GPIOA_MODER = (GPIOA_MODER & ~((3u << 4) | (3u << 6))) |
                  (GPIO_MODE_AF << 4) | (GPIO_MODE_AF << 6);
    GPIOA_OSPEEDR |= (3u << 4) | (3u << 6);
    GPIOA_PUPDR = (GPIOA_PUPDR & ~(3u << 6)) | (1u << 6);
    GPIOA_AFRL = (GPIOA_AFRL & ~((0xFu << 8) | (0xFu << 12))) | (7u << 8) | (7u << 12);
}

int main(void)
{
    static const mts_fw_uart console = {
        .regs = &usart2, .write = stm32_usart_write, .read_byte = stm32_usart_read_byte
    };
    /* 0 wait states suit 16 MHz at any supply voltage; turn on the ART
     * accelerator (instruction and data caches, prefetch) for the weights. */
    FLASH_ACR |= FLASH_ACR_ICEN | FLASH_ACR_DCEN | FLASH_ACR_PRFTEN;
    usart2_pins();
    stm32_usart_init(&usart2, BOARD_CLOCK_HZ, 115200u);
    mts_fw_board_run("nucleo-f446re", "cortex-m4f", BOARD_CLOCK_HZ, MTS_FW_TICKS_UNUSED,
                     &console);
}
