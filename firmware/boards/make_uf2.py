"""Write a UF2 file (drag-and-drop flashing) from a raw firmware image.

    python make_uf2.py FIRMWARE.bin OUT.uf2 --base 0x10000000 --family rp2040
        [--rp2040-boot2]
    python make_uf2.py --rp2040-boot2-elf FIRMWARE.elf   # the CRC into the .elf

UF2 (Microsoft's USB flashing format, as the RP2040 and RP2350 boot ROMs
read it): 512-byte blocks, each carrying 256 bytes of the image for one
flash address: magic 0x0A324655, magic 0x9E5D5157, flags (0x2000: the family
ID field is set), target address, payload size (256), block number, block
count, family ID; 476 bytes of data (256 used, the rest zero); magic
0x0AB16F30 at the end. Family IDs: RP2040 0xE48BFF56, RP2350 Arm secure
0xE48BFF59.

--rp2040-boot2 first writes the CRC-32 the RP2040's boot ROM checks into
bytes 252..255 of the image (its second-stage boot, firmware/boards/pico/
boot2.c): polynomial 0x04C11DB7, initial 0xFFFFFFFF, MSB first, no final
xor, over bytes 0..251, stored little-endian. --rp2040-boot2-elf writes it
into the linked .elf in place (the build does so right after linking, so the
.elf, .bin, .hex and .uf2 all boot, whichever is programmed).
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
PAYLOAD = 256
FAMILIES = {"rp2040": 0xE48BFF56, "rp2350-arm-s": 0xE48BFF59}


def boot2_crc(data: bytes) -> int:
    """The RP2040 boot ROM's CRC-32 (MSB first, no reflection, no final xor)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def with_boot2_crc(image: bytes) -> bytes:
    if len(image) < 256:
        raise ValueError(f"an RP2040 image starts with a 256-byte boot2; this one has only "
                         f"{len(image)} bytes")
    return image[:252] + struct.pack("<I", boot2_crc(image[:252])) + image[256:]


def patch_elf_boot2(path: Path, flash: int = 0x10000000) -> None:
    """Write the boot2 CRC into a 32-bit little-endian ELF file in place: the
    256 bytes at load address `flash`, found through the program headers."""
    data = bytearray(path.read_bytes())
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ValueError("not a 32-bit little-endian ELF file")
    phoff, = struct.unpack_from("<I", data, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
    for k in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<5I", data, phoff + k * phentsize)
        if p_type == 1 and p_paddr <= flash and flash + 256 <= p_paddr + p_filesz:
            at = p_offset + (flash - p_paddr)
            data[at:at + 256] = with_boot2_crc(bytes(data[at:at + 256]))
            path.write_bytes(bytes(data))
            return
    raise ValueError(f"no loadable segment holds the 256 bytes at {flash:#x} (the boot2)")


def uf2_blocks(image: bytes, base: int, family: int) -> bytes:
    """The UF2 file of `image` placed at flash address `base`."""
    if not image:
        raise ValueError("empty image: nothing to write")
    count = (len(image) + PAYLOAD - 1) // PAYLOAD
    out = bytearray()
    for n in range(count):
        chunk = image[n * PAYLOAD:(n + 1) * PAYLOAD].ljust(PAYLOAD, b"\0")
        header = struct.pack("<8I", MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID,
                             base + n * PAYLOAD, PAYLOAD, n, count, family)
        out += header + chunk.ljust(476, b"\0") + struct.pack("<I", MAGIC_END)
    return bytes(out)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--rp2040-boot2-elf"] and len(argv) == 2:
        try:
            patch_elf_boot2(Path(argv[1]))
        except (OSError, ValueError) as error:
            print(f"make_uf2: {argv[1]}: {error}", file=sys.stderr)
            return 1
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path, help="the raw image (objcopy -O binary)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--base", type=lambda text: int(text, 0), required=True,
                        help="flash address of the image's first byte")
    parser.add_argument("--family", choices=sorted(FAMILIES), required=True)
    parser.add_argument("--rp2040-boot2", action="store_true",
                        help="write the boot2 CRC into bytes 252..255 first")
    args = parser.parse_args(argv)
    image = args.image.read_bytes()
    try:
        if args.rp2040_boot2:
            image = with_boot2_crc(image)
        args.out.write_bytes(uf2_blocks(image, args.base, FAMILIES[args.family]))
    except ValueError as error:
        print(f"make_uf2: {args.image}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
