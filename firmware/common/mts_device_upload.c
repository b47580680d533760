/* `upload <bytes> <crc32>` (docs/protocol.md, "Uploading a model"): an
 * .mts file over the line, into the RAM arena the board lends
 * (mts_device_config.arena), validated by the C loader (mts_file_load,
 * the one every device runs) before anything uses it.
 *
 * Why two halves: the file is received into the half that does not hold
 * the model in use, and the device switches to it only when every check
 * passed (payload length and CRC-32, the loader, the device's buffers). So
 * a damaged, truncated, interrupted or hostile upload, or one larger than
 * a half, leaves the previous model (built-in or uploaded) selected and its
 * bytes untouched; the price is twice the largest file in RAM.
 */
#include <string.h>

#include "mts_device_internal.h"
#include "mtsrnn/file.h"

/* What the loaded model needs of the device's buffers, and what they hold,
 * on `e-upload` when it does not fit (sizes as mts_dev_check_model checks
 * them). */
static void send_does_not_fit(mts_device *device, const mts_model *model, mts_status status)
{
    const mts_device_config *c = &device->config;
    size_t state = 0, input = 0, output = 0, workspace = 0;
    (void)mts_model_state_size(model, &state);
    (void)mts_model_io_sizes(model, &input, &output);
    (void)mts_model_workspace_size(model, c->max_block, c->max_steps, &workspace);
    mts_dev_out_begin(device, "e-upload the model does not fit this device's buffers (");
    mts_dev_out_text(device, mts_status_str(status));
    mts_dev_out_text(device, "): it needs workspace_bytes=");
    mts_dev_out_u64(device, workspace);
    mts_dev_out_key_u64(device, "state_floats", state);
    mts_dev_out_key_u64(device, "input_floats", (uint64_t)input * c->max_steps);
    mts_dev_out_key_u64(device, "output_floats", (uint64_t)output * c->max_steps);
    mts_dev_out_text(device, ", see m-limits");
    mts_dev_out_send(device);
}

int mts_dev_command_upload(mts_device *device, const mts_dev_word *words, size_t count)
{
    uint32_t bytes, crc;
    if (count != 3u || !mts_dev_parse_u32(words[1].text, words[1].length, &bytes) ||
        !mts_dev_parse_crc(words[2], &crc)) {
        mts_dev_send_error(device, "bad-args", "upload needs <bytes> <crc32>");
        return 0;
    }
    const size_t half = MTS_DEVICE_ARENA_HALF(device->config.arena_bytes);
    const int staging = device->upload_half == 0 ? 1 : 0;
    /* As for infer: the arguments are judged after the payload was read, so
     * that a refused upload still consumes its d lines and gets one reply. */
    const int too_large = bytes == 0u || (size_t)bytes > half;
    unsigned char *const area =
        too_large ? NULL : (unsigned char *)device->config.arena + (size_t)staging * half;
    const mts_dev_payload_result result =
        mts_dev_read_payload(device, area, bytes, crc);
    if (result == MTS_DEV_PAYLOAD_EOF)
        return -1;
    if (result == MTS_DEV_PAYLOAD_ABORTED)
        return 0;
    if (too_large) {
        mts_dev_out_begin(device, "e-bad-args upload of ");
        mts_dev_out_u64(device, bytes);
        mts_dev_out_text(device, " bytes: the arena holds 1..");
        mts_dev_out_u64(device, half);
        mts_dev_out_text(device, " bytes (m-limits arena=)");
        mts_dev_out_send(device);
        return 0;
    }
    if (result == MTS_DEV_PAYLOAD_BAD) {
        mts_dev_out_send(device);
        return 0;
    }
    /* The stage descriptors go after the file, pointer-aligned. */
    const size_t offset = ((size_t)bytes + 15u) & ~(size_t)15u;
    mts_file_error error;
    size_t descriptor_bytes = 0;
    mts_status status = mts_file_descriptor_size(area, bytes, &descriptor_bytes, &error);
    if (status == MTS_OK && (offset > half || descriptor_bytes > half - offset)) {
        mts_dev_out_begin(device, "e-upload the file and its stage descriptors need ");
        mts_dev_out_u64(device, (uint64_t)offset + descriptor_bytes);
        mts_dev_out_text(device, " bytes, the arena holds ");
        mts_dev_out_u64(device, half);
        mts_dev_out_send(device);
        return 0;
    }
    mts_model *model = &device->upload_models[staging];
    if (status == MTS_OK)
        status = mts_file_load(area, bytes, 0u, area + offset, half - offset, model, &error);
    if (status != MTS_OK) {
        /* The loader's one line: what is wrong and where. */
        char text[200];
        (void)mts_file_error_text(status, &error, text, sizeof text);
        mts_dev_out_begin(device, "e-upload the loader rejects the file: ");
        mts_dev_out_text(device, text);
        mts_dev_out_send(device);
        return 0;
    }
    const mts_device_model entry = {"upload", model, NULL, NULL, 0u, 0.0f};
    status = mts_dev_check_model(device, &device->config, &entry);
    if (status != MTS_OK) {
        send_does_not_fit(device, model, status);
        return 0;
    }
    /* Every check passed: switch to it (the other half is free now). */
    device->upload_entry = entry;
    device->upload_half = staging;
    device->upload_crc = crc;
    device->upload_bytes = bytes;
    device->selected = device->config.num_models;
    mts_dev_reset_selected(device);
    mts_dev_out_begin(device, "m-upload");
    mts_dev_out_key_u64(device, "index", device->selected);
    mts_dev_out_text(device, " name=upload");
    mts_dev_out_key_u64(device, "bytes", bytes);
    mts_dev_out_text(device, " crc32=");
    mts_dev_out_hex32(device, crc);
    mts_dev_out_key_u64(device, "stages", model->num_stages);
    mts_dev_out_send(device);
    mts_dev_out_begin(device, "m-selected");
    mts_dev_out_key_u64(device, "index", device->selected);
    mts_dev_out_send(device);
    return 0;
}
