/* NUCLEO-F446RE: STM32F446RE, Cortex-M4F, running from the 16 MHz HSI it
 * starts on (no PLL set-up: the numbers are for 16 MHz, zero flash wait
 * states). USART2 on PA2 (TX) / PA3 (RX), alternate function 7, is wired to
 * the ST-LINK's virtual COM port: 115200 8N1. Counters: the DWT cycle
 * counter (CYCCNT).
 *
 * COMPILED HERE, NEVER RUN HERE: no board was available; see docs/boards.md.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "counters.h"
#include "fw_main.h"
#include "stm32f446.h"

#define BOARD_CLOCK_HZ 16000000u    /* HSI, the reset default; APB1 = HCLK */
#define BOARD_BAUD 115200u

static void usart2_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR;              /* a read-back delays until the clock runs */

    /* PA2, PA3: alternate function 7 (USART2), high speed, pull-up on RX. */
    GPIOA_MODER = (GPIOA_MODER & ~((3u << 4) | (3u << 6))) |
                  (GPIO_MODE_AF << 4) | (GPIO_MODE_AF << 6);
    GPIOA_OSPEEDR |= (3u << 4) | (3u << 6);
    GPIOA_PUPDR = (GPIOA_PUPDR & ~(3u << 6)) | (1u << 6);
    GPIOA_AFRL = (GPIOA_AFRL & ~((0xFu << 8) | (0xFu << 12))) | (7u << 8) | (7u << 12);

    /* 8N1, oversampling by 16: BRR = f_APB1 / baud = 16e6 / 115200 = 138.9,
     * rounded to 139 (mantissa 8, fraction 11): 115108 baud, -0.08 %. */
    USART2_CR1 = 0;
    USART2_CR2 = 0;
    USART2_CR3 = 0;
    USART2_BRR = (BOARD_CLOCK_HZ + BOARD_BAUD / 2u) / BOARD_BAUD;
    USART2_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    mts_nvic_clear_pending(USART2_IRQn);
    mts_nvic_enable(USART2_IRQn);
}

static void usart2_write(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (!(USART2_SR & USART_SR_TXE)) {
        }
        USART2_DR = (uint8_t)bytes[i];
    }
}

static void board_write(void *ctx, const char *bytes, size_t n)
{
    (void)ctx;
    usart2_write(bytes, n);
}

/* Sleep in wfi until RXNE: PRIMASK is set, so the USART2 interrupt only
 * wakes the core. It stays pending while RXNE (or ORE) is set, so clear the
 * NVIC pending bit only after reading SR and DR. An overrun (ORE: a byte
 * lost while the device was busy) is cleared by the same SR-then-DR read;
 * the lost byte surfaces as a protocol error (a CRC or line error), never
 * as wrong data. */
static int board_read_byte(void *ctx)
{
    (void)ctx;
    for (;;) {
        uint32_t sr = USART2_SR;
        if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
            uint8_t byte = (uint8_t)USART2_DR;
            mts_nvic_clear_pending(USART2_IRQn);
            if (sr & USART_SR_RXNE) {
                return byte;
            }
            continue;
        }
        mts_nvic_clear_pending(USART2_IRQn);
        if (USART2_SR & (USART_SR_RXNE | USART_SR_ORE)) {
            continue;
        }
        mts_wfi();
    }
}

void mts_board_fault(const char *name)
{
    static const char prefix[] = "\ne-fault ";
    usart2_write(prefix, sizeof prefix - 1);
    usart2_write(name, strlen(name));
    usart2_write("\n", 1);
    for (;;) {
        mts_wfi();                  /* stopped; reset the board */
    }
}

int main(void)
{
    static mts_board board;
    /* 0 wait states suit 16 MHz at any supply voltage; turn on the ART
     * accelerator (instruction and data caches, prefetch) for the weights. */
    FLASH_ACR |= FLASH_ACR_ICEN | FLASH_ACR_DCEN | FLASH_ACR_PRFTEN;
    usart2_init();
    mts_counters_init(BOARD_CLOCK_HZ);
    board.name = "nucleo-f446re";
    board.core = "cortex-m4f";
    board.clock_hz = BOARD_CLOCK_HZ;
    board.ctx = NULL;
    board.write = board_write;
    board.read_byte = board_read_byte;
    mts_fw_run(&board, MTS_FW_TICKS_UNUSED);
}
