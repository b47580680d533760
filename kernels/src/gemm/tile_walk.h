/* Private: the walk of the x86 register-tiled products over their outputs
 * (gemm_avx2.c, gemm_avx512.c, gemm_i8_x86.c), written once.
 *
 * The rows x steps outputs of a product are cut into tiles of R rows x S
 * steps, R and S constants at every tile, so each shape is compiled on its
 * own with its accumulators in registers:
 *   - steps == 1 (a matrix-vector product): tiles of 8 rows x 1 step while
 *     8 rows are left (eight weight streams in flight);
 *   - groups of GROUP rows, each swept by tiles of TILE_STEPS steps, then
 *     one tile of the steps left over (fewer than TILE_STEPS <= 4);
 *   - one group of the rows left over (fewer than GROUP <= 6), swept alike.
 * Row groups outer, step tiles inner: a group's weight rows come from
 * memory once per block and from cache for its other step tiles.
 *
 * The caller names its tile as a macro TILE(R, S, r, t, prefetch): the tile
 * of R x S outputs whose first row is r and first step t. `prefetch` is
 * nonzero for a group's first tile when the next group's weight rows should
 * be prefetched meanwhile (asked for by the walk's own `prefetch` argument:
 * the float products on large weights; the int8 products pass 0 and their
 * tiles ignore it), as long as another tile or group of the same height
 * follows.
 *
 * Every case of the two switches is compiled, also those a product never
 * reaches (3 leftover steps with TILE_STEPS = 3, 4 or 5 leftover rows with
 * GROUP <= 4): with them left out, GCC 12 allocated the registers of the
 * AVX2 int8-wa product's 3 x 3 tile differently, 37 instructions per pass
 * of its depth loop instead of 28 (2 % slower at T = 16).
 *
 * A tile's arithmetic for an output depends on neither the tile's shape nor
 * its place, so the walk decides only which tile computes an output, never
 * its bits (the results are bit-identical for every T).
 */
#ifndef MTSRNN_GEMM_TILE_WALK_H
#define MTSRNN_GEMM_TILE_WALK_H

#include <stddef.h>

/* The step tiles of one group of R (a constant) rows starting at row r. */
#define MTS_TILE_WALK_STEPS(TILE, R, r, steps, TILE_STEPS, prefetch)              \
    do {                                                                          \
        size_t t_ = 0;                                                            \
        for (; t_ + (TILE_STEPS) <= (steps); t_ += (TILE_STEPS))                  \
            TILE(R, TILE_STEPS, r, t_, (prefetch) && t_ == 0);                    \
        switch ((steps) - t_) {                                                   \
        case 3: TILE(R, 3, r, t_, (prefetch) && t_ == 0); break;                  \
        case 2: TILE(R, 2, r, t_, (prefetch) && t_ == 0); break;                  \
        case 1: TILE(R, 1, r, t_, (prefetch) && t_ == 0); break;                  \
        default: break;                                                           \
        }                                                                         \
    } while (0)

/* The whole product: rows x steps outputs. */
#define MTS_TILE_WALK(TILE, rows, steps, GROUP, TILE_STEPS, prefetch)             \
    do {                                                                          \
        size_t r_ = 0;                                                            \
        if ((steps) == 1)                                                         \
            for (; r_ + 8 <= (rows); r_ += 8)                                     \
                TILE(8, 1, r_, 0, (prefetch) && r_ + 16 <= (rows));               \
        for (; r_ + (GROUP) <= (rows); r_ += (GROUP))                             \
            MTS_TILE_WALK_STEPS(TILE, GROUP, r_, steps, TILE_STEPS,               \
                                (prefetch) && r_ + 2 * (GROUP) <= (rows));        \
        switch ((rows) - r_) {                                                    \
        case 5: MTS_TILE_WALK_STEPS(TILE, 5, r_, steps, TILE_STEPS, 0); break;    \
        case 4: MTS_TILE_WALK_STEPS(TILE, 4, r_, steps, TILE_STEPS, 0); break;    \
        case 3: MTS_TILE_WALK_STEPS(TILE, 3, r_, steps, TILE_STEPS, 0); break;    \
        case 2: MTS_TILE_WALK_STEPS(TILE, 2, r_, steps, TILE_STEPS, 0); break;    \
        case 1: MTS_TILE_WALK_STEPS(TILE, 1, r_, steps, TILE_STEPS, 0); break;    \
        default: break;                                                           \
        }                                                                         \
    } while (0)

#endif /* MTSRNN_GEMM_TILE_WALK_H */
