#include "cmsdk_uart.h"

#include "board_run.h"
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

void cmsdk_uart_write(const void *regs, const void *data, size_t size)
{
    const cmsdk_uart *uart = (const cmsdk_uart *)regs;
    const uint8_t *bytes = (const uint8_t *)data;
    for (size_t i = 0; i < size; i++) {
        while (UART_STATE(uart) & STATE_TX_FULL) {
        }
        UART_DATA(uart) = bytes[i];
    }
}

uint8_t cmsdk_uart_read_byte(const void *regs)
{
    const cmsdk_uart *uart = (const cmsdk_uart *)regs;
    for (;;) {
        /* Clear the interrupt first, then look: a byte that arrives after
         * the look pends the interrupt again and wfi returns at once. */
        UART_INTCLEAR(uart) = INT_RX;
        mts_nvic_clear_pending(uart->rx_irq);
        if (uart->combined_irq != CMSDK_UART_NO_IRQ) {
            mts_nvic_clear_pending(uart->combined_irq);
        }
        if (UART_STATE(uart) & STATE_RX_FULL) {
            return (uint8_t)(UART_DATA(uart) & 0xFFu);
        }
        mts_wfi();
    }
}

void mts_cmsdk_board_run(const char *name, const char *core, uint32_t clock_hz,
                         uint32_t baud, const cmsdk_uart *uart)
{
    static mts_fw_uart console;
    cmsdk_uart_init(uart, clock_hz / baud);
    console.regs = uart;
    console.write = cmsdk_uart_write;
    console.read_byte = cmsdk_uart_read_byte;
    /* QEMU with -icount shift=0: SysTick ticks are instructions. */
    mts_fw_board_run(name, core, clock_hz, MTS_FW_TICKS_INSTRUCTIONS, &console);
}
