"""The memory-traffic plugin (tools/qemu-plugin/mtsmem.c) and its cache model.

- its counts on a hand-checked aarch64 program (tests/qemu_plugin/hand_loads.c:
  a known number of loads and stores of known sizes in known places);
- the cache model (cachesim.h, through the trace driver mtsmem-trace) against
  a brute-force LRU reference written here on random address traces;
- the same model against valgrind's cachegrind on the host for the same
  access pattern (tests/qemu_plugin/pattern.c) and cache shape.
Each part is skipped where its tool (gcc, qemu-aarch64, valgrind) is missing.
"""

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from mtsrnn.bench import memory

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "tests" / "qemu_plugin"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The plugin and the trace driver, built by the CI script into a fresh directory."""
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    out = tmp_path_factory.mktemp("qemu-plugin")
    subprocess.run(["bash", str(ROOT / "ci" / "qemu-plugin.sh")], check=True,
                   env={"PATH": "/usr/bin:/bin", "QEMU_PLUGIN_BUILD": str(out)},
                   capture_output=True)
    return out


def run_trace(built, shapes, trace):
    text = "".join(f"{a:#x} {s} {'w' if w else 'r'}\n" for a, s, w in trace)
    result = subprocess.run([str(built / "mtsmem-trace"), *shapes], input=text, text=True,
                            capture_output=True, check=True)
    levels = []
    for line in result.stdout.splitlines():
        fields = dict(f.split("=") for f in line.split())
        levels.append((int(fields["accesses"]), int(fields["misses"]),
                       int(fields["writebacks"])))
    return levels


class ReferenceCache:
    """Brute force: per set a list of lines, most recently used last."""

    def __init__(self, size, line, ways):
        self.line, self.ways, self.sets = line, ways, size // (line * ways)
        self.content = [[] for _ in range(self.sets)]  # [line number, dirty]
        self.accesses = self.misses = self.writebacks = 0

    def access(self, line_number, store):
        self.accesses += 1
        entries = self.content[line_number % self.sets]
        for entry in entries:
            if entry[0] == line_number:
                entries.remove(entry)
                entry[1] = entry[1] or store
                entries.append(entry)
                return False
        self.misses += 1
        if len(entries) == self.ways:
            victim = entries.pop(0)
            self.writebacks += victim[1]
        entries.append([line_number, store])
        return True


def reference(shapes, trace):
    levels = [ReferenceCache(*map(int, s.split(":"))) for s in shapes]
    first = levels[0].line
    for address, size, store in trace:
        for line in range(address // first, (address + size - 1) // first + 1):
            for level in levels:
                if not level.access(line * first // level.line, store):
                    break
    return [(c.accesses, c.misses, c.writebacks) for c in levels]


@pytest.mark.parametrize("shapes", [["1024:64:1"], ["2048:32:4"], ["16384:8:2"],
                                    ["128:16:8"], ["4096:64:2", "32768:64:8"],
                                    ["512:16:2", "8192:64:4"]])
def test_cache_model_matches_brute_force_lru(built, shapes):
    rng = random.Random(17)
    trace = []
    hot = [rng.randrange(0, 1 << 20) for _ in range(64)]
    for _ in range(20000):
        kind = rng.random()
        if kind < 0.4:  # reuse: a few hot places
            address = rng.choice(hot) + rng.randrange(0, 256)
        elif kind < 0.7:  # streaming
            address = (len(trace) * 4) % (1 << 18)
        else:
            address = rng.randrange(0, 1 << 22)
        trace.append((address, rng.choice((1, 2, 4, 8, 16)), rng.random() < 0.3))
    assert run_trace(built, shapes, trace) == reference(shapes, trace)


def test_plugin_counts_hand_checked_program(built, tmp_path):
    gcc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if gcc is None or qemu is None:
        pytest.skip("needs aarch64-linux-gnu-gcc and qemu-aarch64")
    program = tmp_path / "hand_loads"
    subprocess.run([gcc, "-O2", "-static", "-o", str(program), str(SOURCES / "hand_loads.c")],
                   check=True)
    data = memory.elf_symbol(program, "hand_data")
    out = tmp_path / "windows.txt"
    options = [f"marker={memory.elf_symbol(program, 'mts_mem_marker'):#x}", f"out={out}",
               f"region=data:{data:#x}:{data + 4096:#x}", "cache=l1:4096:64:4"]
    for _ in range(2):  # the same counts every run
        subprocess.run([qemu, "-plugin", ",".join([str(built / "libmtsmem.so"), *options]),
                        str(program)], check=False, timeout=60)
        windows = memory.read_windows(out)
        assert len(windows) == 1
        w = windows[0]
        assert w["weights_span"] == 1024
        assert w["weight_read"] == 256 * 4
        assert w["other_read"] == 100 * 2
        assert w["written"] == 10 * 8
        assert w["read_data"] == 1024 + 200 and w["written_data"] == 80
        assert w["l1_acc"] == 256 + 100 + 10  # no access straddles a 64-byte line
        assert w["l1_miss"] == 16 + 4 + 2 and w["l1_wb"] == 0
        # instructions count by translated block: the closing mark's load is in
        # the window's last block, the opening mark's block is not counted
        assert w["i_load"] == 356 + 1 and w["i_store"] == 10
        # 4 instructions per load loop pass, 3 per store pass, and a few around them
        assert 256 * 4 + 100 * 4 + 10 * 3 <= w["insns"] <= 256 * 4 + 100 * 4 + 10 * 3 + 24


def test_cortex_a72_runs_the_binary_on_an_a72(built, tmp_path, monkeypatch):
    """The A72 model runs qemu-aarch64 as a Cortex-A72, so the binary's run-time
    choices are the A72's: no SDOT (Armv8.2; the A72 is Armv8.0), which QEMU's
    default CPU has and the int8 products would otherwise pick."""
    gcc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if gcc is None or qemu is None:
        pytest.skip("needs aarch64-linux-gnu-gcc and qemu-aarch64")
    program = tmp_path / "hwcap"
    source = ("#include <stdio.h>\n#include <sys/auxv.h>\n"
              "volatile int mts_mem_marker[2];\n"
              "int main(void) { printf(\"dotprod %d\\n\", "
              "(getauxval(AT_HWCAP) & (1ul << 20)) != 0); return mts_mem_marker[0]; }\n")
    subprocess.run([gcc, "-O2", "-static", "-x", "c", "-o", str(program), "-"],
                   input=source, text=True, check=True)
    out = tmp_path / "windows.txt"
    monkeypatch.setenv("MTSRNN_QEMU_PLUGIN", str(built / "libmtsmem.so"))
    as_a72 = memory.plugin_arguments(memory.PARTS["cortex-a72"], "qemu-aarch64", program, out)
    assert as_a72[:2] == ["-cpu", "cortex-a72"]
    for arguments, expected in ((as_a72, "dotprod 0"), ([], "dotprod 1")):
        result = subprocess.run([qemu, *arguments, str(program)], capture_output=True,
                                text=True, timeout=60)
        assert result.stdout.strip() == expected, (arguments, result.stdout, result.stderr)


def test_cache_model_matches_cachegrind(built, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.skip("needs valgrind")
    program = tmp_path / "pattern"
    subprocess.run(["gcc", "-O2", "-o", str(program), str(SOURCES / "pattern.c")], check=True)
    stride, passes, reuse = 64, 2, 4
    d1, ll = "32768,2,64", "1048576,16,64"
    result = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--D1={d1}",
                             f"--LL={ll}", "--cachegrind-out-file=/dev/null", str(program),
                             str(stride), str(passes), str(reuse)],
                            capture_output=True, text=True, check=True, timeout=300)
    base = int(result.stdout.split()[0], 16)

    def number(label):
        found = re.search(rf"{label}:\s+([\d,]+)", result.stderr)
        return int(found.group(1).replace(",", ""))
    d1_misses = number("D1  misses")
    ll_misses = number("LLd misses")
    trace = []
    for _ in range(passes):
        trace += [(base + i, 4, False) for i in range(0, 4 << 20, stride)]
    for row in range(1024):
        for _ in range(reuse):
            for i in range(1024):
                address = base + (row * 1024 + i) * 4
                trace.append((address, 4, False))
                if i % 16 == 0:
                    trace.append((address, 4, True))
    shapes = [d1.replace(",", ":").split(":"), ll.replace(",", ":").split(":")]
    shapes = [f"{s[0]}:{s[2]}:{s[1]}" for s in shapes]  # SIZE:LINE:WAYS
    (_, our_d1, _), (_, our_ll, _) = run_trace(built, shapes, trace)
    # cachegrind also sees the program's start-up, stack and stdio: a few percent
    assert our_d1 == pytest.approx(d1_misses, rel=0.03)
    assert our_ll == pytest.approx(ll_misses, rel=0.03)


def test_bench_device_memory_on_the_default_board(built, tmp_path, monkeypatch):
    """`mtsrnn bench device --memory` end to end on the QEMU M4F firmware: the
    per-step keys, the weights read once per 4-step tile at the core by `m4f`
    and once per block by the weight-stationary `m4f-wstat`, the scan's
    per-unit parameters once per block, the CMSIS-DSP q7 peer's rows beside
    an int8-wa model's variants, and every modelled figure labelled as such."""
    import json

    from mtsrnn.harness import BoardError, find_firmware, get_board

    if shutil.which("qemu-system-arm") is None:
        pytest.skip("needs qemu-system-arm")
    try:
        find_firmware(get_board("qemu-mps2-an386"))
    except BoardError:
        pytest.skip("no mps2-an386 firmware built (ci/firmware.sh)")
    monkeypatch.setenv("MTSRNN_QEMU_PLUGIN", str(built / "libmtsmem.so"))
    out = tmp_path / "memory.json"
    result = subprocess.run(["python", "-m", "mtsrnn", "bench", "device", "--board",
                             "qemu-mps2-an386", "--index", "demo_sru", "--variant",
                             "m4f,m4f-wstat", "--block", "1,16", "--memory", "stm32f446",
                             "--no-progress", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "modelled, not measured" in result.stdout
    data = json.loads(out.read_text())
    assert data["memory"]["part"] == "stm32f446" and "modelled" in data["memory"]["note"]
    one, sixteen = (row["per_step"] for row in data["results"])
    for step in (one, sixteen):
        assert {"instructions", "weight_bytes", "misses", "cycles_model",
                "energy_model_nj"} <= set(step)
        assert set(step["misses"]) == {"art"}
    weights = 2 * 3 * 64 * 64 * 4  # demo_sru: 2 layers, 3 gate rows per unit, 64 x 64, float
    # the span runs from the first to the last weight byte of the model: arrays
    # the linker put between two layers' weights (the scan's biases) count too,
    # read once per block like the weights (the scan's chunks, internal.h)
    between = one["weight_bytes"] - weights
    assert 0 < between <= 0.02 * weights
    assert sixteen["weight_bytes"] == weights / 4 + between / 16  # weights once per 4-step tile
    assert data["results"][1]["speedup_model"] > 1
    one, sixteen = (row["per_step"] for row in data["variants"]["m4f-wstat"])
    assert sixteen["weight_bytes"] * 16 == one["weight_bytes"]  # everything once per block
    assert sixteen["weight_memory_bytes"] * 16 == one["weight_memory_bytes"]

    # an int8-wa model: its variants, then the bench-only peer, one window each
    result = subprocess.run(["python", "-m", "mtsrnn", "bench", "device", "--board",
                             "qemu-mps2-an386", "--index", "demo_sru_i8wa", "--block", "1,4",
                             "--memory", "stm32f446", "--no-progress", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "cmsis-dsp-q7 (peer)" in result.stdout
    data = json.loads(out.read_text())
    peer = data["peers"]["cmsis-dsp-q7"]["results"]
    assert [row["block"] for row in peer] == [1, 4]
    for row in peer:
        assert row["per_step"]["weight_bytes"] > 0 and row["speedup_model"] > 0
    # the peer reads every weight once per step whatever T; the dsp variant once per tile
    assert peer[1]["per_step"]["weight_bytes"] > 3 * data["variants"]["dsp"][1]["per_step"][
        "weight_bytes"]


def test_rp2040_times_armv6m_code_only(tmp_path):
    """The RP2040 part times Thumb-1 code: a window with FPU instructions (a
    Cortex-M4F binary) is refused rather than timed with made-up soft-float
    costs, and a binary without the Armv6-M product is refused by name."""
    part = memory.PARTS["rp2040"]
    window = {f"i_{c}": 0 for c in memory.CLASSES}
    window.update(insns=10, i_other=8, i_load=2, weight_read=8, xip_miss=1,
                  last_miss_weights=1)
    step = memory.model_step(part, window, 1)
    # 8 data-processing instructions at 1 cycle, 2 loads at 2, one XIP line fill
    assert step["cycles_model"] == 8 * 1 + 2 * 2 + part.penalty["xip"].value
    window["i_fmac"] = 3
    with pytest.raises(ValueError, match="no `fmac` instructions"):
        memory.model_step(part, window, 1)
    # any ELF without the Armv6-M product stands for the wrong build
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    elf = tmp_path / "plain.elf"
    subprocess.run(["gcc", "-x", "c", "-o", str(elf), "-"], input="int main(void){return 0;}",
                   text=True, check=True)
    with pytest.raises(ValueError, match="mtsi_gemm_i8i8_armv6m"):
        memory.plugin_arguments(part, "qemu-mps2-an385", elf, tmp_path / "out.txt")


def test_xip_line_costs_follow_the_boot2_transfers():
    """An XIP miss of the RP2040 models costs two 32-bit SSI transfers (the
    cache fills half of its 8-byte line per transfer), each timed from its
    boot2's frame: the project's serial 03h (8 command, 24 address and 32 data
    bits, one bit a clock, SCK = clk_sys / 4) and the pico-sdk's quad 0xEB in
    continuous mode on a Pico (24 address and 8 mode bits four a clock, 4 dummy
    clocks, 32 data bits four a clock, SCK = clk_sys / 2). The flash energy per
    byte is the stated read power over the time those transfers take."""
    serial = 2 * (8 + 24 + 32) * 4
    quad = 2 * ((24 + 8) // 4 + 4 + 32 // 4) * 2
    for name, cycles in (("rp2040", serial), ("rp2040-qspi", quad)):
        part = memory.PARTS[name]
        assert part.penalty["xip"].value == cycles
        read_watts = 15e-3 * 3.3
        nj = read_watts * cycles / part.clock_hz / part.caches[0][2] * 1e9
        assert part.energy_byte_nj.value == pytest.approx(nj, abs=0.005)
    assert (serial, quad) == (512, 80)


def test_every_parameter_says_how_sure_it_is():
    """Each number of a part's table names its source and whether a stored copy
    confirmed it; a parameter the core does not have says so."""
    for part in memory.PARTS.values():
        params = {**{f"cpi {c}": v for c, v in part.cpi.items()},
                  **{f"penalty {c}": v for c, v in part.penalty.items()},
                  "energy per cycle": part.energy_cycle_nj,
                  "energy per byte": part.energy_byte_nj}
        for what, param in params.items():
            source = param.source
            assert source.startswith("none:") or "confirmed" in source.lower(), \
                f"{part.name} {what}: {source}"
