#!/usr/bin/env bash
# Builds the Cortex-M firmware for every board (mps2-an386, netduinoplus2,
# nucleo-f446re and nrf52840dk with the Cortex-M4F toolchain, mps3-an547 with
# the Cortex-M55 one, and the an547 once more without Helium: the scalar M55
# build the Helium build is compared with; microbit and pico with the
# Cortex-M0 one, mps2-an385 with the M3, mps2-an500 with the M7, mps2-an505
# and pico2 with the M33), each with the CMSIS-DSP per-step baseline built in as
# variant "cmsis-dsp-matvec" and its q7 product as the bench-only peer
# "cmsis-dsp-q7" (the pinned sdist, fetched here if missing);
# prints each board's flash/RAM use and workspace, then boots each QEMU board
# through the host harness: `mtsrnn selftest` (every built-in model must pass
# against its golden vectors with every product of its weights' scheme) and
# `mtsrnn bench device` per built-in model, float demos and their int8
# versions, printing instructions per step at T = 1 and 16 of every product
# side by side (the int8-wa models with the q7 peer beside them). The M55
# builds keep the models' constants in the an547's SRAM (the default, MTSRNN_FW_AN547_WEIGHTS=sram: all eight demo models fit);
# the ITCM layout (=itcm, four demo models in 512 KB) is linked once more,
# without CMSIS-DSP, to check it still fits. The Nucleo image is only
# compiled: there is no board here. Exits non-zero on any
# failure; the harness always stops QEMU.
#
#   ci/firmware.sh                 # build dirs build/fw-m4f, build/fw-m55,
#                                  # build/scalar/fw-m55, build/itcm/fw-m55,
#                                  # build/fw-m0, fw-m3, fw-m7, fw-m33
#   FW_BUILD_ROOT=/tmp/fw ci/firmware.sh
#   FW_CMAKE_ARGS="-DMTSRNN_FW_MODEL=my.mts" ci/firmware.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_root=${FW_BUILD_ROOT:-$root/build}
# shellcheck disable=SC1091
. ci/lib.sh
mtsrnn_ci_start
# The CMSIS-DSP baseline's sources (cmake/cmsisdsp.cmake reads them there).
bash ci/fetch-sdist.sh "${MTSRNN_SDIST_CMSISDSP[@]}" >/dev/null

echo "== firmware: build"
# The scalar M55 build lives one level deeper so that the harness, which
# looks for <dir>/<board>/*.elf, never takes it for the Helium build.
itcm="-DMTSRNN_FW_AN547_WEIGHTS=itcm -DMTSRNN_FW_CMSIS=OFF -DMTSRNN_BOARDS=mps3-an547"
for build in m4f:fw-m4f: m55:fw-m55: m55:scalar/fw-m55:-DMTSRNN_FW_MVE=OFF m55:itcm/fw-m55:"$itcm" \
             m0:fw-m0: m3:fw-m3: m7:fw-m7: m33:fw-m33:; do
  IFS=: read -r arch dir option <<<"$build"
  # shellcheck disable=SC2086
  cmake -S firmware/boards -B "$build_root/$dir" "${generator[@]}" -DMTSRNN_FW_ARCH=$arch \
    -DMTSRNN_FW_PYTHON="$py" -DMTSRNN_FW_CMSIS=ON $option ${FW_CMAKE_ARGS:-} >/dev/null
  cmake --build "$build_root/$dir" -j "$jobs"
done
echo "== firmware: sizes"
cat "$build_root"/fw-m4f/*/size.txt "$build_root"/fw-m55/*/size.txt \
  "$build_root"/fw-m0/*/size.txt "$build_root"/fw-m3/*/size.txt "$build_root"/fw-m7/*/size.txt \
  "$build_root"/fw-m33/*/size.txt
echo "(scalar M55 build, no Helium) $(cat "$build_root"/scalar/fw-m55/mps3-an547/size.txt)"
echo "(ITCM layout, linked only) $(cat "$build_root"/itcm/fw-m55/mps3-an547/size.txt)"
for real in fw-m4f/nucleo-f446re fw-m4f/nrf52840dk fw-m0/pico fw-m33/pico2; do
  test -s "$build_root/$real/mtsrnn-${real#*/}.elf"
done
test -s "$build_root/fw-m0/pico/mtsrnn-pico.uf2" && test -s "$build_root/fw-m33/pico2/mtsrnn-pico2.uf2"
echo "(nucleo-f446re, nrf52840dk, pico, pico2: compiled only, never run here: no board attached)"

echo "== firmware: boot the QEMU boards (the harness: mtsrnn selftest / bench device)"
export MTSRNN_FIRMWARE_DIR=$build_root
# The demo models, float and int8 (firmware/common/make_demo_models.py).
demos=$("$py" -c 'import runpy, sys; print(" ".join(runpy.run_path(sys.argv[1])["DEMO_MODELS"]))' \
  firmware/common/make_demo_models.py)
fail=0
scalar_elf=$build_root/scalar/fw-m55/mps3-an547/mtsrnn-mps3-an547.elf
# The boards added later (M3, M7, M33, STM32F405, M0) bench their int8-wa
# and float whole-model demos and the SRU pair only: a few seconds each.
for target in qemu-mps2-an386: qemu-mps3-an547: qemu-mps3-an547:"$scalar_elf" \
              qemu-mps2-an385: qemu-mps2-an500: qemu-mps2-an505: qemu-netduinoplus2: \
              qemu-microbit:; do
  IFS=: read -r board elf <<<"$target"
  firmware=()
  if [ -n "$elf" ]; then
    echo "== firmware: the scalar M55 build (no Helium), the reference of the Helium build"
    firmware=(--firmware "$elf")
  fi
  timeout -s TERM 300 "$py" -m mtsrnn selftest --board "$board" "${firmware[@]}" || fail=1
  names=$demos blocks=1,16
  case $board in
    qemu-microbit) names="demo_head demo_head_i8wa" blocks=1,8 ;;
    qemu-mps2-an385|qemu-mps2-an500|qemu-mps2-an505|qemu-netduinoplus2)
      names="demo_sru demo_sru_i8wa demo_head demo_head_i8wa" ;;
  esac
  for name in $names; do
    timeout -s TERM 300 "$py" -m mtsrnn bench device --board "$board" "${firmware[@]}" \
      --index "$name" --block "$blocks" --no-progress || fail=1
  done
done
# The RP2040 memory model's binary (docs/performance.md "RP2040"): the an385
# image compiled for Armv6-M, with an int8-wa SRU whose 144 x 128 weights span
# three of the `armv6m` product's 8 KB row blocks and four input panels, the
# paths the microbit's small demos never reach; its selftest checks every
# product at every T against the golden vectors (about 40 s).
echo "== firmware: the Armv6-M build of the mps2-an385 image (the RP2040 model's binary)"
v6m=$build_root/v6m/fw-m0
mkdir -p "$v6m"
"$py" -c 'import mtsrnn, sys; mtsrnn.quantize(mtsrnn.random_sru(128, 48, seed=21), "int8-wa").save(sys.argv[1])' \
  "$v6m/sru_blocks_i8wa.mts"
cmake -S firmware/boards -B "$v6m" "${generator[@]}" -DMTSRNN_FW_ARCH=m0 -DMTSRNN_BOARDS=mps2-an385 \
  -DMTSRNN_FW_PYTHON="$py" -DMTSRNN_FW_CMSIS=OFF -DMTSRNN_FW_DEMO_MODELS=OFF \
  -DMTSRNN_FW_MODEL="$v6m/sru_blocks_i8wa.mts" >/dev/null
cmake --build "$v6m" -j "$jobs"
timeout -s TERM 300 "$py" -m mtsrnn selftest --board qemu-mps2-an385 \
  --firmware "$v6m/mps2-an385/mtsrnn-mps2-an385.elf" || fail=1
if [ "$fail" != 0 ]; then
  echo "firmware: FAILED" >&2
  exit 1
fi
echo "firmware: all boards built, QEMU boards passed their selftest"
