/* The protocol's I/O (docs/protocol.md, "Lines" and "Binary payloads"):
 * reading lines, splitting them into words, composing and sending reply
 * lines, and payloads in and out with their length and CRC-32 checks.
 */
#include <string.h>

#include "mtsrnn/file.h"

#include "mts_device_internal.h"

#define CHUNK_HEX_DIGITS (2u * MTS_PROTO_CHUNK_BYTES)

/* ------------------------------------------------------------ reply lines */

size_t mts_dev_out_room(const mts_device *device)
{
    return sizeof device->out - 1u - MTS_PROTO_CHECK_BYTES - device->out_length;
}

void mts_dev_out_bytes(mts_device *device, const char *bytes, size_t n)
{
    /* Room is kept for the check and the '\n' (mts_dev_out_send). */
    const size_t room = mts_dev_out_room(device);
    if (n > room) {
        n = room;
        device->out_truncated = 1;
    }
    memcpy(device->out + device->out_length, bytes, n);
    device->out_length += n;
}

void mts_dev_out_text(mts_device *device, const char *text)
{
    mts_dev_out_bytes(device, text, strlen(text));
}

void mts_dev_out_u64(mts_device *device, uint64_t value)
{
    char buf[21];
    mts_dev_out_bytes(device, buf, mts_format_u64(buf, value));
}

void mts_dev_out_float(mts_device *device, float value)
{
    char buf[16];
    mts_dev_out_bytes(device, buf, mts_format_float(buf, value));
}

void mts_dev_out_hex32(mts_device *device, uint32_t value)
{
    char buf[8];
    mts_dev_format_hex32(buf, value);
    mts_dev_out_bytes(device, buf, sizeof buf);
}

void mts_dev_out_key_u64(mts_device *device, const char *key, uint64_t value)
{
    mts_dev_out_text(device, " ");
    mts_dev_out_text(device, key);
    mts_dev_out_text(device, "=");
    mts_dev_out_u64(device, value);
}

void mts_dev_out_shown_word(mts_device *device, mts_dev_word w)
{
    const size_t n = w.length < MTS_DEV_MAX_SHOWN_WORD ? w.length : MTS_DEV_MAX_SHOWN_WORD;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)w.text[i];
        const char shown = c >= 0x21u && c <= 0x7Eu ? (char)c : '?';
        mts_dev_out_bytes(device, &shown, 1);
    }
}

void mts_dev_out_begin(mts_device *device, const char *text)
{
    device->out_length = 0;
    device->out_truncated = 0;
    mts_dev_out_text(device, text);
}

void mts_dev_out_send(mts_device *device)
{
    if (device->out_truncated) {
        /* Never a line cut short: a cut number would pass its check. */
        static const char overflow[] = "e-overflow a reply line did not fit its 256 bytes";
        memcpy(device->out, overflow, sizeof overflow - 1u);
        device->out_length = sizeof overflow - 1u;
        device->out_truncated = 0;
    }
    /* Every line ends with its check: " #" and the CRC-32 of what precedes. */
    const uint32_t check = mts_crc32(0, device->out, device->out_length);
    device->out[device->out_length++] = ' ';
    device->out[device->out_length++] = '#';
    mts_dev_format_hex32(device->out + device->out_length, check);
    device->out_length += 8u;
    device->out[device->out_length++] = '\n';
    device->board->write(device->board->ctx, device->out, device->out_length);
    device->out_length = 0;
}

void mts_dev_send_line(mts_device *device, const char *text)
{
    mts_dev_out_begin(device, text);
    mts_dev_out_send(device);
}

void mts_dev_send_ready(mts_device *device)
{
    mts_dev_out_begin(device, "m-ready");
    if (device->init_status == MTS_OK) {
        /* What the next command runs on: the selection, the variant and
         * the state's generation. */
        const mts_model *model = mts_dev_selected_model(device)->model;
        mts_run_options options = {.block = 1};
        uint32_t index;
        mts_dev_out_key_u64(device, "model", device->selected);
        mts_dev_out_text(device, " variant=");
        mts_dev_out_text(device, mts_dev_model_variant(device, model, &options, &index));
        mts_dev_out_key_u64(device, "state", device->generation);
    }
    /* The check of the line this answers: the host pairs replies with
     * commands by it; '-' when the line had none (noise, a person). */
    mts_dev_out_text(device, " re=");
    if (device->answering_known)
        mts_dev_out_hex32(device, device->answering);
    else
        mts_dev_out_text(device, "-");
    mts_dev_out_send(device);
}

void mts_dev_send_error(mts_device *device, const char *code, const char *reason)
{
    mts_dev_out_begin(device, "e-");
    mts_dev_out_text(device, code);
    mts_dev_out_text(device, " ");
    mts_dev_out_text(device, reason);
    mts_dev_out_send(device);
}

void mts_dev_send_overflow(mts_device *device)
{
    mts_dev_out_begin(device, "e-overflow line longer than ");
    mts_dev_out_u64(device, MTS_PROTO_MAX_LINE);
    mts_dev_out_text(device, " bytes");
    mts_dev_out_send(device);
}

/* ------------------------------------------------------------ words */

int mts_dev_word_is(mts_dev_word w, const char *text)
{
    const size_t n = strlen(text);
    return w.length == n && memcmp(w.text, text, n) == 0;
}

int mts_dev_parse_u32(const char *text, size_t length, uint32_t *value)
{
    if (length == 0u || length > 10u)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        v = v * 10u + (uint64_t)(text[i] - '0');
    }
    if (v > 0xFFFFFFFFu)
        return 0;
    *value = (uint32_t)v;
    return 1;
}

int mts_dev_parse_crc(mts_dev_word w, uint32_t *value)
{
    if (w.length != 8u)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < 8u; i++) {
        const int digit = mts_dev_hex_value(w.text[i]);
        if (digit < 0)
            return 0;
        v = (v << 4) | (uint32_t)digit;
    }
    *value = v;
    return 1;
}

size_t mts_dev_split_words(const char *line, size_t length, mts_dev_word *words)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= length; i++) {
        if (i == length || line[i] == ' ') {
            if (count < MTS_DEV_MAX_WORDS) {
                words[count].text = line + start;
                words[count].length = i - start;
            }
            count++;
            start = i + 1;
        }
    }
    return count;
}

/* ------------------------------------------------------------ lines in */

int mts_dev_read_line(mts_device *device)
{
    const mts_board *board = device->board;
    device->line_length = 0;
    device->line_overflow = 0;
    for (;;) {
        const int c = board->read_byte(board->ctx);
        if (c < 0)
            return -1;
        if (c == '\n')
            break;
        if (device->line_overflow)
            continue;
        if (device->line_length == MTS_PROTO_MAX_LINE) {
            device->line_overflow = 1;
            continue;
        }
        device->line[device->line_length++] = (char)c;
    }
    if (!device->line_overflow && device->line_length > 0u &&
        device->line[device->line_length - 1u] == '\r')
        device->line_length--;
    return 0;
}

/* ------------------------------------------------------------ payloads */

/* Compose the first payload error of a command in device->out; returns 1
 * when this was the first (the caller may append details). */
static int payload_error(mts_device *device, int *failed, uint32_t chunk, const char *what)
{
    if (*failed)
        return 0;
    *failed = 1;
    mts_dev_out_begin(device, "e-payload chunk ");
    mts_dev_out_u64(device, chunk);
    mts_dev_out_text(device, " ");
    mts_dev_out_text(device, what);
    return 1;
}

mts_dev_payload_result mts_dev_read_payload(mts_device *device, unsigned char *dest,
                                            uint32_t bytes, uint32_t announced_crc)
{
    uint32_t received = 0, chunk = 0, crc = 0;
    int failed = 0;
    while (received < bytes) {
        if (mts_dev_read_line(device) < 0)
            return MTS_DEV_PAYLOAD_EOF;
        if (device->line_overflow) {
            mts_dev_send_overflow(device);
            return MTS_DEV_PAYLOAD_ABORTED;
        }
        const char *line = device->line;
        const size_t length = device->line_length;
        if (!(length >= 1u && line[0] == 'd' && (length == 1u || line[1] == ' '))) {
            mts_dev_word first = {line, 0};
            while (first.length < length && line[first.length] != ' ')
                first.length++;
            mts_dev_out_begin(device, "e-payload expected a d line, got ");
            if (length == 0u)
                mts_dev_out_text(device, "an empty line");
            else
                mts_dev_out_shown_word(device, first);
            mts_dev_out_send(device);
            return MTS_DEV_PAYLOAD_ABORTED;
        }
        chunk++;
        const char *hex = length > 2u ? line + 2 : line + length;
        const size_t digits = length > 2u ? length - 2u : 0u;
        size_t count = (digits + 1u) / 2u;
        int good = 1;
        if (digits == 0u || digits % 2u != 0u || digits > CHUNK_HEX_DIGITS) {
            if (payload_error(device, &failed, chunk, "has ")) {
                mts_dev_out_u64(device, digits);
                mts_dev_out_text(device, " hex digits (even, 2..128)");
            }
            good = 0;
        } else {
            for (size_t i = 0; i < digits; i++) {
                if (mts_dev_hex_value(hex[i]) < 0) {
                    payload_error(device, &failed, chunk, "is not hex");
                    good = 0;
                    break;
                }
            }
        }
        if (count > bytes - received) {
            payload_error(device, &failed, chunk, "brings more bytes than announced");
            count = bytes - received;
            good = 0;
        }
        if (good && !failed) {
            unsigned char decoded[MTS_PROTO_CHUNK_BYTES];
            for (size_t i = 0; i < count; i++)
                decoded[i] = (unsigned char)(mts_dev_hex_value(hex[2 * i]) * 16 +
                                             mts_dev_hex_value(hex[2 * i + 1]));
            crc = mts_crc32(crc, decoded, count);
            if (dest != NULL)
                memcpy(dest + received, decoded, count);
        }
        received += (uint32_t)count;
    }
    if (!failed && crc != announced_crc) {
        mts_dev_out_begin(device, "e-payload crc32 mismatch: data ");
        mts_dev_out_hex32(device, crc);
        mts_dev_out_text(device, ", announced ");
        mts_dev_out_hex32(device, announced_crc);
        failed = 1;
    }
    return failed ? MTS_DEV_PAYLOAD_BAD : MTS_DEV_PAYLOAD_OK;
}

void mts_dev_send_payload(mts_device *device, const void *data, size_t bytes)
{
    const unsigned char *p = (const unsigned char *)data;
    mts_dev_out_begin(device, "m-payload");
    mts_dev_out_key_u64(device, "bytes", bytes);
    mts_dev_out_text(device, " crc32=");
    mts_dev_out_hex32(device, mts_crc32(0, data, bytes));
    mts_dev_out_send(device);
    for (size_t at = 0; at < bytes; at += MTS_PROTO_CHUNK_BYTES) {
        const size_t n = bytes - at < MTS_PROTO_CHUNK_BYTES ? bytes - at : MTS_PROTO_CHUNK_BYTES;
        mts_dev_out_begin(device, "d-");
        for (size_t i = 0; i < n; i++) {
            char pair[2];
            mts_dev_format_hex_byte(pair, p[at + i]);
            mts_dev_out_bytes(device, pair, 2);
        }
        mts_dev_out_send(device);
    }
}
