/* The Arm CMSDK APB UART (MPS2/MPS3 FPGA images, QEMU's cmsdk-apb-uart).
 *
 * Registers: DATA +0x00, STATE +0x04 (bit 0 TX full, bit 1 RX full),
 * CTRL +0x08 (bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt enable),
 * INTSTATUS/INTCLEAR +0x0C (bit 1 RX), BAUDDIV +0x10 (>= 16).
 *
 * Receiving sleeps in wfi: the RX interrupt is enabled in the UART and the
 * NVIC, PRIMASK is set (no handler runs), and a received byte ends the
 * sleep. An idle firmware thus costs the emulator no host CPU.
 */
#ifndef MTSRNN_FW_CMSDK_UART_H
#define MTSRNN_FW_CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

#define CMSDK_UART_NO_IRQ 0xFFFFFFFFu

typedef struct cmsdk_uart {
    uintptr_t base;
    unsigned rx_irq;        /* NVIC number of the UART's RX interrupt */
    unsigned combined_irq;  /* its combined TX/RX/overrun interrupt, or
                             * CMSDK_UART_NO_IRQ; enabled too, so that a
                             * board whose RX number differs between QEMU
                             * versions still wakes */
} cmsdk_uart;

/* Enable TX, RX and the RX interrupt; bauddiv = pclk / baud (>= 16; QEMU
 * ignores the rate). */
void cmsdk_uart_init(const cmsdk_uart *uart, uint32_t bauddiv);
/* write and read_byte take the cmsdk_uart as `regs` (board_run.h). */
void cmsdk_uart_write(const void *uart, const void *data, size_t size);
/* Wait (in wfi) for one byte. */
uint8_t cmsdk_uart_read_byte(const void *uart);

/* main() of an MPS2/MPS3 QEMU board: UART init, then mts_fw_board_run with
 * SysTick reported as instructions. */
void mts_cmsdk_board_run(const char *name, const char *core, uint32_t clock_hz,
                         uint32_t baud, const cmsdk_uart *uart) __attribute__((noreturn));

#endif /* MTSRNN_FW_CMSDK_UART_H */
