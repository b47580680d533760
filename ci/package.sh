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
#    product those CPUs allow (ci/portable_check.py).
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

if command -v qemu-x86_64 >/dev/null && [ "$(uname -m)" = x86_64 ]; then
  for cpu in Nehalem:tiled Haswell:avx2; do
    echo "== package: the wheel on an older CPU: qemu-x86_64 -cpu ${cpu%%:*}" >&2
    (cd "$work" && qemu-x86_64 -cpu "${cpu%%:*}" "$wpy" "$root/ci/portable_check.py" \
      "${cpu##*:}" 2> >(grep -v "TCG doesn't support" >&2)) >&2
  done
fi

echo "== package: the sdist built from source in a fresh environment ($work/sdist-env)" >&2
python -m venv "$work/sdist-env"
spy=$work/sdist-env/bin/python
"$spy" -m pip install "${pip_quiet[@]}" "$sdist[test,bench]" >&2
(cd "$work" && "$spy" -m pytest "$root/tests/python/test_golden.py" \
  "$root/tests/python/test_cli_errors.py" -q -p no:cacheprovider -x \
  --rootdir "$root" 2>&1 | tail -n 2) >&2
echo "$wpy"
