/* Private to the .mts loader (file.c, file_attach.c, file_text.c): the
 * byte readers, the rejection helpers that fill mts_file_error, and a
 * validated tensor record. */
#ifndef MTSRNN_FILE_INTERNAL_H
#define MTSRNN_FILE_INTERNAL_H

#include "mtsrnn/file.h"

#include "internal.h"

static inline uint16_t read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t read_u64(const uint8_t *p)
{
    return (uint64_t)read_u32(p) | ((uint64_t)read_u32(p + 4) << 32);
}

static inline float read_f32(const uint8_t *p)
{
    const uint32_t bits = read_u32(p);
    float value;
    const uint8_t *src = (const uint8_t *)&bits;
    uint8_t *dst = (uint8_t *)&value;
    for (size_t i = 0; i < sizeof value; i++)
        dst[i] = src[i];
    return value;
}

/* Offset of the first nonzero byte of p[0, n), or n when all are zero. */
static inline size_t first_nonzero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == 0)
        i++;
    return i;
}

static inline int host_is_little_endian(void)
{
    const uint32_t probe = 1u;
    return *(const uint8_t *)&probe == 1u;
}

/* ---- the detail of a rejection (mts_file_error; error may be NULL) ---- */

static inline void detail_clear(mts_file_error *error)
{
    if (error == NULL)
        return;
    error->cell = 0;
    error->layer = MTS_FILE_NO_INDEX;
    error->tensor = MTS_FILE_NO_INDEX;
    error->kind = 0;
    error->has = 0;
    error->field = "";
    error->found = 0;
    error->expected = 0;
    error->shape_ndim = 0;
    error->shape[0] = 0;
    error->shape[1] = 0;
    error->version_major = 0;
}

/* Where the check under way looks: layer, tensor record and kind. */
static inline void detail_locate(mts_file_error *error, uint32_t layer, uint32_t tensor,
                                 uint32_t kind)
{
    if (error == NULL)
        return;
    error->layer = layer;
    error->tensor = tensor;
    error->kind = kind;
}

/* Reject with status: the field at fault and the values (as has says). */
static inline mts_status reject(mts_file_error *error, mts_status status, const char *field,
                                uint32_t has, uint64_t found, uint64_t expected)
{
    if (error != NULL) {
        error->field = field;
        error->has = has;
        error->found = (has & MTS_FILE_ERROR_FOUND) ? found : 0;
        error->expected = (has & MTS_FILE_ERROR_EXPECTED) ? expected : 0;
    }
    return status;
}

static inline mts_status reject_field(mts_file_error *error, mts_status status, const char *field)
{
    return reject(error, status, field, 0, 0, 0);
}

static inline mts_status reject_found(mts_file_error *error, mts_status status, const char *field,
                                      uint64_t found)
{
    return reject(error, status, field, MTS_FILE_ERROR_FOUND, found, 0);
}

static inline mts_status reject_value(mts_file_error *error, mts_status status, const char *field,
                                      uint64_t found, uint64_t expected)
{
    return reject(error, status, field, MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED, found,
                  expected);
}

/* A value outside [low, high]: expected is the bound crossed. */
static inline mts_status reject_range(mts_file_error *error, mts_status status, const char *field,
                                      uint64_t found, uint64_t low, uint64_t high)
{
    return reject_value(error, status, field, found, found < low ? low : high);
}

typedef struct tensor_ref {
    uint32_t index, ndim, dtype;
    uint64_t dim0, dim1;
    const void *data;
} tensor_ref;
/* Check 11 for one stage (file_attach.c): its configuration (sizes, options,
 * scalar fields), its tensors against it (found[kind], NULL when absent),
 * then the int8 scales' values; points the stage's arrays at the tensors. */
mts_status mtsi_file_attach_stage(mts_stage *stage, const tensor_ref *const *found,
                                  mts_file_error *error);

#endif /* MTSRNN_FILE_INTERNAL_H */
