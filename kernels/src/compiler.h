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

#endif /* MTSRNN_COMPILER_H */
