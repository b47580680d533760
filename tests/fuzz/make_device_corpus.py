"""Write the device fuzzer's two models and its seed corpus: host-to-device
byte streams of whole sessions (every command, checked and unchecked, good
and damaged payloads), which libFuzzer mutates (tests/fuzz/fuzz_device.c).

    python tests/fuzz/make_device_corpus.py OUT   # OUT/models/*.mts, OUT/seeds/*
"""

import sys
import zlib
from pathlib import Path

import mtsrnn
import numpy as np


def checked(text: str) -> str:
    return f"{text} #{zlib.crc32(text.encode()):08x}"


def infer(steps: int, block: int, width: int, seed: int) -> list[str]:
    x = np.random.default_rng(seed).standard_normal((steps, width)).astype("<f4")
    data = x.tobytes()
    lines = [f"infer {steps} {block} {len(data)} {zlib.crc32(data):08x}"]
    return lines + [f"d {data[i:i + 64].hex()}" for i in range(0, len(data), 64)]


def upload(image: bytes, announced: int | None = None, crc: int | None = None) -> list[str]:
    """An upload of `image` (protocol 2.1), its length and CRC as given."""
    size = len(image) if announced is None else announced
    check = zlib.crc32(image) if crc is None else crc
    return [f"upload {size} {check:08x}"] + [f"d {image[i:i + 64].hex()}"
                                             for i in range(0, len(image), 64)]


def main(out_dir: str) -> int:
    out = Path(out_dir)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    width = 4
    mtsrnn.random_sru(width, width, num_layers=2, seed=1).save(out / "models" / "sru.mts")
    mtsrnn.quantize(mtsrnn.random_qrnn(width, width, window=2, seed=2), "int8-wa").save(
        out / "models" / "qrnn_i8wa.mts")
    sru = (out / "models" / "sru.mts").read_bytes()
    qrnn = (out / "models" / "qrnn_i8wa.mts").read_bytes()
    # 24 dense stages and a softmax: id's stage list continues in m-stages lines.
    rng = np.random.default_rng(3)
    long = bytes(mtsrnn.sequential(*[mtsrnn.dense(rng.normal(0.0, 0.5, (width, width)))
                                     for _ in range(24)], mtsrnn.softmax(width)).image)
    sessions = {
        "upload-long": [*upload(long), "id", *infer(2, 2, width, 8), "selftest"],
        "upload": [*upload(sru), "id", *infer(3, 2, width, 5), "model 2", "selftest",
                   *upload(qrnn), *infer(2, 1, width, 6), "bench 1,2 steps=2",
                   *upload(sru, crc=zlib.crc32(sru) ^ 1), *upload(sru[:200]),
                   *upload(sru, announced=len(sru) + 64), "reset",
                   *upload(bytes(20000)), "upload", "upload 12 xyz", "model 0"],
        "upload-checked": [checked(upload(qrnn)[0]), *upload(qrnn)[1:], checked("id"),
                           checked(infer(2, 2, width, 7)[0]), *infer(2, 2, width, 7)[1:]],
        "plain": ["", "id", "model 1", "reset", "variant", "variant tiled", "kernel",
                  "bench 1,2,4 steps=3 variant=reference", "selftest",
                  *infer(3, 2, width, 1), "model 0", *infer(8, 4, width, 2)],
        "checked": [checked(c) for c in ("id", "model 1", "reset", "variant reference",
                                         "bench 4 steps=8", "selftest")]
        + [checked(infer(2, 1, width, 3)[0]), *infer(2, 1, width, 3)[1:],
           "model 0", checked("interactive"), "model 0"],
        "peers": ["peer", "peer fuzz-peer", "peer nosuch", "peer a b", "model 1",
                  "bench 1,2 steps=2 peer=fuzz-peer", "bench 1 product=1 peer=fuzz-peer",
                  "bench 2 variant=tiled peer=fuzz-peer steps=3 product=1",
                  "bench 1 peer=fuzz-peer peer=fuzz-peer", "variant fuzz-peer", "model 0",
                  "bench 1 peer=fuzz-peer", "bench 1 peer=nosuch"],
        "damaged": [checked("model 0").replace("model 0", "model 1"),
                    checked("reset").replace("reset", "reseu"), "id " + "x" * 600,
                    infer(2, 2, width, 4)[0], "d 00", "id", "\r", "bench 0,9", "model 7"],
    }
    for name, lines in sessions.items():
        (out / "seeds" / name).write_bytes(("\n".join(lines) + "\n").encode())
    print(f"wrote 2 models and {len(sessions)} device seed sessions to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz-device"))
