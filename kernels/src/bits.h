/* The bit pattern of a float32 and back, without aliasing (memcpy of 4
 * bytes compiles to a register move). Used where the kernels work on float
 * bits directly: the activations' exponent tricks, the quantiser's integer
 * abs-max and rounding. */
#ifndef MTSRNN_BITS_H
#define MTSRNN_BITS_H

#include <stdint.h>
#include <string.h>

static inline uint32_t mts_f2u_(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float mts_u2f_(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif /* MTSRNN_BITS_H */
