"""`mtsrnn flash` for real boards without a board attached (none is here):
one clear line when no probe or UF2 drive is there, the copy to a UF2
drive's directory, and the UF2 files firmware/boards/make_uf2.py writes,
read back by the UF2 format's own rules (512-byte blocks, magic numbers,
family IDs) and the RP2040 boot ROM's boot2 CRC against its check value."""

from __future__ import annotations

import runpy
import shutil
import struct
from pathlib import Path

import pytest
from test_cli_errors import assert_one_line, mtsrnn_cli

MAKE_UF2 = Path(__file__).resolve().parents[2] / "firmware" / "boards" / "make_uf2.py"
RP2040_FAMILY, RP2350_ARM_S_FAMILY = 0xE48BFF56, 0xE48BFF59


@pytest.fixture(scope="module")
def make_uf2():
    return runpy.run_path(str(MAKE_UF2))


def _read_uf2(data: bytes):
    """(address, payload) per block, checking every fixed field of the format."""
    assert len(data) % 512 == 0 and data
    blocks = []
    count = len(data) // 512
    for n in range(count):
        block = data[n * 512:(n + 1) * 512]
        magic0, magic1, flags, address, size, number, total, family = struct.unpack(
            "<8I", block[:32])
        assert (magic0, magic1) == (0x0A324655, 0x9E5D5157)
        assert struct.unpack("<I", block[508:])[0] == 0x0AB16F30
        assert flags & 0x2000 and (number, total) == (n, count) and size == 256
        blocks.append((address, block[32:32 + size], family))
    return blocks


def test_uf2_blocks_hold_the_image_at_its_addresses(tmp_path, make_uf2):
    image = bytes(range(256)) * 3 + b"tail"
    (tmp_path / "fw.bin").write_bytes(image)
    assert make_uf2["main"]([str(tmp_path / "fw.bin"), str(tmp_path / "fw.uf2"),
                             "--base", "0x10000000", "--family", "rp2350-arm-s"]) == 0
    blocks = _read_uf2((tmp_path / "fw.uf2").read_bytes())
    assert [a for a, _, _ in blocks] == [0x10000000 + 256 * k for k in range(4)]
    assert {f for _, _, f in blocks} == {RP2350_ARM_S_FAMILY}
    assert b"".join(p for _, p, _ in blocks)[:len(image)] == image


def test_rp2040_boot2_crc(tmp_path, make_uf2):
    # CRC-32/MPEG-2's published check value: crc("123456789") = 0x0376E6E7.
    assert make_uf2["boot2_crc"](b"123456789") == 0x0376E6E7
    image = bytes(range(252)) + b"\0" * 4 + b"application"
    (tmp_path / "fw.bin").write_bytes(image)
    assert make_uf2["main"]([str(tmp_path / "fw.bin"), str(tmp_path / "fw.uf2"), "--base",
                             "0x10000000", "--family", "rp2040", "--rp2040-boot2"]) == 0
    blocks = _read_uf2((tmp_path / "fw.uf2").read_bytes())
    assert blocks[0][2] == RP2040_FAMILY
    data = b"".join(p for _, p, _ in blocks)
    assert data[:252] == image[:252] and data[256:256 + 11] == b"application"
    assert struct.unpack("<I", data[252:256])[0] == make_uf2["boot2_crc"](image[:252])
    (tmp_path / "short.bin").write_bytes(b"\0" * 100)
    assert make_uf2["main"]([str(tmp_path / "short.bin"), str(tmp_path / "x.uf2"), "--base",
                             "0x10000000", "--family", "rp2040", "--rp2040-boot2"]) == 1


@pytest.fixture
def pico_firmware(tmp_path, make_uf2):
    """A pico .elf stand-in with its .uf2 beside it (flash only copies the .uf2)."""
    (tmp_path / "fw.bin").write_bytes(b"\0" * 300)
    make_uf2["main"]([str(tmp_path / "fw.bin"), str(tmp_path / "mtsrnn-pico.uf2"), "--base",
                      "0x10000000", "--family", "rp2040", "--rp2040-boot2"])
    elf = tmp_path / "mtsrnn-pico.elf"
    elf.write_bytes(b"\x7fELF")
    return elf


def test_flash_pico_without_a_drive_says_so(pico_firmware):
    assert_one_line(mtsrnn_cli("flash", "--board", "pico", "--firmware", pico_firmware), 2,
                    "no RPI-RP2 drive is mounted", "BOOTSEL")
    assert_one_line(mtsrnn_cli("flash", "--board", "pico", "--firmware", pico_firmware,
                               "--drive", pico_firmware.parent / "nodrive"), 2,
                    "not a UF2 drive")


def test_flash_pico_copies_the_uf2_to_its_drive(tmp_path, pico_firmware):
    drive = tmp_path / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nBoard-ID: RPI-RP2\n")
    result = mtsrnn_cli("flash", "--board", "pico", "--firmware", pico_firmware,
                        "--drive", drive)
    assert result.returncode == 0, result.stderr
    copied = drive / "mtsrnn-pico.uf2"
    assert copied.read_bytes() == pico_firmware.with_suffix(".uf2").read_bytes()


@pytest.mark.parametrize("board", ["nrf52840dk", "nucleo-f446re"])
def test_flash_without_a_probe_says_so(board, tmp_path):
    elf = tmp_path / f"mtsrnn-{board}.elf"
    elf.write_bytes(b"\x7fELF")
    result = mtsrnn_cli("flash", "--board", board, "--firmware", elf)
    if shutil.which("pyocd") is None:
        assert_one_line(result, 2, f"flashing {board} needs pyocd", "probe")
    else:  # pyocd is there, but no board is attached to this machine
        assert_one_line(result, 2, "no debug probe is connected")


def test_built_pico_images_carry_the_boot2_crc(tmp_path, make_uf2):
    """The pico build (ci/firmware.sh) writes the CRC into the .elf itself:
    the image objcopy makes from it, and the .uf2 beside it, boot."""
    import os
    import subprocess

    from mtsrnn.harness import BoardError, find_firmware, get_board

    if not os.environ.get("MTSRNN_FIRMWARE_DIR") or shutil.which("arm-none-eabi-objcopy") is None:
        pytest.skip("set MTSRNN_FIRMWARE_DIR to a ci/firmware.sh build root (with arm binutils)")
    try:
        elf = find_firmware(get_board("pico"))
    except BoardError as error:
        pytest.skip(str(error))
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(tmp_path / "p.bin")],
                   check=True)
    image = (tmp_path / "p.bin").read_bytes()
    assert struct.unpack("<I", image[252:256])[0] == make_uf2["boot2_crc"](image[:252])
    blocks = _read_uf2(elf.with_suffix(".uf2").read_bytes())
    assert blocks[0][0] == 0x10000000 and blocks[0][2] == RP2040_FAMILY
    assert b"".join(p for _, p, _ in blocks)[:len(image)] == image
