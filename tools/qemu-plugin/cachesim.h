/* A set-associative cache model with LRU replacement, write-back and
 * write-allocate (the policy of cachegrind's D1/LL and of the Cortex-A72's
 * L1D/L2), one level of a hierarchy; used by the QEMU plugin mtsmem.c and by
 * its trace driver mtsmem_trace.c (the tests feed both the same traces).
 *
 * A cache of S bytes, L-byte lines and W ways has S / (L * W) sets; line a
 * (address / L) lives in set a mod sets. Each way keeps its line's tag, a
 * last-use stamp (LRU: the way with the smallest stamp is replaced) and a
 * dirty bit (a store marks it; replacing a dirty line is a write-back).
 * Host-side code: malloc is fine here (the no-malloc rule is the kernels').
 */
#ifndef MTSMEM_CACHESIM_H
#define MTSMEM_CACHESIM_H

#include <stdint.h>
#include <stdlib.h>

typedef struct cachesim {
    uint64_t size, line, ways, sets;
    uint64_t *tag;   /* [sets * ways], UINT64_MAX = empty */
    uint64_t *stamp; /* [sets * ways] */
    uint8_t *dirty;  /* [sets * ways] */
    uint64_t clock;
    uint64_t accesses, misses, writebacks;
} cachesim;

/* 0 on success; -1 for a shape that is not size = sets * ways * line with
 * line and sets powers of two. */
static inline int cachesim_init(cachesim *c, uint64_t size, uint64_t line, uint64_t ways)
{
    if (line == 0 || ways == 0 || (line & (line - 1)) || size % (line * ways))
        return -1;
    c->size = size;
    c->line = line;
    c->ways = ways;
    c->sets = size / (line * ways);
    if (c->sets == 0 || (c->sets & (c->sets - 1)))
        return -1;
    const size_t n = (size_t)(c->sets * ways);
    c->tag = malloc(n * sizeof *c->tag);
    c->stamp = calloc(n, sizeof *c->stamp);
    c->dirty = calloc(n, 1);
    if (!c->tag || !c->stamp || !c->dirty)
        return -1;
    for (size_t i = 0; i < n; i++)
        c->tag[i] = UINT64_MAX;
    c->clock = c->accesses = c->misses = c->writebacks = 0;
    return 0;
}

/* One access to line number `line_addr` (address / line). Returns 1 on a
 * miss (the line is then filled, its LRU victim written back if dirty). */
static inline int cachesim_access(cachesim *c, uint64_t line_addr, int store)
{
    const uint64_t set = line_addr & (c->sets - 1);
    uint64_t *tag = c->tag + set * c->ways;
    uint64_t *stamp = c->stamp + set * c->ways;
    uint8_t *dirty = c->dirty + set * c->ways;
    c->accesses++;
    c->clock++;
    uint64_t victim = 0;
    for (uint64_t w = 0; w < c->ways; w++) {
        if (tag[w] == line_addr) {
            stamp[w] = c->clock;
            dirty[w] |= (uint8_t)(store != 0);
            return 0;
        }
        if (stamp[w] < stamp[victim])
            victim = w;
    }
    c->misses++;
    if (tag[victim] != UINT64_MAX && dirty[victim])
        c->writebacks++;
    tag[victim] = line_addr;
    stamp[victim] = c->clock;
    dirty[victim] = (uint8_t)(store != 0);
    return 1;
}

/* Empty every line (dirty ones dropped, not written back) and zero the
 * counts: each measured window starts cold, whatever ran before it. */
static inline void cachesim_clear(cachesim *c)
{
    const size_t n = (size_t)(c->sets * c->ways);
    for (size_t i = 0; i < n; i++) {
        c->tag[i] = UINT64_MAX;
        c->stamp[i] = 0;
        c->dirty[i] = 0;
    }
    c->clock = c->accesses = c->misses = c->writebacks = 0;
}

static inline void cachesim_free(cachesim *c)
{
    free(c->tag);
    free(c->stamp);
    free(c->dirty);
}

#endif
