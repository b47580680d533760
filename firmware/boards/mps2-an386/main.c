/* mps2-an386 under QEMU: Cortex-M4F, 25 MHz, UART0 (CMSDK APB UART) at
 * 0x40004000 with its RX interrupt on IRQ 0 (QEMU hw/arm/mps2.c: UART n has
 * RX IRQ 2n, TX IRQ 2n + 1 for n < 3). Counters: SysTick as instructions
 * (run QEMU with -icount shift=0); the DWT cycle counter is probed and reads
 * 0 under QEMU. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmsdk_uart.h"
#include "counters.h"
#include "fw_main.h"
#include "semihost.h"

#define BOARD_CLOCK_HZ 25000000u
#define BOARD_BAUD 115200u

static const cmsdk_uart uart0 = {
    .base = 0x40004000u, .rx_irq = 0u, .combined_irq = CMSDK_UART_NO_IRQ
};

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
    cmsdk_uart_write(&uart0, prefix, sizeof prefix - 1);
    cmsdk_uart_write(&uart0, name, strlen(name));
    cmsdk_uart_write(&uart0, "\n", 1);
    mts_semihost_exit(0);
}

int main(void)
{
    static mts_board board;
    cmsdk_uart_init(&uart0, BOARD_CLOCK_HZ / BOARD_BAUD);
    mts_counters_init(BOARD_CLOCK_HZ);
    board.name = "mps2-an386";
    board.core = "cortex-m4f";
    board.clock_hz = BOARD_CLOCK_HZ;
    board.ctx = (void *)&uart0;
    board.write = board_write;
    board.read_byte = board_read_byte;
    mts_fw_run(&board, MTS_FW_TICKS_INSTRUCTIONS);
}
