"""Seeded generators of bad input: DOTA lines, images, and the kinds the fuzz tests feed.

Every generator takes a ``numpy.random.Generator`` so a failing case is reproduced by its seed.
"""
from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np

from rotated_ld.datasets.dota import DOTA_V1_0

# DOTA line kinds -> the reader's skip kind (None: the line is valid and must be read)
LINE_KINDS = {
    'valid': None,
    'field_count': 'field_count',
    'nan_inf': 'non_numeric',
    'words': 'non_numeric',
    'huge': 'out_of_range',
    'unknown_class': 'unknown_class',
    'zero_area': 'degenerate',
    'bow_tie_symmetric': 'degenerate',
    'bad_difficulty': 'non_numeric',
    'non_utf8': 'encoding',
    'mirrored': None,       # counter-clockwise vertices: a valid polygon ("negative size" in DOTA terms)
    'negative_coords': None,  # partly outside the image (DOTA has these)
}


def rect_poly(rng, lo=0.0, hi=2000.0) -> list:
    cx, cy = rng.uniform(lo + 60, hi - 60, 2)
    w, h = rng.uniform(4, 100, 2)
    t = rng.uniform(-np.pi, np.pi)
    c, s = np.cos(t), np.sin(t)
    pts = [(cx + dx * c - dy * s, cy + dx * s + dy * c) for dx, dy in
           ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]
    return [round(float(v), 1) for p in pts for v in p]


def fmt(poly, cls, diff=None) -> str:
    return ' '.join(str(v) for v in poly) + f' {cls}' + ('' if diff is None else f' {diff}')


def dota_line(rng, kind: str) -> bytes:
    """One labelTxt line (bytes, no newline) of the given kind (see :data:`LINE_KINDS`)."""
    poly = rect_poly(rng)
    cls = str(rng.choice(DOTA_V1_0))
    diff = int(rng.integers(0, 2)) if rng.random() < 0.8 else None
    if kind == 'valid':
        return fmt(poly, cls, diff).encode()
    if kind == 'field_count':
        toks = fmt(poly, cls, diff).split()
        n = int(rng.choice([0, 1, 3, 5, 7, 8, 11, 12, 19]))
        toks = (toks * 3)[:n] if n else ['x']
        if len(toks) in (9, 10):
            toks = toks[:7]
        return ' '.join(toks).encode()
    if kind == 'nan_inf':
        poly = [str(v) for v in poly]
        poly[int(rng.integers(8))] = str(rng.choice(['nan', 'NaN', 'inf', '-inf', '1e999', '-1e999', 'Infinity']))
        return (' '.join(poly) + f' {cls} 0').encode()
    if kind == 'words':
        poly = [str(v) for v in poly]
        poly[int(rng.integers(8))] = str(rng.choice(['12,5', '0x1F', 'one', '--3', '1..2', '½', '3e']))
        return (' '.join(poly) + f' {cls} 0').encode()
    if kind == 'huge':
        poly[int(rng.integers(8))] = float(rng.choice([1e7, -1e9, 3.5e38, 1e300, -1.7e308]))
        return fmt(poly, cls, diff).encode()
    if kind == 'unknown_class':
        bad = str(rng.choice(['Plane', 'car', 'airport', 'helipad', 'container-crane', 'plane\u200b', '15', '???']))
        return fmt(poly, bad, diff).encode('utf-8')
    if kind == 'zero_area':
        x, y = rng.uniform(0, 1000, 2).round(1)
        choice = rng.integers(3)
        if choice == 0:  # one point four times
            pts = [x, y] * 4
        elif choice == 1:  # collinear
            d = rng.uniform(1, 50)
            pts = [x, y, x + d, y, x + 2 * d, y, x + 3 * d, y]
        else:  # a segment traversed back and forth
            pts = [x, y, x + 10, y + 10, x, y, x + 10, y + 10]
        return fmt([float(v) for v in pts], cls, diff).encode()
    if kind == 'bow_tie_symmetric':  # self-intersecting rectangle: the two triangles cancel
        x, y = rng.uniform(0, 1000, 2).round(1)
        w, h = rng.uniform(5, 80, 2).round(1)
        return fmt([x, y, x + w, y + h, x + w, y, x, y + h], cls, diff).encode()
    if kind == 'bad_difficulty':
        bad = str(rng.choice(['x', '-1', '1.0', '99999999999999999999999', 'nan', '2e3']))
        return (fmt(poly, cls) + f' {bad}').encode()
    if kind == 'non_utf8':
        raw = bytearray(fmt(poly, cls, diff).encode())
        pos = int(rng.integers(0, len(raw)))
        bad = bytes(rng.choice([b'\xff', b'\xfe', b'\xc3\x28', b'\x80', b'\xed\xa0\x80']))
        return bytes(raw[:pos]) + bad + bytes(raw[pos:])
    if kind == 'mirrored':
        pts = np.array(poly).reshape(4, 2)[::-1].ravel().tolist()
        return fmt(pts, cls, diff).encode()
    if kind == 'negative_coords':
        poly = (np.array(poly) - 1000.0).round(1).tolist()
        return fmt(poly, cls, diff).encode()
    raise KeyError(kind)


def self_intersecting_line(rng) -> tuple[bytes, float]:
    """A random bow-tie (two vertices swapped) and its shoelace area."""
    pts = np.array(rect_poly(rng)).reshape(4, 2)[[0, 2, 1, 3]]
    pts = pts + rng.normal(0, 2, pts.shape).round(1) * (rng.random() < 0.5)
    x, y = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    return fmt(pts.ravel().round(1).tolist(), str(rng.choice(DOTA_V1_0)), 0).encode(), float(area)


def truncate(data: bytes, rng) -> bytes:
    return data[:int(rng.integers(0, max(len(data), 1)))]


def random_bytes(rng, n: int | None = None) -> bytes:
    n = int(rng.integers(1, 400)) if n is None else n
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()


# ---- images -------------------------------------------------------------------------------

def png_header(w: int, h: int) -> bytes:
    """A PNG signature + IHDR chunk claiming ``w`` x ``h`` RGB pixels, and no pixel data."""
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + ihdr + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr))


def jpeg_header(w: int, h: int) -> bytes:
    """A JPEG SOI + SOF0 marker claiming ``w`` x ``h`` pixels, and no scan data."""
    sof = struct.pack('>HBHHB', 11, 8, h, w, 1) + b'\x01\x11\x00'
    return b'\xff\xd8' + b'\xff\xc0' + sof + b'\xff\xd9'


def real_image(h: int, w: int, ext: str = '.png', seed: int = 0) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


# image kind -> (bytes, readable by cv2.imread)
def bad_image(kind: str, rng) -> bytes:
    if kind == 'empty':
        return b''
    if kind == 'random_bytes':
        return random_bytes(rng)
    if kind == 'png_random_tail':
        return b'\x89PNG\r\n\x1a\n' + random_bytes(rng)
    if kind == 'truncated_png':
        return truncate(real_image(40, 50, '.png', int(rng.integers(1000))), rng)
    if kind == 'truncated_jpeg':
        data = real_image(40, 50, '.jpg', int(rng.integers(1000)))
        return data[:int(rng.integers(2, len(data) // 2))]
    if kind == 'png_header_20000':
        return png_header(20000, 20000)
    if kind == 'jpeg_header_20000':
        return jpeg_header(20000, 20000)
    if kind == 'png_header_1x1':
        return png_header(1, 1)
    if kind == 'text':
        return b'x1 y1 x2 y2 plane 0\n'
    raise KeyError(kind)


BAD_IMAGE_KINDS = ('empty', 'random_bytes', 'png_random_tail', 'truncated_png', 'truncated_jpeg',
                   'png_header_20000', 'jpeg_header_20000', 'png_header_1x1', 'text')
