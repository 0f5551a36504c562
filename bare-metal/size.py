#!/usr/bin/env python3
"""Prints the size in bytes of the named sections of an ELF file (32- or 64-bit,
little-endian), one per line: `size.py FILE .text .rodata`."""
import struct
import sys


def sections(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF":
        sys.exit(f"{path}: not an ELF file")
    wide = data[4] == 2
    if wide:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)

    def header(i):
        at = shoff + i * shentsize
        if wide:
            name, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", data, at)
        else:
            name, _, _, _, offset, size = struct.unpack_from("<IIIIII", data, at)
        return name, offset, size

    _, names_at, _ = header(shstrndx)
    for i in range(shnum):
        name, _, size = header(i)
        end = data.index(b"\0", names_at + name)
        yield data[names_at + name:end].decode(), size


found = dict(sections(sys.argv[1]))
for name in sys.argv[2:]:
    print(name, found.get(name, 0))
