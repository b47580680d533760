/* What the C tests share: pass/fail counting with CHECK, deterministic
 * random numbers (xorshift64*), so that every test reports and seeds alike,
 * and a float's bits (f2u, u2f).
 * Header-only: each test is one translation unit. Messages print size_t as
 * %lu of (unsigned long): the Cortex-M runs' newlib printf has no %zu. */
#ifndef MTSRNN_TESTS_CHECK_H
#define MTSRNN_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mtsrnn/status.h"

static int passed, failed;

#define CHECK(cond, ...)                                                \
    do {                                                                \
        if (cond) {                                                     \
            passed++;                                                   \
        } else {                                                        \
            failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                               \
            fputc('\n', stderr);                                        \
        }                                                               \
    } while (0)

#define CHECK_STATUS(expr, expected)                                            \
    do {                                                                        \
        const mts_status got_ = (expr);                                         \
        CHECK(got_ == (expected), "got %d (%s), expected %d (%s)", (int)got_,   \
              mts_status_str(got_), (int)(expected), mts_status_str(expected)); \
    } while (0)

/* Prints "<name>: P passed, F failed" and returns the exit status. */
static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed != 0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static inline uint32_t rng_u32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Du) >> 32);
}

/* Uniform in [-bound, bound). */
static inline float rng_uniform(float bound)
{
    return bound * ((float)(rng_u32() >> 8) * (2.0f / 16777216.0f) - 1.0f);
}

/* A float's bits and back (memcpy: no aliasing through pointers). */
static inline uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif /* MTSRNN_TESTS_CHECK_H */
