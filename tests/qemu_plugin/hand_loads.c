/* A hand-checked program for the mtsmem plugin (tests/python/test_mtsmem.py):
 * inside the window it makes a known number of loads and stores of known
 * sizes at known places, through volatile pointers so the compiler keeps
 * each one as written:
 *   weights (the span the mark names, hand_data[0..1024)): 256 loads of 4 bytes
 *   other: 100 loads of 2 bytes at hand_data + 2048, 10 stores of 8 bytes at
 *   hand_data + 3008 (1024 + 200 bytes read, 80 written; lines of 64 bytes:
 *   16 + 4 + 2 first touches).
 * Built static for aarch64 (qemu-aarch64). */
#include <stdint.h>

const volatile uint32_t mts_mem_marker[2] = {1u, 2u};
uint8_t hand_data[4096] __attribute__((aligned(64)));

__attribute__((noinline)) static void mark_open(uintptr_t lo, uintptr_t hi)
{
    (void)mts_mem_marker[0];
    (void)*(const volatile uint8_t *)lo;
    (void)*(const volatile uint8_t *)(hi - 1u);
}

__attribute__((noinline)) static void mark_close(void)
{
    (void)mts_mem_marker[1];
}

int main(void)
{
    uint32_t sum = 0;
    mark_open((uintptr_t)hand_data, (uintptr_t)hand_data + 1024u);
    const volatile uint32_t *w = (const volatile uint32_t *)hand_data;
    for (int i = 0; i < 256; i++)
        sum += w[i];
    const volatile uint16_t *o = (const volatile uint16_t *)(hand_data + 2048);
    for (int i = 0; i < 100; i++)
        sum += o[i];
    volatile uint64_t *s = (volatile uint64_t *)(hand_data + 3008);
    for (int i = 0; i < 10; i++)
        s[i] = sum;
    mark_close();
    return (int)(sum & 1u);
}
