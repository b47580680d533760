/* The running CPU's features and each product table's default
 * (mtsrnn/gemm.h). On x86-64 every x86 product is built (isa.h) and these
 * decide which run, and on aarch64 Linux the SDOT one; elsewhere the build
 * decided and every entry runs. */
#include "mtsrnn/gemm.h"

#include "isa.h"

#if defined(MTS_ARM_DISPATCH)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* Linux arch/arm64 uapi hwcap.h */
#endif
#endif

uint32_t mts_cpu_features(void)
{
    uint32_t features = 0;
#if defined(MTS_X86_DISPATCH)
    /* libgcc's (compiler-rt's) CPU model, filled by a constructor before
     * main; initialising it again costs a test and makes a call from
     * another constructor safe. It also requires the OS to save the ymm and
     * zmm registers (XGETBV) before it reports AVX2 or AVX-512. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        features |= MTS_CPU_AVX2;
    if (__builtin_cpu_supports("fma"))
        features |= MTS_CPU_FMA;
    if (__builtin_cpu_supports("avx512f"))
        features |= MTS_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw"))
        features |= MTS_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl"))
        features |= MTS_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni"))
        features |= MTS_CPU_AVX512VNNI;
#elif defined(MTS_ARM_DISPATCH)
    /* The kernel reports the ID registers' DotProd field as a HWCAP bit
     * (readable at EL0 on every aarch64 Linux, unlike the register). */
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP)
        features |= MTS_CPU_DOTPROD;
#else
    /* Decided by the build: what the compiler may assume is present. */
#if defined(__AVX2__)
    features |= MTS_CPU_AVX2;
#endif
#if defined(__FMA__)
    features |= MTS_CPU_FMA;
#endif
#if defined(__AVX512F__)
    features |= MTS_CPU_AVX512F;
#endif
#if defined(__AVX512BW__)
    features |= MTS_CPU_AVX512BW;
#endif
#if defined(__AVX512VL__)
    features |= MTS_CPU_AVX512VL;
#endif
#if defined(__AVX512VNNI__)
    features |= MTS_CPU_AVX512VNNI;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    features |= MTS_CPU_DOTPROD;
#endif
#endif
    return features;
}

const char *mts_cpu_feature_name(unsigned bit)
{
    /* The names of __builtin_cpu_supports and the compilers' -m options. A
     * switch, not a table of pointers: like mts_cpu_features, no static
     * data to relocate (a MicroPython native module links these too). */
    switch (bit) {
    case 0: return "avx2";       /* MTS_CPU_AVX2 (isa.h) */
    case 1: return "fma";        /* MTS_CPU_FMA */
    case 2: return "avx512f";    /* MTS_CPU_AVX512F */
    case 3: return "avx512bw";   /* MTS_CPU_AVX512BW */
    case 4: return "avx512vl";   /* MTS_CPU_AVX512VL */
    case 5: return "avx512vnni"; /* MTS_CPU_AVX512VNNI */
    case 6: return "dotprod";    /* MTS_CPU_DOTPROD */
    default: return NULL;
    }
}

int mts_cpu_supports(uint32_t requires)
{
    return requires == 0u || (requires & ~mts_cpu_features()) == 0u;
}

/* The first entry of a table the CPU supports; the portable entries at the
 * end need nothing, so the loop always finds one. */
#define FIRST_SUPPORTED(table, count)                                    \
    do {                                                                 \
        const uint32_t have = mts_cpu_features();                        \
        size_t k = 0;                                                    \
        while (k + 1u < (count) && ((table)[k].requires & ~have) != 0u) \
            k++;                                                         \
        return (table)[k].fn;                                            \
    } while (0)

mts_gemm_f32_fn mts_gemm_f32_default(void)
{
    FIRST_SUPPORTED(mts_gemm_f32_variants, mts_gemm_f32_variant_count);
}

mts_gemm_i8f32_fn mts_gemm_i8f32_default(void)
{
    FIRST_SUPPORTED(mts_gemm_i8f32_variants, mts_gemm_i8f32_variant_count);
}

mts_gemm_i8i8_fn mts_gemm_i8i8_default(void)
{
    FIRST_SUPPORTED(mts_gemm_i8i8_variants, mts_gemm_i8i8_variant_count);
}
