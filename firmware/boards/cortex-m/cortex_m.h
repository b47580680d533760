/* Core registers of the Armv7-M / Armv8.1-M cores the boards use (Cortex-M4F,
 * Cortex-M55): system control block, SysTick, NVIC, DWT, and the few
 * instructions the firmware needs. Written from the Armv7-M and Armv8-M
 * Architecture Reference Manuals; no vendor headers.
 */
#ifndef MTSRNN_FW_CORTEX_M_H
#define MTSRNN_FW_CORTEX_M_H

#include <stdint.h>

#define MTS_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control block. */
#define SCB_ICSR        MTS_REG32(0xE000ED04u)
#define SCB_VTOR        MTS_REG32(0xE000ED08u)
#define SCB_CPACR       MTS_REG32(0xE000ED88u)   /* CP10/CP11 = bits 20..23 */
#define SCB_CPACR_FPU_FULL (0xFu << 20)

/* Debug exception and monitor control: TRCENA (bit 24) powers the DWT. */
#define DEMCR           MTS_REG32(0xE000EDFCu)
#define DEMCR_TRCENA    (1u << 24)

/* Data watchpoint and trace unit: the cycle counter. */
#define DWT_CTRL        MTS_REG32(0xE0001000u)
#define DWT_CYCCNT      MTS_REG32(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT  (1u << 25)          /* read-only: no cycle counter */

/* SysTick: a 24-bit down counter. */
#define SYST_CSR        MTS_REG32(0xE000E010u)
#define SYST_RVR        MTS_REG32(0xE000E014u)
#define SYST_CVR        MTS_REG32(0xE000E018u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)            /* 1: the processor clock */
#define SYST_CSR_COUNTFLAG (1u << 16)           /* wrapped since last read */
#define SYST_MAX_RELOAD    0x00FFFFFFu

/* NVIC: set-enable and clear-pending, 32 interrupts per register. */
#define NVIC_ISER(n)    MTS_REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)    MTS_REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n)    MTS_REG32(0xE000E280u + 4u * (n))

static inline void mts_nvic_enable(unsigned irq)
{
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static inline void mts_nvic_clear_pending(unsigned irq)
{
    NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
}

static inline void mts_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void mts_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }
/* Sleep until an interrupt is pending. With PRIMASK set (mts_irq_mask) a
 * pending, enabled interrupt still ends the sleep but no handler runs. */
static inline void mts_wfi(void) { __asm volatile("wfi" ::: "memory"); }
/* PRIMASK = 1: no interrupt handler ever runs. */
static inline void mts_irq_mask(void) { __asm volatile("cpsid i" ::: "memory"); }

#endif /* MTSRNN_FW_CORTEX_M_H */
