/* mtsmem-trace: the plugin's cache hierarchy (cachesim.h, the same code and
 * the same per-line walk as mtsmem.c) over an address trace, for the tests
 * (tests/test_mtsmem.py: against a brute-force reference and cachegrind).
 *
 *   mtsmem-trace SIZE:LINE:WAYS [SIZE:LINE:WAYS ...] < trace
 *   trace: one access per line, "ADDR SIZE r|w" (ADDR in hex or decimal)
 *   prints per level "level=I accesses=A misses=M writebacks=W"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cachesim.h"

int main(int argc, char **argv)
{
    cachesim levels[3];
    const int n = argc - 1;
    if (n < 1 || n > 3) {
        fprintf(stderr, "usage: mtsmem-trace SIZE:LINE:WAYS [...] (1 to 3 levels) < trace\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        unsigned long long size, line, ways;
        if (sscanf(argv[i + 1], "%llu:%llu:%llu", &size, &line, &ways) != 3 ||
            cachesim_init(&levels[i], size, line, ways) != 0) {
            fprintf(stderr, "mtsmem-trace: bad cache shape %s (SIZE:LINE:WAYS)\n", argv[i + 1]);
            return 2;
        }
    }
    char kind;
    unsigned long long addr, size;
    while (scanf("%lli %llu %c", (long long *)&addr, &size, &kind) == 3) {
        const uint64_t line = levels[0].line;
        for (uint64_t a = addr / line; a <= (addr + size - 1) / line; a++)
            for (int level = 0; level < n; level++)
                if (!cachesim_access(&levels[level], a * line / levels[level].line, kind == 'w'))
                    break;
    }
    for (int i = 0; i < n; i++) {
        printf("level=%d accesses=%" PRIu64 " misses=%" PRIu64 " writebacks=%" PRIu64 "\n", i + 1,
               levels[i].accesses, levels[i].misses, levels[i].writebacks);
        cachesim_free(&levels[i]);
    }
    return 0;
}
