/* main() of a board whose console is a CMSDK APB UART (the MPS2/MPS3 QEMU
 * boards): the UART as the protocol's byte stream, fault reports on it, then
 * the shared firmware loop. Only the board facts differ per board. */
#ifndef MTSRNN_CMSDK_BOARD_H
#define MTSRNN_CMSDK_BOARD_H

#include <stdint.h>

#include "cmsdk_uart.h"

void mts_cmsdk_board_run(const char *name, const char *core, uint32_t clock_hz,
                         uint32_t baud, const cmsdk_uart *uart) __attribute__((noreturn));

#endif /* MTSRNN_CMSDK_BOARD_H */
