/* What the loader tests share: .mts images built byte by byte,
 * independently of the Python writer (format 1.x and 2.0), and the checks of
 * the loader's detail (mts_file_error). Header-only, like check.h. */
#ifndef MTSRNN_TESTS_FILE_IMAGE_H
#define MTSRNN_TESTS_FILE_IMAGE_H

#include <stdint.h>
#include <string.h>

#include "check.h"
#include "mtsrnn/file.h"

#define MAX_FILE 8192u

/* A file image, 8-byte aligned (the loader needs 4) with room to shift it. */
typedef struct image {
    union {
        uint8_t bytes[MAX_FILE + 64];
        uint64_t align;
    } u;
    size_t size;
} image;

typedef struct tensor_spec {
    uint32_t layer, kind, dtype, ndim;
    uint64_t dim0, dim1;
} tensor_spec;

static inline void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_f32(uint8_t *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    put_u32(p, bits);
}

/* The CRC over the image with the crc32 field taken as zero, written in. */
static inline uint32_t fix_crc(image *img)
{
    put_u32(img->u.bytes + MTS_FILE_CRC_OFFSET, 0);
    const uint32_t crc = mts_crc32(0, img->u.bytes, img->size);
    put_u32(img->u.bytes + MTS_FILE_CRC_OFFSET, crc);
    return crc;
}

/* An SRU layer record: n inputs, d hidden, D directions, no projection,
 * tanh, skip and norm as given, float32 or quantised weights. */
static inline void sru_record(uint8_t *r, uint32_t n, uint32_t d, uint32_t dirs,
                              uint8_t norm, uint8_t quant)
{
    memset(r, 0, MTS_FILE_LAYER_RECORD_SIZE);
    put_u32(r, n);
    put_u32(r + 4, d);
    put_u32(r + 8, dirs);
    r[16] = MTS_ACTIVATION_TANH;
    r[18] = norm;
    r[19] = quant;
    put_f32(r + 20, 1.0f);
    put_f32(r + 24, 1e-5f);
}

static inline void qrnn_record(uint8_t *r, uint32_t n, uint32_t hidden, uint32_t window,
                               uint8_t quant)
{
    memset(r, 0, MTS_FILE_LAYER_RECORD_SIZE);
    put_u32(r, n);
    put_u32(r + 4, hidden);
    put_u32(r + 8, window);
    r[13] = 1; /* output gate: G = 3 */
    r[14] = quant;
}

/* Header (version `major`: 1 with the cell, 2 with 0 at offset 20), the
 * records (record_size bytes each), tensor records, then each tensor's data
 * at the next multiple of 64 (small values), file_size and CRC. */
static inline void build_version(image *img, uint16_t major, uint32_t cell,
                                 const uint8_t *records, uint32_t record_size,
                                 uint32_t num_records, const tensor_spec *tensors,
                                 uint32_t num_tensors)
{
    uint8_t *b = img->u.bytes;
    memset(b, 0, sizeof img->u.bytes);
    static const uint8_t magic[8] = {0x89, 0x4D, 0x54, 0x53, 0x0D, 0x0A, 0x1A, 0x0A};
    memcpy(b, magic, 8);
    put_u16(b + 8, major);
    put_u32(b + 12, MTS_FILE_BYTE_ORDER_MARK);
    put_u32(b + 16, MTS_FILE_HEADER_SIZE);
    put_u32(b + 20, cell);
    put_u32(b + 24, num_records);
    put_u32(b + 28, num_tensors);
    put_u32(b + 40, MTS_FILE_HEADER_SIZE);
    const uint32_t tensor_table = MTS_FILE_HEADER_SIZE + record_size * num_records;
    put_u32(b + 44, tensor_table);
    memcpy(b + MTS_FILE_HEADER_SIZE, records, (size_t)record_size * num_records);
    size_t offset = tensor_table + (size_t)MTS_FILE_TENSOR_RECORD_SIZE * num_tensors;
    for (uint32_t t = 0; t < num_tensors; t++) {
        const tensor_spec *s = &tensors[t];
        const uint64_t item = s->dtype == MTS_FILE_DTYPE_I8 ? 1u : 4u;
        const uint64_t nbytes = s->dim0 * s->dim1 * item;
        offset = (offset + 63u) & ~(size_t)63u;
        uint8_t *r = b + tensor_table + MTS_FILE_TENSOR_RECORD_SIZE * t;
        put_u32(r, s->layer);
        put_u32(r + 4, s->kind);
        put_u32(r + 8, s->dtype);
        put_u32(r + 12, s->ndim);
        put_u64(r + 16, s->dim0);
        put_u64(r + 24, s->dim1);
        put_u64(r + 32, offset);
        put_u64(r + 40, nbytes);
        for (uint64_t i = 0; i < nbytes; i += item)
            if (item == 4)
                put_f32(b + offset + i, 0.125f * (float)(i % 7));
            else
                b[offset + i] = (uint8_t)(i % 5);
        offset += (size_t)nbytes;
    }
    img->size = offset;
    put_u64(b + 32, offset);
    fix_crc(img);
}

/* A 1.x file: layer records of the header's cell. */
static inline void build(image *img, uint32_t cell, uint8_t (*layers)[32],
                         uint32_t num_layers, const tensor_spec *tensors,
                         uint32_t num_tensors)
{
    build_version(img, MTS_FILE_VERSION_MAJOR, cell, &layers[0][0],
                  MTS_FILE_LAYER_RECORD_SIZE, num_layers, tensors, num_tensors);
}

/* Where tensor record t lies. */
static inline uint8_t *record_of(image *img, uint32_t t)
{
    const uint32_t tensor_table = get_u32(img->u.bytes + 44);
    return img->u.bytes + tensor_table + MTS_FILE_TENSOR_RECORD_SIZE * t;
}

static void *descriptors[MTS_MAX_STAGES * (sizeof(mts_stage) / sizeof(void *) + 1)];

/* Load the image (from offset `shift` of its buffer) with the detail. */
static inline mts_status load(image *img, size_t shift, size_t descriptor_bytes,
                              mts_file_error *e)
{
    mts_model model;
    if (shift != 0)
        memmove(img->u.bytes + shift, img->u.bytes, img->size);
    return mts_file_load(img->u.bytes + shift, img->size, 0, descriptors, descriptor_bytes,
                         &model, e);
}

static inline mts_status load_image(image *img, mts_file_error *e)
{
    return load(img, 0, sizeof descriptors, e);
}

/* The detail's members, one check each. */
#define CHECK_AT(e, l, t, k)                                                          \
    CHECK((e).layer == (l) && (e).tensor == (t) && (e).kind == (k),                   \
          "layer %u tensor %u kind %u", (unsigned)(e).layer, (unsigned)(e).tensor,    \
          (unsigned)(e).kind)
#define CHECK_FIELD(e, name) CHECK(strcmp((e).field, name) == 0, "field '%s'", (e).field)
#define CHECK_VALUES(e, f, x)                                                          \
    CHECK((e).has == (MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED) && (e).found == (f) && \
              (e).expected == (x),                                                    \
          "has %u found %llu expected %llu", (unsigned)(e).has,                        \
          (unsigned long long)(e).found, (unsigned long long)(e).expected)
#define CHECK_FOUND_ONLY(e, f)                                                         \
    CHECK((e).has == MTS_FILE_ERROR_FOUND && (e).found == (f), "has %u found %llu",    \
          (unsigned)(e).has, (unsigned long long)(e).found)
#define CHECK_SHAPE(e, n, d0, d1)                                                      \
    CHECK((e).shape_ndim == (n) && (e).shape[0] == (d0) && (e).shape[1] == (d1),       \
          "shape ndim %u (%llu, %llu)", (unsigned)(e).shape_ndim,                      \
          (unsigned long long)(e).shape[0], (unsigned long long)(e).shape[1])
#define NONE MTS_FILE_NO_INDEX

#endif /* MTSRNN_TESTS_FILE_IMAGE_H */
