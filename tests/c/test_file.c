/* The .mts loader's detail (mts_file_error, docs/model-format.md): for a
 * representative malformed file at each check, the status and where the
 * loader says the file is wrong (layer, tensor record, kind, field, the
 * values found and expected, the shape the configuration implies). Files
 * are built here byte by byte, independently of the Python writer. Also:
 * mts_status_name, mts_file_kind_name and mts_file_error_text. */
#include <stdint.h>
#include <string.h>

#include "file_image.h"

/* SRU, one layer n = d = 4, D = 1: weight (12, 4), weight_c (8), bias (8). */
static void valid_sru(image *img)
{
    uint8_t layer[1][32];
    sru_record(layer[0], 4, 4, 1, MTS_NORM_NONE, MTS_QUANT_NONE);
    const tensor_spec tensors[] = {
        {0, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
        {0, MTS_SRU_KIND_WEIGHT_C, MTS_FILE_DTYPE_F32, 1, 8, 1},
        {0, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
    };
    build(img, MTS_CELL_SRU, layer, 1, tensors, 3);
}

/* Two SRU layers, the second's input size given. */
static void two_sru(image *img, uint32_t second_input)
{
    uint8_t layers[2][32];
    sru_record(layers[0], 4, 4, 1, MTS_NORM_NONE, MTS_QUANT_NONE);
    sru_record(layers[1], second_input, 4, 1, MTS_NORM_NONE, MTS_QUANT_NONE);
    const tensor_spec tensors[] = {
        {0, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, 4},
        {0, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
        {1, MTS_SRU_KIND_WEIGHT, MTS_FILE_DTYPE_F32, 2, 12, second_input},
        {1, MTS_SRU_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 8, 1},
    };
    build(img, MTS_CELL_SRU, layers, 2, tensors, 4);
}

/* QRNN, one int8-w layer n = 2, H = 4, w = 2, output gate: weight (12, 4)
 * int8, bias (12), weight_scale (12) unless left out. */
static void quantised_qrnn(image *img, int with_scale)
{
    uint8_t layer[1][32];
    qrnn_record(layer[0], 2, 4, 2, MTS_QUANT_INT8_W);
    const tensor_spec tensors[] = {
        {0, MTS_QRNN_KIND_WEIGHT, MTS_FILE_DTYPE_I8, 2, 12, 4},
        {0, MTS_QRNN_KIND_BIAS, MTS_FILE_DTYPE_F32, 1, 12, 1},
        {0, MTS_QRNN_KIND_WEIGHT_SCALE, MTS_FILE_DTYPE_F32, 1, 12, 1},
    };
    build(img, MTS_CELL_QRNN, layer, 1, tensors, with_scale ? 3 : 2);
}

static void test_valid_files(void)
{
    image img;
    mts_file_error e;
    valid_sru(&img);
    size_t bytes = 0;
    CHECK_STATUS(mts_file_descriptor_size(img.u.bytes, img.size, &bytes, &e), MTS_OK);
    CHECK(bytes == sizeof(mts_stage), "%lu descriptor bytes", (unsigned long)bytes);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
    CHECK_AT(e, NONE, NONE, 0u);
    CHECK_FIELD(e, "");
    CHECK(e.has == 0 && e.shape_ndim == 0 && e.cell == MTS_CELL_SRU, "has %u cell %u",
          (unsigned)e.has, (unsigned)e.cell);
    CHECK_STATUS(load_image(&img, NULL), MTS_OK); /* no detail asked */
    quantised_qrnn(&img, 1);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
    two_sru(&img, 4);
    CHECK_STATUS(load_image(&img, &e), MTS_OK);
}

static void test_arguments(void)
{
    image img;
    mts_file_error e;
    mts_model model;
    valid_sru(&img);
    CHECK_STATUS(mts_file_load(NULL, img.size, 0, descriptors, sizeof descriptors, &model, &e),
                 MTS_ERR_NULL_POINTER);
    CHECK_FIELD(e, "data");
    CHECK_STATUS(mts_file_load(img.u.bytes, img.size, 0, NULL, 0, &model, &e),
                 MTS_ERR_NULL_POINTER);
    CHECK_FIELD(e, "descriptors");
    CHECK_STATUS(mts_file_descriptor_size(img.u.bytes, img.size, NULL, &e),
                 MTS_ERR_NULL_POINTER);
    CHECK_FIELD(e, "num_bytes");
    /* Descriptor storage one byte short. */
    CHECK_STATUS(load(&img, 0, sizeof(mts_stage) - 1, &e), MTS_ERR_DESCRIPTORS_TOO_SMALL);
    CHECK_FIELD(e, "descriptor_bytes");
    CHECK_VALUES(e, sizeof(mts_stage) - 1, sizeof(mts_stage));
    /* A buffer one byte past an aligned address: after the CRC check. */
    CHECK_STATUS(load(&img, 1, sizeof descriptors, &e), MTS_ERR_MISALIGNED);
    CHECK_FIELD(e, "data");
    CHECK_VALUES(e, 1u, 4u);
}

static void test_header(void)
{
    image img;
    mts_file_error e;
    size_t bytes;
    valid_sru(&img);
    CHECK_STATUS(mts_file_descriptor_size(img.u.bytes, 10, &bytes, &e), MTS_ERR_FILE_TRUNCATED);
    CHECK_FIELD(e, "size");
    CHECK_VALUES(e, 10u, MTS_FILE_HEADER_SIZE);
    CHECK(e.cell == 0, "cell %u before the header passed", (unsigned)e.cell);

    img.u.bytes[3] = 'X';
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_MAGIC);
    CHECK_FIELD(e, "magic");
    CHECK(e.has == (MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED) && e.found != e.expected &&
              (e.found & 0xFFu) == 0x89u && (e.expected >> 24 & 0xFFu) == 'S',
          "magic found %llx", (unsigned long long)e.found);

    valid_sru(&img);
    put_u16(img.u.bytes + 8, 3);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_VERSION);
    CHECK_FIELD(e, "version_major");
    CHECK_VALUES(e, 3u, 2u);
    put_u16(img.u.bytes + 8, 0);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_VERSION);
    CHECK_VALUES(e, 0u, 1u);

    valid_sru(&img);
    put_u32(img.u.bytes + 12, 0x04030201u);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_BYTE_ORDER);
    CHECK_FIELD(e, "byte_order");
    CHECK_VALUES(e, 0x04030201u, MTS_FILE_BYTE_ORDER_MARK);

    valid_sru(&img);
    const size_t size = img.size;
    img.size = size - 1;
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TRUNCATED);
    CHECK_FIELD(e, "file_size");
    CHECK_VALUES(e, size, size - 1);

    valid_sru(&img);
    img.u.bytes[60] = 7;
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "reserved");
    CHECK_FOUND_ONLY(e, 60u);

    valid_sru(&img);
    put_u32(img.u.bytes + 20, 3);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "cell");
    CHECK_FOUND_ONLY(e, 3u);

    valid_sru(&img);
    put_u32(img.u.bytes + 24, 65);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "num_layers");
    CHECK_VALUES(e, 65u, MTS_MAX_LAYERS);

    valid_sru(&img);
    put_u32(img.u.bytes + 28, 9); /* SRU: at most 8 per layer */
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "num_tensors");
    CHECK_VALUES(e, 9u, 8u);

    valid_sru(&img);
    put_u32(img.u.bytes + 44, 100);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "tensor_table_offset");
    CHECK_VALUES(e, 100u, 96u);

    valid_sru(&img);
    put_u64(img.u.bytes + 32, 100); /* tables end at 96 + 3 * 48 */
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_HEADER);
    CHECK_FIELD(e, "file_size");
    CHECK_VALUES(e, 100u, 240u);
    CHECK_AT(e, NONE, NONE, 0u);
}

static void test_crc(void)
{
    image img;
    mts_file_error e;
    valid_sru(&img);
    img.u.bytes[img.size - 1] ^= 1u;
    const uint32_t stored = get_u32(img.u.bytes + MTS_FILE_CRC_OFFSET);
    const uint32_t actual = fix_crc(&img);
    put_u32(img.u.bytes + MTS_FILE_CRC_OFFSET, stored);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_CRC);
    CHECK_FIELD(e, "crc32");
    CHECK_VALUES(e, stored, actual);
    CHECK(e.cell == MTS_CELL_SRU, "cell %u", (unsigned)e.cell);
}

static void test_layer_records(void)
{
    image img;
    mts_file_error e;
    two_sru(&img, 4);
    img.u.bytes[MTS_FILE_HEADER_SIZE + MTS_FILE_LAYER_RECORD_SIZE + 29] = 1;
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_LAYER);
    CHECK_AT(e, 1u, NONE, 0u);
    CHECK_FIELD(e, "reserved");
    CHECK_FOUND_ONLY(e, 29u);

    quantised_qrnn(&img, 1);
    img.u.bytes[MTS_FILE_HEADER_SIZE + 15] = 1;
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_LAYER);
    CHECK_AT(e, 0u, NONE, 0u);
    CHECK_FOUND_ONLY(e, 15u);

    /* A layer record the kernels reject: its layer, no field. */
    two_sru(&img, 4);
    put_u32(img.u.bytes + MTS_FILE_HEADER_SIZE + MTS_FILE_LAYER_RECORD_SIZE + 8, 3);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_CONFIG);
    CHECK_AT(e, 1u, NONE, 0u);
    CHECK_FIELD(e, "");
    CHECK(e.has == 0, "has %u", (unsigned)e.has);
}

static void test_tensor_records(void)
{
    image img;
    mts_file_error e;
    valid_sru(&img);
    put_u32(record_of(&img, 1), 5); /* layer 5 of 1 */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_AT(e, NONE, 1u, 0u);
    CHECK_FIELD(e, "layer");
    CHECK_VALUES(e, 5u, 1u);

    valid_sru(&img);
    put_u32(record_of(&img, 2) + 4, 9);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_AT(e, 0u, 2u, 0u);
    CHECK_FIELD(e, "kind");
    CHECK_VALUES(e, 9u, MTS_SRU_KINDS);

    valid_sru(&img);
    put_u32(record_of(&img, 2) + 8, MTS_FILE_DTYPE_I8); /* an int8 bias */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_AT(e, 0u, 2u, (uint32_t)MTS_SRU_KIND_BIAS);
    CHECK_FIELD(e, "dtype");
    CHECK_VALUES(e, MTS_FILE_DTYPE_I8, MTS_FILE_DTYPE_F32);

    valid_sru(&img);
    put_u64(record_of(&img, 0) + 40, 100);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_AT(e, 0u, 0u, (uint32_t)MTS_SRU_KIND_WEIGHT);
    CHECK_FIELD(e, "nbytes");
    CHECK_VALUES(e, 100u, 12u * 4u * 4u);

    valid_sru(&img);
    uint8_t *bias = record_of(&img, 2);
    const uint64_t offset = (uint64_t)get_u32(bias + 32);
    put_u64(bias + 32, offset + 4);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_FIELD(e, "offset");
    CHECK_VALUES(e, offset + 4, MTS_FILE_DATA_ALIGNMENT);

    valid_sru(&img);
    put_u64(record_of(&img, 2) + 32, offset + 64); /* 32 bytes past the end */
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_FIELD(e, "offset");
    CHECK_VALUES(e, offset + 64, img.size - 32u);

    /* A second bias (record 2 duplicates record 1's kind). */
    valid_sru(&img);
    put_u32(record_of(&img, 1) + 4, MTS_SRU_KIND_BIAS);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_TENSOR);
    CHECK_AT(e, 0u, 2u, (uint32_t)MTS_SRU_KIND_BIAS);
    CHECK_FIELD(e, "duplicate");
    CHECK_FOUND_ONLY(e, 1u);
}

static void test_shapes(void)
{
    image img;
    mts_file_error e;
    valid_sru(&img);
    uint8_t *bias = record_of(&img, 2);
    put_u64(bias + 16, 2);
    put_u64(bias + 40, 8);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, 2u, (uint32_t)MTS_SRU_KIND_BIAS);
    CHECK_FIELD(e, "dim0");
    CHECK_VALUES(e, 2u, 8u);
    CHECK_SHAPE(e, 1u, 8u, 1u);

    /* A 1-D weight. */
    valid_sru(&img);
    uint8_t *weight = record_of(&img, 0);
    put_u32(weight + 12, 1);
    put_u64(weight + 16, 48);
    put_u64(weight + 24, 1);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, 0u, (uint32_t)MTS_SRU_KIND_WEIGHT);
    CHECK_FIELD(e, "ndim");
    CHECK_VALUES(e, 1u, 2u);
    CHECK_SHAPE(e, 2u, 12u, 4u);

    /* No bias: weight_c in its place is fine, the bias is missing. */
    valid_sru(&img);
    put_u32(img.u.bytes + 28, 2);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, NONE, (uint32_t)MTS_SRU_KIND_BIAS);
    CHECK_FIELD(e, "missing");
    CHECK(e.has == 0, "has %u", (unsigned)e.has);
    CHECK_SHAPE(e, 1u, 8u, 1u);

    /* A norm weight in a layer without layer norm. */
    valid_sru(&img);
    put_u32(record_of(&img, 1) + 4, MTS_SRU_KIND_NORM_WEIGHT);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, 1u, (uint32_t)MTS_SRU_KIND_NORM_WEIGHT);
    CHECK_FIELD(e, "unneeded");
    CHECK_SHAPE(e, 0u, 0u, 0u);

    /* int8 weights in a float layer: the dtype, before anything else. */
    valid_sru(&img);
    weight = record_of(&img, 0);
    put_u32(weight + 8, MTS_FILE_DTYPE_I8);
    put_u64(weight + 40, 48);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, 0u, (uint32_t)MTS_SRU_KIND_WEIGHT);
    CHECK_FIELD(e, "dtype");
    CHECK_VALUES(e, MTS_FILE_DTYPE_I8, MTS_FILE_DTYPE_F32);

    /* A quantised QRNN layer without its scales. */
    quantised_qrnn(&img, 0);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    CHECK_AT(e, 0u, NONE, (uint32_t)MTS_QRNN_KIND_WEIGHT_SCALE);
    CHECK_FIELD(e, "missing");
    CHECK_SHAPE(e, 1u, 12u, 1u);
    CHECK(e.cell == MTS_CELL_QRNN, "cell %u", (unsigned)e.cell);
}

static void test_chaining(void)
{
    image img;
    mts_file_error e;
    two_sru(&img, 5); /* layer 1 takes 5 inputs, layer 0 gives 4 */
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_BAD_CONFIG);
    CHECK_AT(e, 1u, NONE, 0u);
    CHECK_FIELD(e, "input_size");
    CHECK_VALUES(e, 5u, 4u);
}

static void test_names_and_text(void)
{
    CHECK(strcmp(mts_status_name(MTS_OK), "MTS_OK") == 0, "%s", mts_status_name(MTS_OK));
    CHECK(strcmp(mts_status_name(MTS_ERR_FILE_SHAPE), "MTS_ERR_FILE_SHAPE") == 0, "%s",
          mts_status_name(MTS_ERR_FILE_SHAPE));
    int codes = 0;
    while (mts_status_name((mts_status)codes) != NULL)
        codes++;
    CHECK(codes == MTS_ERR_BAD_VALUE + 1, "%d status names without a gap", codes);
    CHECK(mts_status_name((mts_status)1000) == NULL, "a name for no status");
    CHECK(strcmp(mts_file_kind_name(MTS_CELL_SRU, MTS_SRU_KIND_WEIGHT_PROJ_SCALE),
                 "weight_proj_scale") == 0 &&
              strcmp(mts_file_kind_name(MTS_CELL_QRNN, MTS_QRNN_KIND_BIAS), "bias") == 0 &&
              mts_file_kind_name(MTS_CELL_QRNN, 4)[0] == '\0' &&
              mts_file_kind_name(0, 1)[0] == '\0',
          "kind names");

    image img;
    mts_file_error e;
    valid_sru(&img);
    uint8_t *bias = record_of(&img, 2);
    put_u64(bias + 16, 2);
    put_u64(bias + 40, 8);
    fix_crc(&img);
    CHECK_STATUS(load_image(&img, &e), MTS_ERR_FILE_SHAPE);
    char text[200];
    const size_t n = mts_file_error_text(MTS_ERR_FILE_SHAPE, &e, text, sizeof text);
    const char *expected = "model file tensors contradict the layer configuration "
                           "(MTS_ERR_FILE_SHAPE): layer 0, tensor record 2, kind 4 (bias), "
                           "dim0, found 2, expected 8, shape (8,)";
    CHECK(strcmp(text, expected) == 0 && n == strlen(expected), "'%s'", text);
    char small[12];
    CHECK(mts_file_error_text(MTS_ERR_FILE_SHAPE, &e, small, sizeof small) == 11 &&
              strcmp(small, "model file ") == 0,
          "cut short: '%s'", small);
    e.found = 0x123456789ull;
    mts_file_error_text(MTS_ERR_FILE_SHAPE, &e, text, sizeof text);
    CHECK(strstr(text, "found 0x123456789,") != NULL, "'%s'", text);
    mts_file_error_text(MTS_ERR_WORKSPACE_TOO_SMALL, NULL, text, sizeof text);
    CHECK(strcmp(text, "workspace too small (MTS_ERR_WORKSPACE_TOO_SMALL)") == 0, "'%s'", text);
}

int main(void)
{
    test_valid_files();
    test_arguments();
    test_header();
    test_crc();
    test_layer_records();
    test_tensor_records();
    test_shapes();
    test_chaining();
    test_names_and_text();
    return check_summary("file");
}
