#!/usr/bin/env bash
# The Python package as a user installs it: build a wheel and an sdist, and
# install each into a fresh virtual environment outside the source tree.
#  - the wheel's environment gets the wheel with its extras from PyPI
#    ([test,bench,plot]); torch and sru, which only the import tests need,
#    come from the CI environment through a .pth file placed after the
#    environment's own packages (one 200 MB torch download is enough).
#    ci/test.sh runs the whole Python test suite with it. Under
#    `qemu-x86_64 -cpu Nehalem` (SSE4.2 only) and `-cpu Haswell` (AVX2, no
#    AVX-512) its Python imports mtsrnn, runs a forward pass and picks the
#    product those CPUs allow (ci/portable_check.py); the wheel's
#    mtsrnn-device passes its self-test on Nehalem.
#  - the wheel alone (numpy and pyserial, no extra) in a third environment:
#    every command needing an extra names it in one line; selftest --board
#    host runs the wheel's mtsrnn-device.
#  - the sdist's environment builds it from source (pip's build isolation)
#    and runs a smoke subset of the tests.
# Prints the wheel environment's python on the last line (for ci/test.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=${MTSRNN_PACKAGE_DIR:-${TMPDIR:-/tmp}/mtsrnn-package}
rm -rf "$work" build/dist
mkdir -p "$work" build/dist
pip_quiet=(-q --disable-pip-version-check)

echo "== package: wheel and sdist" >&2
python -m build --no-isolation --wheel --sdist --outdir build/dist . >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; exit 1; }
wheel=$(ls build/dist/mtsrnn-*.whl)
sdist=$(ls build/dist/mtsrnn-*.tar.gz)
echo "package: $(basename "$wheel"), $(basename "$sdist")" >&2

echo "== package: the wheel in a fresh environment ($work/wheel-env)" >&2
python -m venv "$work/wheel-env"
wpy=$work/wheel-env/bin/python
"$wpy" -m pip install "${pip_quiet[@]}" "$wheel[test,bench,plot]" >&2
site=$("$wpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ci_site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ci_site" >"$site/zz-ci-torch.pth"  # after the environment's own packages
(cd "$work" && "$wpy" - <<'PY' >&2
import mtsrnn, os, sys
where = os.path.dirname(mtsrnn.__file__)
assert where.startswith(sys.prefix), f"mtsrnn imported from {where}, not the wheel"
print(f"package: mtsrnn {mtsrnn.__version__} from {where}")
PY
)
"$work/wheel-env/bin/mtsrnn" --version >&2

echo "== package: the wheel alone, with only its required dependencies ($work/bare-env)" >&2
# No extra installed, really (no stand-in modules): each command that needs
# one says which in one line (exit 2), and --board host runs the wheel's
# mtsrnn-device. About 15 s.
python -m venv "$work/bare-env"
bare=$work/bare-env/bin
"$bare/python" -m pip install "${pip_quiet[@]}" "$wheel" >&2
(cd "$work" && "$bare/python" - <<'PY'
import numpy as np
import mtsrnn
from mtsrnn.evaluate import save_data
mtsrnn.random_sru(6, 4, seed=1).save("bare.mts")
rng = np.random.default_rng(0)
save_data("bare.npz", rng.standard_normal((3, 5, 6)).astype(np.float32), np.arange(3))
open("bare.pt", "wb").close()
PY
)
# needs_extra EXTRA COMMAND...: exit 2, one stderr line naming mtsrnn[EXTRA].
needs_extra() {
  local extra=$1 status=0 err
  shift
  err=$(cd "$work" && "$@" 2>&1 >/dev/null) || status=$?
  err=$(grep -v '^uploading ' <<<"$err" || true)  # eval's progress line
  if [ "$status" -ne 2 ] || [ "$(wc -l <<<"$err")" -ne 1 ] ||
     ! grep -qF "pip install 'mtsrnn[$extra]'" <<<"$err"; then
    echo "package: '$*' without mtsrnn[$extra]: exit $status, stderr:"; echo "$err"; exit 1
  fi
  echo "package: bare: $(basename "$1") ${2:-} ${3:-}: $err" >&2
}
needs_extra bench "$bare/mtsrnn" bench host --quick --no-torch
needs_extra plot "$bare/mtsrnn" eval --host --model bare.mts --data bare.npz --confusion c.png
needs_extra plot "$bare/mtsrnn" bench device --board host --plot d.png --no-progress
needs_extra torch "$bare/mtsrnn" convert bare.pt --cell sru -o bare2.mts
torch_api=$(cd "$work" && "$bare/python" -c "import mtsrnn.torch" 2>&1 | tail -n 1 || true)
grep -qF "pip install 'mtsrnn[torch]'" <<<"$torch_api" || {
  echo "package: import mtsrnn.torch without torch: $torch_api"; exit 1; }
(cd "$work" && "$bare/mtsrnn" selftest --board host | tail -n 1) >&2

if command -v qemu-x86_64 >/dev/null && [ "$(uname -m)" = x86_64 ]; then
  for cpu in Nehalem:tiled Haswell:avx2; do
    echo "== package: the wheel on an older CPU: qemu-x86_64 -cpu ${cpu%%:*}" >&2
    (cd "$work" && qemu-x86_64 -cpu "${cpu%%:*}" "$wpy" "$root/ci/portable_check.py" \
      "${cpu##*:}" 2> >(grep -v "TCG doesn't support" >&2)) >&2
  done
  # The wheel's mtsrnn-device too (the harness runs a #! wrapper as the
  # device program): on SSE4.2 only, every model passes with the portable
  # products alone. A second.
  device=$("$wpy" -c 'import mtsrnn, os; print(os.path.join(os.path.dirname(mtsrnn.__file__), "mtsrnn-device"))')
  printf '#!/bin/sh\nexec qemu-x86_64 -cpu Nehalem %s "$@"\n' "$device" >"$work/nehalem-device"
  chmod +x "$work/nehalem-device"
  selftest=$(cd "$work" && MTSRNN_DEVICE="$work/nehalem-device" "$work/wheel-env/bin/mtsrnn" \
    selftest --board host 2>&1 | grep -v "TCG doesn't support")
  if ! grep -q "^self-test passed" <<<"$selftest" || grep -q "from avx" <<<"$selftest"; then
    echo "package: the wheel's mtsrnn-device on Nehalem:"; echo "$selftest"; exit 1
  fi
  echo "package: the wheel's mtsrnn-device on Nehalem: $(tail -n 1 <<<"$selftest")," \
    "portable products only" >&2
fi

echo "== package: the sdist built from source in a fresh environment ($work/sdist-env)" >&2
python -m venv "$work/sdist-env"
spy=$work/sdist-env/bin/python
"$spy" -m pip install "${pip_quiet[@]}" "$sdist[test,bench]" >&2
(cd "$work" && "$spy" -m pytest "$root/tests/python/test_golden.py" \
  "$root/tests/python/test_cli_errors.py" -q -p no:cacheprovider -x \
  --rootdir "$root" 2>&1 | tail -n 2) >&2
echo "$wpy"
