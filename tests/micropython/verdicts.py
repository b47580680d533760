"""MicroPython: the verdict of an mtsrnn implementation on every file of a
directory (sorted names), one line each: "<name> ok" or "<name> rejected",
then "OK <n> checks". Used by tests/python/test_micropython_files.py to
compare the fallback and the C module with the C loader (issue 19: one
verdict for every reader).

    MICROPYTHON verdicts.py DIRECTORY MODULE
"""

import os
import sys

module = __import__(sys.argv[2])
names = sorted(os.listdir(sys.argv[1]))
for name in names:
    with open(sys.argv[1] + "/" + name, "rb") as f:
        data = f.read()
    try:
        module.Model(data)
        print(name, "ok")
    except ValueError:
        print(name, "rejected")
print("OK", len(names), "checks")
