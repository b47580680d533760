/* Runtime of the C tests (tests/c) on a Cortex-M board under QEMU with
 * -semihosting-config enable=on,target=native: stdio and exit go to the host
 * through newlib's librdimon (semihosting), malloc takes the RAM above .bss
 * (tests.ld), and the command line comes from QEMU's -append.
 *
 * firmware/boards/cortex-m/startup.c calls main(); the link wraps it
 * (-Wl,--wrap=main) so that it reaches __wrap_main here, which opens the
 * semihosting handles, builds argc/argv, runs the test's main and exits
 * with its status (SYS_EXIT_EXTENDED through librdimon: QEMU exits with that
 * exact status, so ctest sees failures and the skip code 77). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "semihost.h"

#define SYS_GET_CMDLINE 0x15u
#define MAX_ARGS 8

extern char __heap_start[], __heap_end[];
void initialise_monitor_handles(void);
/* The test's own main: int main(void) or int main(int, char **). Both take
 * their arguments in r0/r1 (AAPCS), so one call serves either. */
int __real_main(int argc, char **argv);
int __wrap_main(void);
void *_sbrk(ptrdiff_t increment);
void mts_board_fault(const char *name) __attribute__((noreturn));

/* newlib's malloc grows its arena here; fails with ENOMEM past the RAM. */
void *_sbrk(ptrdiff_t increment)
{
    static char *brk = __heap_start;
    char *previous = brk;
    if (increment > __heap_end - brk || increment < __heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += increment;
    return previous;
}

/* Splits the semihosting command line ("program arg ...", from QEMU's
 * -append) at spaces into argv; returns argc (at least 1). */
static int command_line(char *buffer, size_t size, char **argv)
{
    struct {
        char *buffer;
        size_t size;
    } block = {buffer, size - 1};
    register unsigned r0 __asm("r0") = SYS_GET_CMDLINE;
    register void *r1 __asm("r1") = &block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    int argc = 0;
    if (r0 == 0) {
        buffer[block.size < size ? block.size : size - 1] = '\0';
        char *p = buffer;
        while (*p != '\0' && argc < MAX_ARGS) {
            while (*p == ' ') {
                *p++ = '\0';
            }
            if (*p == '\0') {
                break;
            }
            argv[argc++] = p;
            while (*p != '\0' && *p != ' ') {
                p++;
            }
        }
    }
    if (argc == 0) {
        argv[argc++] = "test";
    }
    argv[argc] = NULL;
    return argc;
}

int __wrap_main(void)
{
    static char buffer[256];
    static char *argv[MAX_ARGS + 1];
    initialise_monitor_handles();
    int argc = command_line(buffer, sizeof buffer, argv);
    exit(__real_main(argc, argv));
}

/* A fault (startup.c's handlers) ends the test as a failure. */
void mts_board_fault(const char *name)
{
    fprintf(stderr, "fault: %s\n", name);
    fflush(stderr);
    mts_semihost_exit(0);
}
