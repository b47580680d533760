/* main() of every Cortex-M board after its clocks and UART are set up: the
 * UART as the protocol's byte stream (an mts_fw_uart: the driver's write and
 * blocking read_byte on its register block), fault reports on it, the
 * counters, then the shared firmware loop (fw_main.c). Only the board facts
 * (name, core, clock, how SysTick ticks are reported) differ per board. */
#ifndef MTSRNN_FW_BOARD_RUN_H
#define MTSRNN_FW_BOARD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "fw_main.h"

typedef struct mts_fw_uart {
    const void *regs;  /* the driver's description of the UART */
    void (*write)(const void *regs, const void *data, size_t size);
    uint8_t (*read_byte)(const void *regs);  /* waits (in wfi) for one byte */
} mts_fw_uart;

/* Run the protocol on `uart`; never returns. `ticks`: QEMU boards report
 * SysTick as instructions (-icount shift=0) and end the emulation on a fault
 * (semihosting); real boards use the DWT cycle counter where there is one and
 * stop in wfi on a fault. */
void mts_fw_board_run(const char *name, const char *core, uint32_t clock_hz,
                      mts_fw_ticks ticks, const mts_fw_uart *uart)
    __attribute__((noreturn));

#endif /* MTSRNN_FW_BOARD_RUN_H */
