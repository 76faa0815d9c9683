"""The little a PNG's text chunks give the service, read at a bounded cost.

A PNG may carry any number of tEXt, zTXt and iTXt chunks, compressed ones up to
1000 times their size. Two keywords matter, both things Pillow's EXIF reader
also used: XMP (for an orientation EXIF lacks) and the hex EXIF ImageMagick
writes. Their size is checked before they are read and while they inflate;
every other chunk is skipped unread.
"""
import zlib

from .exif import BLOCK_TOO_LARGE, MAX_BLOCK_BYTES
from .metadata import MAX_XMP_BYTES, XMP_TOO_LARGE

PNG_TEXT = frozenset({b"tEXt", b"zTXt", b"iTXt"})
# ImageMagick's "\nexif\n   <size>\n<hex lines>": two digits a byte, newlines.
MAX_HEX_EXIF = 2 * MAX_BLOCK_BYTES + MAX_BLOCK_BYTES // 16


def read_png_text(file, start, length, kind, blocks):
    """XMP (iTXt "XML:com.adobe.xmp") and ImageMagick's hex EXIF ("Raw profile type
    exif"), the only text the service reads; any other text is never read."""
    keyword = _read_at(file, start, 80).split(b"\x00", 1)[0]
    if keyword == b"XML:com.adobe.xmp" and kind == b"iTXt" and blocks.xmp is None:
        if length > 2 * MAX_XMP_BYTES:
            return blocks.ignore(XMP_TOO_LARGE)
        # keyword, NUL, compression flag, method, language, NUL, translated keyword, NUL, text
        rest = _read_at(file, start, length)[len(keyword) + 1:]
        fields = rest[2:].split(b"\x00", 2)
        if len(fields) < 3:
            return None  # damaged: no XMP
        xmp = _inflate(fields[2], MAX_XMP_BYTES) if rest[:1] == b"\x01" else fields[2]
        if xmp is None or len(xmp) > MAX_XMP_BYTES:
            return blocks.ignore(XMP_TOO_LARGE)
        blocks.xmp = xmp
    elif keyword == b"Raw profile type exif" and kind != b"iTXt" and blocks.exif is None:
        text = _read_at(file, start, length)[len(keyword) + 1:] if length <= MAX_HEX_EXIF + 100 else None
        if text is not None and kind == b"zTXt":
            text = _inflate(text[1:], MAX_HEX_EXIF)
        if text is None:
            return blocks.ignore(BLOCK_TOO_LARGE)
        try:  # as Pillow reads it
            blocks.exif = bytes.fromhex("".join(text.decode("ascii").split("\n")[3:]))
        except (UnicodeDecodeError, ValueError):
            pass  # not the form ImageMagick writes: no EXIF
    return None


def _inflate(data, limit):
    """`data` decompressed; None when it holds more than `limit` bytes, b"" when damaged."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, limit)
    except zlib.error:
        return b""
    return None if inflater.unconsumed_tail else text


def _read_at(file, offset, length):
    file.seek(offset)
    return file.read(length)
