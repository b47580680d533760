/* Compiler shims used inside the kernels (private). */
#ifndef MTSRNN_COMPILER_H
#define MTSRNN_COMPILER_H

/* Tile functions take their shape as arguments and are called with
 * constants; forcing inlining lets the compiler unroll and vectorise each
 * shape. Any C99 compiler accepts the fallback, only slower. */
#if defined(__GNUC__) || defined(__clang__)
#define MTS_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define MTS_ALWAYS_INLINE inline
#endif

/* A function kept out of its callers so that its stack frame (e.g. a scan
 * chunk's parameter copies) exists only while it runs, never beside the
 * blocked product's frames: the stack peak of a call is the larger of the
 * two, not their sum (a 2 KB stack on the smallest boards). */
#if defined(__GNUC__) || defined(__clang__)
#define MTS_NOINLINE __attribute__((noinline))
#else
#define MTS_NOINLINE
#endif

/* The loops over a tile's rows, steps (and lanes, gemm/tiled_pass.h) must
 * be unrolled completely for its accumulators to stay in registers; -O2
 * alone does not unroll them, and GCC 12 at -O3 only some of them, keeping
 * the rest of the sums in a stack array stored on every pass of the depth
 * loop. Trip counts up to 8. */
#if defined(__clang__)
#define MTS_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define MTS_UNROLL _Pragma("GCC unroll 8")
#else
#define MTS_UNROLL
#endif

#endif /* MTSRNN_COMPILER_H */
