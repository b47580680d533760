/* Reset and vector table shared by the Cortex-M boards.
 *
 * Reset_Handler, before any C: sets the main stack pointer (and, on
 * Armv8-M Mainline such as the Cortex-M33 and M55, the stack limit so that
 * an overflow faults instead of corrupting .bss), enables the FPU (and MVE,
 * which shares CP10/CP11) in CPACR when the build uses one, then dsb; isb. It is naked assembly
 * because a hard-float C function may touch the FP registers in its
 * prologue. mts_reset_c then copies .data from its load address, zeroes
 * .bss, points VTOR at the vector table and calls main().
 *
 * Linker-script symbols (every board's linker.ld defines them):
 *   __stack_bottom, __stack_top   the main stack [bottom, top)
 *   __data_load                   load address of .data (in flash)
 *   __data_start, __data_end      .data in RAM
 *   __bss_start, __bss_end        .bss in RAM
 *
 * Interrupts: the firmware runs with PRIMASK set and takes no interrupt; the
 * UART RX interrupt only wakes the core from wfi. Faults still arrive (they
 * ignore PRIMASK) and go to mts_board_fault, which the board provides.
 */
#include <stdint.h>
#include <string.h>

#include "cortex_m.h"

#ifndef MTS_NUM_IRQS
#define MTS_NUM_IRQS 96
#endif

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
/* Report a fault (name: "hardfault", ...) and stop; never returns. */
void mts_board_fault(const char *name) __attribute__((noreturn));

void Reset_Handler(void) __attribute__((naked, noreturn));
void mts_reset_c(void) __attribute__((noreturn, used));

void Reset_Handler(void)
{
    __asm volatile(
        "ldr r0, =__stack_top\n"
        "msr msp, r0\n"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
        "ldr r0, =__stack_bottom\n"
        "msr msplim, r0\n"
#endif
#if defined(__ARM_FP)
        /* CPACR: full access to CP10 and CP11 (FPU, MVE). Cores without an
         * FPU (M0, M3, soft-float builds) have no CPACR to write. */
        "ldr r0, =0xE000ED88\n"
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
#endif
        /* A register branch: Armv6-M's b reaches only +-2 KB. */
        "ldr r0, =mts_reset_c\n"
        "bx r0\n");
}

extern const void *const mts_vector_table[];

void mts_reset_c(void)
{
    size_t data_bytes = (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start);
    size_t bss_bytes = (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start);
    if (data_bytes != 0 && (uintptr_t)__data_load != (uintptr_t)__data_start) {
        memcpy(__data_start, __data_load, data_bytes);
    }
    memset(__bss_start, 0, bss_bytes);
    mts_irq_mask();
#if !defined(__ARM_ARCH_6M__)
    /* Armv6-M (Cortex-M0) has no VTOR: its table is the one at address 0
     * (the RP2040's boot2 sets the M0+'s VTOR itself). */
    SCB_VTOR = (uint32_t)(uintptr_t)mts_vector_table;
#endif
    mts_dsb();
    mts_isb();
    (void)main();
    mts_board_fault("main-returned");
}

static void nmi_handler(void) { mts_board_fault("nmi"); }
static void hardfault_handler(void) { mts_board_fault("hardfault"); }
static void memmanage_handler(void) { mts_board_fault("memmanage"); }
static void busfault_handler(void) { mts_board_fault("busfault"); }
static void usagefault_handler(void) { mts_board_fault("usagefault"); }
static void unexpected_handler(void) { mts_board_fault("unexpected-exception"); }

/* Initial SP, the 15 system exceptions, then MTS_NUM_IRQS interrupts. */
__attribute__((section(".isr_vector"), used))
const void *const mts_vector_table[16 + MTS_NUM_IRQS] = {
    [0] = __stack_top,
    [1] = (const void *)Reset_Handler,
    [2] = (const void *)nmi_handler,
    [3] = (const void *)hardfault_handler,
    [4] = (const void *)memmanage_handler,
    [5] = (const void *)busfault_handler,
    [6] = (const void *)usagefault_handler,
    [7] = (const void *)unexpected_handler,   /* SecureFault on Armv8-M */
    [11] = (const void *)unexpected_handler,  /* SVCall */
    [12] = (const void *)unexpected_handler,  /* DebugMonitor */
    [14] = (const void *)unexpected_handler,  /* PendSV */
    [15] = (const void *)unexpected_handler,  /* SysTick */
    [16 ... 16 + MTS_NUM_IRQS - 1] = (const void *)unexpected_handler,
};
