"""mtsrnn in pure MicroPython, for boards whose firmware cannot be rebuilt.

The same API as the C module (firmware/micropython/modmtsrnn.c,
docs/micropython.md), reading the same .mts files (docs/model-format.md):

    m = mtsrnn.Model(buf, check_crc=True)   # bytes/bytearray/memoryview of an .mts file
    s = m.stream(block=8, max_steps=0)
    n = s.push(x, y)                        # array('f') in, caller's array('f') out
    s.reset()

Weights are read in place from the model's buffer (a bytes object, a frozen
constant or a memoryview) through uctypes views (FLOAT32 and INT8 arrays at
the tensors' offsets), so a model costs the heap of its scratch buffers and
state only, not of its weights; on a port built without uctypes they are
copied into array('f') / array('b') objects instead. Formats 1.0, 1.1 and 2.0
(whole models: norm, dense and softmax stages, docs/model-format.md). The
arithmetic runs on MicroPython floats (float32 or float64, as the firmware
was built) and is rounded to float32 wherever the kernels store a value,
and, for int8-wa, wherever docs/quantization.md computes in float32 (through
a one-element array('f'), a no-op on a float32 port).

The hot loops are in mtsrnn_loops.py (install both files), with
@micropython.native (compile with mpy-cross -march=<arch>, or on the board);
for a port without a native emitter, drop those lines (ci/micropython.sh
builds and tests such a bytecode-only variant too).
"""

import array
import struct

# The hot loops (install mtsrnn_loops next to this module).
from mtsrnn_loops import (
    _affine,
    _bias_activation,
    _gemm,
    _gemm_i8f32,
    _gemm_i8i8,
    _indrnn_scan,
    _layer_norm,
    _min_scan,
    _qrnn_scan,
    _quantize_rows,
    _softmax,
    _sru_scan,
)

implementation = "python"

_MAGIC = b"\x89MTS\r\n\x1a\n"
_HEADER = "<8sHHIIIIIIIIIII8s"  # u64 fields as two u32 (boards without long ints)
_SRU_RECORD = "<IIIIBBBBffI"
_QRNN_RECORD = "<IIIBBBBf12s"
_TENSOR_RECORD = "<IIIIIIIIIIII"
_CELL_SRU = 1
_CELL_QRNN = 2
_MAX_DIM = 0x1000000
_SKIP_SCALED, _SKIP_PROJECTED = 1, 2
_NORM_BEFORE, _NORM_AFTER = 1, 2
_DTYPE_F32, _DTYPE_I8 = 1, 2
_QUANT_NONE, _QUANT_INT8_W, _QUANT_INT8_WA = 0, 1, 2
_I8_MAX_DEPTH = 133144  # MTS_I8_MAX_DEPTH: int8-wa sums of depth <= this fit int32
# Tensor kinds that may hold int8, per cell: the products' weights.
_INT8_KINDS = {_CELL_SRU: (1, 2), _CELL_QRNN: (1,), 3: (), 4: (1,), 5: (), 6: (1, 2), 7: (1, 2),
               8: (1,)}
_KINDS = {_CELL_SRU: 8, _CELL_QRNN: 3, 3: 2, 4: 3, 5: 0, 6: 4, 7: 4, 8: 4}  # tensor kinds
_MIN_RECORD = "<IIIBB26s"  # minGRU (6, 2 gate blocks), minLSTM (7, 3)
_INDRNN_RECORD = "<IIBB30s"
_STAGE_NAMES = {1: "sru", 2: "qrnn", 3: "norm", 4: "dense", 5: "softmax", 6: "mingru",
                7: "minlstm", 8: "indrnn"}
_NORM_RECORD = "<IB3sf28s"
_DENSE_RECORD = "<IIBB30s"
_SOFTMAX_RECORD = "<IB35s"
_MAX_SCALE_X = 65536.0
_MAX_WEIGHT_SCALE = 65536.0  # MTS_MAX_WEIGHT_SCALE (mtsrnn/model.h)

try:
    import uctypes
except ImportError:  # a port without uctypes: the weights are copied
    uctypes = None


def _finite(v):
    return v - v == 0.0  # NaN and inf give NaN


def _crc32_bitwise(data, end):
    crc = 0xFFFFFFFF
    for i in range(end):
        crc ^= 0 if 48 <= i < 52 else data[i]  # the crc field counts as zero
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _crc32(data, end):
    try:
        from binascii import crc32
    except ImportError:
        return _crc32_bitwise(data, end)
    view = memoryview(data)
    crc = crc32(view[:48])
    crc = crc32(b"\0\0\0\0", crc)
    return crc32(view[52:end], crc)


def _bad(message):
    raise ValueError("not a valid .mts model: " + message)


def _float32_count(buf, name):
    """Element count of an array('f') (or a memoryview of one), else ValueError."""
    try:
        count = len(buf)
        if count and not (isinstance(buf[0], float) and len(bytes(buf[:1])) == 4):
            raise TypeError
    except TypeError:
        raise ValueError(name + " must be an array('f') of float32") from None
    return count


# ---- the model file ------------------------------------------------------------


class _Layer:
    pass


def _read_tensors(data, size, header_end, count, num_layers, stage_kinds):
    tensors = [{} for _ in range(num_layers)]
    for index in range(count):
        rec = struct.unpack_from(_TENSOR_RECORD, data, header_end + 48 * index)
        layer, kind, dtype, ndim = rec[0], rec[1], rec[2], rec[3]
        if rec[5] or rec[7] or rec[9] or rec[11]:
            _bad(f"tensor record {index} has a size beyond 32 bits")
        dim0, dim1, offset, nbytes = rec[4], rec[6], rec[8], rec[10]
        stage = stage_kinds[layer] if layer < num_layers else 0
        if (layer >= num_layers or kind < 1 or kind > _KINDS[stage] or ndim not in (1, 2)
                or not (dtype == _DTYPE_F32
                        or (dtype == _DTYPE_I8 and kind in _INT8_KINDS[stage]))):
            _bad(f"tensor record {index}: layer {layer}, kind {kind}, dtype {dtype}, "
                 f"ndim {ndim} out of range (dtype 2, int8, only for product weights)")
        width = 4 if dtype == _DTYPE_F32 else 1
        if dim0 == 0 or dim1 == 0 or (ndim == 1 and dim1 != 1) or nbytes != dim0 * dim1 * width:
            _bad(f"tensor record {index}: shape ({dim0}, {dim1}) and {nbytes} bytes disagree "
                 f"(dtype {dtype} has {width}-byte elements)")
        if offset % 64 or offset < header_end + 48 * count or offset + nbytes > size:
            _bad(f"tensor record {index}: data at {offset} (+{nbytes} bytes) is misplaced "
                 "or past the file end")
        if kind in tensors[layer]:
            _bad(f"tensor record {index} repeats kind {kind} of layer {layer}")
        tensors[layer][kind] = (offset, dim0 * dim1, dtype, ndim, dim1)
    return tensors


def _take(data, tensors, layer, kind, count, what, required=True, int8=False, dim1=None):
    """Tensor (layer, kind) in place: a uctypes view of `count` float32 (int8
    when int8) values of the model's buffer (a copy without uctypes), after
    checking its dtype and shape: a vector, or (dim1 given) a matrix with
    rows of dim1 (2-D, as the C loader requires)."""
    entry = tensors[layer].pop(kind, None)
    if entry is None:
        if required:
            _bad(f"layer {layer} lacks its {what} tensor")
        return None
    if not required:
        _bad(f"layer {layer} has a {what} tensor its options do not use")
    offset, found, dtype, ndim, found_dim1 = entry
    if (dtype == _DTYPE_I8) != int8:
        _bad(f"layer {layer} {what} is " + ("int8 in a float32 layer" if not int8 else
                                             "float32 in a quantised layer (int8 expected)"))
    if found != count or ndim != (1 if dim1 is None else 2) or found_dim1 != (dim1 or 1):
        _bad(f"layer {layer} {what} has {found} values in {ndim} dimension(s), its options "
             f"need {count}" + (" as a vector" if dim1 is None else f" as rows of {dim1}"))
    if uctypes is not None:
        kind_code = uctypes.INT8 if int8 else uctypes.FLOAT32
        layout = {"a": (uctypes.ARRAY | 0, kind_code | count)}
        return uctypes.struct(uctypes.addressof(data) + offset, layout,
                              uctypes.LITTLE_ENDIAN).a
    if int8:
        return array.array("b", bytes(data[offset:offset + count]))
    return array.array("f", bytes(data[offset:offset + 4 * count]))


def _check_scales(scale, count, index):
    for r in range(count):
        v = scale[r]
        if not _finite(v) or not 0.0 <= v <= _MAX_WEIGHT_SCALE:
            _bad(f"layer {index}: int8 weight scale of row {r} is {v} (0 to "
                 f"{_MAX_WEIGHT_SCALE} expected)")


def _check_quant(quant, depth, index):
    if quant > _QUANT_INT8_WA:
        _bad(f"layer {index}: quant {quant}, expected 0 (float32), 1 (int8-w) or 2 (int8-wa)")
    if quant == _QUANT_INT8_WA and depth > _I8_MAX_DEPTH:
        _bad(f"layer {index}: int8-wa product depth {depth} exceeds {_I8_MAX_DEPTH} (int32 sums)")


def _sru_layer(data, fields, tensors, index):
    n, d, dirs, p, act, skip, norm, quant, scale_x, eps, reserved = fields
    if reserved:
        _bad(f"layer {index}: reserved bytes of the layer record are set")
    if not (0 < n <= _MAX_DIM and 0 < d <= _MAX_DIM and dirs in (1, 2) and p <= _MAX_DIM
            and act <= 1 and skip <= 2 and norm <= 2):
        _bad(f"layer {index}: SRU record out of range")
    _check_quant(quant, max(n, p), index)
    if skip == _SKIP_SCALED and n != dirs * d:
        _bad(f"layer {index}: a scaled-input skip needs input size {n} == {dirs * d}")
    if not (_finite(scale_x) and -_MAX_SCALE_X <= scale_x <= _MAX_SCALE_X):
        _bad(f"layer {index}: scale_x {scale_x} is not finite or above {_MAX_SCALE_X}")
    if not (_finite(eps) and 0.0 <= eps <= 1.0 and (eps > 0.0 or not norm)):
        _bad(f"layer {index}: norm_eps {eps} out of range (0, 1]")
    layer = _Layer()
    layer.kind = "sru"
    layer.n, layer.d, layer.dirs, layer.p, layer.use_tanh = n, d, dirs, p, act == 1
    layer.skip, layer.norm, layer.scale_x, layer.eps = skip, norm, scale_x, eps
    layer.k = 4 if skip == _SKIP_PROJECTED else 3
    layer.out = dirs * d
    layer.depth = p or n
    layer.rows = dirs * layer.k * d
    layer.quant = quant
    int8 = quant != _QUANT_NONE
    layer.weight = _take(data, tensors, index, 1, layer.rows * layer.depth, "weight", True, int8,
                         layer.depth)
    layer.weight_proj = _take(data, tensors, index, 2, p * n, "weight_proj", p > 0, int8, n)
    layer.weight_scale = _take(data, tensors, index, 7, layer.rows, "weight_scale", int8)
    layer.weight_proj_scale = _take(data, tensors, index, 8, p, "weight_proj_scale",
                                    int8 and p > 0)
    layer.weight_c = None
    if 3 in tensors[index]:
        layer.weight_c = _take(data, tensors, index, 3, 2 * layer.out, "weight_c")
    layer.bias = _take(data, tensors, index, 4, 2 * layer.out, "bias")
    width = n if norm == _NORM_BEFORE else layer.out
    layer.norm_weight = _take(data, tensors, index, 5, width, "norm_weight", norm != 0)
    layer.norm_bias = _take(data, tensors, index, 6, width, "norm_bias", norm != 0)
    if int8:
        _check_scales(layer.weight_scale, layer.rows, index)
        if p:
            _check_scales(layer.weight_proj_scale, p, index)
    layer.state = layer.out
    layer.window = 1
    return layer


def _qrnn_layer(data, fields, tensors, index):
    n, hidden, window, input_gate, output_gate, quant, reserved, zoneout, reserved12 = fields
    if reserved or reserved12 != b"\0" * 12:
        _bad(f"layer {index}: reserved bytes of the layer record are set")
    if not (0 < n <= _MAX_DIM and 0 < hidden <= _MAX_DIM and 1 <= window <= 64
            and input_gate <= 1 and output_gate <= 1):
        _bad(f"layer {index}: QRNN record out of range")
    _check_quant(quant, window * n, index)
    if not (_finite(zoneout) and 0.0 <= zoneout <= 1.0):
        _bad(f"layer {index}: zoneout {zoneout} outside [0, 1]")
    layer = _Layer()
    layer.kind = "qrnn"
    layer.n, layer.hidden, layer.window = n, hidden, window
    layer.input_gate, layer.output_gate, layer.zoneout = input_gate, output_gate, zoneout
    layer.gates = 2 + input_gate + output_gate
    layer.out = hidden
    layer.depth = window * n
    layer.rows = layer.gates * hidden
    layer.dirs = 1
    layer.quant = quant
    int8 = quant != _QUANT_NONE
    layer.weight = _take(data, tensors, index, 1, layer.rows * layer.depth, "weight", True, int8,
                         layer.depth)
    layer.bias = _take(data, tensors, index, 2, layer.rows, "bias")
    layer.weight_scale = _take(data, tensors, index, 3, layer.rows, "weight_scale", int8)
    if int8:
        _check_scales(layer.weight_scale, layer.rows, index)
    layer.state = hidden + (window - 1) * n
    return layer


def _simple_stage(data, kind, at, tensors, index):
    """A 2.0 norm (3), dense (4) or softmax (5) stage record at offset `at`."""
    layer = _Layer()
    layer.kind, layer.dirs, layer.window, layer.state, layer.quant = _STAGE_NAMES[kind], 1, 1, 0, 0
    layer.rows = layer.depth = 0
    if kind == 3:
        size, mode, reserved3, eps, reserved = struct.unpack_from(_NORM_RECORD, data, at)
        if reserved3 != b"\0" * 3 or reserved != b"\0" * 28:
            _bad(f"stage {index}: reserved bytes of the stage record are set")
        if not (0 < size <= _MAX_DIM and mode <= 1):
            _bad(f"stage {index}: norm record out of range")
        if not (_finite(eps) and (0.0 < eps <= 1.0 if mode else eps == 0.0)):
            _bad(f"stage {index}: norm eps {eps} out of range")
        layer.n = layer.out = size
        layer.mode, layer.eps = mode, eps
        layer.weight = _take(data, tensors, index, 1, size, "weight")
        layer.bias = _take(data, tensors, index, 2, size, "bias")
    elif kind == 4:
        n, m, act, quant, reserved = struct.unpack_from(_DENSE_RECORD, data, at)
        if reserved != b"\0" * 30:
            _bad(f"stage {index}: reserved bytes of the stage record are set")
        if not (0 < n <= _MAX_DIM and 0 < m <= _MAX_DIM and act <= 3):
            _bad(f"stage {index}: dense record out of range")
        _check_quant(quant, n, index)
        int8 = quant != _QUANT_NONE
        layer.n, layer.out, layer.act, layer.quant = n, m, act, quant
        layer.rows, layer.depth = m, n
        layer.weight = _take(data, tensors, index, 1, m * n, "weight", True, int8, n)
        layer.bias = _take(data, tensors, index, 2, m, "bias", 2 in tensors[index])
        layer.weight_scale = _take(data, tensors, index, 3, m, "weight_scale", int8)
        if int8:
            _check_scales(layer.weight_scale, m, index)
    else:
        size, log, reserved = struct.unpack_from(_SOFTMAX_RECORD, data, at)
        if reserved != b"\0" * 35:
            _bad(f"stage {index}: reserved bytes of the stage record are set")
        if not (0 < size <= _MAX_DIM and log <= 1):
            _bad(f"stage {index}: softmax record out of range")
        layer.n = layer.out = size
        layer.log = log
    return layer


def _cell_stage(data, kind, at, tensors, index):
    """A 2.0 minGRU (6), minLSTM (7) or IndRNN (8) stage record at offset `at`."""
    layer = _Layer()
    layer.kind, layer.dirs, layer.window = _STAGE_NAMES[kind], 1, 1
    if kind == 8:
        n, hidden, act, quant, reserved = struct.unpack_from(_INDRNN_RECORD, data, at)
        has_output, m, gates = 0, hidden, 1
        if act not in (1, 2):
            _bad(f"stage {index}: IndRNN activation {act}, expected 1 (relu) or 2 (tanh)")
    else:
        n, hidden, m, has_output, quant, reserved = struct.unpack_from(_MIN_RECORD, data, at)
        gates = 2 if kind == 6 else 3
        if has_output > 1 or (not has_output and m != hidden):
            _bad(f"stage {index}: has_output {has_output} with output size {m}, hidden {hidden}")
    if reserved != b"\0" * len(reserved):
        _bad(f"stage {index}: reserved bytes of the stage record are set")
    if not (0 < n <= _MAX_DIM and 0 < hidden <= _MAX_DIM and 0 < m <= _MAX_DIM):
        _bad(f"stage {index}: {layer.kind} record out of range")
    _check_quant(quant, max(n, hidden) if has_output else n, index)
    int8 = quant != _QUANT_NONE
    layer.n, layer.hidden, layer.out, layer.gates, layer.quant = n, hidden, m, gates, quant
    layer.has_output, layer.use_tanh, layer.state = has_output, kind == 8 and act == 2, hidden
    layer.p = hidden if has_output else 0  # the projection's input rows (self._projected)
    layer.depth = max(n, hidden) if has_output else n
    layer.rows = max(gates * hidden, m)
    layer.weight = _take(data, tensors, index, 1, gates * hidden * n, "weight", True, int8, n)
    layer.weight_scale = _take(data, tensors, index, 3, gates * hidden, "weight_scale", int8)
    if int8:
        _check_scales(layer.weight_scale, gates * hidden, index)
    if kind == 8:
        layer.bias = _take(data, tensors, index, 2, hidden, "bias")
        layer.weight_hh = _take(data, tensors, index, 4, hidden, "weight_hh")
        return layer
    layer.weight_out = _take(data, tensors, index, 2, m * hidden, "weight_out", has_output == 1,
                             int8, hidden)
    layer.weight_out_scale = _take(data, tensors, index, 4, m, "weight_out_scale",
                                   int8 and has_output == 1)
    if int8 and has_output:
        _check_scales(layer.weight_out_scale, m, index)
    return layer


class Model:
    """A model loaded from an .mts file (validated; ValueError says what is wrong)."""

    def __init__(self, buf, check_crc=True):
        try:
            data = memoryview(buf)
            size = len(data)
        except TypeError:
            raise ValueError("Model needs a bytes, bytearray or memoryview holding an .mts "
                             "file") from None
        if size < 64:
            _bad(f"model file truncated ({size} bytes, the header alone is 64)")
        head = struct.unpack_from(_HEADER, data, 0)
        if head[0] != _MAGIC:
            _bad("bad magic, not an .mts file")
        major = head[1]
        if major not in (1, 2):
            _bad(f"major version {major}, this reader knows 1 and 2")
        if head[3] != 0x01020304:
            _bad(f"byte order mark 0x{head[3]:08x}, expected 0x01020304")
        cell, num_layers, num_tensors = head[5], head[6], head[7]
        file_size = head[8]
        if head[9]:
            _bad("file_size beyond 32 bits")
        if size < file_size:
            _bad(f"model file truncated ({size} bytes, the header says {file_size})")
        record = 48 if major == 2 else 32
        kinds = 8 if major == 2 or cell == _CELL_SRU else 3
        if (head[4] != 64 or (cell != 0 if major == 2 else cell not in (_CELL_SRU, _CELL_QRNN))
                or not 1 <= num_layers <= 64 or not 1 <= num_tensors <= kinds * num_layers
                or head[10] != 64 or head[11] != 64 + record * num_layers or head[13]
                or head[14] != b"\0" * 8 or file_size < head[11] + 48 * num_tensors):
            _bad("header fields invalid")
        if check_crc and _crc32(data, file_size) != head[12]:
            _bad("CRC-32 mismatch (corrupt file)")
        # Stage kinds first (2.0: each record's; 1.x: the header's cell).
        stage_kinds = []
        for index in range(num_layers):
            kind = cell
            if major == 2:
                kind, reserved = struct.unpack_from("<II", data, 64 + 48 * index)
                if not 1 <= kind <= 8 or reserved:
                    _bad(f"stage {index}: kind {kind} unknown or reserved bytes set")
            stage_kinds.append(kind)
        tensors = _read_tensors(data, file_size, head[11], num_tensors, num_layers, stage_kinds)
        layers = []
        for index, kind in enumerate(stage_kinds):
            at = 64 + record * index + (8 if major == 2 else 0)
            if kind in (_CELL_SRU, _CELL_QRNN) and major == 2 and bytes(data[at + 32:at + 40]) \
                    != b"\0" * 8:
                _bad(f"stage {index}: reserved bytes of the stage record are set")
            if kind == _CELL_SRU:
                layers.append(_sru_layer(data, struct.unpack_from(_SRU_RECORD, data, at),
                                         tensors, index))
            elif kind == _CELL_QRNN:
                layers.append(_qrnn_layer(data, struct.unpack_from(_QRNN_RECORD, data, at),
                                          tensors, index))
            elif kind >= 6:
                layers.append(_cell_stage(data, kind, at, tensors, index))
            else:
                layers.append(_simple_stage(data, kind, at, tensors, index))
            if tensors[index]:
                _bad(f"layer {index} has tensors its options do not use")
        for index in range(1, num_layers):
            if layers[index].n != layers[index - 1].out:
                _bad(f"layer {index} takes {layers[index].n} inputs, layer {index - 1} "
                     f"gives {layers[index - 1].out}")
        self._source = buf  # as the C module does (it reads the weights in place)
        self._layers = layers
        self._bidirectional = any(layer.dirs == 2 for layer in layers)
        recurrent = [layer.kind for layer in layers
                     if layer.kind not in ("norm", "dense", "softmax")]
        self.cell = ("none" if not recurrent else recurrent[0]
                     if all(kind == recurrent[0] for kind in recurrent) else "mixed")
        self.num_layers = len(recurrent)
        self.num_stages = num_layers
        self.input_size = layers[0].n
        self.output_size = layers[-1].out
        self.state_size = sum(layer.state for layer in layers)

    def stream(self, block, max_steps=0):
        return Stream(self, block, max_steps)


class Stream:
    """A stream through a model in blocks of `block` steps; the state carries
    from one push to the next."""

    def __init__(self, model, block, max_steps=0):
        if not isinstance(block, int) or block < 1:
            raise ValueError("block must be >= 1 (time steps per pass over the weights), "
                             f"got {block!r}")
        if not isinstance(max_steps, int) or max_steps < 0:
            raise ValueError(f"max_steps must be >= 0 (0: no limit), got {max_steps!r}")
        self._needs_max_steps = model._bidirectional and model.num_stages > 1
        if self._needs_max_steps and max_steps == 0:
            raise ValueError("this model has a bidirectional layer among several layers, so "
                             "its workspace holds a whole sequence: give max_steps, the "
                             "longest push")
        self.model = model
        self.block = block
        self.max_steps = max_steps
        self._state = array.array("f", bytes(4 * model.state_size))
        self._capacity = 0
        # A bidirectional layer needs its whole sequence at once; otherwise the
        # stream advances one block at a time through all layers.
        self._reserve(max(max_steps, block) if model._bidirectional else block)

    def _reserve(self, steps):
        """Scratch buffers for pieces of up to `steps` steps."""
        if steps <= self._capacity:
            return
        layers = self.model._layers
        widest = max(max(layer.n, layer.out) for layer in layers)
        history = max((layer.window - 1 + steps) * layer.n for layer in layers)

        # Zeroed scratch without a temporary copy (array('f', bytes(n)) holds
        # both at once, a peak that does not fit a small heap): a uctypes
        # view of a bytearray, kept alive in self._raw.
        self._raw = []

        def floats(count):
            if uctypes is None:
                return array.array("f", bytes(4 * count))
            raw = bytearray(4 * count or 4)
            self._raw.append(raw)
            layout = {"a": (uctypes.ARRAY | 0, uctypes.FLOAT32 | (count or 1))}
            return uctypes.struct(uctypes.addressof(raw), layout, uctypes.LITTLE_ENDIAN).a

        self._io = (floats(steps * widest), floats(steps * widest))
        self._normed = floats(steps * widest if any(getattr(layer, "norm", 0) == _NORM_BEFORE
                                                    for layer in layers) else 0)
        self._projected = floats(steps * max(getattr(layer, "p", 0) for layer in layers))
        self._u = floats(steps * max(layer.rows for layer in layers))
        self._history = floats(history)
        # Quantised QRNN layers: the product rows [x_t | x_{t-1} | ...] gathered
        # (the per-step quantiser and the row scales need the whole row).
        self._gathered = floats(steps * max([layer.depth for layer in layers
                                             if layer.kind == "qrnn" and layer.quant] + [0]))
        # int8-wa: the quantised product inputs and their per-step scales.
        wa = [layer for layer in layers if layer.quant == _QUANT_INT8_WA]
        self._xq = array.array("b", bytes(steps * max(
            max(layer.n, layer.depth) for layer in wa))) if wa else None
        self._x_scale = floats(steps) if wa else None
        self._f32 = floats(1)  # rounds a MicroPython float to float32
        self._capacity = steps

    def reset(self):
        state = self._state
        for i in range(len(state)):
            state[i] = 0.0

    def push(self, x, y):
        model = self.model
        x_floats = _float32_count(x, "x")
        y_floats = _float32_count(y, "y")
        n, out = model.input_size, model.output_size
        if x_floats % n:
            raise ValueError(f"x holds {x_floats} floats, not a whole number of frames of "
                             f"input_size {n}")
        steps = x_floats // n
        if y_floats != steps * out:
            raise ValueError(f"y holds {y_floats} floats; it must hold steps * output_size = "
                             f"{steps} * {out}")
        if self._needs_max_steps and steps > self.max_steps:
            raise ValueError(f"push of {steps} steps exceeds this stream's max_steps "
                             f"{self.max_steps}")
        piece = steps if model._bidirectional else self.block
        self._reserve(piece)
        t = 0
        while t < steps:
            length = min(piece, steps - t)
            self._run(x, t * n, length, y, t * out)
            t += length
        return steps

    def _run(self, x, x_off, steps, y, y_off):
        """All layers over `steps` frames of x from x_off, into y from y_off."""
        layers = self.model._layers
        src, src_off = x, x_off
        state_off = 0
        for index, layer in enumerate(layers):
            if index == len(layers) - 1:
                dst, dst_off = y, y_off
            else:
                dst, dst_off = self._io[index % 2], 0
            if layer.kind == "sru":
                self._sru(layer, src, src_off, steps, dst, dst_off, state_off)
            elif layer.kind == "qrnn":
                self._qrnn(layer, src, src_off, steps, dst, dst_off, state_off)
            elif layer.kind in ("mingru", "minlstm", "indrnn"):
                self._cell(layer, src, src_off, steps, dst, dst_off, state_off)
            elif layer.kind == "dense":
                self._product(layer.quant, layer.weight, layer.weight_scale, layer.rows,
                              layer.n, src, src_off, layer.n, steps, self._u)
                _bias_activation(self._u, layer.rows, steps, layer.bias, layer.act, dst, dst_off)
            elif layer.kind == "norm" and layer.mode == 1:
                _layer_norm(src, src_off, layer.n, layer.n, steps, dst, dst_off, layer.weight,
                            layer.bias, layer.eps)
            elif layer.kind == "norm":
                _affine(src, src_off, layer.n, steps, dst, dst_off, layer.weight, layer.bias)
            else:
                _softmax(src, src_off, layer.n, steps, dst, dst_off, layer.log)
            state_off += layer.state
            src, src_off = dst, dst_off

    def _sru(self, layer, x, x_off, steps, h, h_off, c_off):
        n = layer.n
        product_in, product_off = x, x_off
        if layer.norm == _NORM_BEFORE:
            _layer_norm(x, x_off, n, n, steps, self._normed, 0, layer.norm_weight,
                        layer.norm_bias, layer.eps)
            product_in, product_off = self._normed, 0
        if layer.p:
            self._product(layer.quant, layer.weight_proj, layer.weight_proj_scale, layer.p, n,
                          product_in, product_off, n, steps, self._projected)
            product_in, product_off = self._projected, 0
        u = self._u
        self._product(layer.quant, layer.weight, layer.weight_scale, layer.rows, layer.depth,
                      product_in, product_off, layer.depth, steps, u)
        for direction in range(layer.dirs):
            _sru_scan(u, layer.rows, steps, layer.k, layer.d, direction, self._state, c_off,
                      layer.weight_c, layer.bias, layer.out, layer.use_tanh, layer.skip,
                      layer.scale_x, x, x_off, n, h, h_off, layer.out)
        if layer.norm == _NORM_AFTER:
            _layer_norm(h, h_off, layer.out, layer.out, steps, h, h_off, layer.norm_weight,
                        layer.norm_bias, layer.eps)

    def _cell(self, layer, x, x_off, steps, y, y_off, h_off):
        """minGRU / minLSTM / IndRNN: one product for the block, the scan, then
        (minGRU / minLSTM with to_out) the output projection of the states."""
        u, hidden = self._u, layer.hidden
        self._product(layer.quant, layer.weight, layer.weight_scale, layer.gates * hidden,
                      layer.n, x, x_off, layer.n, steps, u)
        if layer.kind == "indrnn":
            _indrnn_scan(u, hidden, steps, layer.weight_hh, layer.bias, layer.use_tanh,
                         self._state, h_off, y, y_off)
        elif not layer.has_output:
            _min_scan(u, hidden, layer.gates, steps, self._state, h_off, y, y_off)
        else:
            _min_scan(u, hidden, layer.gates, steps, self._state, h_off, self._projected, 0)
            self._product(layer.quant, layer.weight_out, layer.weight_out_scale, layer.out,
                          hidden, self._projected, 0, hidden, steps, u)
            for i in range(steps * layer.out):
                y[y_off + i] = u[i]

    def _product(self, quant, weight, scale, rows, depth, x, x_off, x_stride, steps, out):
        """out[t*rows + r] = (W x_t)[r] for `steps` rows of x, under the layer's scheme."""
        if quant == _QUANT_NONE:
            _gemm(weight, 0, depth, rows, depth, x, x_off, x_stride, steps, out, False)
        elif quant == _QUANT_INT8_W:
            _gemm_i8f32(weight, scale, rows, depth, x, x_off, x_stride, steps, out)
        else:
            _quantize_rows(x, x_off, x_stride, depth, steps, self._xq, self._x_scale, self._f32)
            _gemm_i8i8(weight, scale, rows, depth, self._xq, self._x_scale, steps, out,
                       self._f32)

    def _qrnn(self, layer, x, x_off, steps, h, h_off, c_off):
        n, window = layer.n, layer.window
        state = self._state
        prev_off = c_off + layer.hidden
        # history: x_{-(w-1)} .. x_{-1} (from the state, where prev[k-1] = x_{-k}),
        # then this piece's frames, so x_{t-k} is row t + w-1-k.
        hist = self._history
        for k in range(1, window):
            row = (window - 1 - k) * n
            for i in range(n):
                hist[row + i] = state[prev_off + (k - 1) * n + i]
        base = (window - 1) * n
        for i in range(steps * n):
            hist[base + i] = x[x_off + i]
        u = self._u
        if layer.quant:
            # Row t of the product input is [x_t | x_{t-1} | ... ]: history rows
            # t+w-1 down to t.
            rows = self._gathered
            depth = layer.depth
            for t in range(steps):
                for k in range(window):
                    src = (t + window - 1 - k) * n
                    dst = t * depth + k * n
                    for i in range(n):
                        rows[dst + i] = hist[src + i]
            self._product(layer.quant, layer.weight, layer.weight_scale, layer.rows, depth,
                          rows, 0, depth, steps, u)
        else:
            for k in range(window):
                _gemm(layer.weight, k * n, layer.depth, layer.rows, n, hist,
                      (window - 1 - k) * n, n, steps, u, k > 0)
        _qrnn_scan(u, layer.hidden, layer.gates, steps, layer.bias, state, c_off,
                   layer.input_gate, layer.output_gate, layer.zoneout, h, h_off, layer.out)
        for k in range(1, window):
            row = (steps + window - 1 - k) * n
            for i in range(n):
                state[prev_off + (k - 1) * n + i] = hist[row + i]
