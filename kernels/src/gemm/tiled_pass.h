/* Private: the lanes a portable tiled product (gemm_tiled.c,
 * gemm_i8_tiled.c) sums per pass over the depth, and how it adds them up
 * at the end, written once.
 *
 * Those products keep `lanes` partial sums per output (input i goes to lane
 * i mod lanes), so a tile of R rows x S steps holds R x S x lanes
 * accumulators. Where a core's registers cannot hold them (4 x 4 x 8 = 128
 * floats against the M4F's 32 single-precision registers or aarch64's 32
 * vectors of 4) they spill to the stack on every pass of the depth loop.
 * A build then states how many accumulators fit (`accs`, per core): a tile
 * sweeps its weight rows and inputs once per group of lanes, the largest
 * group (a power of two dividing `lanes`) whose R x S x group sums fit, and
 * its loops over rows, steps and lanes are unrolled (MTS_UNROLL) so that
 * those sums stay in registers. Each lane still sums its own inputs in the
 * same order and the lanes are added as before, so the bits are those of
 * one pass: only the order in which lanes are visited changes. Without a
 * stated budget (the x86 hosts) a tile makes one pass, as it always did.
 */
#ifndef MTSRNN_GEMM_TILED_PASS_H
#define MTSRNN_GEMM_TILED_PASS_H

#include <stddef.h>

#include "../compiler.h"

/* The lanes summed per pass by a tile of `outputs` (rows x steps) outputs:
 * `lanes` halved until outputs x group <= accs, at least 1. Constants in,
 * a constant out once inlined. */
static MTS_ALWAYS_INLINE size_t mtsi_tiled_pass_lanes(size_t outputs, size_t lanes,
                                                      size_t accs)
{
    size_t group = lanes;
    while (group > 1 && outputs * group > accs)
        group /= 2;
    return group;
}

/* An output's `lanes` partial sums added pairwise in a fixed order (lane l
 * and l + half, halving): the order both portable products promise, so
 * that their bits depend on the lanes and the depth only. Overwrites the
 * sums; returns their total. */
static MTS_ALWAYS_INLINE float mtsi_tiled_lane_sum(float *lane_sum, size_t lanes)
{
    for (size_t half = lanes / 2; half > 0; half /= 2)
        for (size_t l = 0; l < half; l++)
            lane_sum[l] += lane_sum[l + half];
    return lane_sum[0];
}

#endif /* MTSRNN_GEMM_TILED_PASS_H */
