/* The memory-traffic window of `bench` (docs/performance.md, "Memory
 * traffic on the ARM targets"): the QEMU plugin tools/qemu-plugin/mtsmem.c
 * watches loads of mts_mem_marker (the host finds its address in the ELF
 * symbol table). A load of word 0 opens a window; the next two loads are one
 * byte at the first and one at the last byte of the model's weights (so the
 * plugin, which cannot read guest memory in QEMU 7.2, learns where they are:
 * in flash for a built-in model, on the heap for a loaded file); a load of
 * word 1 closes it. Without the plugin these are three loads and a few
 * instructions per bench run, nothing else. The array is const: no
 * writable state.
 */
#include "mts_device_internal.h"

/* Read-only data (flash on a microcontroller); the marks read it through a
 * volatile lvalue, so each is a real load (a volatile object itself would
 * land in .data: GCC treats volatile as writable). */
const uint32_t mts_mem_marker[2] = {0x4d54534du, 0x4d54534du};

#define MARK_LOAD(p) ((void)*(const volatile uint32_t *)(p))

/* Extend [*lo, *hi) by the `count` elements of `size` bytes at `array`. */
static void span_add(const void *array, size_t count, size_t size, uintptr_t *lo, uintptr_t *hi)
{
    if (array == NULL || count == 0u)
        return;
    const uintptr_t a = (uintptr_t)array, b = a + count * size;
    if (a < *lo)
        *lo = a;
    if (b > *hi)
        *hi = b;
}

/* The three loads of the opening mark, back to back: a function of its own
 * (never inlined), so the compiler cannot move another load of the caller
 * between them (volatile orders them only among themselves). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mark_open(uintptr_t lo, uintptr_t hi)
{
    MARK_LOAD(&mts_mem_marker[0]);
    (void)*(const volatile unsigned char *)lo;
    (void)*(const volatile unsigned char *)(hi - 1u);
}

void mts_dev_mem_window_open(const mts_model *model)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    /* The product weights of every stage (mts_stage_describe): int8 bytes
     * or floats by the stage's scheme. */
    for (uint32_t i = 0; i < model->num_stages; i++) {
        mts_stage_info info;
        if (mts_stage_describe(&model->stages[i], &info) != MTS_OK)
            continue;
        for (uint32_t p = 0; p < info.num_products; p++) {
            const mts_stage_product *product = &info.products[p];
            const size_t count = product->rows * product->depth;
            if (product->quant != MTS_QUANT_NONE)
                span_add(product->weight_q, count, 1u, &lo, &hi);
            else
                span_add(product->weight, count, sizeof(float), &lo, &hi);
        }
    }
    if (hi <= lo) /* no weights found: an empty span at the marker */
        lo = (uintptr_t)&mts_mem_marker[0], hi = lo + 1u;
    mark_open(lo, hi);
}

void mts_dev_mem_window_close(void)
{
    MARK_LOAD(&mts_mem_marker[1]);
}
