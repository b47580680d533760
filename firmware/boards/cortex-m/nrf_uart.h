/* The Nordic nRF51 UART (nRF51 Series Reference Manual, chapter 29; QEMU's
 * nrf51_soc.uart emulates it for the microbit): byte by byte through the
 * TXD and RXD registers, with the events TXDRDY and RXDRDY. (The nRF52's
 * UARTE is an EasyDMA UART: cortex-m/nrf_uarte.c.)
 *
 * Registers: TASKS_STARTRX +0x000, TASKS_STARTTX +0x008, EVENTS_RXDRDY
 * +0x108, EVENTS_TXDRDY +0x11C, INTENSET +0x304 (bit 2 RXDRDY), ENABLE
 * +0x500 (4: enabled), PSELTXD +0x50C, PSELRXD +0x514, RXD +0x518, TXD
 * +0x51C, BAUDRATE +0x524.
 *
 * Receiving sleeps in wfi: the RXDRDY interrupt pends the UART's NVIC
 * interrupt, PRIMASK is set (no handler runs), and the pending interrupt
 * ends the sleep.
 */
#ifndef MTSRNN_FW_NRF_UART_H
#define MTSRNN_FW_NRF_UART_H

#include <stddef.h>
#include <stdint.h>

typedef struct nrf_uart {
    uintptr_t base;
    unsigned irq;           /* NVIC number of the UART's interrupt */
    uint32_t tx_pin, rx_pin;
} nrf_uart;

/* 115200 baud 8N1, TX and RX started, the RXDRDY interrupt on. */
void nrf_uart_init(const nrf_uart *uart);
/* write and read_byte take the nrf_uart as `regs` (board_run.h). */
void nrf_uart_write(const void *uart, const void *data, size_t size);
uint8_t nrf_uart_read_byte(const void *uart);

#endif /* MTSRNN_FW_NRF_UART_H */
