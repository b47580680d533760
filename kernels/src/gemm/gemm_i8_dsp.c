/* int8 x int8 product for Cortex-M cores with the DSP extension (Armv7E-M:
 * Cortex-M4, M7; Armv8-M with DSP: M33, M55), Thumb-2: "dsp".
 *
 *   acc[t][r] = sum_{i < depth} Wq[r][i] * Xq[t][i]            (int32, exact)
 *   Y[t][r]   = (float)acc[t][r] * (w_scale[r] * x_scale[t])   (float32)
 *
 * SMLAD adds two 16 x 16-bit products to an int32 accumulator. Four int8
 * values loaded as one word become two int16 pairs by SXTB16 (bytes 0 and 2)
 * and SXTB16 ROR #8 (bytes 1 and 3), so one chunk of 4 inputs of one output
 * takes two SMLADs. |Wq * Xq| <= 128 * 128, so the two products and the sum
 * are exact in int32 for depth <= MTS_I8_MAX_DEPTH: the result equals
 * mts_gemm_i8i8_reference bit for bit for every input (the scaling is the
 * reference's C expression).
 *
 * What costs instructions besides the SMLADs is the unpacking: every
 * weight word needs 2 SXTB16 wherever it is used, every input word 2 per
 * row that uses it. So the inputs of a group of up to 6 time steps are
 * unpacked once per panel of 64 inputs into int16 pairs in a stack buffer
 * (768 bytes), which then serves every row, and a tile is 1 row x S steps
 * (S <= 6): its weight word, unpacked once in registers, serves all S steps.
 * Per 4 inputs: LDR + 2 SXTB16 (weights), the pairs of the steps (one LDM
 * of 4 words per two steps for S = 2, 3, 4; one LDRD per step for S = 5,
 * 6), 2S SMLAD: 13 instructions for 16 multiply-adds at S = 4 (0.81), 21
 * for 24 at S = 6 (0.875). LDM needs 4 registers in ascending order, fixed
 * to r0..r3, and a tile with it 12 registers (4 accumulators, 2 weights, 4
 * pairs, 2 pointers); with 5 or 6 steps it would need 13 or 14, more than
 * GCC 12 can give the asm. So steps go in groups of 4 (16 = 4 + 4 + 4 + 4),
 * the last group 5 or 6 rather than 1 or 2. The depth loop is unrolled
 * over the whole panel (16 chunks, entered by TBH after the chunks a
 * shorter panel skips), so it has no loop test. For T = 1 each weight is
 * used once, so the tile is 3 rows x 1 step sharing the step's pairs:
 * LDRD, then per row LDR + 2 SXTB16 + 2 SMLAD. The alternative tried
 * first, 2 rows x 3 steps with the weights of both rows unpacked, needs
 * every core register and 27 instructions per 24 multiply-adds in its loop
 * (LDR end test included).
 *
 * Why inline assembly: GCC 12 neither folds the rotation into SXTB16 (it
 * emits a separate ROR; arm_acle.h has no rotating form) nor keeps such
 * tiles in registers (it spilled accumulators to the stack in the depth
 * loop). Only the depth loops are assembly. They need -O2 or -Os (at -O0
 * and -O1 GCC runs out of registers for the operands).
 *
 * Memory: weights and inputs are read one 4-byte word per 4 inputs, by LDR
 * (which allows any alignment on these cores; the C side uses a 4-byte
 * memcpy, which GCC turns into LDR), never beyond input depth - 1 of a row;
 * the last depth mod 4 inputs are read byte by byte in C. Rows left over
 * below a 3 x 1 tile take a C loop over the same unpacked inputs. With
 * depth > 64 the partial int32 sums between panels are kept in Y itself
 * (memcpy of the int32 bits; Y is overwritten by the final floats).
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_DSP) /* isa.h: M-profile, Thumb-2, DSP extension */

#include <arm_acle.h>
#include <string.h>

#include "../compiler.h"

#define DSP_PANEL_CHUNKS 16     /* 4-input chunks per panel: 64 inputs (DSP_PANEL has 16) */
#define DSP_MAX_STEPS 6
#define DSP_ROW_BLOCK_BYTES 8192u /* weights per row block: half a 16 KB cache */
#define DSP_PAIRS_WORDS (2 * DSP_MAX_STEPS * DSP_PANEL_CHUNKS)

static MTS_ALWAYS_INLINE uint32_t dsp_load_word(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Bytes 1 and 3 of v, sign-extended to int16 halves (SXTB16 ROR #8). */
static MTS_ALWAYS_INLINE int16x2_t dsp_sxtb16_odd(uint32_t v)
{
    int16x2_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* One group of steps and one panel of inputs: what the tiles need. */
typedef struct dsp_job {
    size_t rows;
    size_t depth;
    const int8_t *w;           /* row 0 of the product */
    size_t w_stride;
    const float *w_scale;
    const int8_t *xq;          /* step 0 of the group */
    size_t xq_stride;
    const float *x_scale;      /* of step 0 of the group */
    float *y;                  /* (step 0 of the group, row 0) */
    size_t y_stride;
    size_t steps;              /* in the group, 1 .. DSP_MAX_STEPS */
    int first;                 /* first panel: the sums start at 0 */
    int last;                  /* last panel: finish and scale */
    size_t chunk0;             /* the panel's first 4-input chunk */
    size_t chunks;             /* 4-input chunks in the panel, >= 1 */
    int skip;                  /* DSP_PANEL_CHUNKS - chunks */
    const uint32_t *pairs;     /* the panel's inputs as int16 pairs */
} dsp_job;

/* The last depth mod 4 inputs, byte by byte, added to the sums of rows
 * r .. r+nr-1 (acc[k * ns + t]: row r + k, step t). */
static __attribute__((noinline)) void dsp_add_tails(const dsp_job *job, size_t r, size_t nr,
                                                    size_t ns, int32_t *acc)
{
    for (size_t k = 0; k < nr; k++) {
        const int8_t *w_r = job->w + (r + k) * job->w_stride;
        for (size_t t = 0; t < ns; t++) {
            const int8_t *x_t = job->xq + t * job->xq_stride;
            for (size_t i = job->depth & ~(size_t)3; i < job->depth; i++)
                acc[k * ns + t] += (int32_t)w_r[i] * (int32_t)x_t[i];
        }
    }
}

/* Every sum of a tile goes through this after the depth loop, as in the
 * reference: Y = (float)acc * (w_scale[r] * x_scale[t]). */
#define DSP_SCALE(y, acc, w_scale, x_scale) ((y) = (float)(acc) * ((w_scale) * (x_scale)))

/* ---- register tiles: depth loops ---------------------------------------- */

/* The depth loops are unrolled over a whole panel of DSP_PANEL_CHUNKS
 * chunks, so they have no loop test: a panel of fewer chunks skips the
 * first `skip` of them by TBH (the pointers advance by post-increment from
 * wherever the code is entered). Labels 10 .. 25 are the chunks. */
#define DSP_TBH_ENTRY(i) ".hword (" #i "f - 0b) / 2\n\t"
#define DSP_PANEL(tmp, CHUNK)                                           \
    "ldr %[" tmp "], %[skip]\n\t"                                       \
    "tbh [pc, %[" tmp "], lsl #1]\n"                                    \
    "0:\n\t"                                                            \
    DSP_TBH_ENTRY(10) DSP_TBH_ENTRY(11) DSP_TBH_ENTRY(12)               \
    DSP_TBH_ENTRY(13) DSP_TBH_ENTRY(14) DSP_TBH_ENTRY(15)               \
    DSP_TBH_ENTRY(16) DSP_TBH_ENTRY(17) DSP_TBH_ENTRY(18)               \
    DSP_TBH_ENTRY(19) DSP_TBH_ENTRY(20) DSP_TBH_ENTRY(21)               \
    DSP_TBH_ENTRY(22) DSP_TBH_ENTRY(23) DSP_TBH_ENTRY(24)               \
    DSP_TBH_ENTRY(25)                                                   \
    "10:\n\t" CHUNK "11:\n\t" CHUNK "12:\n\t" CHUNK "13:\n\t" CHUNK     \
    "14:\n\t" CHUNK "15:\n\t" CHUNK "16:\n\t" CHUNK "17:\n\t" CHUNK     \
    "18:\n\t" CHUNK "19:\n\t" CHUNK "20:\n\t" CHUNK "21:\n\t" CHUNK     \
    "22:\n\t" CHUNK "23:\n\t" CHUNK "24:\n\t" CHUNK "25:\n\t" CHUNK

/* 1 row x S steps: the row's weight word, unpacked once, times the pairs
 * of each step: LDM of the even and odd pairs of two steps (x0..x3, which
 * must be registers in ascending order), 4 SMLAD; an odd last step by LDRD
 * into x0, x1 and 2 SMLAD. */
#define DSP_1XS_TWO_STEPS(ta, tb)                                       \
    "ldmia %[xp]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                    \
    "smlad %[a" #ta "], %[we], %[x0], %[a" #ta "]\n\t"                  \
    "smlad %[a" #ta "], %[wo], %[x1], %[a" #ta "]\n\t"                  \
    "smlad %[a" #tb "], %[we], %[x2], %[a" #tb "]\n\t"                  \
    "smlad %[a" #tb "], %[wo], %[x3], %[a" #tb "]\n\t"
#define DSP_1XS_ONE_STEP(t)                                             \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t"                                \
    "smlad %[a" #t "], %[we], %[x0], %[a" #t "]\n\t"                    \
    "smlad %[a" #t "], %[wo], %[x1], %[a" #t "]\n\t"
#define DSP_1XS_STEPS_2 DSP_1XS_TWO_STEPS(0, 1)
#define DSP_1XS_STEPS_3 DSP_1XS_TWO_STEPS(0, 1) DSP_1XS_ONE_STEP(2)
#define DSP_1XS_STEPS_4 DSP_1XS_TWO_STEPS(0, 1) DSP_1XS_TWO_STEPS(2, 3)
#define DSP_1XS_STEPS_5                                                 \
    DSP_1XS_ONE_STEP(0) DSP_1XS_ONE_STEP(1) DSP_1XS_ONE_STEP(2)         \
    DSP_1XS_ONE_STEP(3) DSP_1XS_ONE_STEP(4)
#define DSP_1XS_STEPS_6 DSP_1XS_STEPS_5 DSP_1XS_ONE_STEP(5)
#define DSP_1XS_CHUNK(S)                                                \
    "ldr %[we], [%[wp]], #4\n\t"                                        \
    "sxtb16 %[wo], %[we], ror #8\n\t"                                   \
    "sxtb16 %[we], %[we]\n\t"                                           \
    DSP_1XS_STEPS_##S
#define DSP_1XS_ASM(S) DSP_PANEL("x0", DSP_1XS_CHUNK(S))

/* S = 2, 3, 4 (LDM): 12 registers: 4 accumulators (unused ones stay 0),
 * the unpacked weights, x0..x3 (r0..r3, ascending for the LDM), 2
 * pointers; the entry (skip) comes from memory (sp-relative). */
#define DSP_1XS_LOOP_LDM(S)                                             \
    __asm__ volatile(                                                   \
        DSP_1XS_ASM(S)                                                  \
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),  \
          [wp] "+r"(wp), [xp] "+r"(xp), [we] "=&r"(we), [wo] "=&r"(wo), \
          [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3) \
        : [skip] "m"(skip)                                              \
        : "cc", "memory")
/* S = 5, 6 (LDRD): 12 registers, 6 accumulators and x0, x1. LDM with 5
 * or 6 steps would need one or two more, which GCC 12 cannot give an asm
 * statement here ("impossible constraints"). */
#define DSP_1XS_LOOP_LDRD(S)                                            \
    __asm__ volatile(                                                   \
        DSP_1XS_ASM(S)                                                  \
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),  \
          [a4] "+r"(a4), [a5] "+r"(a5), [wp] "+r"(wp), [xp] "+r"(xp),  \
          [we] "=&r"(we), [wo] "=&r"(wo), [x0] "=&r"(x0), [x1] "=&r"(x1) \
        : [skip] "m"(skip)                                              \
        : "cc", "memory")

/* Every row of the group for its S steps (2 <= S <= 6; inlined with S
 * constant). What the loop over rows needs is copied into locals first:
 * the assembly's "memory" clobber would reload it from *job otherwise. */
#define DSP_EACH_STEP(M) M(0) M(1) M(2) M(3) M(4) M(5)
static MTS_ALWAYS_INLINE void dsp_rows_1xs(const dsp_job *job, size_t S)
{
    const size_t rows = job->rows, w_stride = job->w_stride, y_stride = job->y_stride;
    const int8_t *w = job->w + 4 * job->chunk0;
    const float *w_scale = job->w_scale;
    float *y = job->y;
    const int first = job->first, last = job->last, tails = (job->depth & 3) != 0;
    const uint32_t *const pairs = job->pairs;
    /* Locals, so that the assembly reads them relative to sp. */
    const int skip = job->skip;
#define DSP_X_SCALE(t) const float x_scale##t = (t) < S ? job->x_scale[(t) < S ? (t) : 0] : 0.0f;
    DSP_EACH_STEP(DSP_X_SCALE)
#undef DSP_X_SCALE
    for (size_t r = 0; r < rows; r++) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
        if (!first) {
            const float *p = y + r;
            __asm__("" : "+r"(p));
#define DSP_READ(t)                                                     \
    if ((t) < S) {                                                      \
        memcpy(&a##t, p, sizeof a##t);                                  \
        p += y_stride;                                                  \
    }
            DSP_EACH_STEP(DSP_READ)
#undef DSP_READ
        }
        const int8_t *wp = w + r * w_stride;
        const uint32_t *xp = pairs;
        uint32_t we, wo;
        register uint32_t x0 __asm__("r0"), x1 __asm__("r1"), x2 __asm__("r2"),
            x3 __asm__("r3");
        switch (S) {
        case 6: DSP_1XS_LOOP_LDRD(6); break;
        case 5: DSP_1XS_LOOP_LDRD(5); break;
        case 4: DSP_1XS_LOOP_LDM(4); break;
        case 3: DSP_1XS_LOOP_LDM(3); break;
        default: DSP_1XS_LOOP_LDM(2); break;
        }
        if (!last) {
            float *p = y + r;
            __asm__("" : "+r"(p));
#define DSP_WRITE(t)                                                    \
    if ((t) < S) {                                                      \
        memcpy(p, &a##t, sizeof a##t);                                  \
        p += y_stride;                                                  \
    }
            DSP_EACH_STEP(DSP_WRITE)
#undef DSP_WRITE
            continue;
        }
        if (tails) {
            int32_t acc[DSP_MAX_STEPS] = {a0, a1, a2, a3, a4, a5};
            dsp_add_tails(job, r, 1, S, acc);
            a0 = acc[0];
            a1 = acc[1];
            a2 = acc[2];
            a3 = acc[3];
            a4 = acc[4];
            a5 = acc[5];
        }
        const float w_scale_r = w_scale[r];
        /* One pointer walking down the steps: hidden from the optimiser,
         * which would otherwise keep (and spill) one pointer per step. */
        float *y_r = y + r;
        __asm__("" : "+r"(y_r));
#define DSP_STORE(t)                                                    \
    if ((t) < S) {                                                      \
        DSP_SCALE(*y_r, a##t, w_scale_r, x_scale##t);                   \
        y_r += y_stride;                                                \
    }
        DSP_EACH_STEP(DSP_STORE)
#undef DSP_STORE
    }
}

/* One row of a 3 x 1 tile: the weight word at `addr`, unpacked, times the
 * step's pairs (xe, xo). */
#define DSP_3X1_ROW(addr, a)                                            \
    "ldr %[wv], " addr "\n\t"                                           \
    "sxtb16 %[wo], %[wv], ror #8\n\t"                                   \
    "sxtb16 %[wv], %[wv]\n\t"                                           \
    "smlad %[" a "], %[wv], %[xe], %[" a "]\n\t"                        \
    "smlad %[" a "], %[wo], %[xo], %[" a "]\n\t"
#define DSP_3X1_CHUNK                                                   \
    "ldrd %[xe], %[xo], [%[xp]], #8\n\t"                                \
    DSP_3X1_ROW("[%[w0], %[ws], lsl #1]", "a2")                         \
    DSP_3X1_ROW("[%[w0], %[ws]]", "a1")                                 \
    DSP_3X1_ROW("[%[w0]], #4", "a0")

/* The rows of a single step (T = 1: each weight is used once, so rows share
 * the step's pairs instead), 3 at a time, then 1. Row 2 of a tile is
 * addressed as w0 + 2 ws, so the tile needs 10 registers; 4 x 1 would save
 * 1/48 of an instruction per multiply-add. */
static __attribute__((noinline)) void dsp_rows_3x1(const dsp_job *job)
{
    const size_t rows = job->rows, w_stride = job->w_stride;
    const int8_t *w = job->w + 4 * job->chunk0;
    const float *w_scale = job->w_scale;
    float *y = job->y;
    const int first = job->first, last = job->last, tails = (job->depth & 3) != 0;
    const uint32_t *const pairs = job->pairs;
    const int skip = job->skip;
    const float x_scale = job->x_scale[0];
    size_t r = 0;
    for (; r + 3 <= rows; r += 3) {
        int32_t a0 = 0, a1 = 0, a2 = 0;
        if (!first) {
            memcpy(&a0, &y[r], sizeof a0);
            memcpy(&a1, &y[r + 1], sizeof a1);
            memcpy(&a2, &y[r + 2], sizeof a2);
        }
        const int8_t *w0 = w + r * w_stride;
        const uint32_t *xp = pairs;
        uint32_t wv, wo, xe, xo;
        __asm__ volatile(
            DSP_PANEL("wv", DSP_3X1_CHUNK)
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [w0] "+r"(w0), [xp] "+r"(xp),
              [wv] "=&r"(wv), [wo] "=&r"(wo), [xe] "=&r"(xe), [xo] "=&r"(xo)
            : [ws] "r"(w_stride), [skip] "m"(skip)
            : "cc", "memory");
        if (!last) {
            memcpy(&y[r], &a0, sizeof a0);
            memcpy(&y[r + 1], &a1, sizeof a1);
            memcpy(&y[r + 2], &a2, sizeof a2);
            continue;
        }
        if (tails) {
            int32_t acc[3] = {a0, a1, a2};
            dsp_add_tails(job, r, 3, 1, acc);
            a0 = acc[0];
            a1 = acc[1];
            a2 = acc[2];
        }
        DSP_SCALE(y[r], a0, w_scale[r], x_scale);
        DSP_SCALE(y[r + 1], a1, w_scale[r + 1], x_scale);
        DSP_SCALE(y[r + 2], a2, w_scale[r + 2], x_scale);
    }
    /* The last rows in C, on the same pairs. */
    for (; r < rows; r++) {
        int32_t acc = 0;
        if (!first)
            memcpy(&acc, &y[r], sizeof acc);
        const int8_t *w_r = w + r * w_stride;
        for (size_t c = 0; c < job->chunks; c++) {
            uint32_t v = dsp_load_word(w_r + 4 * c);
            acc = __smlad(__sxtb16((int8x4_t)v), (int16x2_t)pairs[2 * c], acc);
            acc = __smlad(dsp_sxtb16_odd(v), (int16x2_t)pairs[2 * c + 1], acc);
        }
        if (!last) {
            memcpy(&y[r], &acc, sizeof acc);
            continue;
        }
        if (tails)
            dsp_add_tails(job, r, 1, 1, &acc);
        DSP_SCALE(y[r], acc, w_scale[r], x_scale);
    }
}

/* ---- driver -------------------------------------------------------------- */

/* Unpack the panel's chunks of the group's input rows: per chunk and step,
 * the even bytes then the odd bytes as int16 pairs. */
static void dsp_unpack(const dsp_job *job, uint32_t *pairs)
{
    for (size_t c = 0; c < job->chunks; c++) {
        const int8_t *x = job->xq + 4 * (job->chunk0 + c);
        for (size_t t = 0; t < job->steps; t++, x += job->xq_stride) {
            uint32_t v = dsp_load_word(x);
            *pairs++ = (uint32_t)__sxtb16((int8x4_t)v);
            *pairs++ = (uint32_t)dsp_sxtb16_odd(v);
        }
    }
}

/* All rows of one panel of the group. */
static __attribute__((noinline)) void dsp_panel(const dsp_job *job)
{
    switch (job->steps) {
    case 6: dsp_rows_1xs(job, 6); break;
    case 5: dsp_rows_1xs(job, 5); break;
    case 4: dsp_rows_1xs(job, 4); break;
    case 3: dsp_rows_1xs(job, 3); break;
    case 2: dsp_rows_1xs(job, 2); break;
    default: dsp_rows_3x1(job); break;
    }
}

/* All rows of one group of steps, panel by panel; `pairs` (the buffer
 * job->pairs points to) receives each panel's unpacked inputs. */
static void dsp_step_group(dsp_job *job, uint32_t *pairs)
{
    const size_t full_chunks = job->depth / 4;
    if (full_chunks == 0) {
        /* depth < 4: only the byte-wise products. */
        for (size_t r = 0; r < job->rows; r++) {
            int32_t acc[DSP_MAX_STEPS] = {0};
            dsp_add_tails(job, r, 1, job->steps, acc);
            for (size_t t = 0; t < job->steps; t++)
                DSP_SCALE(job->y[t * job->y_stride + r], acc[t], job->w_scale[r],
                          job->x_scale[t]);
        }
        return;
    }
    for (size_t c0 = 0; c0 < full_chunks; c0 += DSP_PANEL_CHUNKS) {
        job->chunk0 = c0;
        job->chunks = full_chunks - c0 < DSP_PANEL_CHUNKS ? full_chunks - c0 : DSP_PANEL_CHUNKS;
        job->skip = (int)(DSP_PANEL_CHUNKS - job->chunks);
        job->first = c0 == 0;
        job->last = c0 + job->chunks == full_chunks;
        dsp_unpack(job, pairs);
        dsp_panel(job);
    }
}

void mtsi_gemm_i8i8_dsp(size_t rows, size_t depth, size_t steps,
                        const int8_t *w, size_t w_stride, const float *w_scale,
                        const int8_t *xq, size_t xq_stride, const float *x_scale,
                        float *y, size_t y_stride)
{
    uint32_t pairs[DSP_PAIRS_WORDS]; /* 768 bytes of stack */
    dsp_job job;
    job.pairs = pairs;
    job.depth = depth;
    job.w_stride = w_stride;
    job.xq_stride = xq_stride;
    job.y_stride = y_stride;
    /* With more than one step group, the rows go in blocks of about
     * DSP_ROW_BLOCK_BYTES of weights, the step groups inside a block: a
     * block's weights then come from flash once per call and from a small
     * cache (an XIP or flash cache) for its other step groups, instead of
     * the whole matrix once per group (measured with the QEMU plugin,
     * docs/performance.md). Which rows share a call changes no sum: the
     * int32 sums are exact and each output's scaling is the same. */
    size_t block_rows = rows;
    if (steps > DSP_MAX_STEPS) {
        block_rows = DSP_ROW_BLOCK_BYTES / (depth > 0 ? depth : 1);
        if (block_rows < 3)
            block_rows = 3;
    }
    for (size_t r0 = 0; r0 < rows; r0 += block_rows) {
        job.rows = rows - r0 < block_rows ? rows - r0 : block_rows;
        job.w = w + r0 * w_stride;
        job.w_scale = w_scale + r0;
        /* Groups of 4 steps (the LDM tile, 3.25 instructions per step and 4
         * inputs against 3.5 for 6 steps), ending with 5 or 6 steps rather
         * than a group of 1 or 2 (16 = 4 + 4 + 4 + 4, 7 = 4 + 3, 10 = 4 + 6). */
        size_t t = 0;
        while (t < steps) {
            const size_t left = steps - t;
            job.steps = left == 5 || left == 6 || left < 4 ? left : 4;
            job.xq = xq + t * xq_stride;
            job.x_scale = x_scale + t;
            job.y = y + t * y_stride + r0;
            dsp_step_group(&job, pairs);
            t += job.steps;
        }
    }
}

#else

/* Not built for this target; ISO C does not allow an empty translation unit. */
typedef int mts_gemm_i8_dsp_not_built;

#endif /* MTS_HAVE_DSP */
