/* Counters of the Cortex-M boards, read around one kernel call.
 *
 * - SysTick, restarted by mts_counters_start and counting the processor
 *   clock (24 bits). Under QEMU with -icount shift=0 one guest instruction is
 *   1 ns of virtual time, so ticks * 1e9 / clock_hz is an instruction count:
 *   NOT a cycle count (one tick per 40 instructions at 25 MHz, 31.25 at
 *   32 MHz). An interval of 2^24 ticks or more (671 M instructions at 25 MHz,
 *   524 M at 32 MHz) sets COUNTFLAG and is reported as invalid, never as a
 *   wrapped-around value.
 * - DWT CYCCNT, the core's cycle counter (32 bits; intervals below 2^32
 *   cycles, 268 s at 16 MHz). QEMU does not emulate it (it reads 0):
 *   mts_counters_init probes it and .cycles_available says whether it counts.
 *
 * The core runs with PRIMASK set; SysTick raises no interrupt (TICKINT off),
 * so an idle core sleeping in wfi is not woken by it.
 */
#ifndef MTSRNN_FW_COUNTERS_H
#define MTSRNN_FW_COUNTERS_H

#include <stdint.h>

typedef struct mts_counter_values {
    uint64_t ticks;             /* SysTick ticks */
    uint64_t cycles;            /* DWT cycles */
    int ticks_valid;            /* 0: the interval overflowed 24 bits */
    int cycles_valid;           /* 0: no cycle counter */
} mts_counter_values;

/* Set up SysTick and probe/enable the DWT cycle counter; clock_hz is the
 * processor clock that SysTick counts. */
void mts_counters_init(uint32_t clock_hz);
uint32_t mts_counters_clock_hz(void);
/* 1 when the DWT cycle counter counts (real hardware), 0 when it reads 0. */
int mts_counters_cycles_available(void);

/* Zero and start both counters. */
void mts_counters_start(void);
/* The counts since mts_counters_start. */
mts_counter_values mts_counters_stop(void);

/* ticks * 1e9 / clock_hz, rounded to nearest: instructions under QEMU with
 * -icount shift=0, nanoseconds on real hardware. */
uint64_t mts_counters_ticks_to_ns(uint64_t ticks);

#endif /* MTSRNN_FW_COUNTERS_H */
