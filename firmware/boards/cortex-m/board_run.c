#include "board_run.h"

#include <string.h>

#include "cortex_m.h"
#include "counters.h"
#include "semihost.h"

/* The console and how to stop, for the fault handler (set once, before any
 * fault can report). */
static const mts_fw_uart *console;
static int emulated;

static void board_write(void *ctx, const char *bytes, size_t n)
{
    const mts_fw_uart *uart = (const mts_fw_uart *)ctx;
    uart->write(uart->regs, bytes, n);
}

static int board_read_byte(void *ctx)
{
    const mts_fw_uart *uart = (const mts_fw_uart *)ctx;
    return uart->read_byte(uart->regs);
}

void mts_board_fault(const char *name)
{
    static const char prefix[] = "\ne-fault ";
    if (console != NULL) {
        console->write(console->regs, prefix, sizeof prefix - 1);
        console->write(console->regs, name, strlen(name));
        console->write(console->regs, "\n", 1);
    }
    if (emulated) {
        mts_semihost_exit(0);   /* QEMU: the harness sees the board go away */
    }
    for (;;) {
        mts_wfi();              /* a real board: stopped; reset it */
    }
}

void mts_fw_board_run(const char *name, const char *core, uint32_t clock_hz,
                      mts_fw_ticks ticks, const mts_fw_uart *uart)
{
    static mts_board board;
    console = uart;
    emulated = ticks == MTS_FW_TICKS_INSTRUCTIONS;
    mts_counters_init(clock_hz);
    board.name = name;
    board.core = core;
    board.clock_hz = clock_hz;
    board.ctx = (void *)(uintptr_t)uart;
    board.write = board_write;
    board.read_byte = board_read_byte;
    mts_fw_run(&board, ticks);
}
