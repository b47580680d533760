/* The .mts model file (docs/model-format.md): a validating loader that uses
 * the weights in place (no copy), for flash images, memory maps and buffers.
 *
 * Every size, offset and product read from the file is checked (including
 * for overflow of size_t on 32-bit targets) before it is used; a malformed
 * file is rejected with a specific MTS_ERR_FILE_* / MTS_ERR_* code and
 * nothing outside [data, data + size) is ever read.
 */
#ifndef MTSRNN_FILE_H
#define MTSRNN_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/model.h"
#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_FILE_HEADER_SIZE 64u
#define MTS_FILE_LAYER_RECORD_SIZE 32u
#define MTS_FILE_TENSOR_RECORD_SIZE 48u
#define MTS_FILE_VERSION_MAJOR 1u
#define MTS_FILE_VERSION_MINOR 1u
#define MTS_FILE_DATA_ALIGNMENT 64u

/* Flags of mts_file_load. */
#define MTS_LOAD_SKIP_CRC 1u    /* the image was verified already (e.g. at flashing) */

/* CRC-32 (IEEE 802.3, zlib's crc32) of size bytes, continuing from crc
 * (start with 0). */
uint32_t mts_crc32(uint32_t crc, const void *data, size_t size);

/* Bytes of descriptor storage that mts_file_load needs for this file (one
 * layer descriptor per layer). Validates the header first. */
mts_status mts_file_descriptor_size(const void *data, size_t size, size_t *num_bytes);

/* Validate the file in data[0, size) and point *model at its weights in
 * place. data must be 4-byte aligned and stay valid (and unchanged) while
 * the model is used; size may exceed the file (e.g. a flash partition): only
 * file_size bytes are read. descriptors (pointer-aligned, at least
 * mts_file_descriptor_size bytes) receives the layer descriptors that *model
 * points to. *model is written only on success. */
mts_status mts_file_load(const void *data, size_t size, uint32_t flags, void *descriptors,
                         size_t descriptor_bytes, mts_model *model);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_FILE_H */
