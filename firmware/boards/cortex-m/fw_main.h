/* The part of main() every Cortex-M board shares: the statically allocated
 * device buffers (sized by the generated fw_models.h for the largest T),
 * the counter callbacks, and the call into the protocol loop. */
#ifndef MTSRNN_FW_MAIN_H
#define MTSRNN_FW_MAIN_H

#include "mts_device.h"

/* How the board's SysTick ticks are reported. */
typedef enum mts_fw_ticks {
    MTS_FW_TICKS_INSTRUCTIONS,  /* QEMU with -icount shift=0: 1 instruction = 1 ns */
    MTS_FW_TICKS_CYCLES,        /* real Armv6-M (no DWT): SysTick counts core cycles
                                 * (intervals below 2^24 cycles) */
    MTS_FW_TICKS_UNUSED         /* real hardware: the DWT cycle counter instead */
} mts_fw_ticks;

/* Complete *board's counter fields (counters_available, counters_start,
 * counters_stop: DWT cycles when they count, SysTick per `ticks`), set up
 * the device with the built-in models and run the protocol; never returns
 * on an MCU. Call after the UART and mts_counters_init. */
void mts_fw_run(mts_board *board, mts_fw_ticks ticks) __attribute__((noreturn));

#endif /* MTSRNN_FW_MAIN_H */
