/* The RP2350's IMAGE_DEF block (RP2350 datasheet section 5.9, "minimum
 * viable image metadata"): without a valid block in the first 4 KB of flash
 * the boot ROM does not run an image. One item, IMAGE_TYPE: an executable
 * for the Arm cores, secure, RP2350; then the last-item marker (size 1
 * word) and a link of 0 (the block loops to itself: no other blocks). With
 * no VECTOR_TABLE item the boot ROM takes the vector table at the start of
 * the image (0x10000000), where cortex-m.ld puts it.
 * COMPILED HERE, NEVER RUN HERE (no board). */
#include <stdint.h>

__attribute__((section(".image_def"), used, aligned(4)))
const uint32_t mts_rp2350_image_def[5] = {
    0xFFFFDED3u,    /* PICOBIN_BLOCK_MARKER_START */
    0x10210142u,    /* IMAGE_TYPE item: EXE, security S, CPU Arm, chip RP2350 */
    0x000001FFu,    /* last item: total size of the items, 1 word */
    0x00000000u,    /* link to the next block: itself */
    0xAB123579u,    /* PICOBIN_BLOCK_MARKER_END */
};
