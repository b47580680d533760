/* The access pattern the cache model is checked against cachegrind with
 * (tests/python/test_mtsmem.py): over a 4 MiB array, `passes` sweeps of
 * 4-byte loads with a stride, then a blocked walk (rows of 4 KiB, each read
 * `reuse` times in a row) with a store every 64 bytes. Prints the array's
 * address, so the test rebuilds the same trace for mtsmem-trace. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BYTES (4u << 20)

int main(int argc, char **argv)
{
    const unsigned stride = argc > 1 ? (unsigned)atoi(argv[1]) : 4u;
    const unsigned passes = argc > 2 ? (unsigned)atoi(argv[2]) : 2u;
    const unsigned reuse = argc > 3 ? (unsigned)atoi(argv[3]) : 4u;
    volatile uint32_t *a = aligned_alloc(4096, BYTES);
    if (a == NULL)
        return 1;
    uint32_t sum = 0;
    for (unsigned p = 0; p < passes; p++)
        for (unsigned i = 0; i < BYTES / 4u; i += stride / 4u)
            sum += a[i];
    for (unsigned row = 0; row < BYTES / 4096u; row++)
        for (unsigned r = 0; r < reuse; r++)
            for (unsigned i = 0; i < 1024u; i++) {
                sum += a[row * 1024u + i];
                if (i % 16u == 0u)
                    a[row * 1024u + i] = sum;
            }
    printf("%p %u\n", (void *)a, sum);
    return 0;
}
