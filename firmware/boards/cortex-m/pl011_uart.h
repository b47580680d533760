/* The Arm PrimeCell PL011 UART (the RP2040's and RP2350's UART0/1; RP2040
 * datasheet section 4.2, RP2350 section 12.1). Registers: DR +0x00, FR +0x18
 * (bit 4 RXFE, bit 5 TXFF), IBRD +0x24, FBRD +0x28, LCR_H +0x2C (bits 5-6
 * WLEN, bit 4 FEN), CR +0x30 (bit 0 UARTEN, bit 8 TXE, bit 9 RXE), IMSC
 * +0x38 (bit 4 RXIM, bit 6 RTIM), ICR +0x44.
 *
 * Receiving sleeps in wfi: the RX and RX-timeout interrupts pend the UART's
 * NVIC interrupt, PRIMASK is set (no handler runs), and the pending
 * interrupt ends the sleep.
 */
#ifndef MTSRNN_FW_PL011_UART_H
#define MTSRNN_FW_PL011_UART_H

#include <stddef.h>
#include <stdint.h>

typedef struct pl011_uart {
    uintptr_t base;
    unsigned irq;           /* NVIC number of the UART's interrupt */
} pl011_uart;

/* 8N1 with the FIFOs, TX, RX and the RX interrupts on; the divisor from
 * the UART's clock (clk_peri). */
void pl011_uart_init(const pl011_uart *uart, uint32_t uart_clock_hz, uint32_t baud);
/* write and read_byte take the pl011_uart as `regs` (board_run.h). */
void pl011_uart_write(const void *uart, const void *data, size_t size);
uint8_t pl011_uart_read_byte(const void *uart);

#endif /* MTSRNN_FW_PL011_UART_H */
