#include "stm32_usart.h"

#include "cortex_m.h"

#define USART_SR(u)   MTS_REG32((u)->base + 0x00u)
#define USART_DR(u)   MTS_REG32((u)->base + 0x04u)
#define USART_BRR(u)  MTS_REG32((u)->base + 0x08u)
#define USART_CR1(u)  MTS_REG32((u)->base + 0x0Cu)
#define USART_CR2(u)  MTS_REG32((u)->base + 0x10u)
#define USART_CR3(u)  MTS_REG32((u)->base + 0x14u)

#define SR_ORE      (1u << 3)
#define SR_RXNE     (1u << 5)
#define SR_TXE      (1u << 7)
#define CR1_RE      (1u << 2)
#define CR1_TE      (1u << 3)
#define CR1_RXNEIE  (1u << 5)
#define CR1_UE      (1u << 13)

void stm32_usart_init(const stm32_usart *usart, uint32_t pclk_hz, uint32_t baud)
{
    USART_CR1(usart) = 0;
    USART_CR2(usart) = 0;
    USART_CR3(usart) = 0;
    /* Oversampling by 16: BRR = f_pclk / baud (mantissa and 4-bit fraction
     * in one number), e.g. 16 MHz / 115200 -> 139: 115108 baud, -0.08 %. */
    USART_BRR(usart) = (pclk_hz + baud / 2u) / baud;
    USART_CR1(usart) = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE;
    mts_nvic_clear_pending(usart->irq);
    mts_nvic_enable(usart->irq);
}

void stm32_usart_write(const void *regs, const void *data, size_t size)
{
    const stm32_usart *usart = (const stm32_usart *)regs;
    const uint8_t *bytes = (const uint8_t *)data;
    for (size_t i = 0; i < size; i++) {
        while (!(USART_SR(usart) & SR_TXE)) {
        }
        USART_DR(usart) = bytes[i];
    }
}

/* The USART interrupt stays pending while RXNE (or ORE) is set, so clear the
 * NVIC pending bit only after reading SR and DR. An overrun (ORE: a byte
 * lost while the device was busy) is cleared by the same SR-then-DR read;
 * the lost byte surfaces as a protocol error (a CRC or line error), never
 * as wrong data. */
uint8_t stm32_usart_read_byte(const void *regs)
{
    const stm32_usart *usart = (const stm32_usart *)regs;
    for (;;) {
        uint32_t sr = USART_SR(usart);
        if (sr & (SR_RXNE | SR_ORE)) {
            uint8_t byte = (uint8_t)USART_DR(usart);
            mts_nvic_clear_pending(usart->irq);
            if (sr & SR_RXNE) {
                return byte;
            }
            continue;
        }
        mts_nvic_clear_pending(usart->irq);
        if (USART_SR(usart) & (SR_RXNE | SR_ORE)) {
            continue;
        }
        mts_wfi();
    }
}
