"""Write an .mts model as a MicroPython module holding it as a bytes
constant, for freezing with manifest.py (frozen, the bytes stay in flash):

    python firmware/micropython/freeze_model.py model.mts mtsrnn_model.py [--name MODEL]

The model is checked by the C loader first (mtsrnn.load), so a file that
would not load on the board is refused here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the .mts file")
    parser.add_argument("output", help="the module to write (e.g. mtsrnn_model.py)")
    parser.add_argument("--name", default="MODEL", help="the constant's name (default MODEL)")
    args = parser.parse_args(argv)
    if not args.name.isidentifier():
        parser.error(f"--name must be a Python identifier, got {args.name!r}")
    try:
        import mtsrnn

        data = Path(args.model).read_bytes()
        mtsrnn.mtsfile.read(data)  # the C loader's checks
    except (OSError, ValueError) as error:
        print(f"freeze_model: error: {args.model}: {error}", file=sys.stderr)
        return 2
    lines = [f'"""{Path(args.model).name} ({len(data)} bytes), written by freeze_model.py."""',
             f"{args.name} = ("]
    lines += [f"    {data[i:i + 32]!r}" for i in range(0, len(data), 32)]
    lines.append(")")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}: {args.name}, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
