/* Arm semihosting, for the emulated boards only: QEMU with
 * -semihosting-config enable=on,target=native. On a real board without a
 * debugger attached, bkpt 0xAB faults: never call this there. */
#ifndef MTSRNN_FW_SEMIHOST_H
#define MTSRNN_FW_SEMIHOST_H

#define MTS_SEMIHOST_SYS_EXIT 0x18u
#define MTS_SEMIHOST_APPLICATION_EXIT 0x20026u   /* QEMU exits with status 0 */
#define MTS_SEMIHOST_RUNTIME_ERROR 0x20023u      /* QEMU exits with status 1 */

/* End the emulation: status 0 when ok, else 1. */
static inline __attribute__((noreturn)) void mts_semihost_exit(int ok)
{
    register unsigned r0 __asm("r0") = MTS_SEMIHOST_SYS_EXIT;
    register unsigned r1 __asm("r1") =
        ok ? MTS_SEMIHOST_APPLICATION_EXIT : MTS_SEMIHOST_RUNTIME_ERROR;
    __asm volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

#endif /* MTSRNN_FW_SEMIHOST_H */
