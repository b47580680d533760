"""MicroPython test of an mtsrnn implementation against golden vectors.

    MICROPYTHON check_mtsrnn.py GOLDEN_DIR MODULE TOLERANCE [EXPECT_IMPLEMENTATION]

Runs on MicroPython (the project's test port with the C module built in, or
the unix interpreter with the pure-Python fallback's .mpy on MICROPYPATH).
MODULE is imported by name (the port's built-in "mtsrnn", or the fallback
compiled under another name so that it cannot be shadowed). GOLDEN_DIR holds
what tests/micropython/make_golden.py wrote (expected outputs from the
float64 reference; quantised models against the reference's arithmetic of
their scheme, docs/quantization.md). For every model: T in {1, 3, 8} over the whole sequence,
reset, then (unidirectional models) the same sequence in uneven chunks
through memoryview slices, all within TOLERANCE (max abs); quantised models
also run T = 16, and their outputs must be bit-identical for every T and
every split (their sums do not depend on the block); then bad input,
each of which must raise ValueError with a message. Prints one FAIL line per
failure and exits 1 if there was any; the last line is "OK <n> checks".
"""

import array
import sys

BLOCKS = (1, 3, 8)
# Quantised models: the tiled products' full tiles (16), tails (3) and single
# steps (1) must all give the same bits (docs/quantization.md). A C build
# that contracts the int8-w product's multiply-adds into FMAs for some tile
# shapes only breaks this (hence -ffp-contract=off for gemm_i8_tiled.c).
QUANTISED_BLOCKS = (1, 3, 8, 16)
CHUNKS = (1, 2, 5, 3, 4)  # cycled: uneven pieces, none a multiple of every T

failures = []
checks = [0]


def read_file(path):
    try:
        import hostfile  # the test port has no io module
    except ImportError:
        with open(path, "rb") as f:
            return f.read()
    return hostfile.read(path)


def floats(path):
    return array.array("f", read_file(path))


def check(ok, what):
    checks[0] += 1
    if not ok:
        failures.append(what)
        print("FAIL", what)


def max_abs_error(actual, expected):
    worst = 0.0
    for i in range(len(expected)):
        error = abs(actual[i] - expected[i])
        if not error <= worst:  # also catches NaN
            worst = error if error == error else float("inf")
    return worst


def expect_value_error(what, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except ValueError as error:
        message = str(error)
        check(len(message) > 10, what + ": ValueError without a message")
        print("  ok", what, "->", message)
        return
    check(False, what + ": no ValueError")


def check_case(mtsrnn, directory, fields, tolerance, worst):
    """worst: the largest error so far, per scheme (fields[8])."""
    name, cell = fields[1], fields[2]
    n, out, layers, steps = int(fields[3]), int(fields[4]), int(fields[5]), int(fields[6])
    bidirectional = fields[7] == "1"
    scheme = fields[8]
    model = mtsrnn.Model(read_file(directory + "/" + name + ".mts"))
    check((model.cell, model.input_size, model.output_size, model.num_layers)
          == (cell, n, out, layers), name + ": model attributes")
    x = floats(directory + "/" + name + ".x.f32")
    expected = floats(directory + "/" + name + ".y.f32")
    check(len(x) == steps * n and len(expected) == steps * out, name + ": golden file sizes")
    quantised = scheme != "float32"
    first = None  # a quantised model's outputs at the first T, as bytes

    def check_same_bits(y, what):
        if quantised:
            check(bytes(y) == first, f"{name} {what}: {scheme} outputs differ in bits from "
                                     f"those of T={QUANTISED_BLOCKS[0]} (must not depend on T)")

    for block in QUANTISED_BLOCKS if quantised else BLOCKS:
        stream = model.stream(block=block, max_steps=steps if bidirectional else 0)
        y = array.array("f", bytes(4 * steps * out))
        check(stream.push(x, y) == steps, name + ": push returns the step count")
        if first is None:
            first = bytes(y)
        check_same_bits(y, f"T={block} whole sequence")
        error = max_abs_error(y, expected)
        worst[scheme] = max(worst.get(scheme, 0.0), error)
        check(error <= tolerance,
              f"{name} T={block} whole sequence: max abs error {error:g} > {tolerance:g}")
        # The state now holds the end of the sequence; reset must clear it.
        stream.reset()
        y = array.array("f", bytes(4 * steps * out))
        stream.push(x, y)
        error = max_abs_error(y, expected)
        check(error <= tolerance, f"{name} T={block} after reset: max abs error {error:g}")
        if bidirectional:
            continue  # a bidirectional layer needs its whole sequence in one push
        stream.reset()
        y = array.array("f", bytes(4 * steps * out))
        xv, yv = memoryview(x), memoryview(y)
        t = chunk = 0
        while t < steps:
            length = min(CHUNKS[chunk % len(CHUNKS)], steps - t)
            pushed = stream.push(xv[t * n:(t + length) * n], yv[t * out:(t + length) * out])
            check(pushed == length, f"{name} chunk at {t}: push returned {pushed}")
            t += length
            chunk += 1
        check_same_bits(y, f"T={block} streamed in chunks")
        error = max_abs_error(y, expected)
        worst[scheme] = max(worst.get(scheme, 0.0), error)
        check(error <= tolerance, f"{name} T={block} streamed in chunks {CHUNKS}: "
                                  f"max abs error {error:g} > {tolerance:g}")


def check_bad_input(mtsrnn, directory, cases, bad_files):
    for name, reason in bad_files:
        expect_value_error(f"Model({name}: {reason})", mtsrnn.Model,
                           read_file(directory + "/" + name + ".mts"))
    expect_value_error("Model(list)", mtsrnn.Model, [1, 2, 3])
    fields = cases[0]
    name, n, out = fields[1], int(fields[3]), int(fields[4])
    model = mtsrnn.Model(read_file(directory + "/" + name + ".mts"))
    expect_value_error("stream(block=0)", model.stream, block=0)
    expect_value_error("stream(block=-2)", model.stream, block=-2)
    stream = model.stream(block=4)
    x = array.array("f", bytes(4 * 3 * n))
    y = array.array("f", bytes(4 * 3 * out))
    check(stream.push(x, y) == 3, "a good push before the bad ones")
    expect_value_error("x not whole frames", stream.push, array.array("f", bytes(4 * (3 * n + 1))),
                       y)
    expect_value_error("y too short", stream.push, x, array.array("f", bytes(4 * (3 * out - 1))))
    expect_value_error("y too long", stream.push, x, array.array("f", bytes(4 * (3 * out + 1))))
    expect_value_error("x array('d')", stream.push, array.array("d", [0.0] * (3 * n)), y)
    expect_value_error("x array('i')", stream.push, array.array("i", [0] * (3 * n)), y)
    expect_value_error("y array('d')", stream.push, x, array.array("d", [0.0] * (3 * out)))
    expect_value_error("x bytes", stream.push, bytes(4 * 3 * n), y)
    expect_value_error("y bytes (read-only)", stream.push, x, bytes(4 * 3 * out))
    for fields in cases:
        if fields[7] == "1" and int(fields[5]) > 1:
            model = mtsrnn.Model(read_file(directory + "/" + fields[1] + ".mts"))
            n, out = int(fields[3]), int(fields[4])
            expect_value_error("bidirectional stack without max_steps", model.stream, block=2)
            stream = model.stream(block=2, max_steps=4)
            expect_value_error("push beyond max_steps", stream.push,
                               array.array("f", bytes(4 * 5 * n)),
                               array.array("f", bytes(4 * 5 * out)))


def main():
    directory, module, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
    mtsrnn = __import__(module)
    if len(sys.argv) > 4:
        check(mtsrnn.implementation == sys.argv[4],
              f"implementation is {mtsrnn.implementation!r}, expected {sys.argv[4]!r}")
    cases, bad_files = [], []
    for line in read_file(directory + "/manifest.txt").decode().split("\n"):
        fields = line.split()
        if fields and fields[0] == "case":
            cases.append(fields)
        elif fields and fields[0] == "bad":
            bad_files.append((fields[1], fields[2]))
    check(len(cases) > 0 and len(bad_files) > 0, "the manifest lists cases and bad files")
    worst = {}
    for fields in cases:
        check_case(mtsrnn, directory, fields, tolerance, worst)
    check_bad_input(mtsrnn, directory, cases, bad_files)
    per_scheme = ", ".join(f"{scheme} {worst[scheme]:g}" for scheme in sorted(worst))
    print(f"{module} ({mtsrnn.implementation}): {len(cases)} models, worst max abs error "
          f"{max(worst.values()):g} (tolerance {tolerance:g}; {per_scheme})")
    if failures:
        print(f"FAILED {len(failures)} of {checks[0]} checks")
        sys.exit(1)
    print(f"OK {checks[0]} checks")


main()
