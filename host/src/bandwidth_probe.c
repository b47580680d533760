#include "bandwidth_probe.h"

#include <string.h>

#include "mtsrnn/gemm.h" /* mts_cpu_features, mts_cpu_feature_name */

/* The AVX-512 pass is built on every x86-64 build (GCC, Clang) for its
 * instruction set and taken where the CPU has it, as the kernels' products
 * are (kernels/src/isa.h): the probe must read as fast as they can. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PROBE_AVX512 1
#include <immintrin.h>
#endif

/* One pass of the read-bandwidth probe over `lines` 64-byte lines: integer
 * sums (no float reassociation needed to vectorise), several independent
 * accumulators, and a software prefetch 8 KiB ahead, so that the probe reads
 * as fast as the blocked kernels' own loops can (explicit AVX-512 where the
 * kernels use it, lane-wise C elsewhere). */
#if defined(PROBE_AVX512)
__attribute__((target("avx512f"))) static unsigned long long
read_lines_avx512(const unsigned char *bytes, size_t lines)
{
    const size_t ahead = 8192u / 64u;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t l = 0;
    for (; l + 4u <= lines; l += 4u) {
        if (l + ahead + 4u <= lines) {
            _mm_prefetch((const char *)bytes + (l + ahead) * 64u, _MM_HINT_T1);
            _mm_prefetch((const char *)bytes + (l + ahead + 2u) * 64u, _MM_HINT_T1);
        }
        acc0 = _mm512_add_epi64(acc0, _mm512_loadu_si512(bytes + l * 64u));
        acc1 = _mm512_add_epi64(acc1, _mm512_loadu_si512(bytes + l * 64u + 64u));
        acc2 = _mm512_add_epi64(acc2, _mm512_loadu_si512(bytes + l * 64u + 128u));
        acc3 = _mm512_add_epi64(acc3, _mm512_loadu_si512(bytes + l * 64u + 192u));
    }
    for (; l < lines; l++)
        acc0 = _mm512_add_epi64(acc0, _mm512_loadu_si512(bytes + l * 64u));
    acc0 = _mm512_add_epi64(_mm512_add_epi64(acc0, acc1), _mm512_add_epi64(acc2, acc3));
    return (unsigned long long)_mm512_reduce_add_epi64(acc0);
}

/* Whether the running CPU has the feature the kernels call `name`: the
 * kernels keep their feature bits private and name them. */
static int cpu_has(const char *name)
{
    for (unsigned bit = 0; bit < MTS_CPU_FEATURE_BITS; bit++) {
        const char *known = mts_cpu_feature_name(bit);
        if (known != NULL && strcmp(known, name) == 0)
            return mts_cpu_supports(1u << bit);
    }
    return 0;
}
#endif

unsigned long long mts_probe_read_lines(const unsigned char *bytes, size_t lines)
{
#if defined(PROBE_AVX512)
    if (cpu_has("avx512f"))
        return read_lines_avx512(bytes, lines);
#endif
    const size_t ahead = 8192u / 64u;
    unsigned long long acc[8] = {0};
    for (size_t l = 0; l < lines; l++) {
#if defined(__GNUC__) || defined(__clang__)
        if (l + ahead < lines)
            __builtin_prefetch(bytes + (l + ahead) * 64u, 0, 2);
#endif
        unsigned long long words[8];
        memcpy(words, bytes + l * 64u, sizeof words);
        for (size_t k = 0; k < 8u; k++)
            acc[k] += words[k];
    }
    unsigned long long sum = 0;
    for (size_t k = 0; k < 8u; k++)
        sum += acc[k];
    return sum;
}
