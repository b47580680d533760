#!/usr/bin/env bash
# Builds the Cortex-M firmware for every board (mps2-an386 and nucleo-f446re
# with the Cortex-M4F toolchain, mps3-an547 with the Cortex-M55 one), prints
# each board's flash/RAM use and workspace, then boots each QEMU board once:
# handshake, `id`, `selftest` (every built-in model must report result=pass)
# and a short `bench` whose instruction counts are printed. The Nucleo image
# is only compiled: there is no board here. Exits non-zero on any failure;
# QEMU is always killed, also on errors and timeouts.
#
#   ci/firmware.sh                 # build dirs build/fw-m4f, build/fw-m55
#   FW_BUILD_ROOT=/tmp/fw ci/firmware.sh
#   FW_CMAKE_ARGS="-DMTSRNN_FW_MODEL=my.mts" ci/firmware.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_root=${FW_BUILD_ROOT:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)

bash ci/install-toolchains.sh
# The models are exported to C by the mtsrnn package.
py=${PYTHON:-$(command -v python || command -v python3 || true)}
if [ -z "$py" ] || ! "$py" -c 'import mtsrnn' 2>/dev/null; then
  # shellcheck disable=SC1091
  . ci/setup.sh
  py=$(command -v python)
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

echo "== firmware: build"
for arch in m4f m55; do
  dir="$build_root/fw-$arch"
  # shellcheck disable=SC2086
  cmake -S firmware/boards -B "$dir" "${generator[@]}" -DMTSRNN_FW_ARCH=$arch \
    -DMTSRNN_FW_PYTHON="$py" ${FW_CMAKE_ARGS:-} >/dev/null
  cmake --build "$dir" -j "$jobs"
done
echo "== firmware: sizes"
cat "$build_root"/fw-m4f/*/size.txt "$build_root"/fw-m55/*/size.txt
test -s "$build_root/fw-m4f/nucleo-f446re/mtsrnn-nucleo-f446re.elf"
echo "(nucleo-f446re: compiled only, never run here: no board attached)"

echo "== firmware: boot the QEMU boards"
boot() {  # boot <machine> <elf>
  timeout -s TERM 150 "$py" - "$1" "$2" <<'PY'
import os, signal, socket, subprocess, sys, tempfile, time

machine, elf = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *_: sys.exit("timed out (killed by timeout)"))
DEADLINE = 60.0                     # seconds per command


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start():
    """QEMU waiting for a connection on a free port; retried when another
    process took the port between choosing and binding it."""
    for _attempt in range(5):
        port = free_port()
        log = tempfile.TemporaryFile()
        qemu = subprocess.Popen(
            ["qemu-system-arm", "-M", machine, "-display", "none", "-monitor", "none",
             "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
             "-kernel", elf,
             "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        until = time.monotonic() + 10
        while time.monotonic() < until and qemu.poll() is None:
            try:
                return qemu, socket.create_connection(("127.0.0.1", port), timeout=1), log
            except OSError:
                time.sleep(0.05)
        qemu.kill()
        qemu.wait()
        log.seek(0)
        print(log.read().decode(errors="replace"), file=sys.stderr)
    sys.exit(f"{machine}: QEMU did not start")


def read_reply(sock, buf):
    """Lines up to and including the next m-ready; (lines, rest)."""
    until = time.monotonic() + DEADLINE
    while b"m-ready\n" not in buf:
        if time.monotonic() > until:
            raise TimeoutError(f"no m-ready within {DEADLINE:.0f} s; got {buf[-300:]!r}")
        sock.settimeout(max(0.05, until - time.monotonic()))
        data = sock.recv(4096)
        if not data:
            raise ConnectionError(f"the board closed the connection; got {buf[-300:]!r}")
        buf += data
    head, rest = buf.split(b"m-ready\n", 1)
    lines = [line.rstrip("\r") for line in head.decode(errors="replace").splitlines()]
    return lines, rest


def command(sock, text, buf=b""):
    sock.sendall(text.encode() + b"\n")
    lines, _rest = read_reply(sock, buf)
    errors = [line for line in lines if line.startswith("e-")]
    if errors:
        raise RuntimeError(f"{text!r}: {errors}")
    return lines


qemu, sock, log = start()
ok = False
try:
    # Handshake: send \n until m-ready; then drain everything else queued.
    buf, until = b"", time.monotonic() + 20
    while b"m-ready\n" not in buf:
        if time.monotonic() > until:
            raise TimeoutError(f"no m-ready after boot; got {buf!r}")
        sock.sendall(b"\n")
        sock.settimeout(0.2)
        try:
            buf += sock.recv(4096)
        except socket.timeout:
            pass
    sock.settimeout(0.3)
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        pass

    ident = command(sock, "id")
    print("\n".join("  " + line for line in ident))
    if not any(line.startswith(f"m-board name={machine} ") for line in ident):
        raise RuntimeError(f"id does not name the board {machine}")
    t0 = time.monotonic()
    tests = command(sock, "selftest")
    print("\n".join("  " + line for line in tests), f"  ({time.monotonic() - t0:.2f} s)")
    results = [line for line in tests if line.startswith("m-selftest ")]
    if not results or not all(line.endswith(" result=pass") for line in results):
        raise RuntimeError("selftest did not pass for every model")
    bench = command(sock, "bench 1,8,32 steps=32")
    print("\n".join("  " + line for line in bench))
    ok = True
finally:
    sock.close()
    qemu.kill()
    qemu.wait()
    if not ok:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace"))
print(f"{machine}: selftest passed")
PY
}
fail=0
boot mps2-an386 "$build_root/fw-m4f/mps2-an386/mtsrnn-mps2-an386.elf" || fail=1
boot mps3-an547 "$build_root/fw-m55/mps3-an547/mtsrnn-mps3-an547.elf" || fail=1
if [ "$fail" != 0 ]; then
  echo "firmware: FAILED" >&2
  exit 1
fi
echo "firmware: all boards built, QEMU boards passed their selftest"
