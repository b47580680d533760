/* A model (a sequence of stages: SRU, QRNN, minGRU, minLSTM and IndRNN
 * layers, normalisation, dense layers, softmax) and the entry points that run it over a stream in blocks
 * of T time steps.
 *
 * Memory is the caller's: the model borrows its weights, the state and the
 * workspace are caller buffers sized by the *_size queries. Every entry point
 * returns a status; preconditions are checked once per call, up front, and
 * the loops that follow contain no checks.
 *
 * Running: for a block of T frames, stage s gets the T output rows of stage
 * s-1 and produces its T rows, so every stage's weights (the dense head's
 * too) are read once per block. A model with a bidirectional SRU stage runs
 * stage by stage over the whole sequence instead.
 *
 * State layout (floats), the concatenation of the stages' states in stage
 * order (norm, dense and softmax stages carry none):
 *   SRU:  c[D*d]                              (D*d floats per layer)
 *   QRNN: c[H], then prev[w-1][n]: prev[k-1] = x_{t-k}, the layer input k
 *         steps before the next frame (w - 1 frames, most recent first)
 *   minGRU, minLSTM, IndRNN: h[H]
 * All zeros is the state at the start of a sequence. The state carries across
 * calls, so a stream can be fed in pieces of any length; the output does not
 * depend on the block size nor on how the stream is split (unidirectional
 * layers). A bidirectional layer needs its whole sequence in one call: the
 * state then gives c_0 of both directions and receives the final c of each
 * (the backward direction's at t = 0).
 */
#ifndef MTSRNN_MODEL_H
#define MTSRNN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/dense.h"
#include "mtsrnn/gemm.h"
#include "mtsrnn/indrnn.h"
#include "mtsrnn/min_layer.h"
#include "mtsrnn/norm.h"
#include "mtsrnn/qrnn.h"
#include "mtsrnn/quantize.h"
#include "mtsrnn/softmax.h"
#include "mtsrnn/sru.h"
#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest size of any one dimension; keeps every size product of a layer
 * far from overflow checks' limits on 32-bit targets too. */
#define MTS_MAX_DIM 0x1000000u
#define MTS_MAX_STAGES 64u
/* The name of format 1.x (a stack of layers); a stage is a layer there. */
#define MTS_MAX_LAYERS MTS_MAX_STAGES

/* Largest |scale_x| of an SRU layer: far above any trained value (sru's
 * default is sqrt(3)); a larger one is a corrupt field, not a model. */
#define MTS_MAX_SCALE_X 65536.0f

/* Largest per-row scale of an int8 weight tensor: the row's largest weight
 * is 127 times its scale, so this allows weights up to about 8.3e6, far
 * above any trained value; a larger scale is a corrupt tensor (at 3e36 the
 * dequantised weights are no longer finite floats). */
#define MTS_MAX_WEIGHT_SCALE 65536.0f

/* One number per stage kind, the same in the C API, the .mts file (2.0
 * stage records, 1.x header cell), the Python table and the protocol. */
typedef enum mts_stage_kind {
    MTS_STAGE_SRU = 1,
    MTS_STAGE_QRNN = 2,
    MTS_STAGE_NORM = 3,
    MTS_STAGE_DENSE = 4,
    MTS_STAGE_SOFTMAX = 5,
    MTS_STAGE_MINGRU = 6,       /* as.min, G = MTS_MINGRU_GATES */
    MTS_STAGE_MINLSTM = 7,      /* as.min, G = MTS_MINLSTM_GATES */
    MTS_STAGE_INDRNN = 8
} mts_stage_kind;
#define MTS_STAGE_KINDS 8u      /* kinds are 1 .. MTS_STAGE_KINDS */

/* The gate count G of a minGRU or minLSTM stage kind (min_layer.h). */
#define MTS_MIN_GATES(kind) \
    ((kind) == MTS_STAGE_MINGRU ? MTS_MINGRU_GATES : MTS_MINLSTM_GATES)

/* Format 1.x names of the two recurrent kinds (the header's cell). */
#define MTS_CELL_SRU MTS_STAGE_SRU
#define MTS_CELL_QRNN MTS_STAGE_QRNN

typedef struct mts_stage {
    uint32_t kind;              /* mts_stage_kind: selects the member of `as` */
    union {
        mts_sru_layer sru;
        mts_qrnn_layer qrnn;
        mts_norm_stage norm;
        mts_dense_layer dense;
        mts_softmax_stage softmax;
        mts_min_layer min;      /* minGRU and minLSTM */
        mts_indrnn_layer indrnn;
    } as;
} mts_stage;

typedef struct mts_model {
    uint32_t num_stages;        /* 1 .. MTS_MAX_STAGES */
    const mts_stage *stages;    /* [num_stages], run in order */
} mts_model;

/* How to run: the block size and, per weight dtype, the blocked product
 * (an entry's fn of the variant tables in mtsrnn/gemm.h; NULL takes the
 * table's first entry, the default). A layer uses the product of its
 * weights' scheme (docs/quantization.md), so a model that mixes float and
 * quantised layers can be given all three. Initialise with designated
 * initialisers, e.g. {.block = 16}, so fields added later default to NULL. */
typedef struct mts_run_options {
    size_t block;                  /* T >= 1: time steps per pass over the weights */
    mts_gemm_f32_fn gemm;          /* float32 layers */
    mts_gemm_i8f32_fn gemm_i8f32;  /* int8-w layers (MTS_QUANT_INT8_W) */
    mts_gemm_i8i8_fn gemm_i8i8;    /* int8-wa layers (MTS_QUANT_INT8_WA) */
} mts_run_options;

/* Product variants by name (variant.c): the one resolver of a variant name
 * for the device, the binding and Python.
 *
 * A model's variants come from the tables of the weight schemes its layers
 * use: float32 layers a float table (f32_table[f32_count]: a caller's list,
 * e.g. a board's with a peer library's product added; NULL takes the
 * kernels' mts_gemm_f32_variants and ignores f32_count), int8-w layers
 * mts_gemm_i8f32_variants, int8-wa layers mts_gemm_i8i8_variants. A name
 * selects the entry of that name in every table the model uses; the model
 * offers the names present in all of them, in the order of the first of
 * its tables (float32, int8-w, int8-wa), so a model of one scheme offers
 * exactly its table and its default is the table's first entry. Entries
 * the running CPU cannot run (`requires`, mts_cpu_supports in gemm.h) are
 * not there: a build with run-time dispatch carries products for features
 * the CPU may lack, and only those it has are offered. */

/* The weight schemes of a model's stages with products (mts_stage_describe:
 * SRU, QRNN, dense, minGRU, minLSTM, IndRNN):
 * a mask of MTS_SCHEME_BIT(quant) over mts_quant (mtsrnn/quantize.h),
 * read from the stages' `quant` alone (their sizes are not checked). 0
 * for a NULL model, an unknown stage kind or scheme, a NULL stage array, no
 * stages (mts_model_check rejects all of these) or a model without any
 * product (only norm and softmax stages). */
#define MTS_SCHEME_BIT(quant) (1u << (quant))
uint32_t mts_model_schemes(const mts_model *model);

/* Set options->gemm, ->gemm_i8f32 and ->gemm_i8i8 to the products of the
 * variant `name` (name_length bytes, need not be NUL-terminated) for the
 * schemes the model uses, NULL for the others (options->block is kept),
 * and *variant_name (when not NULL) to the table's own string of that
 * name, which lives as long as the table. MTS_ERR_NULL_POINTER for a NULL
 * model or options (or a NULL name of non-zero length); MTS_ERR_BAD_CONFIG
 * when some table the model uses has no such name (an empty name included)
 * or mts_model_schemes is 0. On error nothing is written. */
mts_status mts_model_select_variant(const mts_model *model, const char *name,
                                    size_t name_length,
                                    const mts_gemm_f32_variant *f32_table, size_t f32_count,
                                    mts_run_options *options, const char **variant_name);

/* Walk the variants a model offers, in order. Start with *position = 0;
 * each call returns the next variant's name (the table's own string) and
 * advances *position, and when options is not NULL sets its products as
 * mts_model_select_variant does. NULL after the last one, and for a model
 * that offers none (e.g. mixed schemes with no name in common, or
 * mts_model_schemes 0) or a NULL position.
 *
 *     size_t at = 0;
 *     for (const char *name; (name = mts_model_next_variant(m, NULL, 0, &at, &o)) != NULL;)
 *         run(m, &o);   // every variant the model offers, the default first
 */
const char *mts_model_next_variant(const mts_model *model,
                                   const mts_gemm_f32_variant *f32_table, size_t f32_count,
                                   size_t *position, mts_run_options *options);

/* Element counts of each array of a layer (0 for an array the layer's
 * options leave out), derived from its sizes and options alone, so that a
 * loader or a binding can check the arrays it was given before pointing the
 * descriptor at them. Fails when the sizes or options are invalid. */
typedef struct mts_sru_array_sizes {
    size_t weight, weight_proj, weight_c, bias, norm_weight, norm_bias;
    /* Rows of weight and weight_proj: the element counts of their
     * per-row scales in a quantised layer. */
    size_t weight_rows, weight_proj_rows;
} mts_sru_array_sizes;
mts_status mts_sru_layer_array_sizes(const mts_sru_layer *layer, mts_sru_array_sizes *sizes);

typedef struct mts_qrnn_array_sizes {
    size_t weight, bias;
    size_t weight_rows;         /* rows of weight: its scales when quantised */
} mts_qrnn_array_sizes;
mts_status mts_qrnn_layer_array_sizes(const mts_qrnn_layer *layer,
                                      mts_qrnn_array_sizes *sizes);

/* A stage's blocked products and parameters, described once per stage kind
 * (stage.c): what a tool needs to time, count or choose the products of a
 * stage (the device's bench and id, the variant resolver, the binding)
 * without a switch on the stage kind of its own.
 *
 * products[0] is the product whose rows are the stage's gates or outputs
 * (SRU, QRNN, minGRU, minLSTM, IndRNN: W of every gate; dense: W);
 * products[1], where there is one, the second product of a layer: an SRU's
 * projection W_proj (run before W), a minGRU's or minLSTM's output
 * projection W_out (run after the scan). Norm and softmax stages have none.
 * A product's weights are rows x depth, row-major (stride depth): float32
 * in `weight` when quant is MTS_QUANT_NONE, else int8 in `weight_q` with
 * one scale per row in `weight_scale` (the others may be NULL). */
#define MTS_STAGE_MAX_PRODUCTS 2u
typedef struct mts_stage_product {
    uint32_t quant;             /* mts_quant: the scheme, so the table that runs it */
    size_t rows, depth;
    const float *weight;
    const int8_t *weight_q;
    const float *weight_scale;
} mts_stage_product;

typedef struct mts_stage_info {
    uint32_t num_products;      /* 0 .. MTS_STAGE_MAX_PRODUCTS */
    mts_stage_product products[MTS_STAGE_MAX_PRODUCTS];
    size_t other_floats;        /* float32 parameters besides the products'
                                 * weights and scales: biases, norms, an SRU's
                                 * weight_c, an IndRNN's u */
    size_t state_floats;        /* its part of the state (layout above); 0:
                                 * a stage without recurrence */
} mts_stage_info;

/* Fill *info for one stage. The stage's sizes, options and scalar fields
 * are checked (the status of mts_model_check for them), its arrays are not
 * (they are only pointed to); MTS_ERR_NULL_POINTER for a NULL argument. On
 * error *info is not written. */
mts_status mts_stage_describe(const mts_stage *stage, mts_stage_info *info);

/* Validate a model once: sizes, options, non-NULL arrays, stage chaining
 * (stage s+1's input size is stage s's output size; MTS_ERR_BAD_CONFIG
 * otherwise), that every weight byte count fits in size_t, and the scalar
 * fields: MTS_ERR_BAD_VALUE for an SRU scale_x that is not finite or above
 * MTS_MAX_SCALE_X in magnitude, a layer-norm eps (SRU norm_eps, norm stage
 * eps) that is not finite or outside (0, 1] where it is used and [0, 1]
 * where it is not (an affine norm stage's must be 0), a QRNN zoneout that
 * is not in [0, 1]. The int8 scales are arrays and are checked by the
 * loader (mts_file_load), once. */
mts_status mts_model_check(const mts_model *model);

/* Input size of the first stage and output size of the last. */
mts_status mts_model_io_sizes(const mts_model *model, size_t *input_size,
                              size_t *output_size);

/* Number of floats of the carried state (layout above). */
mts_status mts_model_state_size(const mts_model *model, size_t *num_floats);

/* Bytes of workspace for mts_model_forward with this block size and sequence
 * length. seq_len only matters for models with a bidirectional SRU stage
 * and more than one stage (they need sequence-long buffers); otherwise the
 * size depends on the block alone. Includes 64 bytes of alignment slack, so
 * any workspace pointer is accepted. */
mts_status mts_model_workspace_size(const mts_model *model, size_t block,
                                    size_t seq_len, size_t *num_bytes);

/* Bytes of workspace that stage `stage` (0-based) needs by itself for this
 * block size: its own rows (input, normalised input, projection, product,
 * int8 rows), without the rows between stages, the sequence buffers of a
 * bidirectional model or the alignment slack. For reports (`mtsrnn
 * inspect`): the model's workspace (mts_model_workspace_size) holds, buffer
 * by buffer, the largest any stage needs, plus those rows and 64 bytes, so it
 * is at least the largest stage's figure + 64. MTS_ERR_BAD_SIZE for block 0
 * or a stage past the last. */
mts_status mts_model_stage_workspace_size(const mts_model *model, size_t stage,
                                          size_t block, size_t *num_bytes);

/* Set the state to the start of a sequence (all zeros). */
mts_status mts_model_reset_state(const mts_model *model, float *state,
                                 size_t state_floats);

/* Run seq_len frames x[seq_len][input_size] through the model, writing
 * h[seq_len][output_size] and updating the state in place. seq_len may be 0.
 * x must not overlap h; neither may overlap the state or the workspace. */
mts_status mts_model_forward(const mts_model *model, const mts_run_options *options,
                             float *state, size_t state_floats,
                             const float *x, size_t seq_len, float *h,
                             void *workspace, size_t workspace_bytes);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_MODEL_H */
