/* The Nordic nRF52 UARTE (nRF52840 Product Specification section 6.34): a
 * UART with EasyDMA, which moves bytes between the pins and RAM buffers.
 * One byte per transfer here (MAXCNT = 1) keeps it a byte stream; the
 * shortcut ENDRX -> STARTRX restarts reception in hardware, into the other
 * of two one-byte buffers (RXD.PTR is latched at RXSTARTED), so bytes that
 * arrive while the firmware works wait in the UARTE's RX FIFO.
 *
 * Registers: TASKS_STARTRX +0x000, TASKS_STARTTX +0x008, EVENTS_ENDRX
 * +0x110, EVENTS_ENDTX +0x120, EVENTS_RXSTARTED +0x14C, SHORTS +0x200 (bit 5
 * ENDRX_STARTRX), INTENSET +0x304 (bit 4 ENDRX), ENABLE +0x500 (8: UARTE),
 * PSEL.TXD +0x50C, PSEL.RXD +0x514, BAUDRATE +0x524, RXD.PTR +0x534,
 * RXD.MAXCNT +0x538, TXD.PTR +0x544, TXD.MAXCNT +0x548, CONFIG +0x56C.
 */
#ifndef MTSRNN_FW_NRF_UARTE_H
#define MTSRNN_FW_NRF_UARTE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nrf_uarte {
    uintptr_t base;
    unsigned irq;
    uint32_t tx_pin, rx_pin;
} nrf_uarte;

/* 115200 baud 8N1, reception started, the ENDRX interrupt on. */
void nrf_uarte_init(const nrf_uarte *uarte);
/* write and read_byte take the nrf_uarte as `regs` (board_run.h). */
void nrf_uarte_write(const void *uarte, const void *data, size_t size);
uint8_t nrf_uarte_read_byte(const void *uarte);

#endif /* MTSRNN_FW_NRF_UARTE_H */
