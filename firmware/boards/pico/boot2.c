/* The RP2040's second-stage boot, the project's own (RP2040 datasheet
 * sections 2.8.1 and 4.10): the boot ROM copies the first 256 bytes of
 * flash to SRAM (0x20041F00) and runs them only if the CRC-32 (polynomial
 * 0x04C11DB7, initial 0xFFFFFFFF, not reflected, no final xor) of the first
 * 252 bytes matches the last 4. make_uf2.py --rp2040-boot2-elf writes that
 * CRC into the linked .elf (the first post-link step), so the .elf, .bin,
 * .hex and .uf2 all carry it.
 *
 * It sets up the SSI for execute-in-place with the plain 03h serial read
 * that every SPI NOR flash answers (the Pico's W25Q080 included): 24-bit
 * address, 32-bit data frames, standard SPI, clock = clk_sys / 4. Then it
 * enters the application like the boot ROM would: VTOR = 0x10000100 (the
 * vector table right after these 256 bytes), MSP and PC from it.
 *
 * Position-independent (it runs from SRAM at another address than it is
 * linked at): only PC-relative literal loads, no calls.
 * COMPILED HERE, NEVER RUN HERE (no board).
 */
__asm__(
    "    .section .boot2, \"ax\", %progbits\n"
    "    .syntax unified\n"
    "    .thumb\n"
    "    .global mts_rp2040_boot2\n"
    "    .type mts_rp2040_boot2, %function\n"
    "    .thumb_func\n"
    "mts_rp2040_boot2:\n"
    "    ldr r3, 1f\n"              /* XIP_SSI_BASE */
    "    movs r1, #0\n"
    "    str r1, [r3, #0x08]\n"     /* SSIENR = 0: configure while disabled */
    "    movs r1, #4\n"
    "    str r1, [r3, #0x14]\n"     /* BAUDR = 4: clk_sys / 4 */
    "    ldr r1, 2f\n"
    "    str r1, [r3, #0x00]\n"     /* CTRLR0: DFS_32 = 31, TMOD = EEPROM read */
    "    movs r1, #0\n"
    "    str r1, [r3, #0x04]\n"     /* CTRLR1: NDF = 0, one data frame */
    "    ldr r0, 3f\n"
    "    ldr r1, 4f\n"
    "    str r1, [r0]\n"            /* SPI_CTRLR0: XIP_CMD 03h, 8-bit instr, 24-bit addr */
    "    movs r1, #1\n"
    "    str r1, [r3, #0x08]\n"     /* SSIENR = 1 */
    "    ldr r0, 5f\n"              /* the application's vector table */
    "    ldr r1, 6f\n"
    "    str r0, [r1]\n"            /* VTOR */
    "    ldmia r0!, {r1, r2}\n"     /* initial SP, reset handler */
    "    msr msp, r1\n"
    "    bx r2\n"
    "    .balign 4\n"
    "1:  .word 0x18000000\n"
    "2:  .word (31 << 16) | (3 << 8)\n"
    "3:  .word 0x180000F4\n"
    "4:  .word (0x03 << 24) | (2 << 8) | (6 << 2)\n"
    "5:  .word 0x10000100\n"
    "6:  .word 0xE000ED08\n"
    "    .balign 256, 0\n"          /* the CRC goes in the last 4 bytes */
    "    .text\n");
