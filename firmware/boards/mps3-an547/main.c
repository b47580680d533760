/* mps3-an547 under QEMU: Cortex-M55 (Helium), 32 MHz, UART0 (CMSDK APB UART)
 * at 0x59303000 (the secure alias the core boots in; 0x49303000 is the
 * non-secure one). Its RX interrupt is IRQ 33: measured under QEMU 7.2, a
 * received byte pends IRQs 33 and 43 (the combined TX/RX/overrun
 * interrupt); both are enabled to wake the core. Counters: SysTick as
 * instructions (run QEMU with -icount shift=0); the DWT cycle counter is
 * probed and reads 0 under QEMU. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmsdk_uart.h"
#include "counters.h"
#include "fw_main.h"
#include "semihost.h"

#define BOARD_CLOCK_HZ 32000000u
#define BOARD_BAUD 115200u

static const cmsdk_uart uart0 = { .base = 0x59303000u, .rx_irq = 33u, .combined_irq = 43u };

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
    board.name = "mps3-an547";
    board.core = "cortex-m55";
    board.clock_hz = BOARD_CLOCK_HZ;
    board.ctx = (void *)&uart0;
    board.write = board_write;
    board.read_byte = board_read_byte;
    mts_fw_run(&board, MTS_FW_TICKS_INSTRUCTIONS);
}
