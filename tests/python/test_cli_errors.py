"""The `mtsrnn` command's one error policy (host/mtsrnn/cli_common.py): every
expected failure of every command is one line on stderr, no traceback, and
the exit status of the documented table (README.md). Run as a user runs them
(`python -m mtsrnn ...` in a subprocess)."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
from mtsrnn import cli_common

ROOT = Path(__file__).resolve().parents[2]
DEVICE_PROGRAM = os.environ.get("MTSRNN_DEVICE")
HAVE_SERIAL = __import__("importlib.util").util.find_spec("serial") is not None


def mtsrnn_cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "mtsrnn", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def assert_one_line(result, status, *fragments):
    """Exit `status` (one of the table), one `mtsrnn CMD: error:` line on
    stderr naming the problem, no traceback."""
    assert status in cli_common.EXIT_CODES
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"mtsrnn [a-z -]+: error: ", lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_exit_codes_are_documented():
    readme = (ROOT / "README.md").read_text()
    for status in cli_common.EXIT_CODES:
        assert re.search(rf"^\| {status} \| ", readme, re.MULTILINE), status
    assert cli_common.EXIT_FAILED == 1 and cli_common.EXIT_USER_ERROR == 2
    assert cli_common.EXIT_INTERRUPTED == 130


def leaf_commands(parser, prefix=()):
    """(command words, parser) of every command a user can run."""
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaf_commands(sub, (*prefix, name))
            return
    yield prefix, parser


def test_every_command_runs_under_the_one_guard():
    """Each command, `eval`, `flash` and the uploads of `run`/`selftest`/`bench
    device` included, is wrapped by cli_common.guarded under its own name,
    so no command has an error policy of its own."""
    from mtsrnn import cli

    leaves = dict(leaf_commands(cli.build_parser()))
    assert {("eval",), ("flash",), ("run",), ("selftest",), ("convert",), ("inspect",),
            ("export-c",), ("bench", "host"), ("bench", "dram"), ("bench", "device")} <= set(leaves)
    for words, parser in leaves.items():
        run = parser.get_default("run")
        assert run is not None and run.__qualname__ == "guarded.<locals>.wrapper", words
        closure = dict(zip(run.__code__.co_freevars, (c.cell_contents for c in run.__closure__),
                           strict=True))
        assert closure["command"] == " ".join(words), words


def test_version():
    result = mtsrnn_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mtsrnn {mtsrnn.__version__}"


@pytest.fixture
def frames_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((4, 8), np.float32))
    return path


def test_model_commands(tmp_path):
    missing = tmp_path / "missing.mts"
    assert_one_line(mtsrnn_cli("convert", tmp_path / "none.pt", "--cell", "sru", "-o",
                               tmp_path / "o.mts"), 2, "no such file")
    assert_one_line(mtsrnn_cli("inspect", missing), 2, str(missing))
    short = tmp_path / "short.mts"
    short.write_bytes(b"MTS")
    assert_one_line(mtsrnn_cli("inspect", short), 2, str(short), "TRUNCATED")
    assert_one_line(mtsrnn_cli("export-c", missing, "-o", tmp_path), 2, "no such file")


def test_bench_host_and_dram(tmp_path):
    assert_one_line(mtsrnn_cli("bench", "host", "--block", "4", "--steps", "2", "--no-torch"),
                    2, "--steps (2) must be at least the largest block size (4)")
    # the measuring tool cannot run or lacks what was asked: 1
    assert_one_line(mtsrnn_cli("bench", "dram", "--probe", tmp_path / "none", "--block", "1"),
                    1, "does not exist")
    for option in ("--variant", "--gemm"):  # --gemm: the old spelling, still accepted
        assert_one_line(mtsrnn_cli("bench", "dram", "--block", "1", option, "int8-wa=nope"),
                        1, "no int8-wa product variant 'nope'")


@pytest.mark.skipif(not HAVE_SERIAL, reason="the device commands need pyserial")
def test_device_commands_without_a_device(tmp_path, frames_file):
    missing = tmp_path / "none"
    assert_one_line(mtsrnn_cli("run", "--input", missing, "-o", tmp_path / "y.npy"), 2,
                    "no such file")
    assert_one_line(mtsrnn_cli("flash", "--firmware", missing), 2, "no such file")
    for command in (["selftest"], ["bench", "device"]):
        assert_one_line(mtsrnn_cli(*command, "--board", "host", "--firmware", missing), 2,
                        "not an executable file")
    # A port nobody listens on: a link error.
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"socket://127.0.0.1:{s.getsockname()[1]}"
    mtsrnn.random_sru(8, 4, seed=1).save(tmp_path / "m.mts")
    from mtsrnn.evaluate import save_data

    save_data(tmp_path / "d.npz", np.zeros((2, 3, 8), np.float32), np.arange(2))
    evaluate = ["eval", "--model", tmp_path / "m.mts", "--data", tmp_path / "d.npz"]
    for command in (["run", "--input", frames_file, "-o", tmp_path / "y.npy"], ["selftest"],
                    ["bench", "device", "--no-progress"], evaluate):
        assert_one_line(mtsrnn_cli(*command, "--port", url, "--timeout", "1"), 1,
                        "cannot open")
    # A serial port that does not exist: a link error too.
    for command in (["selftest"], evaluate):
        assert_one_line(mtsrnn_cli(*command, "--port", "/dev/ttyNOPE", "--timeout", "1"), 1,
                        "/dev/ttyNOPE")


def fake_elf(path, machine):
    """The 20 bytes of an ELF header that name its CPU (e_machine), executable."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + (2).to_bytes(2, "little") \
        + machine.to_bytes(2, "little")
    path.write_bytes(header + bytes(44))
    path.chmod(0o755)
    return path


def test_device_program_for_another_cpu_is_refused(tmp_path):
    """An aarch64 (or x86-64, on an Arm host) mtsrnn-device is refused by its ELF
    machine before it is run: one line naming its CPU, not "Exec format error"."""
    import platform

    other, name = (183, "aarch64") if platform.machine() != "aarch64" else (62, "x86-64")
    program = fake_elf(tmp_path / "mtsrnn-device", other)
    for command in (["selftest"], ["bench", "device", "--no-progress"]):
        assert_one_line(mtsrnn_cli(*command, "--board", "host", "--firmware", program), 2,
                        f"built for {name}")
    assert_one_line(mtsrnn_cli("selftest", "--board", "host",
                               env={"MTSRNN_DEVICE": str(program)}), 2, f"built for {name}")


def test_firmware_for_another_cpu_is_refused_for_a_cortex_m_board(tmp_path):
    """A host program (or any non-Arm ELF) given as a QEMU or real Cortex-M
    board's firmware: one line naming its CPU, before QEMU would boot nothing
    and the link time out; a file that is no ELF at all, for QEMU, too."""
    program = fake_elf(tmp_path / "mtsrnn-device", 62)
    for command in (["flash", "--board", "qemu-mps2-an386"], ["selftest", "--board",
                    "qemu-mps3-an547"], ["flash", "--board", "nucleo-f446re"]):
        assert_one_line(mtsrnn_cli(*command, "--firmware", program), 2, "built for x86-64",
                        "not the Arm Cortex-M of")
    (tmp_path / "fw.bin").write_bytes(bytes(64))
    assert_one_line(mtsrnn_cli("flash", "--board", "qemu-mps2-an386", "--firmware",
                               tmp_path / "fw.bin"), 2, "not an ELF file")


def test_missing_optional_dependency_names_its_extra(tmp_path):
    """An extra that is not installed (a module on the path that fails to
    import, as a missing one does): one line naming `mtsrnn[EXTRA]`, exit 2."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    for module in ("threadpoolctl", "matplotlib"):
        (shadow / f"{module}.py").write_text(f"raise ImportError('No module named {module}')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])}
    assert_one_line(mtsrnn_cli("bench", "host", "--quick", "--no-torch", env=env), 2,
                    "needs threadpoolctl", "pip install 'mtsrnn[bench]'")
    assert_one_line(mtsrnn_cli("bench", "host", "--quick", "--no-torch", "--plot",
                               tmp_path / "p.png", env=env), 2, "needs matplotlib",
                    "pip install 'mtsrnn[plot]'")


@pytest.mark.skipif(not (HAVE_SERIAL and DEVICE_PROGRAM),
                    reason="set MTSRNN_DEVICE=/path/to/mtsrnn-device to test it")
def test_device_commands_with_the_device_program(tmp_path, frames_file):
    # A relative --firmware is the file in the working directory (it was run
    # as a bare name, looked up on PATH: "No such file or directory").
    program = Path(DEVICE_PROGRAM).resolve()
    for relative in (program.name, f"./{program.name}"):
        result = mtsrnn_cli("selftest", "--board", "host", "--firmware", relative,
                            cwd=program.parent)
        assert result.returncode == 0, result.stderr
    out = tmp_path / "y.npy"
    assert_one_line(mtsrnn_cli("run", "--board", "host", "--index", "nosuch", "--input",
                               frames_file, "-o", out), 2, "no built-in model 'nosuch'")
    for option in ("--variant", "--kernel"):  # --kernel: the old spelling, still accepted
        assert_one_line(mtsrnn_cli("bench", "device", "--board", "host", option, "nosuch",
                                   "--block", "1", "--no-progress"),
                        2, "no variant nosuch for model 0", "its variants: ")
    assert_one_line(mtsrnn_cli("bench", "device", "--board", "host", "--block", "100000",
                               "--no-progress"), 2, "exceeds the device's max_block")
    # A block size above the device's maximum: an error, never a smaller T.
    wide = tmp_path / "x64.npy"  # frames for the first demo model (input 64)
    np.save(wide, np.zeros((4, 64), np.float32))
    assert_one_line(mtsrnn_cli("run", "--board", "host", "--block", "100000", "--input",
                               wide, "-o", out), 2, "--block 100000 is above the "
                    "device's maximum block size T = ")
    assert not out.exists()


def test_argparse_errors_exit_2_without_traceback():
    """Bad arguments: one line naming the argument and where the usage is."""
    for args in (["bench", "host", "--cell", "lstm"], ["inspect"], ["nosuch"],
                 ["bench", "device", "--board", "nosuch"]):
        result = mtsrnn_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("mtsrnn") and "--help)" in result.stderr, result.stderr


def test_numbers_out_of_range_are_argument_errors():
    """Timeouts and counts must be finite and in range: argparse's error
    naming the option and what it expects, exit 2, no traceback (an infinite
    timeout used to end in an OverflowError traceback, NaN, 0 and -1 were
    accepted)."""
    for value in ("inf", "nan", "0", "-1", "1e300", "ten"):
        for command in (["selftest"], ["flash"] if value == "inf" else ["bench", "device"]):
            result = mtsrnn_cli(*command, "--timeout", value)
            assert result.returncode == 2, (command, value, result.stderr)
            assert "Traceback" not in result.stderr
            last = result.stderr.strip().splitlines()[-1]
            assert "--timeout" in last and "seconds" in last, last
    for args in (["bench", "device", "--block", "1,99999999999"],
                 ["bench", "device", "--steps", "99999999999"],
                 ["bench", "device", "--baudrate", "0"],
                 ["bench", "host", "--rounds", "-3"],
                 ["bench", "host", "--seed", "-1"],
                 ["bench", "host", "--seed", "nan"],
                 ["bench", "device", "--repeat", "0"],
                 ["run", "--block", "0"],
                 ["eval", "--host", "--model", "m.mts", "--data", "d.npz", "--block", "inf"],
                 ["eval", "--host", "--model", "m.mts", "--data", "d.npz", "--min-accuracy",
                  "nan"],
                 ["eval", "--host", "--model", "m.mts", "--data", "d.npz", "--min-accuracy",
                  "1.5"],
                 ["eval", "--port", "x", "--model", "m.mts", "--data", "d.npz", "--timeout",
                  "inf"],
                 ["eval", "--port", "x", "--model", "m.mts", "--data", "d.npz", "--baudrate",
                  "-5"]):
        result = mtsrnn_cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result)
        option = next(a for a in args if a.startswith("--") and a not in ("--host", "--port",
                                                                         "--model", "--data"))
        assert option in result.stderr.strip().splitlines()[-1], (args, result.stderr)
    # Cache geometries cachegrind would refuse after the first run: refused first.
    for option, value in (("--d1", "32768,8,63"), ("--ll", "0,8,64"), ("--d1", "32768,3,64")):
        assert_one_line(mtsrnn_cli("bench", "dram", f"{option}={value}"), 1, option,
                        "powers of two")


def test_guard_maps_each_error_to_its_status(capsys):
    """In process: every error kind the guard knows, its status and one line;
    Ctrl-C is 130."""
    from mtsrnn.harness import BoardError, DeviceError, LinkClosed, ProtocolError
    from mtsrnn.mtsfile import ModelFileError

    def raising(error):
        def run(_args):
            raise error
        return run

    cases = [
        (cli_common.CommandError("bad ask"), 2), (cli_common.Failed("check failed"), 1),
        (BoardError("no board"), 2), (DeviceError("kernel x", "bad-args", "no such"), 1),
        (ProtocolError("garbled"), 1), (LinkClosed("closed"), 1),
        (FileNotFoundError(2, "No such file or directory", "f.mts"), 2),
        (ValueError("bad\nvalue"), 2), (TypeError("bad type"), 2),
        (ImportError("no module"), 2), (ModelFileError("bad file", "BAD_MAGIC"), 2),
        (KeyboardInterrupt(), 130),
    ]
    for error, status in cases:
        args = argparse.Namespace(model="m.mts")
        assert cli_common.guarded("x", raising(error))(args) == status, error
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (error, err)
        assert err.startswith("mtsrnn x: "), err
    assert cli_common.guarded("x", raising(ModelFileError("bad", "BAD_MAGIC")))(
        argparse.Namespace(model="m.mts")) == 2
    assert "error: m.mts: bad [BAD_MAGIC]" in capsys.readouterr().err
    with pytest.raises(KeyError):  # anything else is a bug: not hidden
        cli_common.guarded("x", raising(KeyError("bug")))(argparse.Namespace())
