"""Configure check of firmware/micropython/micropython.cmake (no CMake-based
MicroPython port is available here: esp32 and rp2 are not in the sdist).

    python check_cmake_usermod.py MPY_DIR BUILD_DIR

Configures tests/micropython/cmake_usermod (a stand-in port that includes the
module through MicroPython's own py/usermod.cmake) with contraction switched
on for everything, as GCC's GNU modes do, and checks the exported compile
commands: every kernel source of kernels/CMakeLists.txt and the binding are
compiled, and the tiled int8-w product ends with -ffp-contract=off (as in
kernels/CMakeLists.txt) while the other sources keep contraction. Prints one
line per failure and exits 1 if there was any; the last line is "OK <n> checks".
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_CONTRACT = {"gemm_i8_tiled.c"}


def contraction(command: str) -> str | None:
    """The last -ffp-contract= value of a compile command (the one GCC uses)."""
    values = [a.split("=", 1)[1] for a in shlex.split(command) if a.startswith("-ffp-contract=")]
    return values[-1] if values else None


def main() -> int:
    mpy_dir, build = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    subprocess.run(["cmake", "-S", str(ROOT / "tests/micropython/cmake_usermod"), "-B", str(build),
                    f"-DMPY_DIR={mpy_dir}",
                    f"-DUSER_C_MODULES={ROOT / 'firmware/micropython/micropython.cmake'}",
                    "-DCMAKE_C_FLAGS=-ffp-contract=fast"], check=True, capture_output=True)
    commands = {Path(e["file"]).resolve(): e["command"]
                for e in json.loads((build / "compile_commands.json").read_text())}
    listed = re.findall(r"src/\S+\.c", re.search(r"set\(MTSRNN_KERNEL_SOURCES([^)]*)\)", (
        ROOT / "kernels/CMakeLists.txt").read_text()).group(1))
    expected = [ROOT / "kernels" / s for s in listed] + [ROOT / "firmware/micropython/modmtsrnn.c"]
    failures, checks = [], 0
    for source in expected:
        checks += 1
        if source not in commands:
            failures.append(f"{source.relative_to(ROOT)} is not compiled")
            continue
        want = "off" if source.name in NO_CONTRACT else "fast"
        got = contraction(commands[source])
        if got != want:
            failures.append(f"{source.name}: -ffp-contract={got}, expected {want}")
    for failure in failures:
        print("FAIL", failure)
    print(f"micropython.cmake: {len(expected)} sources, -ffp-contract=off for "
          f"{', '.join(sorted(NO_CONTRACT))} only")
    if failures:
        print(f"FAILED {len(failures)} of {checks} checks")
        return 1
    print(f"OK {checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
