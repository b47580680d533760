#!/usr/bin/env bash
# The main job on the default board: for now the host benchmark of an SRU
# layer whose weights exceed the last-level cache (hidden 2048, 48 MiB),
# printing per-step time and the speed-up of each block size T against T = 1.
# Extra arguments go to `mtsrnn bench host` (see --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
. "$root/ci/setup.sh"
mtsrnn bench host --cell sru --hidden 2048 "$@"
