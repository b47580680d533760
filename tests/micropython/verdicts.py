"""MicroPython: the verdict of an mtsrnn implementation on every file of a
hostile corpus (tests/fuzz/make_hostile_corpus.py wrote DIR/00000.mts ...).

    MICROPYTHON verdicts.py DIR COUNT

Prints one line per file, "<index> ok" (Model() accepted it), "<index>
reject" (ValueError, the documented rejection) or "<index> crash <error>"
(anything else: a bug). Runs on the test port (C module) and on the unix
interpreter with the pure-Python fallback alike.
"""

import sys

import mtsrnn


def read_file(path):
    try:
        import hostfile  # the test port has no io module
    except ImportError:
        with open(path, "rb") as f:
            return f.read()
    return hostfile.read(path)


def main():
    directory, count = sys.argv[1], int(sys.argv[2])
    for index in range(count):
        name = f"{directory}/{index:05d}.mts"
        data = bytearray(read_file(name))
        try:
            mtsrnn.Model(data)
            print(index, "ok")
        except ValueError:
            print(index, "reject")
        except Exception as error:  # noqa: BLE001 - every other outcome is a bug
            print(index, "crash", type(error).__name__)


main()
