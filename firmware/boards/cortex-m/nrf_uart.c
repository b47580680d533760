#include "nrf_uart.h"

#include "cortex_m.h"

#define UART_STARTRX(u)  MTS_REG32((u)->base + 0x000u)
#define UART_STARTTX(u)  MTS_REG32((u)->base + 0x008u)
#define UART_RXDRDY(u)   MTS_REG32((u)->base + 0x108u)
#define UART_TXDRDY(u)   MTS_REG32((u)->base + 0x11Cu)
#define UART_INTENSET(u) MTS_REG32((u)->base + 0x304u)
#define UART_ENABLE(u)   MTS_REG32((u)->base + 0x500u)
#define UART_PSELTXD(u)  MTS_REG32((u)->base + 0x50Cu)
#define UART_PSELRXD(u)  MTS_REG32((u)->base + 0x514u)
#define UART_RXD(u)      MTS_REG32((u)->base + 0x518u)
#define UART_TXD(u)      MTS_REG32((u)->base + 0x51Cu)
#define UART_BAUDRATE(u) MTS_REG32((u)->base + 0x524u)

#define INTEN_RXDRDY      (1u << 2)
#define ENABLE_UART       4u
#define BAUDRATE_115200   0x01D7E000u

void nrf_uart_init(const nrf_uart *uart)
{
    UART_PSELTXD(uart) = uart->tx_pin;
    UART_PSELRXD(uart) = uart->rx_pin;
    UART_BAUDRATE(uart) = BAUDRATE_115200;
    UART_ENABLE(uart) = ENABLE_UART;
    UART_RXDRDY(uart) = 0;
    UART_TXDRDY(uart) = 0;
    UART_INTENSET(uart) = INTEN_RXDRDY;
    UART_STARTTX(uart) = 1;
    UART_STARTRX(uart) = 1;
    mts_nvic_clear_pending(uart->irq);
    mts_nvic_enable(uart->irq);
}

void nrf_uart_write(const void *regs, const void *data, size_t size)
{
    const nrf_uart *uart = (const nrf_uart *)regs;
    const uint8_t *bytes = (const uint8_t *)data;
    for (size_t i = 0; i < size; i++) {
        /* One byte at a time: TXD takes the next only after TXDRDY. */
        UART_TXDRDY(uart) = 0;
        UART_TXD(uart) = bytes[i];
        while (!UART_TXDRDY(uart)) {
        }
    }
}

/* Clear the event before reading RXD: a byte still waiting in the
 * receiver's FIFO raises RXDRDY again when RXD is read. The interrupt line
 * follows RXDRDY, so the NVIC pending bit is cleared only while it is 0. */
uint8_t nrf_uart_read_byte(const void *regs)
{
    const nrf_uart *uart = (const nrf_uart *)regs;
    for (;;) {
        if (UART_RXDRDY(uart)) {
            UART_RXDRDY(uart) = 0;
            uint8_t byte = (uint8_t)UART_RXD(uart);
            mts_nvic_clear_pending(uart->irq);
            return byte;
        }
        mts_nvic_clear_pending(uart->irq);
        if (UART_RXDRDY(uart)) {
            continue;
        }
        mts_wfi();
    }
}
