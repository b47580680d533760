"""One verdict for every reader of .mts files (issue 19): the C loader
(`_core.load_file`, mts_file_load), the Python reader (`mtsrnn.load`), the
MicroPython C module (the test port ci/micropython.sh builds) and the
pure-MicroPython fallback (firmware/micropython/fallback on the unix
interpreter) must accept and reject the same files of one hostile corpus:

- seeded random mutations (tests/fuzz/make_hostile_corpus.py: truncations,
  bit flips with and without a recomputed CRC, relabelled shapes and kinds,
  absurd dimensions, offsets and scalar fields);
- systematic ones of format 2.0 whole models with every stage kind (SRU,
  QRNN, norm, dense, softmax, minGRU, minLSTM, IndRNN; float32, int8-w,
  int8-wa): truncations, every header / record byte flipped with the CRC
  recomputed, 1-D tensors relabelled 2-D and back, tensor and stage kinds
  relabelled, NaN / inf / 3e38 scalar fields, NaN and negative int8 scales.

A disagreement names the file, what was done to it and each reader's
verdict. Non-finite or absurd scalar fields and int8 scales are rejected
with the specific status MTS_ERR_BAD_VALUE by the C loader and the Python
reader, for every stage kind that has them."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
import stage_files
from mtsrnn import _core, mtsfile
from mtsrnn.mtsfile import ModelFileError, UnsupportedModelError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "micropython" / "verdicts_dir.py"
FALLBACK_DIR = ROOT / "firmware" / "micropython" / "fallback"
PORT = ROOT / "build" / "micropython" / "port" / "mtsrnn-micropython"
MICROPYTHON = shutil.which("micropython") or (
    str(Path(sys.executable).with_name("micropython"))
    if Path(sys.executable).with_name("micropython").exists() else None)
COUNT = 1500  # random hostile files, beside about 9,300 systematic ones
STATUS_NAMES = {code: name for name, code in mtsfile.STATUS_CODES.items()}


# ---- the corpus ---------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_hostile_corpus", ROOT / "tests" / "fuzz" / "make_hostile_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def base_files() -> dict[str, bytes]:
    """Valid files with every stage kind, float32 and int8."""
    rng = np.random.default_rng(19)
    return {"sru": mtsrnn.random_sru(4, 4, seed=1).image,
            "sru_i8wa": mtsrnn.quantize(mtsrnn.random_sru(4, 4, seed=3), "int8-wa").image,
            "qrnn_i8": mtsrnn.quantize(mtsrnn.random_qrnn(3, 4, window=2, seed=2),
                                       "int8-w").image,
            "whole": stage_files.image(stage_files.whole_model(rng)),
            "whole_i8wa": stage_files.image(stage_files.whole_model(rng, n=6, hidden=6,
                                                                    quant=2)),
            "cells": stage_files.image(stage_files.cells_model(rng)),
            "cells_i8w": stage_files.image(stage_files.cells_model(rng, quant=1))}


def with_crc(data: bytearray) -> bytes:
    struct.pack_into("<I", data, 48, 0)
    end = struct.unpack_from("<I", data, 32)[0]
    struct.pack_into("<I", data, 48, zlib.crc32(bytes(data[:end])))
    return bytes(data)


# Scalar fields by stage kind code: offset in a 2.0 stage record, name
# (a 1.x layer record holds them 8 bytes earlier).
SCALARS = {1: ((28, "scale_x"), (32, "norm_eps")), 2: ((24, "zoneout"),), 3: ((16, "eps"),)}


def stage_records(data: bytes) -> list[tuple[int, int, int]]:
    """(kind code, offset of the record, offset of the 2.0 fields' origin:
    a field at 2.0 offset `at` is at origin + at) per stage or layer."""
    major = struct.unpack_from("<H", data, 8)[0]
    count = struct.unpack_from("<I", data, 24)[0]
    if major == 1:
        cell = struct.unpack_from("<I", data, 20)[0]
        return [(cell, 64 + 32 * s, 64 + 32 * s - 8) for s in range(count)]
    return [(struct.unpack_from("<I", data, 64 + 48 * s)[0], 64 + 48 * s, 64 + 48 * s)
            for s in range(count)]


def systematic(files: dict[str, bytes]) -> dict[str, bytes]:
    corpus = {}
    for name, data in files.items():
        major = struct.unpack_from("<H", data, 8)[0]
        stages = struct.unpack_from("<I", data, 24)[0]
        tensors = struct.unpack_from("<I", data, 28)[0]
        table = struct.unpack_from("<I", data, 44)[0]
        corpus[f"{name}_valid"] = data
        for cut in (10, 63, 64, table, table + 47, len(data) - 1):
            corpus[f"{name}_cut{cut}"] = data[:cut]
        # Every byte of the header and the records, two flips, CRC recomputed.
        for at in range(table + 48 * tensors):
            for bit in (0x01, 0x80):
                flipped = bytearray(data)
                flipped[at] ^= bit
                corpus[f"{name}_flip{at}_{bit}"] = with_crc(flipped)
        for t in range(tensors):
            rec = table + 48 * t
            ndim, dim0, dim1 = struct.unpack_from("<IQQ", data, rec + 12)
            relabelled = bytearray(data)
            if ndim == 1:   # a 1-D tensor relabelled 2-D (n, 1) and (1, n)
                struct.pack_into("<I", relabelled, rec + 12, 2)
                corpus[f"{name}_t{t}_as2d"] = with_crc(bytearray(relabelled))
                struct.pack_into("<IQQ", relabelled, rec + 12, 2, 1, dim0)
                corpus[f"{name}_t{t}_as2d_row"] = with_crc(relabelled)
            else:           # a 2-D tensor relabelled 1-D
                struct.pack_into("<IQQ", relabelled, rec + 12, 1, dim0 * dim1, 1)
                corpus[f"{name}_t{t}_as1d"] = with_crc(relabelled)
            for kind in range(9):
                other = bytearray(data)
                struct.pack_into("<I", other, rec + 4, kind)
                corpus[f"{name}_t{t}_kind{kind}"] = with_crc(other)
            # Non-finite or negative values in every float tensor's first element
            # (the int8 scales among them).
            dtype, offset = struct.unpack_from("<I", data, rec + 8)[0], \
                struct.unpack_from("<Q", data, rec + 32)[0]
            if dtype == 1:
                for label, value in (("nan", float("nan")), ("inf", float("inf")),
                                     ("neg", -1.0)):
                    bad = bytearray(data)
                    struct.pack_into("<f", bad, offset, value)
                    corpus[f"{name}_t{t}_{label}"] = with_crc(bad)
        if major == 2:
            for s in range(stages):
                for kind in range(10):
                    other = bytearray(data)
                    struct.pack_into("<I", other, 64 + 48 * s, kind)
                    corpus[f"{name}_s{s}_kind{kind}"] = with_crc(other)
                # 16..22: the new cells' sizes and options, then eps / SRU
                # scale_x / norm_eps / ...
                for at in (20, 21, 22):
                    for value in (0, 2, 255):
                        bad = bytearray(data)
                        bad[64 + 48 * s + at] = value
                        corpus[f"{name}_s{s}_b{at}_{value}"] = with_crc(bad)
                for at in (16, 24, 28, 32):  # norm eps, QRNN zoneout, SRU scale_x, norm_eps
                    for label, value in (("nan", float("nan")), ("inf", float("inf")),
                                         ("big", 3e38), ("neg", -2.0)):
                        bad = bytearray(data)
                        struct.pack_into("<f", bad, 64 + 48 * s + at, value)
                        corpus[f"{name}_s{s}_f{at}_{label}"] = with_crc(bad)
        else:
            record = 32
            for s in range(stages):
                for at in (16, 20, 24):  # QRNN zoneout, SRU scale_x, SRU norm_eps
                    for label, value in (("nan", float("nan")), ("inf", float("inf")),
                                         ("big", 3e38)):
                        bad = bytearray(data)
                        struct.pack_into("<f", bad, 64 + record * s + at, value)
                        corpus[f"{name}_l{s}_f{at}_{label}"] = with_crc(bad)
    return corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """{file name: bytes}: the random part ("r<index>_<what was done>"), then
    the systematic part; written to a directory with an index for the
    MicroPython readers."""
    random_part = sorted(_generator().hostile_corpus(COUNT).items())
    files = {f"r{index:05d}": data for index, (_name, data) in enumerate(random_part)}
    names = {f"r{index:05d}": name for index, (name, _data) in enumerate(random_part)}
    files.update(systematic(base_files()))
    directory = tmp_path_factory.mktemp("hostile")
    for name, data in files.items():
        (directory / name).write_bytes(data)
    (directory / "index").write_text("\n".join(sorted(files)) + "\n")
    return directory, files, names


# ---- the readers ---------------------------------------------------------------------

def c_status(data: bytes) -> str:
    try:
        _core.load_file(data)
    except _core.ModelFileError as error:
        return STATUS_NAMES[error.args[1]]
    return "MTS_OK"


def c_verdict(data: bytes) -> str:
    return "ok" if c_status(data) == "MTS_OK" else "rejected"


def python_verdict(data: bytes) -> str:
    try:
        mtsrnn.load(data)
    except UnsupportedModelError:
        return "ok"  # a valid file a PyTorch-layout Model cannot express
    except ModelFileError:
        return "rejected"
    return "ok"


def micropython_verdicts(command: list[str], directory: Path,
                         env: dict | None = None) -> dict[str, str]:
    result = subprocess.run([*command, str(SCRIPT), str(directory), "mtsrnn"],
                            capture_output=True, text=True, timeout=600, env=env)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines and lines[-1].startswith("OK "), (
        result.stdout[-2000:] + result.stderr[-2000:])
    return dict(line.split() for line in lines[:-1])


def _compare(files: dict[str, bytes], names: dict[str, str],
             readers: dict[str, dict[str, str]]) -> None:
    disagreements = []
    for name in sorted(files):
        verdicts = {reader: verdicts.get(name) for reader, verdicts in readers.items()}
        if len(set(verdicts.values())) != 1:
            disagreements.append(f"{name} {names.get(name, '')}: {verdicts}")
    assert not disagreements, (f"{len(disagreements)} of {len(files)} files get different "
                               "verdicts:\n" + "\n".join(disagreements[:40]))


@pytest.fixture(scope="module")
def c_verdicts(corpus) -> dict[str, str]:
    _directory, files, _names = corpus
    return {name: c_verdict(data) for name, data in files.items()}


# ---- the tests -----------------------------------------------------------------------

def test_the_corpus_is_hostile(corpus, c_verdicts):
    _directory, files, names = corpus
    random_part = [name for name in files if name in names]
    assert len(random_part) >= COUNT  # the mutations and the valid files
    assert sum(c_verdicts[name] == "rejected" for name in random_part) > COUNT // 2
    assert all(c_verdicts[name] == "ok" for name in random_part
               if names[name].endswith(".valid"))
    systematic_part = [name for name in files if name not in names]
    assert len(systematic_part) > 3000
    assert sum(c_verdicts[name] == "ok" for name in systematic_part) >= 4  # the valid ones
    assert all(c_verdicts[name] == "ok" for name in systematic_part if name.endswith("_valid"))


def test_c_loader_and_python_reader_agree(corpus, c_verdicts):
    _directory, files, names = corpus
    _compare(files, names, {"C loader": c_verdicts,
                            "Python reader": {name: python_verdict(data)
                                              for name, data in files.items()}})


def test_bad_scalars_and_scales_get_the_specific_status_for_every_stage_kind():
    """NaN, inf, 3e38 and negative values of every stage kind's scalar fields
    (SRU scale_x and norm_eps, QRNN zoneout, norm eps) and NaN, inf,
    negative and absurd (above 65536) int8 scales (SRU, QRNN, dense, minGRU, minLSTM, IndRNN): the C
    loader and the Python reader say MTS_ERR_BAD_VALUE, the Python message
    names the field. 3e38 and -2 are in range for no field but scale_x
    (|scale_x| <= 65536), so they are rejected too."""
    files = base_files()
    seen = set()
    for base, data in files.items():
        tensors = struct.unpack_from("<I", data, 28)[0]
        table = struct.unpack_from("<I", data, 44)[0]
        records = stage_records(data)
        kinds = [kind for kind, _record, _origin in records]
        for s, (kind, _record, origin) in enumerate(records):
            for at, field in SCALARS.get(kind, ()):
                for value in (float("nan"), float("inf"), -float("inf"), 3e38, -2.0):
                    if field == "scale_x" and value == -2.0:
                        continue  # a valid scale_x
                    bad = bytearray(data)
                    struct.pack_into("<f", bad, origin + at, value)
                    bad = with_crc(bad)
                    assert c_status(bad) == "MTS_ERR_BAD_VALUE", (base, s, field, value)
                    with pytest.raises(ModelFileError) as caught:
                        mtsrnn.load(bad)
                    assert caught.value.status == "MTS_ERR_BAD_VALUE"
                    assert field in caught.value.message, caught.value.message
                    seen.add((kind, field))
        for t in range(tensors):
            rec = table + 48 * t
            stage, tensor_kind, dtype = struct.unpack_from("<3I", data, rec)
            offset, nbytes = struct.unpack_from("<QQ", data, rec + 32)
            scale_kinds = {name: code for name, code in
                           stage_files.TENSOR_KINDS[stage_files_kind(kinds[stage])].items()
                           if name.endswith("scale")}
            if dtype != 1 or tensor_kind not in scale_kinds.values():
                continue
            # 1e5: above MTS_MAX_WEIGHT_SCALE (65536); 3e38 would make the
            # dequantised weights infinite.
            for value in (float("nan"), float("inf"), -1.0, 1e5, 3e38):
                bad = bytearray(data)
                struct.pack_into("<f", bad, offset + nbytes - 4, value)  # the last row
                bad = with_crc(bad)
                assert c_status(bad) == "MTS_ERR_BAD_VALUE", (base, t, value)
                with pytest.raises(ModelFileError) as caught:
                    mtsrnn.load(bad)
                assert caught.value.status == "MTS_ERR_BAD_VALUE"
                assert "scale" in caught.value.message, caught.value.message
                seen.add((kinds[stage], "scale"))
    assert seen >= {(1, "scale_x"), (1, "norm_eps"), (2, "zoneout"), (3, "eps"),
                    *((kind, "scale") for kind in (1, 2, 4, 6, 7, 8))}, seen


def stage_files_kind(code: int) -> str:
    return {code: name for name, code in stage_files.KIND_CODES.items()}[code]


@pytest.mark.skipif(MICROPYTHON is None, reason="the micropython (unix) interpreter is missing")
def test_micropython_fallback_agrees(corpus, c_verdicts):
    directory, files, names = corpus
    fallback = micropython_verdicts([MICROPYTHON], directory,
                                    {"MICROPYPATH": str(FALLBACK_DIR), "PATH": "/usr/bin:/bin"})
    assert len(fallback) == len(files)
    _compare(files, names, {"C loader": c_verdicts, "MicroPython fallback": fallback})


@pytest.mark.skipif(not PORT.exists(), reason="the test port is built by ci/micropython.sh")
def test_micropython_c_module_agrees(corpus, c_verdicts):
    directory, files, names = corpus
    module = micropython_verdicts([str(PORT)], directory)
    assert len(module) == len(files)
    _compare(files, names, {"C loader": c_verdicts, "MicroPython C module": module})
