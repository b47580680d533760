"""The MicroPython module's cheap pieces, on the real MicroPython interpreter.

ci/micropython.sh is the full stage (it builds the test port with the C
module, compile-checks the native module and cross-compiles the fallback).
Here: golden vectors from tests/micropython/make_golden.py, then
tests/micropython/check_mtsrnn.py run by the PyPI `micropython` (unix)
interpreter on the fallback's source, and by the test port if
ci/micropython.sh has built it; a tampered golden file must make the script
fail with a non-zero exit.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "tests" / "micropython" / "check_mtsrnn.py"
FALLBACK_DIR = ROOT / "firmware" / "micropython" / "fallback"
PORT = ROOT / "build" / "micropython" / "port" / "mtsrnn-micropython"
TOLERANCE = "1e-5"  # as ci/micropython.sh

MICROPYTHON = shutil.which("micropython") or (
    str(Path(sys.executable).with_name("micropython"))
    if Path(sys.executable).with_name("micropython").exists() else None)


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    subprocess.run([sys.executable, str(ROOT / "tests" / "micropython" / "make_golden.py"),
                    str(out)], check=True, capture_output=True)
    return out


def run_check(command, golden_dir, module, implementation, env=None):
    return subprocess.run([*command, str(CHECK), str(golden_dir), module, TOLERANCE,
                           implementation], capture_output=True, text=True, timeout=120,
                          env=env)


def assert_passed(result):
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines and lines[-1].startswith("OK "), (
        f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    assert int(lines[-1].split()[1]) > 100


def fallback_env():
    return {"MICROPYPATH": str(FALLBACK_DIR), "PATH": "/usr/bin:/bin"}


@pytest.mark.skipif(MICROPYTHON is None, reason="the micropython (unix) interpreter is missing")
def test_fallback_source_on_unix_micropython(golden):
    assert_passed(run_check([MICROPYTHON], golden, "mtsrnn", "python", fallback_env()))


@pytest.mark.skipif(MICROPYTHON is None, reason="the micropython (unix) interpreter is missing")
def test_check_script_fails_on_a_wrong_golden_value(golden, tmp_path):
    tampered = tmp_path / "golden"
    shutil.copytree(golden, tampered)
    expected = tampered / "qrnn6.y.f32"
    data = bytearray(expected.read_bytes())
    data[8:12] = bytes([0, 0, 0x80, 0x3F])  # one output becomes 1.0
    expected.write_bytes(bytes(data))
    result = run_check([MICROPYTHON], tampered, "mtsrnn", "python", fallback_env())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL qrnn6" in result.stdout
    assert not result.stdout.strip().splitlines()[-1].startswith("OK")


@pytest.mark.skipif(not PORT.exists(), reason="the test port is built by ci/micropython.sh")
def test_c_module_on_the_test_port(golden):
    assert_passed(run_check([str(PORT)], golden, "mtsrnn", "c"))
