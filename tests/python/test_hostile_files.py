"""Hostile .mts files: the Python reader (`mtsrnn.load`) and the C loader
(`_core.load_file`, mts_file_load) reject every malformed file, with the same
status (Python `ModelFileError.status`, C `mts_status` code), and never crash.

Files are built and patched here with `struct` and `zlib` alone, independently
of mtsrnn's writer; "with a recomputed CRC" means the CRC is made right after
the damage, so that the check behind the CRC is what must reject the file.
"""

import math
import struct
import zlib

import mtsrnn
import numpy as np
import pytest
from mtsrnn import _core, mtsfile
from mtsrnn.mtsfile import STATUS_NAMES, ModelFileError, UnsupportedModelError

# ---- the two readers -------------------------------------------------------------


def python_status(data):
    """The Python reader's verdict: "MTS_OK", a status name, or "UNSUPPORTED"."""
    try:
        mtsrnn.load(bytes(data))
    except UnsupportedModelError:
        return "UNSUPPORTED"
    except ModelFileError as error:
        assert error.status in mtsfile.STATUS_CODES, error.status
        assert error.message and "\n" not in error.message
        return error.status
    return "MTS_OK"


def c_status(data):
    """The C loader's verdict, as a status name."""
    try:
        _core.load_file(bytes(data))
    except _core.ModelFileError as error:
        description, code = error.args
        assert description == _core.status_str(code)
        return STATUS_NAMES[code]
    return "MTS_OK"


def assert_rejected(data, status):
    assert (python_status(data), c_status(data)) == (status, status)


def assert_same_verdict(data, x_by_size):
    """Both readers reject alike, or both accept and compute the same outputs
    (the Python reader may instead raise UnsupportedModelError for a valid
    file a PyTorch-layout Model cannot express). Returns the verdict."""
    c = c_status(data)
    py = python_status(data)
    if py == "UNSUPPORTED":
        assert c == "MTS_OK"
        mtsfile.read(bytes(data))  # valid, only not a Model
        return c
    assert py == c, f"Python {py}, C {c}"
    if c == "MTS_OK":
        model = mtsrnn.load(bytes(data))
        core = _core.load_file(bytes(data))
        x = x_by_size(model.input_size)
        h = np.empty((x.shape[0], core.output_size), np.float32)
        core.forward(x, x.shape[0], np.zeros(core.state_floats, np.float32), h, 2)
        np.testing.assert_array_equal(model.forward(x, block=2)[0], h)
    return c


def frames(width, length=5):
    return np.random.default_rng(width).standard_normal((length, width)).astype(np.float32)


# ---- building and patching files with struct alone -------------------------------

HEADER = {"magic": (0, "8s"), "version_major": (8, "<H"), "version_minor": (10, "<H"),
          "byte_order": (12, "<I"), "header_size": (16, "<I"), "cell": (20, "<I"),
          "num_layers": (24, "<I"), "num_tensors": (28, "<I"), "file_size": (32, "<Q"),
          "layer_table_offset": (40, "<I"), "tensor_table_offset": (44, "<I"),
          "crc32": (48, "<I"), "flags": (52, "<I"), "reserved": (56, "8s")}
SRU_LAYER = {"input_size": (0, "<I"), "hidden_size": (4, "<I"), "num_directions": (8, "<I"),
             "projection_size": (12, "<I"), "activation": (16, "<B"), "skip": (17, "<B"),
             "norm": (18, "<B"), "reserved8": (19, "<B"), "scale_x": (20, "<f"),
             "norm_eps": (24, "<f"), "reserved32": (28, "<I")}
QRNN_LAYER = {"input_size": (0, "<I"), "hidden_size": (4, "<I"), "window": (8, "<I"),
              "input_gate": (12, "<B"), "output_gate": (13, "<B"), "reserved16": (14, "<H"),
              "zoneout": (16, "<f"), "reserved": (20, "12s")}
TENSOR = {"layer": (0, "<I"), "kind": (4, "<I"), "dtype": (8, "<I"), "ndim": (12, "<I"),
          "dim0": (16, "<Q"), "dim1": (24, "<Q"), "offset": (32, "<Q"), "nbytes": (40, "<Q")}
U64 = 2**64


def get(data, table, base, name):
    offset, fmt = table[name]
    return struct.unpack_from(fmt, data, base + offset)[0]


def fix_crc(data):
    """Make the CRC right: CRC-32 of the first file_size bytes (all of them when
    file_size exceeds the data) with the crc field as zero."""
    data = bytearray(data)
    file_size = get(data, HEADER, 0, "file_size")
    end = file_size if file_size <= len(data) else len(data)
    crc = zlib.crc32(bytes(data[:48]) + bytes(4) + bytes(data[52:end]))
    struct.pack_into("<I", data, 48, crc)
    return bytes(data)


def record_base(data, what, index):
    if what == "header":
        return 0
    if what == "layer":
        return 64 + 32 * index
    return get(data, HEADER, 0, "tensor_table_offset") + 48 * index


def patch(data, what, index=0, crc=True, **fields):
    """Set fields of the header, of layer record `index` or of tensor record
    `index`; then (crc=True) make the CRC right."""
    data = bytearray(data)
    table = {"header": HEADER, "tensor": TENSOR}.get(what)
    if table is None:
        table = SRU_LAYER if get(data, HEADER, 0, "cell") == 1 else QRNN_LAYER
    base = record_base(data, what, index)
    for name, value in fields.items():
        offset, fmt = table[name]
        struct.pack_into(fmt, data, base + offset, value)
    return fix_crc(data) if crc else bytes(data)


def explode(data):
    """(cell, layer record bytes, [(layer, kind, ndim, dim0, dim1, payload bytes)])."""
    cell = get(data, HEADER, 0, "cell")
    layers = [bytes(data[64 + 32 * i:96 + 32 * i])
              for i in range(get(data, HEADER, 0, "num_layers"))]
    tensors = []
    for index in range(get(data, HEADER, 0, "num_tensors")):
        base = record_base(data, "tensor", index)
        layer, kind, _dtype, ndim, dim0, dim1, offset, nbytes = (
            get(data, TENSOR, base, name) for name in TENSOR)
        tensors.append((layer, kind, ndim, dim0, dim1, bytes(data[offset:offset + nbytes])))
    return cell, layers, tensors


def assemble(cell, layers, tensors):
    """A well-formed image (64-byte aligned data, right CRC) of raw layer
    records and tensors (layer, kind, ndim, dim0, dim1, payload bytes)."""
    tensor_table = 64 + 32 * len(layers)
    offset = tensor_table + 48 * len(tensors)
    records, payloads = [], []
    for layer, kind, ndim, dim0, dim1, payload in tensors:
        offset = (offset + 63) // 64 * 64
        records.append(struct.pack("<IIIIQQQQ", layer, kind, 1, ndim, dim0, dim1, offset,
                                   len(payload)))
        payloads.append((offset, payload))
        offset += len(payload)
    data = bytearray(offset)
    data[0:64] = struct.pack("<8sHHIIIIIQIIII8s", b"\x89MTS\r\n\x1a\n", 1, 0, 0x01020304, 64,
                             cell, len(layers), len(tensors), offset, 64, tensor_table, 0, 0,
                             bytes(8))
    for index, record in enumerate(layers):
        data[64 + 32 * index:96 + 32 * index] = record
    for index, record in enumerate(records):
        data[tensor_table + 48 * index:tensor_table + 48 * (index + 1)] = record
    for start, payload in payloads:
        data[start:start + len(payload)] = payload
    return fix_crc(data)


def tensor_index(data, layer, kind):
    for index in range(get(data, HEADER, 0, "num_tensors")):
        base = record_base(data, "tensor", index)
        if (get(data, TENSOR, base, "layer"), get(data, TENSOR, base, "kind")) == (layer, kind):
            return index
    raise KeyError((layer, kind))


def floats(count, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, count).astype("<f4").tobytes()


# ---- base files --------------------------------------------------------------------

BASE_MODELS = {
    # k = 4 first layer, k = 3 second; projection and layer norm on every layer.
    "sru": lambda: mtsrnn.random_sru(3, 2, num_layers=2, projection_size=1, layer_norm=True,
                                     seed=1),
    # Bidirectional, tanh, normalised after, original form (no weight_c).
    "sru_bidir": lambda: mtsrnn.random_sru(2, 1, num_layers=2, bidirectional=True,
                                           use_tanh=True, layer_norm=True,
                                           normalize_after=True, v1=True, seed=2),
    "qrnn": lambda: mtsrnn.random_qrnn(2, 2, num_layers=2, window=2, pooling="ifo",
                                       zoneout=0.25, seed=3),
}
BASE = {name: mtsfile.to_bytes(build()) for name, build in BASE_MODELS.items()}


def test_base_files_are_valid():
    for data in BASE.values():
        assert (python_status(data), c_status(data)) == ("MTS_OK", "MTS_OK")
        assert len(data) < 2100


# ---- every prefix, every byte --------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BASE))
def test_every_truncation(name):
    data = BASE[name]
    for length in range(len(data)):
        assert_rejected(data[:length], "MTS_ERR_FILE_TRUNCATED")


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80])
@pytest.mark.parametrize("name", sorted(BASE))
def test_every_flipped_byte_is_rejected(name, mask):
    """The CRC covers every byte, so any flip is caught, by some check."""
    data = BASE[name]
    seen = set()
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= mask
        py, c = python_status(damaged), c_status(damaged)
        assert py == c != "MTS_OK", f"byte {position} ^ 0x{mask:02x}: Python {py}, C {c}"
        seen.add(c)
    assert "MTS_ERR_FILE_CRC" in seen and "MTS_ERR_FILE_MAGIC" in seen


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80, 0x10])
@pytest.mark.parametrize("name", sorted(BASE))
def test_every_flipped_byte_with_a_recomputed_crc(name, mask):
    """With the CRC made right, every other check is exercised: both readers
    reject the file alike or both accept it and compute the same outputs."""
    data = BASE[name]
    verdicts = set()
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= mask
        if position in range(48, 52):
            continue  # the CRC field itself: recomputing it restores the file
        verdicts.add(assert_same_verdict(fix_crc(damaged), frames))
    # The damage reached the checks behind the CRC.
    assert {"MTS_OK", "MTS_ERR_FILE_TENSOR", "MTS_ERR_FILE_HEADER"} <= verdicts


# ---- the header ---------------------------------------------------------------------

def header_cases():
    sru, qrnn = BASE["sru"], BASE["qrnn"]
    cases = {
        "empty": (b"", "MTS_ERR_FILE_TRUNCATED"),
        "header_only_63": (sru[:63], "MTS_ERR_FILE_TRUNCATED"),
        "text_file": (b"# not a model\n" * 10, "MTS_ERR_FILE_MAGIC"),
        "zeros": (bytes(len(sru)), "MTS_ERR_FILE_MAGIC"),
        "magic_text_mode_crlf": (patch(sru, "header", magic=b"\x89MTS\n\x1a\n\x00"),
                                 "MTS_ERR_FILE_MAGIC"),
        "file_size_beyond_data": (patch(sru, "header", file_size=len(sru) + 1),
                                  "MTS_ERR_FILE_TRUNCATED"),
        "file_size_huge": (patch(sru, "header", file_size=U64 - 1), "MTS_ERR_FILE_TRUNCATED"),
        "version_0": (patch(sru, "header", version_major=0), "MTS_ERR_FILE_VERSION"),
        # A 1.x header relabelled 2.0: offset 20 (the cell) is reserved in 2.0.
        "version_2": (patch(sru, "header", version_major=2), "MTS_ERR_FILE_HEADER"),
        "version_3": (patch(sru, "header", version_major=3), "MTS_ERR_FILE_VERSION"),
        "version_ffff": (patch(qrnn, "header", version_major=0xFFFF), "MTS_ERR_FILE_VERSION"),
        "byte_order_swapped": (patch(sru, "header", byte_order=0x04030201),
                               "MTS_ERR_FILE_BYTE_ORDER"),
        "byte_order_zero": (patch(qrnn, "header", byte_order=0), "MTS_ERR_FILE_BYTE_ORDER"),
        "header_size_63": (patch(sru, "header", header_size=63), "MTS_ERR_FILE_HEADER"),
        "header_size_128": (patch(sru, "header", header_size=128), "MTS_ERR_FILE_HEADER"),
        "flags": (patch(sru, "header", flags=1), "MTS_ERR_FILE_HEADER"),
        "cell_0": (patch(sru, "header", cell=0), "MTS_ERR_FILE_HEADER"),
        "cell_3": (patch(qrnn, "header", cell=3), "MTS_ERR_FILE_HEADER"),
        "cell_max": (patch(qrnn, "header", cell=0xFFFFFFFF), "MTS_ERR_FILE_HEADER"),
        "cell_sru_as_qrnn": (patch(sru, "header", cell=2), "MTS_ERR_FILE_HEADER"),
        "num_layers_0": (patch(sru, "header", num_layers=0), "MTS_ERR_FILE_HEADER"),
        "num_layers_65": (patch(sru, "header", num_layers=65,
                                tensor_table_offset=64 + 32 * 65), "MTS_ERR_FILE_HEADER"),
        "num_layers_huge": (patch(sru, "header", num_layers=0xFFFFFFFF,
                                  tensor_table_offset=(64 + 32 * 0xFFFFFFFF) % 2**32),
                            "MTS_ERR_FILE_HEADER"),
        "num_tensors_0": (patch(sru, "header", num_tensors=0), "MTS_ERR_FILE_HEADER"),
        "num_tensors_over_8_per_layer": (patch(sru, "header", num_tensors=17),
                                         "MTS_ERR_FILE_HEADER"),
        "num_tensors_huge": (patch(sru, "header", num_tensors=0xFFFFFFFF),
                             "MTS_ERR_FILE_HEADER"),
        "layer_table_offset": (patch(sru, "header", layer_table_offset=96),
                               "MTS_ERR_FILE_HEADER"),
        "tensor_table_offset": (patch(sru, "header", tensor_table_offset=128 + 48),
                                "MTS_ERR_FILE_HEADER"),
        "file_size_below_tables": (patch(sru, "header", file_size=64 + 64 + 48 * 12 - 1),
                                   "MTS_ERR_FILE_HEADER"),
        "crc_off_by_one": (patch(sru, "header", crc=False,
                                 crc32=(get(sru, HEADER, 0, "crc32") + 1) % 2**32),
                           "MTS_ERR_FILE_CRC"),
        "crc_zero": (patch(qrnn, "header", crc=False, crc32=0), "MTS_ERR_FILE_CRC"),
        "weight_bit_flip": (bytes(sru[:-1]) + bytes([sru[-1] ^ 4]), "MTS_ERR_FILE_CRC"),
        "file_size_shortened": (patch(sru, "header", file_size=len(sru) - 4)[:-4],
                                "MTS_ERR_FILE_TENSOR"),
    }
    for byte in range(8):
        magic = bytearray(b"\x89MTS\r\n\x1a\n")
        magic[byte] ^= 0x20
        cases[f"magic_byte_{byte}"] = (patch(sru, "header", magic=bytes(magic)),
                                       "MTS_ERR_FILE_MAGIC")
        reserved = bytearray(8)
        reserved[byte] = 1
        cases[f"reserved_byte_{byte}"] = (patch(qrnn, "header", reserved=bytes(reserved)),
                                          "MTS_ERR_FILE_HEADER")
    return cases


HEADER_CASES = header_cases()


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_header(case):
    data, status = HEADER_CASES[case]
    assert_rejected(data, status)


def test_big_endian_header_is_reported_as_another_version():
    """A header written big-endian: version_major reads 0x0100 before the byte
    order mark is looked at (the documented order), so both say VERSION."""
    data = bytearray(BASE["sru"])
    for offset, fmt in HEADER.values():
        if fmt.startswith("<"):
            value = struct.unpack_from(fmt, data, offset)[0]
            struct.pack_into(">" + fmt[1:], data, offset, value)
    assert_rejected(fix_crc(data), "MTS_ERR_FILE_VERSION")


@pytest.mark.parametrize("minor", [1, 7, 0xFFFF])
def test_any_minor_version_is_accepted(minor):
    data = patch(BASE["sru"], "header", version_minor=minor)
    assert assert_same_verdict(data, frames) == "MTS_OK"


# ---- layer records --------------------------------------------------------------------

def layer_cases():
    sru, bidir, qrnn = BASE["sru"], BASE["sru_bidir"], BASE["qrnn"]
    nan = float("nan")
    cases = {
        # Reserved bytes (check 8).
        # Byte 19 is the layer's quant (format 1.1): int8-w over float32 weights
        # contradicts the tensors; 3 is no scheme.
        "sru_quant_over_float_weights": (patch(sru, "layer", 1, reserved8=1),
                                         "MTS_ERR_FILE_SHAPE"),
        "sru_quant_3": (patch(sru, "layer", 1, reserved8=3), "MTS_ERR_BAD_CONFIG"),
        "qrnn_reserved16": (patch(qrnn, "layer", 0, reserved16=0x100), "MTS_ERR_FILE_LAYER"),
        # Sizes (BAD_SIZE), absurd ones included.
        "sru_input_0": (patch(sru, "layer", 0, input_size=0), "MTS_ERR_BAD_SIZE"),
        "sru_hidden_0": (patch(sru, "layer", 1, hidden_size=0), "MTS_ERR_BAD_SIZE"),
        "sru_input_max_dim_plus_1": (patch(sru, "layer", 0, input_size=2**24 + 1),
                                     "MTS_ERR_BAD_SIZE"),
        "sru_hidden_u32_max": (patch(sru, "layer", 0, hidden_size=2**32 - 1),
                               "MTS_ERR_BAD_SIZE"),
        "sru_all_sizes_u32_max": (patch(sru, "layer", 0, input_size=2**32 - 1,
                                        hidden_size=2**32 - 1, projection_size=2**32 - 1),
                                  "MTS_ERR_BAD_SIZE"),
        "sru_projection_max_dim_plus_1": (patch(sru, "layer", 0, projection_size=2**24 + 1),
                                          "MTS_ERR_BAD_SIZE"),
        "qrnn_input_0": (patch(qrnn, "layer", 0, input_size=0), "MTS_ERR_BAD_SIZE"),
        "qrnn_hidden_u32_max": (patch(qrnn, "layer", 1, hidden_size=2**32 - 1),
                                "MTS_ERR_BAD_SIZE"),
        "qrnn_window_0": (patch(qrnn, "layer", 0, window=0), "MTS_ERR_BAD_SIZE"),
        "qrnn_window_65": (patch(qrnn, "layer", 0, window=65), "MTS_ERR_BAD_SIZE"),
        "qrnn_window_u32_max": (patch(qrnn, "layer", 1, window=2**32 - 1), "MTS_ERR_BAD_SIZE"),
        # Options (BAD_CONFIG).
        "sru_directions_0": (patch(sru, "layer", 0, num_directions=0), "MTS_ERR_BAD_CONFIG"),
        "sru_directions_3": (patch(bidir, "layer", 0, num_directions=3), "MTS_ERR_BAD_CONFIG"),
        "sru_activation_2": (patch(sru, "layer", 0, activation=2), "MTS_ERR_BAD_CONFIG"),
        "sru_skip_3": (patch(sru, "layer", 0, skip=3), "MTS_ERR_BAD_CONFIG"),
        "sru_norm_3": (patch(sru, "layer", 0, norm=3), "MTS_ERR_BAD_CONFIG"),
        "sru_scaled_skip_sizes_differ": (patch(sru, "layer", 0, skip=1), "MTS_ERR_BAD_CONFIG"),
        "sru_norm_eps_0": (patch(sru, "layer", 0, norm_eps=0.0), "MTS_ERR_BAD_VALUE"),
        "sru_norm_eps_negative": (patch(bidir, "layer", 1, norm_eps=-1e-5),
                                  "MTS_ERR_BAD_VALUE"),
        "sru_norm_eps_nan": (patch(sru, "layer", 0, norm_eps=nan), "MTS_ERR_BAD_VALUE"),
        "qrnn_input_gate_2": (patch(qrnn, "layer", 0, input_gate=2), "MTS_ERR_BAD_CONFIG"),
        "qrnn_output_gate_255": (patch(qrnn, "layer", 1, output_gate=255),
                                 "MTS_ERR_BAD_CONFIG"),
        "qrnn_zoneout_negative": (patch(qrnn, "layer", 0, zoneout=-0.25), "MTS_ERR_BAD_VALUE"),
        "qrnn_zoneout_above_1": (patch(qrnn, "layer", 0, zoneout=1.5), "MTS_ERR_BAD_VALUE"),
        "qrnn_zoneout_nan": (patch(qrnn, "layer", 0, zoneout=nan), "MTS_ERR_BAD_VALUE"),
        "qrnn_zoneout_inf": (patch(qrnn, "layer", 0, zoneout=math.inf), "MTS_ERR_BAD_VALUE"),
        # A config that contradicts the tensors' shapes (the CRC is right).
        "sru_hidden_grown": (patch(sru, "layer", 0, hidden_size=3), "MTS_ERR_FILE_SHAPE"),
        "sru_input_grown": (patch(sru, "layer", 0, input_size=4), "MTS_ERR_FILE_SHAPE"),
        "sru_projection_dropped": (patch(sru, "layer", 0, projection_size=0),
                                   "MTS_ERR_FILE_SHAPE"),
        "sru_projection_grown": (patch(sru, "layer", 1, projection_size=2),
                                 "MTS_ERR_FILE_SHAPE"),
        "sru_skip_projected_to_none": (patch(sru, "layer", 0, skip=0), "MTS_ERR_FILE_SHAPE"),
        "sru_norm_dropped": (patch(sru, "layer", 0, norm=0), "MTS_ERR_FILE_SHAPE"),
        "sru_norm_before_to_after": (patch(sru, "layer", 0, norm=2), "MTS_ERR_FILE_SHAPE"),
        "sru_one_direction_more": (patch(sru, "layer", 0, num_directions=2),
                                   "MTS_ERR_FILE_SHAPE"),
        # One direction fewer: the scaled-input skip then needs n == d (BAD_CONFIG first).
        "sru_bidirectional_to_one": (patch(bidir, "layer", 0, num_directions=1),
                                     "MTS_ERR_BAD_CONFIG"),
        "qrnn_window_shrunk": (patch(qrnn, "layer", 0, window=1), "MTS_ERR_FILE_SHAPE"),
        "qrnn_window_grown": (patch(qrnn, "layer", 1, window=3), "MTS_ERR_FILE_SHAPE"),
        "qrnn_output_gate_dropped": (patch(qrnn, "layer", 0, output_gate=0),
                                     "MTS_ERR_FILE_SHAPE"),
        "qrnn_input_gate_dropped": (patch(qrnn, "layer", 1, input_gate=0),
                                    "MTS_ERR_FILE_SHAPE"),
        "qrnn_hidden_shrunk": (patch(qrnn, "layer", 0, hidden_size=1), "MTS_ERR_FILE_SHAPE"),
    }
    for byte in range(4):
        record = bytearray(4)
        record[byte] = 0x80
        cases[f"sru_reserved32_byte_{byte}"] = (
            patch(bidir, "layer", 0, reserved32=struct.unpack("<I", record)[0]),
            "MTS_ERR_FILE_LAYER")
    for byte in range(12):
        reserved = bytearray(12)
        reserved[byte] = 1
        cases[f"qrnn_reserved_byte_{byte}"] = (patch(qrnn, "layer", 1, reserved=bytes(reserved)),
                                               "MTS_ERR_FILE_LAYER")
    return cases


LAYER_CASES = layer_cases()


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_record(case):
    data, status = LAYER_CASES[case]
    assert_rejected(data, status)


def two_layers(first, second):
    """An image of the first layer of `first` and the last layer of `second`
    (valid records and tensors each, which need not chain)."""
    cell, a_layers, a_tensors = explode(mtsfile.to_bytes(first))
    _cell, b_layers, b_tensors = explode(mtsfile.to_bytes(second))
    last = len(b_layers) - 1
    return assemble(cell, [a_layers[0], b_layers[last]],
                    [t for t in a_tensors if t[0] == 0]
                    + [(1, *t[1:]) for t in b_tensors if t[0] == last])


@pytest.mark.parametrize("data", [
    # Layer 1 takes 5 inputs, layer 0 gives 4.
    two_layers(mtsrnn.random_sru(3, 4, seed=1), mtsrnn.random_sru(5, 5, seed=2)),
    two_layers(mtsrnn.random_qrnn(3, 4, seed=1), mtsrnn.random_qrnn(3, 5, seed=2)),
], ids=["sru_input_mismatch", "qrnn_input_mismatch"])
def test_layers_that_do_not_chain(data):
    """Each layer valid on its own, the stack not (mts_model_check)."""
    assert_rejected(data, "MTS_ERR_BAD_CONFIG")


@pytest.mark.parametrize("data", [
    two_layers(mtsrnn.random_sru(3, 4, seed=1), mtsrnn.random_sru(4, 2, seed=2)),
    two_layers(mtsrnn.random_qrnn(3, 4, seed=1), mtsrnn.random_qrnn(4, 5, seed=2)),
], ids=["sru_width_changes", "qrnn_width_changes"])
def test_layers_may_change_width(data):
    """Issue 14: stages chain by input = previous output only; the 1.x rule
    "one output width" is gone, so the C loader accepts such a stack."""
    _core.load_file(data)


# ---- tensor records -------------------------------------------------------------------

def tensor_cases():
    sru, bidir, qrnn = BASE["sru"], BASE["sru_bidir"], BASE["qrnn"]
    bias = tensor_index(sru, 0, 4)
    weight = tensor_index(sru, 0, 1)
    last = get(sru, HEADER, 0, "num_tensors") - 1
    weight_offset = get(sru, TENSOR, record_base(sru, "tensor", weight), "offset")
    tables_end = 64 + 32 * 2 + 48 * (last + 1)
    last_dim0 = get(sru, TENSOR, record_base(sru, "tensor", last), "dim0")
    cases = {
        "layer_index_out_of_range": (patch(sru, "tensor", bias, layer=2), "MTS_ERR_FILE_TENSOR"),
        "layer_index_u32_max": (patch(qrnn, "tensor", 0, layer=2**32 - 1),
                                "MTS_ERR_FILE_TENSOR"),
        "kind_0": (patch(sru, "tensor", bias, kind=0), "MTS_ERR_FILE_TENSOR"),
        "kind_9_sru": (patch(sru, "tensor", bias, kind=9), "MTS_ERR_FILE_TENSOR"),
        "kind_4_qrnn": (patch(qrnn, "tensor", 1, kind=4), "MTS_ERR_FILE_TENSOR"),
        "dtype_0": (patch(sru, "tensor", bias, dtype=0), "MTS_ERR_FILE_TENSOR"),
        "dtype_2_quantised": (patch(qrnn, "tensor", 0, dtype=2), "MTS_ERR_FILE_TENSOR"),
        "ndim_0": (patch(sru, "tensor", bias, ndim=0), "MTS_ERR_FILE_TENSOR"),
        "ndim_3": (patch(sru, "tensor", weight, ndim=3), "MTS_ERR_FILE_TENSOR"),
        "ndim_1_with_columns": (patch(qrnn, "tensor", 1, dim1=2,
                                      nbytes=2 * get(qrnn, TENSOR, record_base(qrnn, "tensor",
                                                                               1), "nbytes")),
                                "MTS_ERR_FILE_TENSOR"),
        "dim0_zero": (patch(sru, "tensor", bias, dim0=0, nbytes=0), "MTS_ERR_FILE_TENSOR"),
        "dim1_zero": (patch(sru, "tensor", weight, dim1=0, nbytes=0), "MTS_ERR_FILE_TENSOR"),
        "nbytes_off_by_4": (patch(sru, "tensor", bias, nbytes=get(
            sru, TENSOR, record_base(sru, "tensor", bias), "nbytes") - 4),
            "MTS_ERR_FILE_TENSOR"),
        # Products that overflow 64 bits, with nbytes equal to the wrapped value.
        "dims_product_overflows": (patch(sru, "tensor", weight, dim0=2**33, dim1=2**33,
                                         nbytes=0), "MTS_ERR_FILE_TENSOR"),
        "bytes_product_overflows_to_0": (patch(sru, "tensor", weight, dim0=2**31, dim1=2**31,
                                               nbytes=0), "MTS_ERR_FILE_TENSOR"),
        "bytes_product_wraps_to_4": (patch(sru, "tensor", bias, dim0=2**62 + 1, nbytes=4),
                                     "MTS_ERR_FILE_TENSOR"),
        "dims_u64_max_wrap_to_4": (patch(sru, "tensor", weight, dim0=U64 - 1, dim1=U64 - 1,
                                         nbytes=4), "MTS_ERR_FILE_TENSOR"),
        "dims_huge_nbytes_consistent": (patch(sru, "tensor", bias, dim0=2**40, nbytes=2**42),
                                        "MTS_ERR_FILE_TENSOR"),
        "dims_largest_consistent": (patch(sru, "tensor", bias, dim0=(U64 - 1) // 4,
                                          nbytes=(U64 - 1) // 4 * 4), "MTS_ERR_FILE_TENSOR"),
        # Offsets: misaligned, over the header or tables, past the end, wrapping.
        "offset_plus_1": (patch(sru, "tensor", weight, offset=weight_offset + 1),
                          "MTS_ERR_FILE_TENSOR"),
        "offset_plus_4": (patch(sru, "tensor", weight, offset=weight_offset + 4),
                          "MTS_ERR_FILE_TENSOR"),
        "offset_plus_32": (patch(sru, "tensor", weight, offset=weight_offset + 32),
                           "MTS_ERR_FILE_TENSOR"),
        "offset_over_header": (patch(sru, "tensor", bias, offset=0), "MTS_ERR_FILE_TENSOR"),
        "offset_over_layer_table": (patch(sru, "tensor", bias, offset=64),
                                    "MTS_ERR_FILE_TENSOR"),
        "offset_over_tensor_table": (patch(sru, "tensor", bias,
                                            offset=(tables_end - 1) // 64 * 64),
                                     "MTS_ERR_FILE_TENSOR"),
        "offset_past_end": (patch(sru, "tensor", last, offset=(len(sru) + 63) // 64 * 64),
                            "MTS_ERR_FILE_TENSOR"),
        # The last tensor one float longer: its data ends 4 bytes past the file.
        "data_runs_past_end": (patch(sru, "tensor", last, dim0=last_dim0 + 1,
                                     nbytes=4 * (last_dim0 + 1)), "MTS_ERR_FILE_TENSOR"),
        "offset_wraps": (patch(sru, "tensor", bias, offset=U64 - 64), "MTS_ERR_FILE_TENSOR"),
        "nbytes_beyond_file": (patch(sru, "tensor", bias, dim0=len(sru), nbytes=4 * len(sru)),
                               "MTS_ERR_FILE_TENSOR"),
        # A second (layer, kind): the second record's kind changed to the first's.
        "duplicate_by_kind": (patch(sru, "tensor", bias, kind=3), "MTS_ERR_FILE_TENSOR"),
        "duplicate_qrnn": (patch(qrnn, "tensor", 3, layer=0), "MTS_ERR_FILE_TENSOR"),
        "duplicate_other_layer_first": (patch(bidir, "tensor", tensor_index(bidir, 1, 1),
                                              kind=4), "MTS_ERR_FILE_TENSOR"),
    }
    # The record that runs past the end must really end past it.
    data, _ = cases["data_runs_past_end"]
    base = record_base(data, "tensor", last)
    assert get(data, TENSOR, base, "offset") + get(data, TENSOR, base, "nbytes") == len(data) + 4
    return cases


TENSOR_CASES = tensor_cases()


@pytest.mark.parametrize("case", sorted(TENSOR_CASES))
def test_tensor_record(case):
    data, status = TENSOR_CASES[case]
    assert_rejected(data, status)


def with_tensors(name, change):
    """The base file rebuilt with its tensor list changed by `change(list)`."""
    cell, layers, tensors = explode(BASE[name])
    tensors = change(list(tensors))
    data = assemble(cell, layers, tensors)
    return data


def drop(layer, kind):
    return lambda tensors: [t for t in tensors if (t[0], t[1]) != (layer, kind)]


def add(*extra):
    return lambda tensors: tensors + list(extra)


def reshape(layer, kind, ndim, dim0, dim1):
    return lambda tensors: [(t[0], t[1], ndim, dim0, dim1, t[5]) if (t[0], t[1]) == (layer, kind)
                            else t for t in tensors]


STRUCTURE_CASES = {
    # Duplicates: an appended copy of a record, of another layer's tensor.
    "duplicate_appended": (with_tensors("sru_bidir", lambda ts: ts + [ts[0]]),
                           "MTS_ERR_FILE_TENSOR"),
    "duplicate_qrnn_appended": (with_tensors("qrnn", lambda ts: ts[:1] + [ts[0]] + ts[1:3]),
                                "MTS_ERR_FILE_TENSOR"),
    # Missing required tensors.
    "missing_weight": (with_tensors("sru", drop(0, 1)), "MTS_ERR_FILE_SHAPE"),
    "missing_bias": (with_tensors("sru", drop(1, 4)), "MTS_ERR_FILE_SHAPE"),
    "missing_weight_proj": (with_tensors("sru", drop(0, 2)), "MTS_ERR_FILE_SHAPE"),
    "missing_norm_weight": (with_tensors("sru", drop(1, 5)), "MTS_ERR_FILE_SHAPE"),
    "missing_norm_bias": (with_tensors("sru_bidir", drop(0, 6)), "MTS_ERR_FILE_SHAPE"),
    "missing_qrnn_weight": (with_tensors("qrnn", drop(1, 1)), "MTS_ERR_FILE_SHAPE"),
    "missing_qrnn_bias": (with_tensors("qrnn", drop(0, 2)), "MTS_ERR_FILE_SHAPE"),
    # Tensors the configuration does not need.
    "unneeded_weight_proj": (with_tensors("sru_bidir", add((0, 2, 2, 1, 2, floats(2)))),
                             "MTS_ERR_FILE_SHAPE"),
    # Wrong shapes: the config contradicts the tensors (the CRC is right).
    "weight_transposed": (with_tensors("sru", reshape(0, 1, 2, 1, 8)), "MTS_ERR_FILE_SHAPE"),
    "weight_flattened": (with_tensors("sru", reshape(0, 1, 1, 8, 1)), "MTS_ERR_FILE_SHAPE"),
    "weight_transposed_qrnn": (with_tensors("qrnn", reshape(0, 1, 2, 4, 8)),
                               "MTS_ERR_FILE_SHAPE"),
    "bias_as_a_column": (with_tensors("sru", reshape(0, 4, 2, 4, 1)), "MTS_ERR_FILE_SHAPE"),
    "bias_as_a_row": (with_tensors("qrnn", reshape(0, 2, 2, 1, 8)), "MTS_ERR_FILE_SHAPE"),
    "weight_c_too_long": (with_tensors("sru", lambda ts: [
        (t[0], t[1], 1, t[3] + 1, 1, t[5] + floats(1)) if (t[0], t[1]) == (1, 3) else t
        for t in ts]), "MTS_ERR_FILE_SHAPE"),
    "qrnn_weight_reshaped": (with_tensors("qrnn", reshape(1, 1, 2, 16, 2)),
                             "MTS_ERR_FILE_SHAPE"),
}


def _add_norm_to_a_file_without():
    model = mtsrnn.random_sru(3, 3, seed=4)
    cell, layers, tensors = explode(mtsfile.to_bytes(model))
    return assemble(cell, layers, tensors + [(0, 5, 1, 3, 1, floats(3)),
                                             (0, 6, 1, 3, 1, floats(3, 1))])


STRUCTURE_CASES["unneeded_norm"] = (_add_norm_to_a_file_without(), "MTS_ERR_FILE_SHAPE")


@pytest.mark.parametrize("case", sorted(STRUCTURE_CASES))
def test_tensor_structure(case):
    data, status = STRUCTURE_CASES[case]
    assert_rejected(data, status)


def test_absent_weight_c_is_the_original_form():
    """weight_c is the one optional tensor: without it the file is valid (v = 0)."""
    data = with_tensors("sru", drop(0, 3))
    assert assert_same_verdict(data, frames) == "MTS_OK"
    assert "rnn_lst.0.weight_c" not in mtsrnn.load(data).state_dict()


def test_tensors_sharing_data_are_accepted():
    """The format forbids data over the header and tables, not two tensors on
    the same bytes (weight_c and bias of a layer here): both readers accept it."""
    data = bytearray(BASE["sru"])
    weight_c, bias = tensor_index(data, 0, 3), tensor_index(data, 0, 4)
    offset = get(data, TENSOR, record_base(data, "tensor", bias), "offset")
    data = patch(data, "tensor", weight_c, offset=offset)
    assert assert_same_verdict(data, frames) == "MTS_OK"
    contents = mtsfile.read(data)
    np.testing.assert_array_equal(contents.tensors[0][3], contents.tensors[0][4])


def test_tensor_order_does_not_matter():
    """Records in any order, data in any order: the same model."""
    cell, layers, tensors = explode(BASE["sru_bidir"])
    shuffled = assemble(cell, layers, tensors[::-1])
    assert assert_same_verdict(shuffled, frames) == "MTS_OK"
    x = frames(2)
    np.testing.assert_array_equal(mtsrnn.load(shuffled).forward(x)[0],
                                  mtsrnn.load(BASE["sru_bidir"]).forward(x)[0])


def test_misaligned_buffer_c_only():
    """MTS_ERR_MISALIGNED concerns the buffer a device passes, not the file: the
    C loader rejects a file image that does not start 4-byte aligned; the
    Python reader copies and accepts the same bytes."""
    data = BASE["qrnn"]
    shifted = memoryview(bytearray(b"\0" + data))[1:]
    with pytest.raises(_core.ModelFileError) as error:
        _core.load_file(shifted)
    assert STATUS_NAMES[error.value.args[1]] == "MTS_ERR_MISALIGNED"
    assert python_status(shifted) == "MTS_OK"


# ---- the order of the checks, as docs/model-format.md documents it -----------------------
# Once points where kernels/src/file.c and the document disagreed (xfail tests then); the
# loader follows the document now, and the Python reader judges every file with the C
# loader itself, so both agree with the document by construction.

def _doc_says(data, status):
    assert (python_status(data), c_status(data)) == (status, status)


# The order of the checks, as docs/model-format.md documents it (both readers).

def test_doc_magic_is_checked_before_file_size():
    # file_size is only trusted once the magic, version and byte order hold.
    data = patch(BASE["sru"], "header", magic=b"NOTMTS!!")[:-1]
    _doc_says(data, "MTS_ERR_FILE_MAGIC")


def test_doc_qrnn_num_tensors_bound_is_3_per_layer():
    model = mtsrnn.random_qrnn(2, 2, seed=5)
    cell, layers, tensors = explode(mtsfile.to_bytes(model))
    data = assemble(cell, layers, tensors + [tensors[1]] * 2)  # 4 records for 1 layer
    _doc_says(data, "MTS_ERR_FILE_HEADER")


def test_doc_zero_dimension_is_a_tensor_error():
    data = BASE["sru"]
    _doc_says(patch(data, "tensor", tensor_index(data, 0, 4), dim0=0, nbytes=0),
              "MTS_ERR_FILE_TENSOR")


def test_doc_layers_are_judged_one_after_another():
    # Layer 0's shape error comes before layer 1's invalid record.
    data = BASE["sru"]
    data = patch(data, "tensor", tensor_index(data, 0, 4), dim0=2, nbytes=8)  # bias too short
    data = patch(data, "layer", 1, num_directions=3)
    _doc_says(data, "MTS_ERR_FILE_SHAPE")
