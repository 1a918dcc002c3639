#!/usr/bin/python3
"""png_stats.py FILE [RRGGBB ...]: what a renderer drew, from the PNG alone.

Prints one line: "WIDTH HEIGHT DISTINCT NONWHITE" -- the image size from the
IHDR chunk, the number of distinct pixel colours and the number of pixels
that are not (nearly) white -- then, for each colour argument, the number of
pixels within a small distance of it.  Decodes the PNG itself (zlib and the
five scanline filters), so it needs nothing but python3; 8-bit RGB or RGBA,
non-interlaced, as rsvg-convert writes them.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG file" % path)
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        sys.exit("%s: unsupported PNG (depth %d, colour type %d, interlace %d)"
                 % (path, depth, ctype, interlace))
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    pixels = []
    for line in rows:
        for x in range(width):
            px = line[x * bpp:x * bpp + 3]
            if bpp == 4 and line[x * bpp + 3] == 0:
                px = b"\xff\xff\xff"  # transparent: the page
            pixels.append(px)
    return width, height, pixels


def main():
    width, height, pixels = read_png(sys.argv[1])
    nonwhite = sum(1 for p in pixels if min(p) < 235)
    print(width, height, len(set(pixels)), nonwhite)
    for hexcol in sys.argv[2:]:
        want = bytes.fromhex(hexcol)
        near = sum(1 for p in pixels
                   if abs(p[0] - want[0]) + abs(p[1] - want[1]) + abs(p[2] - want[2]) <= 24)
        print(hexcol, near)


main()
