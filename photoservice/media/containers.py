"""What Pillow is shown of an uploaded image, and the metadata blocks read beside it.

Pillow keeps whatever metadata it meets while opening: every JPEG APPn segment
(and an MPO index parsed in full), every PNG text and private chunk, a PNG eXIf
or WebP EXIF chunk of any size. So before Pillow opens a JPEG, PNG or WebP, its
container is walked here, headers only and a bounded number of them: the parts
that carry pixels are passed on as a view of the same file (view.Spliced), all
metadata is left out, and the EXIF and XMP blocks are read when within their
caps, for metadata.py. A HEIF's metadata items are read by libheif, once the
ones over their caps have been hidden from it (heif_items.py).
"""
import struct

from .exif import BLOCK_TOO_LARGE, MAX_BLOCK_BYTES
from .heif_items import Unwalkable, heif_pieces
from .metadata import XMP_TOO_LARGE, Blocks
from .png_text import PNG_TEXT, read_png_text
from .view import Spliced

MAX_PARTS = 65536  # chunks walked; a 100 MB PNG in 8 KB IDATs has 12800
# Segments before a JPEG's first scan: a dozen, or up to 255 more for an ICC profile.
MAX_JPEG_SEGMENTS = 4096
SCAN_BLOCK = 64 * 1024

JPEG_SOS, JPEG_APP1, JPEG_COM = 0xDA, 0xE1, 0xFE
JPEG_EXIF, JPEG_XMP = b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/\x00"
# The application segments the decoder reads (the first of each): JFIF and Adobe
# say whether the pixels are stored as YCbCr, RGB, CMYK or YCCK.
JPEG_COLOUR = {0xE0: b"JFIF\x00", 0xEE: b"Adobe"}
# Markers that stand alone, without a length: TEM, RSTn, SOI, EOI.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})
PNG_PIXELS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})
WEBP_PIXELS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})
WEBP_METADATA_FLAGS = 0x20 | 0x08 | 0x04  # ICC profile, EXIF, XMP


class Unreadable(Exception):
    """The container is too absurd to walk; str(error) says why, for the client."""


def prune(file):
    """(what Pillow may open, the file's metadata Blocks) for an uploaded `file`.

    Raises Unreadable when the file's structure is too absurd to walk.
    """
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    head = file.read(16)
    walk = (_jpeg if head.startswith(b"\xff\xd8\xff") else
            _png if head.startswith(b"\x89PNG\r\n\x1a\n") else
            _webp if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else
            heif_pieces if head[4:8] == b"ftyp" else None)
    file.seek(0)
    blocks = Blocks(in_image=walk in (heif_pieces, None))
    if walk is None:
        return file, blocks  # not an image Pillow is allowed to open: it says so
    try:
        pieces = walk(file, size, blocks)
    except Unwalkable as error:
        raise Unreadable(str(error)) from None
    clamped = [p if isinstance(p, bytes) else (p[0], min(p[1], size - p[0])) for p in pieces]
    return Spliced(file, clamped), blocks


def _read(file, offset, length):
    file.seek(offset)
    return file.read(length)


def _jpeg(file, size, blocks):
    """SOI, the tables and frame headers, the first JFIF and Adobe segments (how colour is
    stored), and everything from the first scan on; no other APPn, no comments."""
    pieces, position, colour = [(0, 2)], 2, set()
    for _ in range(MAX_JPEG_SEGMENTS):
        pair = _read(file, position, 4)
        if len(pair) < 2:
            return pieces
        if pair[0] != 0xFF:  # junk between segments: on to the next 0xFF, as Pillow does
            position = _find_ff(file, position, size)
            continue
        marker = pair[1]
        if marker in (0x00, 0xFF) or marker in JPEG_STANDALONE:  # fill bytes, stray markers
            position += 1 if marker == 0xFF else 2
            continue
        if marker == JPEG_SOS:
            return pieces + [(position, size - position)]
        if len(pair) < 4 or struct.unpack(">H", pair[2:])[0] < 2:
            return pieces  # a damaged header: Pillow says so
        length = 2 + struct.unpack(">H", pair[2:])[0]
        if 0xE0 <= marker <= 0xEF or marker == JPEG_COM:
            head = _read(file, position + 4, len(JPEG_XMP))
            if head.startswith(JPEG_COLOUR.get(marker, b"-")) and marker not in colour:
                pieces.append((position, length))
                colour.add(marker)
            elif marker == JPEG_APP1 and head.startswith(JPEG_EXIF) and blocks.exif is None:
                blocks.exif = _read(file, position + 4, length - 4)
            elif marker == JPEG_APP1 and head == JPEG_XMP and blocks.xmp is None:
                blocks.xmp = _read(file, position + 4 + len(JPEG_XMP), length - 4 - len(JPEG_XMP))
        else:
            pieces.append((position, length))
        position += length
    raise Unreadable("The JPEG file has too many segments before its image data.")


def _find_ff(file, position, size):
    """Where the next 0xFF after `position` is (the end of the file if none is)."""
    position += 1
    while position < size:
        block = _read(file, position, SCAN_BLOCK)
        found = block.find(b"\xff")
        if found >= 0:
            return position + found
        position += max(len(block), 1)
    return size


def _png(file, size, blocks):
    """The signature and the chunks that carry pixels: IHDR, PLTE, tRNS, IDAT, IEND."""
    pieces, position = [(0, 8)], 8
    for _ in range(MAX_PARTS):
        header = _read(file, position, 8)
        if len(header) < 8 or not header[4:].isalpha():
            return pieces  # the end, or not a chunk: Pillow says what is wrong
        length, kind = struct.unpack(">L4s", header)
        if kind in PNG_PIXELS:
            pieces.append((position, 12 + length))
            if kind == b"IEND":
                return pieces
        elif kind == b"eXIf" and blocks.exif is None:
            if length > MAX_BLOCK_BYTES:
                blocks.ignore(BLOCK_TOO_LARGE)
            else:
                blocks.exif = _read(file, position + 8, length)
        elif kind in PNG_TEXT:
            read_png_text(file, position + 8, length, kind, blocks)
        position += 12 + length
    raise Unreadable("The PNG file has too many chunks.")


def _webp(file, size, blocks):
    """The file as it is when its ICC profile, EXIF and XMP are small: libwebp walks
    chunks in C and Pillow copies those three only. Otherwise the chunks that carry
    pixels and animation, under a header rewritten to their size, with VP8X no
    longer announcing what was left out (the file is then copied once, smaller)."""
    kept, position, oversized = [], 12, False
    for _ in range(MAX_PARTS):
        header = _read(file, position, 8)
        if len(header) < 8:
            break
        kind, length = struct.unpack("<4sL", header)
        total = 8 + length + (length & 1)
        if kind in WEBP_PIXELS:
            kept.append((position, total))
        elif kind in (b"EXIF", b"XMP ", b"ICCP") and length > MAX_BLOCK_BYTES + 6:  # + "Exif\0\0"
            oversized = True
            blocks.ignore({b"EXIF": BLOCK_TOO_LARGE, b"XMP ": XMP_TOO_LARGE}.get(kind))
        elif kind == b"EXIF" and blocks.exif is None:
            blocks.exif = _read(file, position + 8, length)
        elif kind == b"XMP " and blocks.xmp is None:
            blocks.xmp = _read(file, position + 8, length)
        position += total
    else:
        raise Unreadable("The WebP file has too many chunks.")
    if not oversized:
        return [(0, size)]
    pieces = [b"RIFF" + struct.pack("<L", 4 + sum(total for _, total in kept)) + b"WEBP"]
    for offset, total in kept:
        chunk = _read(file, offset, 18) if _read(file, offset, 4) == b"VP8X" else b""
        if len(chunk) == 18:
            flags = bytes([chunk[8] & ~WEBP_METADATA_FLAGS & 0xFF])
            pieces += [chunk[:8] + flags + chunk[9:], (offset + 18, total - 18)]
        else:
            pieces.append((offset, total))
    return pieces
