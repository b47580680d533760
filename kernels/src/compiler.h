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

/* Unroll the loop that follows completely (its trip count a constant): a
 * tile's loops over its rows, steps and lanes, so that its accumulators
 * become registers. Left to itself GCC 12 unrolls only some of them and keeps
 * the accumulators in a stack array, storing them on every pass of the
 * depth loop. */
#if defined(__GNUC__) && !defined(__clang__) && (__GNUC__ >= 8)
#define MTS_UNROLL _Pragma("GCC unroll 32")
#elif defined(__clang__)
#define MTS_UNROLL _Pragma("unroll")
#else
#define MTS_UNROLL
#endif

#endif /* MTSRNN_COMPILER_H */
