/* SRU layer descriptor (docs/spec.md section 2).
 *
 * Per time step t and direction, with U = x_t W (one blocked product per T
 * steps) split into u0 (candidate), u1 (forget), u2 (reset), u3 (skip):
 *
 *   f_t = sigma(u1 + vf * c_{t-1} + bf)
 *   r_t = sigma(u2 + vr * c_{t-1} + br)
 *   c_t = (c_{t-1} - u0) * f_t + u0
 *   h_t = (g(c_t) - s_t) * r_t + s_t
 *
 * g is identity or tanh; s_t is 0, scale_x * x_t (the raw layer input) or
 * u3. vf = vr = 0 (weight_c == NULL) is the original 2017 form. The input is
 * optionally layer-normalised before the product and optionally projected
 * (U = (x W_proj) W); h is optionally layer-normalised after the layer.
 *
 * Ownership: the descriptor borrows every array (for example const arrays in
 * flash, or a memory-mapped model file); it never allocates or frees.
 */
#ifndef MTSRNN_SRU_H
#define MTSRNN_SRU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mts_activation {
    MTS_ACTIVATION_IDENTITY = 0,
    MTS_ACTIVATION_TANH = 1
} mts_activation;

typedef enum mts_sru_skip {
    MTS_SKIP_NONE = 0,          /* s_t = 0 */
    MTS_SKIP_SCALED_INPUT = 1,  /* s_t = scale_x * x_t; needs n == D * d */
    MTS_SKIP_PROJECTED = 2      /* s_t = u3, a fourth weight block (k = 4) */
} mts_sru_skip;

typedef enum mts_norm {
    MTS_NORM_NONE = 0,
    MTS_NORM_BEFORE = 1,        /* layer norm over the n inputs, before the product */
    MTS_NORM_AFTER = 2          /* layer norm over the D * d outputs h */
} mts_norm;

typedef struct mts_sru_layer {
    uint32_t input_size;        /* n */
    uint32_t hidden_size;       /* d, per direction */
    uint32_t num_directions;    /* D: 1, or 2 for a bidirectional layer */
    uint32_t projection_size;   /* p; 0 when there is no input projection */
    uint8_t activation;         /* mts_activation */
    uint8_t skip;               /* mts_sru_skip */
    uint8_t norm;               /* mts_norm */
    float scale_x;              /* used by MTS_SKIP_SCALED_INPUT */
    float norm_eps;             /* layer norm epsilon (PyTorch: 1e-5) */
    /* [D][k][d][n'] row-major, n' = p or n, k = 3 (+1 for MTS_SKIP_PROJECTED):
     * row (dir * k + g) * d + j holds gate g of unit j of direction dir. */
    const float *weight;
    const float *weight_proj;   /* [p][n], or NULL when p == 0 */
    const float *weight_c;      /* [2][D*d] = vf | vr, or NULL: original form */
    const float *bias;          /* [2][D*d] = bf | br */
    const float *norm_weight;   /* [n] (before) or [D*d] (after); NULL without norm */
    const float *norm_bias;     /* same shape as norm_weight */
    /* int8 weights (docs/quantization.md). A zeroed tail (quant 0, NULLs)
     * is a float model. With quant != 0 the products use weight_q and
     * weight_proj_q (weight and weight_proj may then be NULL); biases,
     * weight_c and norms stay float32. */
    uint8_t quant;                  /* mts_quant (mtsrnn/quantize.h) */
    const int8_t *weight_q;         /* same layout as weight */
    const float *weight_scale;      /* [D*k*d]: one scale per row of weight_q */
    const int8_t *weight_proj_q;    /* [p][n], or NULL when p == 0 */
    const float *weight_proj_scale; /* [p], or NULL when p == 0 */
} mts_sru_layer;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_SRU_H */
