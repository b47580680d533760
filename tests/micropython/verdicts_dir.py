"""MicroPython: the verdict of an mtsrnn implementation on every file of a
directory (sorted names), one line each: "<name> ok" or "<name> rejected",
then "OK <n> checks". Used by tests/python/test_reader_verdicts.py to
compare the fallback and the C module with the C loader (issue 19: one
verdict for every reader).

    MICROPYTHON verdicts_dir.py DIRECTORY MODULE

DIRECTORY/index lists the file names, one per line (the test port has no
os.listdir and no open: it reads files through its hostfile module).
"""

import sys


def read_file(path):
    try:
        import hostfile  # the test port
    except ImportError:
        with open(path, "rb") as f:
            return f.read()
    return hostfile.read(path)


module = __import__(sys.argv[2])
names = [name for name in read_file(sys.argv[1] + "/index").decode().split("\n") if name]
for name in names:
    data = read_file(sys.argv[1] + "/" + name)
    try:
        module.Model(data)
        print(name, "ok")
    except ValueError:
        print(name, "rejected")
print("OK", len(names), "checks")
