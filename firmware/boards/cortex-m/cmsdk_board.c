#include "cmsdk_board.h"

#include <stddef.h>
#include <string.h>

#include "counters.h"
#include "fw_main.h"
#include "semihost.h"

/* The console, for the fault handler (set once, before any fault can report). */
static const cmsdk_uart *console;

static void board_write(void *ctx, const char *bytes, size_t n)
{
    cmsdk_uart_write((const cmsdk_uart *)ctx, bytes, n);
}

static int board_read_byte(void *ctx)
{
    return cmsdk_uart_read_byte((const cmsdk_uart *)ctx);
}

void mts_board_fault(const char *name)
{
    static const char prefix[] = "\ne-fault ";
    if (console != NULL) {
        cmsdk_uart_write(console, prefix, sizeof prefix - 1);
        cmsdk_uart_write(console, name, strlen(name));
        cmsdk_uart_write(console, "\n", 1);
    }
    mts_semihost_exit(0);
}

void mts_cmsdk_board_run(const char *name, const char *core, uint32_t clock_hz,
                         uint32_t baud, const cmsdk_uart *uart)
{
    static mts_board board;
    console = uart;
    cmsdk_uart_init(uart, clock_hz / baud);
    mts_counters_init(clock_hz);
    board.name = name;
    board.core = core;
    board.clock_hz = clock_hz;
    board.ctx = (void *)uart;
    board.write = board_write;
    board.read_byte = board_read_byte;
    /* QEMU with -icount shift=0: SysTick ticks are instructions. */
    mts_fw_run(&board, MTS_FW_TICKS_INSTRUCTIONS);
}
