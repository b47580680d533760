#include "cmsdk_uart.h"

#include "cortex_m.h"

#define UART_DATA(u)      MTS_REG32((u)->base + 0x00u)
#define UART_STATE(u)     MTS_REG32((u)->base + 0x04u)
#define UART_CTRL(u)      MTS_REG32((u)->base + 0x08u)
#define UART_INTCLEAR(u)  MTS_REG32((u)->base + 0x0Cu)
#define UART_BAUDDIV(u)   MTS_REG32((u)->base + 0x10u)

#define STATE_TX_FULL   (1u << 0)
#define STATE_RX_FULL   (1u << 1)
#define CTRL_TX_EN      (1u << 0)
#define CTRL_RX_EN      (1u << 1)
#define CTRL_RX_IRQ_EN  (1u << 3)
#define INT_RX          (1u << 1)

void cmsdk_uart_init(const cmsdk_uart *uart, uint32_t bauddiv)
{
    UART_CTRL(uart) = 0;
    UART_BAUDDIV(uart) = bauddiv < 16u ? 16u : bauddiv;
    UART_INTCLEAR(uart) = 0xFu;
    UART_CTRL(uart) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_IRQ_EN;
    mts_nvic_clear_pending(uart->rx_irq);
    mts_nvic_enable(uart->rx_irq);
    if (uart->combined_irq != CMSDK_UART_NO_IRQ) {
        mts_nvic_clear_pending(uart->combined_irq);
        mts_nvic_enable(uart->combined_irq);
    }
}

void cmsdk_uart_write(const cmsdk_uart *uart, const void *data, size_t size)
{
    const uint8_t *bytes = (const uint8_t *)data;
    for (size_t i = 0; i < size; i++) {
        while (UART_STATE(uart) & STATE_TX_FULL) {
        }
        UART_DATA(uart) = bytes[i];
    }
}

int cmsdk_uart_try_read(const cmsdk_uart *uart)
{
    if (UART_STATE(uart) & STATE_RX_FULL) {
        return (int)(UART_DATA(uart) & 0xFFu);
    }
    return -1;
}

uint8_t cmsdk_uart_read_byte(const cmsdk_uart *uart)
{
    for (;;) {
        /* Clear the interrupt first, then look: a byte that arrives after
         * the look pends the interrupt again and wfi returns at once. */
        UART_INTCLEAR(uart) = INT_RX;
        mts_nvic_clear_pending(uart->rx_irq);
        if (uart->combined_irq != CMSDK_UART_NO_IRQ) {
            mts_nvic_clear_pending(uart->combined_irq);
        }
        int byte = cmsdk_uart_try_read(uart);
        if (byte >= 0) {
            return (uint8_t)byte;
        }
        mts_wfi();
    }
}
