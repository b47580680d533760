/* Bench-only peers (docs/protocol.md, "Peers"): products a board offers to
 * `bench ... peer=<name>` and to the `peer` command only, never to
 * `variant`, `infer` or `selftest`. A peer computes another function than
 * the model's product (CMSIS-DSP's arm_mat_vec_mult_q7 returns the int32
 * sums shifted right by 7 and saturated to q7), so a model run with it
 * gives other numbers: only its cost is comparable, beside the int8-wa
 * variants. Every peer takes the int8-wa product's signature
 * (mts_gemm_i8i8_fn, mtsrnn/gemm.h) and replaces the int8-wa product of
 * the layers that have one.
 *
 * `peer` lists them; `peer <name>` runs one on a fixed probe that never
 * saturates, so a host can check its output against its own reference:
 *
 *   Wq[r][i]  = the fixed sequence's bytes mapped to -16..15 (PEER_PROBE_*)
 *   Xq[t][i]  = the same sequence continued
 *   w_scale = 1, x_scale = 1/128:  Y[t][r] = 128 * q7(...) / 128 = q7[t][r]
 *
 * and the reply carries Y as integers (docs/protocol.md gives the sequence).
 */
#include <string.h>

#include "mts_device_internal.h"

#define PEER_PROBE_ROWS 6u
#define PEER_PROBE_DEPTH 20u   /* not a multiple of 4 or 16: the tails run */
#define PEER_PROBE_STEPS 2u

mts_status mts_device_set_peers(mts_device *device, const mts_gemm_i8i8_variant *peers,
                                uint32_t num_peers)
{
    if (device == NULL || (peers == NULL && num_peers > 0u))
        return MTS_ERR_NULL_POINTER;
    for (uint32_t k = 0; k < num_peers; k++) {
        const char *name = peers[k].name;
        if (peers[k].fn == NULL || name == NULL)
            return MTS_ERR_NULL_POINTER;
        if (name[0] == '\0' || strchr(name, ' ') != NULL)
            return MTS_ERR_BAD_SIZE;
    }
    device->peers = peers;
    device->num_peers = num_peers;
    return MTS_OK;
}

const mts_gemm_i8i8_variant *mts_dev_find_peer(const mts_device *device, mts_dev_word name)
{
    for (uint32_t k = 0; k < device->num_peers; k++) {
        const char *peer = device->peers[k].name;
        if (strlen(peer) == name.length && memcmp(peer, name.text, name.length) == 0)
            return &device->peers[k];
    }
    return NULL;
}

/* The probe's values: a 32-bit linear congruential sequence (the one of
 * bench's fixed input), each value's top 5 bits as -16..15. */
static int8_t probe_value(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (int8_t)((int32_t)(*state >> 27) - 16);
}

static void send_probe(mts_device *device, const mts_gemm_i8i8_variant *peer)
{
    /* W, Xq and Y in the workspace; the scales on the stack. */
    const size_t w_bytes = PEER_PROBE_ROWS * PEER_PROBE_DEPTH;
    const size_t x_bytes = PEER_PROBE_STEPS * PEER_PROBE_DEPTH;
    const size_t y_offset = (w_bytes + x_bytes + 3u) & ~(size_t)3u;
    const size_t y_floats = PEER_PROBE_STEPS * PEER_PROBE_ROWS;
    if (y_offset + y_floats * sizeof(float) > device->config.workspace_bytes) {
        mts_dev_send_error(device, "bad-args", "the workspace is too small for the probe");
        return;
    }
    int8_t *w = (int8_t *)device->config.workspace;
    int8_t *xq = w + w_bytes;
    float *y = (float *)((unsigned char *)device->config.workspace + y_offset);
    uint32_t state = 0x2545F491u;
    for (size_t i = 0; i < w_bytes + x_bytes; i++)
        w[i] = probe_value(&state);
    float w_scale[PEER_PROBE_ROWS];
    const float x_scale[PEER_PROBE_STEPS] = {1.0f / 128.0f, 1.0f / 128.0f};
    for (size_t r = 0; r < PEER_PROBE_ROWS; r++)
        w_scale[r] = 1.0f;
    peer->fn(PEER_PROBE_ROWS, PEER_PROBE_DEPTH, PEER_PROBE_STEPS, w, PEER_PROBE_DEPTH, w_scale,
             xq, PEER_PROBE_DEPTH, x_scale, y, PEER_PROBE_ROWS);
    mts_dev_out_begin(device, "m-peer-probe name=");
    mts_dev_out_text(device, peer->name);
    mts_dev_out_key_u64(device, "rows", PEER_PROBE_ROWS);
    mts_dev_out_key_u64(device, "depth", PEER_PROBE_DEPTH);
    mts_dev_out_key_u64(device, "steps", PEER_PROBE_STEPS);
    mts_dev_out_text(device, " y=");
    for (size_t i = 0; i < y_floats; i++) {
        /* Integers -128..127 when the peer is right; anything else shows. */
        mts_dev_out_text(device, i ? "," : "");
        mts_dev_out_float(device, y[i]);
    }
    mts_dev_out_send(device);
}

/* `peer`: every peer, `m-peer index=<k> name=<name> weights=int8-wa`;
 * `peer <name>`: that peer's probe, `m-peer-probe ...`. */
void mts_dev_command_peer(mts_device *device, const mts_dev_word *words, size_t count)
{
    if (count > 2u) {
        mts_dev_send_error(device, "bad-args", "peer takes no argument or a peer name");
        return;
    }
    if (count == 2u) {
        const mts_gemm_i8i8_variant *peer = mts_dev_find_peer(device, words[1]);
        if (peer == NULL) {
            mts_dev_out_begin(device, "e-bad-args no peer ");
            mts_dev_out_shown_word(device, words[1]);
            mts_dev_out_text(device, " (`peer` lists them)");
            mts_dev_out_send(device);
            return;
        }
        send_probe(device, peer);
        return;
    }
    for (uint32_t k = 0; k < device->num_peers; k++) {
        mts_dev_out_begin(device, "m-peer");
        mts_dev_out_key_u64(device, "index", k);
        mts_dev_out_text(device, " name=");
        mts_dev_out_text(device, device->peers[k].name);
        mts_dev_out_text(device, " weights=int8-wa");
        mts_dev_out_send(device);
    }
}
