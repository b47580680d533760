"""One verdict for every reader of .mts files: the C loader (`_core.load_file`,
mts_file_load), the Python reader (`mtsrnn.load`), the MicroPython C module
(the test port ci/micropython.sh builds) and the pure-MicroPython fallback
(firmware/micropython/fallback on the unix interpreter) must accept and
reject the same files of a hostile corpus (tests/fuzz/make_hostile_corpus.py:
truncations, bit flips with and without a recomputed CRC, relabelled shapes
and kinds, absurd dimensions, offsets and scalar fields). A disagreement
names the file, what was done to it and each reader's verdict."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import mtsrnn
import pytest
from mtsrnn import _core
from mtsrnn.mtsfile import ModelFileError, UnsupportedModelError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "micropython" / "verdicts.py"
FALLBACK_DIR = ROOT / "firmware" / "micropython" / "fallback"
PORT = ROOT / "build" / "micropython" / "port" / "mtsrnn-micropython"
MICROPYTHON = shutil.which("micropython") or (
    str(Path(sys.executable).with_name("micropython"))
    if Path(sys.executable).with_name("micropython").exists() else None)
COUNT = 1500  # hostile files; about 2 s for all four readers


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_hostile_corpus", ROOT / "tests" / "fuzz" / "make_hostile_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    files = sorted(_generator().hostile_corpus(COUNT).items())
    directory = tmp_path_factory.mktemp("hostile")
    for index, (_name, data) in enumerate(files):
        (directory / f"{index:05d}.mts").write_bytes(data)
    return directory, files


def c_verdict(data: bytes) -> str:
    try:
        _core.load_file(data)
    except _core.ModelFileError:
        return "reject"
    return "ok"


def python_verdict(data: bytes) -> str:
    try:
        mtsrnn.load(data)
    except UnsupportedModelError:
        return "ok"  # a valid file a PyTorch-layout Model cannot express
    except ModelFileError:
        return "reject"
    return "ok"


def micropython_verdicts(command: list[str], directory: Path, count: int,
                         env: dict | None = None) -> list[str]:
    result = subprocess.run([*command, str(SCRIPT), str(directory), str(count)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    verdicts = [" ".join(line.split()[1:]) for line in result.stdout.splitlines()]
    assert len(verdicts) == count, result.stdout[-500:]
    return verdicts


def _compare(files, readers: dict[str, list[str]]) -> None:
    disagreements = []
    for index, (name, _data) in enumerate(files):
        verdicts = {reader: verdicts[index] for reader, verdicts in readers.items()}
        if len(set(verdicts.values())) != 1:
            disagreements.append(f"{index:05d} {name}: {verdicts}")
    assert not disagreements, (f"{len(disagreements)} of {len(files)} files get different "
                               "verdicts:\n" + "\n".join(disagreements[:40]))


def test_the_corpus_is_hostile(corpus):
    _directory, files = corpus
    verdicts = [c_verdict(data) for _name, data in files]
    assert verdicts.count("reject") > len(files) // 2
    assert all(c_verdict(data) == "ok" for name, data in files if name.endswith(".valid"))


def test_c_loader_and_python_reader_agree(corpus):
    _directory, files = corpus
    _compare(files, {"C loader": [c_verdict(data) for _name, data in files],
                     "Python reader": [python_verdict(data) for _name, data in files]})


@pytest.mark.skipif(MICROPYTHON is None, reason="the micropython (unix) interpreter is missing")
def test_micropython_fallback_agrees(corpus):
    directory, files = corpus
    fallback = micropython_verdicts([MICROPYTHON], directory, len(files),
                                    {"MICROPYPATH": str(FALLBACK_DIR), "PATH": "/usr/bin:/bin"})
    _compare(files, {"C loader": [c_verdict(data) for _name, data in files],
                     "MicroPython fallback": fallback})


@pytest.mark.skipif(not PORT.exists(), reason="the test port is built by ci/micropython.sh")
def test_micropython_c_module_agrees(corpus):
    directory, files = corpus
    module = micropython_verdicts([str(PORT)], directory, len(files))
    _compare(files, {"C loader": [c_verdict(data) for _name, data in files],
                     "MicroPython C module": module})
