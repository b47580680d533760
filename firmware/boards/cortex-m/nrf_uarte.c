#include "nrf_uarte.h"

#include "cortex_m.h"

#define UARTE(u, off)        MTS_REG32((u)->base + (off))
#define TASKS_STARTRX        0x000u
#define TASKS_STARTTX        0x008u
#define EVENTS_ENDRX         0x110u
#define EVENTS_ENDTX         0x120u
#define EVENTS_RXSTARTED     0x14Cu
#define SHORTS               0x200u
#define INTENSET             0x304u
#define ENABLE               0x500u
#define PSEL_TXD             0x50Cu
#define PSEL_RXD             0x514u
#define BAUDRATE             0x524u
#define RXD_PTR              0x534u
#define RXD_MAXCNT           0x538u
#define TXD_PTR              0x544u
#define TXD_MAXCNT           0x548u
#define CONFIG               0x56Cu

#define SHORTS_ENDRX_STARTRX (1u << 5)
#define INTEN_ENDRX          (1u << 4)
#define ENABLE_UARTE         8u
#define BAUDRATE_115200      0x01D60000u

/* EasyDMA reads and writes RAM only (not flash): the bytes pass through
 * these. Two receive buffers: one being filled while the other is read. */
static volatile uint8_t rx_buffer[2];
static unsigned rx_next;            /* the buffer the next ENDRX completes */
static uint8_t tx_buffer[64];

void nrf_uarte_init(const nrf_uarte *uarte)
{
    UARTE(uarte, PSEL_TXD) = uarte->tx_pin;
    UARTE(uarte, PSEL_RXD) = uarte->rx_pin;
    UARTE(uarte, BAUDRATE) = BAUDRATE_115200;
    UARTE(uarte, CONFIG) = 0;                       /* no parity, no flow control */
    UARTE(uarte, ENABLE) = ENABLE_UARTE;
    UARTE(uarte, EVENTS_ENDRX) = 0;
    UARTE(uarte, EVENTS_RXSTARTED) = 0;
    UARTE(uarte, RXD_PTR) = (uint32_t)(uintptr_t)&rx_buffer[0];
    UARTE(uarte, RXD_MAXCNT) = 1;
    UARTE(uarte, SHORTS) = SHORTS_ENDRX_STARTRX;
    UARTE(uarte, INTENSET) = INTEN_ENDRX;
    UARTE(uarte, TASKS_STARTRX) = 1;
    while (!UARTE(uarte, EVENTS_RXSTARTED)) {
    }
    UARTE(uarte, EVENTS_RXSTARTED) = 0;
    /* The next reception (after the shortcut) goes to the other buffer. */
    UARTE(uarte, RXD_PTR) = (uint32_t)(uintptr_t)&rx_buffer[1];
    rx_next = 0;
    mts_nvic_clear_pending(uarte->irq);
    mts_nvic_enable(uarte->irq);
}

void nrf_uarte_write(const void *regs, const void *data, size_t size)
{
    const nrf_uarte *uarte = (const nrf_uarte *)regs;
    const uint8_t *bytes = (const uint8_t *)data;
    while (size > 0) {
        size_t n = size < sizeof tx_buffer ? size : sizeof tx_buffer;
        for (size_t i = 0; i < n; i++)
            tx_buffer[i] = bytes[i];
        UARTE(uarte, EVENTS_ENDTX) = 0;
        UARTE(uarte, TXD_PTR) = (uint32_t)(uintptr_t)tx_buffer;
        UARTE(uarte, TXD_MAXCNT) = (uint32_t)n;
        UARTE(uarte, TASKS_STARTTX) = 1;
        while (!UARTE(uarte, EVENTS_ENDTX)) {
        }
        bytes += n;
        size -= n;
    }
}

uint8_t nrf_uarte_read_byte(const void *regs)
{
    const nrf_uarte *uarte = (const nrf_uarte *)regs;
    for (;;) {
        if (UARTE(uarte, EVENTS_ENDRX)) {
            UARTE(uarte, EVENTS_ENDRX) = 0;
            uint8_t byte = rx_buffer[rx_next];
            /* The shortcut already started the next reception into the
             * other buffer; the one after it comes back here. */
            if (UARTE(uarte, EVENTS_RXSTARTED)) {
                UARTE(uarte, EVENTS_RXSTARTED) = 0;
                UARTE(uarte, RXD_PTR) = (uint32_t)(uintptr_t)&rx_buffer[rx_next];
            }
            rx_next ^= 1u;
            mts_nvic_clear_pending(uarte->irq);
            return byte;
        }
        mts_nvic_clear_pending(uarte->irq);
        if (UARTE(uarte, EVENTS_ENDRX)) {
            continue;
        }
        mts_wfi();
    }
}
