/* The STM32F2/F4 USART (STM32F446 reference manual RM0390 section 25.6,
 * STM32F405 RM0090 section 30.6: the same registers; QEMU's stm32f2xx-usart
 * emulates them for netduinoplus2). Shared by every STM32 board.
 *
 * Registers: SR +0x00 (bit 3 ORE, bit 5 RXNE, bit 7 TXE), DR +0x04, BRR
 * +0x08, CR1 +0x0C (bit 2 RE, bit 3 TE, bit 5 RXNEIE, bit 13 UE), CR2
 * +0x10, CR3 +0x14.
 *
 * Receiving sleeps in wfi: RXNEIE pends the USART's interrupt in the NVIC,
 * PRIMASK is set (no handler runs), and the pending interrupt ends the
 * sleep. The board enables the USART's clock and pins before init.
 */
#ifndef MTSRNN_FW_STM32_USART_H
#define MTSRNN_FW_STM32_USART_H

#include <stddef.h>
#include <stdint.h>

typedef struct stm32_usart {
    uintptr_t base;
    unsigned irq;           /* NVIC number of the USART's interrupt */
} stm32_usart;

/* 8N1, oversampling by 16, TX, RX and the RX interrupt on; brr = f_pclk /
 * baud rounded (QEMU ignores the rate). */
void stm32_usart_init(const stm32_usart *usart, uint32_t pclk_hz, uint32_t baud);
/* write and read_byte take the stm32_usart as `regs` (board_run.h). */
void stm32_usart_write(const void *usart, const void *data, size_t size);
uint8_t stm32_usart_read_byte(const void *usart);

#endif /* MTSRNN_FW_STM32_USART_H */
