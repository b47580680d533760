#include "pl011_uart.h"

#include "cortex_m.h"

#define UART_DR(u)    MTS_REG32((u)->base + 0x00u)
#define UART_FR(u)    MTS_REG32((u)->base + 0x18u)
#define UART_IBRD(u)  MTS_REG32((u)->base + 0x24u)
#define UART_FBRD(u)  MTS_REG32((u)->base + 0x28u)
#define UART_LCR_H(u) MTS_REG32((u)->base + 0x2Cu)
#define UART_CR(u)    MTS_REG32((u)->base + 0x30u)
#define UART_IMSC(u)  MTS_REG32((u)->base + 0x38u)
#define UART_ICR(u)   MTS_REG32((u)->base + 0x44u)

#define FR_RXFE   (1u << 4)
#define FR_TXFF   (1u << 5)
#define LCR_WLEN8 (3u << 5)
#define LCR_FEN   (1u << 4)
#define CR_UARTEN (1u << 0)
#define CR_TXE    (1u << 8)
#define CR_RXE    (1u << 9)
#define IMSC_RXIM (1u << 4)
#define IMSC_RTIM (1u << 6)

void pl011_uart_init(const pl011_uart *uart, uint32_t uart_clock_hz, uint32_t baud)
{
    /* Divisor = clock / (16 baud) in 16.6 fixed point, rounded:
     * 64 * clock / (16 baud) = 4 * clock / baud. */
    uint32_t div64 = (uint32_t)((4ull * uart_clock_hz + baud / 2u) / baud);
    UART_CR(uart) = 0;
    UART_IBRD(uart) = div64 >> 6;
    UART_FBRD(uart) = div64 & 63u;
    UART_LCR_H(uart) = LCR_WLEN8 | LCR_FEN;     /* also latches IBRD/FBRD */
    UART_ICR(uart) = 0x7FFu;
    UART_IMSC(uart) = IMSC_RXIM | IMSC_RTIM;
    UART_CR(uart) = CR_UARTEN | CR_TXE | CR_RXE;
    mts_nvic_clear_pending(uart->irq);
    mts_nvic_enable(uart->irq);
}

void pl011_uart_write(const void *regs, const void *data, size_t size)
{
    const pl011_uart *uart = (const pl011_uart *)regs;
    const uint8_t *bytes = (const uint8_t *)data;
    for (size_t i = 0; i < size; i++) {
        while (UART_FR(uart) & FR_TXFF) {
        }
        UART_DR(uart) = bytes[i];
    }
}

/* The RX interrupts stay asserted while the FIFO holds data, so the NVIC
 * pending bit is cleared only when the FIFO was seen empty. */
uint8_t pl011_uart_read_byte(const void *regs)
{
    const pl011_uart *uart = (const pl011_uart *)regs;
    for (;;) {
        if (!(UART_FR(uart) & FR_RXFE)) {
            return (uint8_t)UART_DR(uart);  /* errors in bits 8-11 dropped */
        }
        UART_ICR(uart) = IMSC_RXIM | IMSC_RTIM;
        mts_nvic_clear_pending(uart->irq);
        if (!(UART_FR(uart) & FR_RXFE)) {
            continue;
        }
        mts_wfi();
    }
}
