/* The .mts loader on format 2.0 (a sequence of stages, docs/model-format.md)
 * and the scalar-field checks of every version: for a valid whole model and
 * for each kind of malformed stage record, tensor or value, the status and
 * where the loader says the file is wrong. Files are built byte by byte
 * (file_image.h), independently of the Python writer. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "file_image.h"

#define REC MTS_FILE_STAGE_RECORD_SIZE

static void norm_record(uint8_t *r, uint32_t size, uint8_t mode, float eps)
{
    memset(r, 0, REC);
    put_u32(r, MTS_STAGE_NORM);
    put_u32(r + 8, size);
    r[12] = mode;
    put_f32(r + 16, eps);
}

static void sru_stage_record(uint8_t *r, uint32_t n, uint32_t d)
{
    memset(r, 0, REC);
    put_u32(r, MTS_STAGE_SRU);
    sru_record(r + 8, n, d, 1, MTS_NORM_NONE, MTS_QUANT_NONE);
}

static void dense_record(uint8_t *r, uint32_t n, uint32_t m, uint8_t act, uint8_t quant)
{
    memset(r, 0, REC);
    put_u32(r, MTS_STAGE_DENSE);
    put_u32(r + 8, n);
    put_u32(r + 12, m);
    r[16] = act;
    r[17] = quant;
}

static void softmax_record(uint8_t *r, uint32_t size, uint8_t log)
{
    memset(r, 0, REC);
    put_u32(r, MTS_STAGE_SOFTMAX);
    put_u32(r + 8, size);
    r[12] = log;
}

/* norm(4) -> SRU(4 -> 4) -> dense(4 -> 3, relu, bias; quant as given,
 * its input size as given) -> softmax(3). Tensors: 0-1 norm, 2-3 SRU, 4-5
 * dense weight and bias, 6 the dense scales when quantised. */
static uint8_t records[4][REC];
static void whole_with(image *img, uint8_t quant, uint32_t dense_in)
{
    norm_record(records[0], 4, MTS_NORM_MODE_LAYER, 1e-5f);
    sru_stage_record(records[1], 4, 4);
    dense_record(records[2], dense_in, 3, MTS_DENSE_RELU, quant);
    softmax_record(records[3], 3, 0);
    const uint32_t wtype = quant ? MTS_FILE_DTYPE_I8 : MTS_FILE_DTYPE_F32;
    const tensor_spec tensors[] = {
        {0, MTS_NORM_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 1, 4, 1},
        {0, MTS_NORM_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 4, 1},
        {1, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
        {1, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
        {2, MTS_DENSE_KIND_WEIGHT, wtype, 2, 3, dense_in},
        {2, MTS_DENSE_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 3, 1},
        {2, MTS_DENSE_KIND_WEIGHT_SCALE, MTS_FILE_DTYPE_F32, 1, 3, 1},
    };
    build_version(img, MTS_FILE_STAGES_VERSION_MAJOR, 0, &records[0][0], REC, 4, tensors,
                  quant ? 7 : 6);
}

static void whole(image *img)
{
    whole_with(img, MTS_QUANT_NONE, 4);
}

/* Rewrite one stage record of a built image (and the CRC). */
static uint8_t *stage_of(image *img, uint32_t s)
{
    return img->u.bytes + MTS_FILE_HEADER_SIZE + REC * s;
}

/* Float `row` of tensor record t's data. */
static void put_tensor_f32(image *img, uint32_t t, uint64_t row, float value)
{
    const uint8_t *r = record_of(img, t);
    const uint32_t offset = get_u32(r + 32);
    put_f32(img->u.bytes + offset + 4u * row, value);
    fix_crc(img);
}

static void test_valid(void)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    mts_model model;
    whole(&img);
    size_t bytes = 0, in = 0, out = 0;
    CHECK_STATUS(mts_file_descriptor_size(img.u.bytes, img.size, &bytes, &e), MTS_OK);
    CHECK(bytes == 4 * sizeof(mts_stage), "%lu descriptor bytes", (unsigned long)bytes);
    CHECK_STATUS(mts_file_load(img.u.bytes, img.size, 0, descriptors, sizeof descriptors,
                               &model, &e),
                 MTS_OK);
    CHECK(model.num_stages == 4 && model.stages[0].kind == MTS_STAGE_NORM &&
              model.stages[1].kind == MTS_STAGE_SRU && model.stages[2].kind == MTS_STAGE_DENSE &&
              model.stages[3].kind == MTS_STAGE_SOFTMAX,
          "stages");
    CHECK(model.stages[2].as.dense.bias != NULL && model.stages[2].as.dense.weight != NULL &&
              model.stages[0].as.norm.eps == 1e-5f,
          "attached");
    CHECK_STATUS(mts_model_io_sizes(&model, &in, &out), MTS_OK);
    CHECK(in == 4 && out == 3, "io %lu %lu", (unsigned long)in, (unsigned long)out);
    whole_with(&img, MTS_QUANT_INT8_WA, 4);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
    /* The dense bias is optional: 5 tensors, no bias. */
    whole(&img);
    put_u32(img.u.bytes + 28, 5);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
    /* A scale of -0 is a zero row, not a negative one. */
    whole_with(&img, MTS_QUANT_INT8_W, 4);
    put_tensor_f32(&img, 6, 2, -0.0f);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
}

static void test_header(void)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    whole(&img);
    put_u32(img.u.bytes + 20, MTS_CELL_SRU); /* 1.x's cell: reserved in 2.0 */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "reserved");
    CHECK_FOUND_ONLY(e, 20u);
    whole(&img);
    put_u32(img.u.bytes + 24, 65);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "num_stages");
    CHECK_VALUES(e, 65u, 64u);
    whole(&img);
    put_u32(img.u.bytes + 28, 33); /* 8 per stage at most */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "num_tensors");
    CHECK_VALUES(e, 33u, 32u);
    whole(&img);
    put_u32(img.u.bytes + 44, MTS_FILE_HEADER_SIZE + 32u * 4u); /* 1.x record size */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "tensor_table_offset");
    CHECK_VALUES(e, 128u + 64u, 64u + 48u * 4u);
}

/* One stage record byte (or u32) changed: the status, stage, field, found. */
static void expect_record(uint32_t stage, size_t at, uint32_t value, int as_u32,
                          mts_status status, const char *field, uint64_t found)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    whole(&img);
    if (as_u32)
        put_u32(stage_of(&img, stage) + at, value);
    else
        stage_of(&img, stage)[at] = (uint8_t)value;
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), status);
    CHECK(e.layer == stage, "stage %u, expected %u (byte %lu)", (unsigned)e.layer,
          (unsigned)stage, (unsigned long)at);
    CHECK_FIELD(e, field);
    CHECK(e.found == found, "found %llu, expected %llu (stage %u byte %lu)",
          (unsigned long long)e.found, (unsigned long long)found, (unsigned)stage,
          (unsigned long)at);
}

static void test_stage_records(void)
{
    const mts_status layer = MTS_ERR_FILE_LAYER;
    expect_record(0, 0, 0, 1, layer, "kind", 0);
    expect_record(3, 0, 9, 1, layer, "kind", 9);        /* past IndRNN (8) */
    expect_record(2, 0, 0xFFFFFFFFu, 1, layer, "kind", 0xFFFFFFFFu);
    expect_record(1, 5, 1, 0, layer, "reserved", 5);
    expect_record(0, 13, 1, 0, layer, "reserved", 13);  /* norm: after the mode */
    expect_record(0, 30, 1, 0, layer, "reserved", 30);  /* norm: after eps */
    expect_record(1, 36, 1, 0, layer, "reserved", 36);  /* the SRU's own record */
    expect_record(1, 44, 1, 0, layer, "reserved", 44);  /* after the SRU record */
    expect_record(2, 18, 1, 0, layer, "reserved", 18);  /* dense */
    expect_record(2, 47, 1, 0, layer, "reserved", 47);
    expect_record(3, 13, 1, 0, layer, "reserved", 13);  /* softmax */
    /* Options out of range: the kernels' status, at check 11. */
    expect_record(0, 12, 2, 0, MTS_ERR_BAD_CONFIG, "", 0);  /* norm mode */
    expect_record(2, 16, 4, 0, MTS_ERR_BAD_CONFIG, "", 0);  /* dense activation */
    expect_record(2, 17, 3, 0, MTS_ERR_BAD_CONFIG, "", 0);  /* dense quant */
    expect_record(3, 12, 2, 0, MTS_ERR_BAD_CONFIG, "", 0);  /* softmax log */
    expect_record(3, 8, 0, 1, MTS_ERR_BAD_SIZE, "", 0);     /* softmax size */
    /* The detail names the stage and its kind in the text. */
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    whole(&img);
    stage_of(&img, 2)[20] = 9;
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_LAYER);
    char text[200];
    mts_file_error_text(MTS_ERR_FILE_LAYER, &e, text, sizeof text);
    CHECK(strcmp(text, "model file layer record invalid (MTS_ERR_FILE_LAYER): stage 2 "
                       "(dense), reserved, found 20") == 0,
          "'%s'", text);
}

/* Tensor record t's u32 or u64 field at `at` changed. */
static void expect_tensor(uint32_t t, size_t at, uint64_t value, mts_status status,
                          const char *field, uint32_t stage)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    whole(&img);
    if (at >= 16)
        put_u64(record_of(&img, t) + at, value);
    else
        put_u32(record_of(&img, t) + at, (uint32_t)value);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), status);
    CHECK_FIELD(e, field);
    CHECK(e.layer == stage, "stage %u, expected %u (tensor %u)", (unsigned)e.layer,
          (unsigned)stage, (unsigned)t);
}

static void test_tensors(void)
{
    /* A tensor of the softmax stage, which has none. */
    expect_tensor(5, 0, 3, MTS_ERR_FILE_TENSOR, "kind", 3);
    /* Kinds beyond the stage kind's own. */
    expect_tensor(1, 4, 3, MTS_ERR_FILE_TENSOR, "kind", 0);
    expect_tensor(5, 4, 4, MTS_ERR_FILE_TENSOR, "kind", 2);
    /* int8 only for a product's weight: not a norm weight. */
    expect_tensor(0, 8, MTS_FILE_DTYPE_I8, MTS_ERR_FILE_TENSOR, "dtype", 0);
    /* int8 dense weight in a float dense stage: its dtype contradicts quant. */
    {
        static image img; /* 8 KB: off the small boards' stack */
        mts_file_error e;
        whole(&img);
        uint8_t *r = record_of(&img, 4);
        put_u32(r + 8, MTS_FILE_DTYPE_I8);
        put_u64(r + 40, 12);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "dtype");
        CHECK_VALUES(e, MTS_FILE_DTYPE_I8, MTS_FILE_DTYPE_F32);
    }
    /* A norm bias relabelled as a second weight: duplicate. */
    expect_tensor(1, 4, MTS_NORM_KIND_WEIGHT, MTS_ERR_FILE_TENSOR, "duplicate", 0);
    /* The dense weight relabelled 1-D (12 x 1), nbytes unchanged. */
    {
        static image img; /* 8 KB: off the small boards' stack */
        mts_file_error e;
        whole(&img);
        uint8_t *r = record_of(&img, 4);
        put_u32(r + 12, 1);
        put_u64(r + 16, 12);
        put_u64(r + 24, 1);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "ndim");
        CHECK_SHAPE(e, 2u, 3u, 4u);
        /* A norm weight relabelled 2-D (2 x 2). */
        whole(&img);
        r = record_of(&img, 0);
        put_u32(r + 12, 2);
        put_u64(r + 16, 2);
        put_u64(r + 24, 2);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "ndim");
        CHECK_SHAPE(e, 1u, 4u, 1u);
        /* The norm without its bias. */
        const tensor_spec no_bias[] = {
            {0, MTS_NORM_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 1, 4, 1},
            {1, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
            {1, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
            {2, MTS_DENSE_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 3, 4},
        };
        build_version(&img, MTS_FILE_STAGES_VERSION_MAJOR, 0, &records[0][0], REC, 4,
                      no_bias, 4);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "missing");
        CHECK(e.layer == 0 && e.kind == MTS_NORM_KIND_BIAS, "stage %u kind %u",
              (unsigned)e.layer, (unsigned)e.kind);
        CHECK_SHAPE(e, 1u, 4u, 1u);
    }
    /* Unneeded and missing: dense scales in a float stage, none in an
     * int8 one. */
    {
        static image img; /* 8 KB: off the small boards' stack */
        mts_file_error e;
        whole_with(&img, MTS_QUANT_INT8_W, 4);
        stage_of(&img, 2)[17] = MTS_QUANT_NONE;
        uint8_t *r = record_of(&img, 4);
        put_u32(r + 8, MTS_FILE_DTYPE_F32);
        put_u64(r + 40, 48);
        /* The weight's data now needs 48 bytes: offset 64-aligned past the
         * others would move it; keep it where it is by pointing it at the
         * SRU weight's data (tensors may share data). */
        memcpy(r + 32, record_of(&img, 2) + 32, 8);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "unneeded");
        CHECK(e.layer == 2 && e.kind == MTS_DENSE_KIND_WEIGHT_SCALE, "stage %u kind %u",
              (unsigned)e.layer, (unsigned)e.kind);
        whole_with(&img, MTS_QUANT_INT8_W, 4);
        put_u32(img.u.bytes + 28, 6); /* drop the scales */
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
        CHECK_FIELD(e, "missing");
        CHECK_SHAPE(e, 1u, 3u, 1u);
    }
}

/* Scalar fields (issue 19): non-finite or absurd values are rejected with
 * MTS_ERR_BAD_VALUE and the field's name, in 2.0 and 1.x files alike. */
static void test_values(void)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    static const float bad_eps[] = {0.0f, -1e-5f, 2.0f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
        whole(&img);
        put_f32(stage_of(&img, 0) + 16, bad_eps[i]);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
        CHECK_FIELD(e, "eps");
        CHECK(e.layer == 0 && e.cell == MTS_STAGE_NORM, "stage %u", (unsigned)e.layer);
    }
    whole(&img);
    stage_of(&img, 0)[12] = MTS_NORM_MODE_AFFINE; /* eps must then be 0 */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
    CHECK_FIELD(e, "eps");
    static const float bad_scale_x[] = {NAN, INFINITY, -INFINITY, 3e38f, -1e5f};
    for (size_t i = 0; i < sizeof bad_scale_x / sizeof bad_scale_x[0]; i++) {
        whole(&img);
        put_f32(stage_of(&img, 1) + 8 + 20, bad_scale_x[i]);
        fix_crc(&img);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
        CHECK_FIELD(e, "scale_x");
        CHECK(e.layer == 1, "stage %u", (unsigned)e.layer);
        /* The same in a 1.x file. */
        uint8_t layer[1][32];
        sru_record(layer[0], 4, 4, 1, MTS_NORM_NONE, MTS_QUANT_NONE);
        put_f32(layer[0] + 20, bad_scale_x[i]);
        const tensor_spec tensors[] = {
            {0, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
            {0, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
        };
        build(&img, MTS_CELL_SRU, layer, 1, tensors, 2);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
        CHECK_FIELD(e, "scale_x");
    }
    /* SRU norm_eps NaN (no norm: still a corrupt field). */
    whole(&img);
    put_f32(stage_of(&img, 1) + 8 + 24, NAN);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
    CHECK_FIELD(e, "norm_eps");
    /* QRNN zoneout outside [0, 1] (1.x file). */
    static const float bad_zoneout[] = {NAN, -0.5f, 1.5f, INFINITY};
    for (size_t i = 0; i < sizeof bad_zoneout / sizeof bad_zoneout[0]; i++) {
        uint8_t layer[1][32];
        qrnn_record(layer[0], 2, 4, 2, MTS_QUANT_NONE);
        put_f32(layer[0] + 16, bad_zoneout[i]);
        const tensor_spec tensors[] = {
            {0, MTS_QRNN_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
            {0, MTS_QRNN_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 12, 1},
        };
        build(&img, MTS_CELL_QRNN, layer, 1, tensors, 2);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
        CHECK_FIELD(e, "zoneout");
    }
    /* Per-row int8 scales: non-finite or negative. */
    static const float bad_scales[] = {NAN, INFINITY, -INFINITY, -0.5f, -1e-30f};
    for (size_t i = 0; i < sizeof bad_scales / sizeof bad_scales[0]; i++) {
        whole_with(&img, MTS_QUANT_INT8_WA, 4);
        put_tensor_f32(&img, 6, 1, bad_scales[i]);
        CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
        CHECK_FIELD(e, "weight_scale");
        CHECK_FOUND_ONLY(e, 1u);
        CHECK(e.layer == 2 && e.tensor == 6 && e.kind == MTS_DENSE_KIND_WEIGHT_SCALE,
              "stage %u tensor %u kind %u", (unsigned)e.layer, (unsigned)e.tensor,
              (unsigned)e.kind);
    }
    uint8_t layer[1][32];
    qrnn_record(layer[0], 2, 4, 2, MTS_QUANT_INT8_W);
    const tensor_spec qtensors[] = {
        {0, MTS_QRNN_KIND_WEIGHT, MTS_FILE_DTYPE_I8, 2, 12, 4},
        {0, MTS_QRNN_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 12, 1},
        {0, MTS_QRNN_KIND_WEIGHT_SCALE, MTS_FILE_DTYPE_F32, 1, 12, 1},
    };
    build(&img, MTS_CELL_QRNN, layer, 1, qtensors, 3);
    put_tensor_f32(&img, 2, 11, NAN);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_VALUE);
    CHECK_FIELD(e, "weight_scale");
    CHECK_FOUND_ONLY(e, 11u);
    char text[200];
    mts_file_error_text(MTS_ERR_BAD_VALUE, &e, text, sizeof text);
    CHECK(strcmp(text, "a scalar field is not finite or out of range (MTS_ERR_BAD_VALUE): "
                       "layer 0, tensor record 2, kind 3 (weight_scale), weight_scale, "
                       "found 11") == 0,
          "'%s'", text);
}

static void test_chaining(void)
{
    static image img; /* 8 KB: off the small boards' stack */
    mts_file_error e;
    whole_with(&img, MTS_QUANT_NONE, 5); /* dense takes 5, the SRU gives 4 */
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_CONFIG);
    CHECK(e.layer == 2 && e.cell == MTS_STAGE_DENSE, "stage %u", (unsigned)e.layer);
    CHECK_FIELD(e, "input_size");
    CHECK_VALUES(e, 5u, 4u);
}

int main(void)
{
    test_valid();
    test_header();
    test_stage_records();
    test_tensors();
    test_values();
    test_chaining();
    return check_summary("file_stages");
}
