#include "counters.h"

#include "cortex_m.h"

static uint32_t clock_hz_;
static int cycles_available_;
static uint32_t cyccnt_start_;

void mts_counters_init(uint32_t clock_hz)
{
    clock_hz_ = clock_hz;

    SYST_CSR = 0;
    SYST_RVR = SYST_MAX_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;

    cycles_available_ = 0;
#if !defined(__ARM_ARCH_6M__)
    /* Armv6-M (Cortex-M0/M0+) has no DWT cycle counter: SysTick only. */
    DEMCR |= DEMCR_TRCENA;
    mts_dsb();
    if (!(DWT_CTRL & DWT_CTRL_NOCYCCNT)) {
        DWT_CYCCNT = 0;
        DWT_CTRL |= DWT_CTRL_CYCCNTENA;
        mts_dsb();
        for (volatile int i = 0; i < 16; i++) {
        }
        cycles_available_ = DWT_CYCCNT != 0;
    }
#endif
}

uint32_t mts_counters_clock_hz(void)
{
    return clock_hz_;
}

int mts_counters_cycles_available(void)
{
    return cycles_available_;
}

void mts_counters_start(void)
{
    /* Writing CVR zeroes it and clears COUNTFLAG; the next tick reloads
     * SYST_MAX_RELOAD, and COUNTFLAG is set only if the count reaches 0
     * again, i.e. after 2^24 ticks. */
    SYST_CVR = 0;
    cyccnt_start_ = cycles_available_ ? DWT_CYCCNT : 0;
}

mts_counter_values mts_counters_stop(void)
{
    mts_counter_values v;
    uint32_t cyccnt = cycles_available_ ? DWT_CYCCNT : 0;
    uint32_t now = SYST_CVR & SYST_MAX_RELOAD;
    uint32_t csr = SYST_CSR;        /* read after CVR: a wrap in between counts */
    v.cycles = (uint32_t)(cyccnt - cyccnt_start_);
    v.cycles_valid = cycles_available_;
    /* From 0 the counter reloads SYST_MAX_RELOAD and counts down to now:
     * 1 + (SYST_MAX_RELOAD - now) ticks (0 if it has not ticked yet). */
    v.ticks = now == 0 ? 0 : (uint64_t)(SYST_MAX_RELOAD - now) + 1u;
    v.ticks_valid = !(csr & SYST_CSR_COUNTFLAG);
    return v;
}

uint64_t mts_counters_ticks_to_ns(uint64_t ticks)
{
    if (clock_hz_ == 0) {
        return 0;
    }
    /* Split so that no product overflows: (ticks % clock) * 1e9 < 2^62. */
    uint64_t whole = ticks / clock_hz_, part = ticks % clock_hz_;
    return whole * 1000000000u + (part * 1000000000u + clock_hz_ / 2u) / clock_hz_;
}
