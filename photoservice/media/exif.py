"""The few EXIF tags the service uses, read from a block at a bounded cost.

An EXIF block is a small TIFF file: directories (IFDs) of 12-byte entries whose
values sit inline or at an offset. Pillow's reader materialises every value of
every entry, so 900 entries pointing at one shared 32 KB run of rationals cost
20 s and 770 MB. Here only three directories are visited (IFD0, its Exif and
GPS sub-directories; never the IFD1 chain or any other pointer), only the
wanted tags' values are decoded, and everything is capped: the block's size,
the entries per directory, each wanted value's size. A directory that breaks a
cap, points outside the block or back at one already read is ignored, and a
sentence saying so is returned for the photo's `media_warnings`.
"""
import struct
from dataclasses import dataclass, field

MAX_BLOCK_BYTES = 64 * 1024  # what one JPEG APP1 segment holds, thumbnail and all
MAX_ENTRIES = 256  # real directories hold a few dozen
MAX_VALUE_BYTES = 256  # the longest wanted value is a 20-character date

BLOCK_TOO_LARGE = "metadata ignored: EXIF block too large"
DAMAGED = "metadata ignored: EXIF block is damaged"
TOO_MANY_ENTRIES = "metadata ignored: EXIF directory has too many entries"
VALUE_TOO_LARGE = "metadata ignored: EXIF value too large"
LOOP = "metadata ignored: EXIF directories form a loop"

ORIENTATION = 0x0112
EXIF_POINTER, GPS_POINTER = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, SUBSEC_TIME_ORIGINAL = 0x9003, 0x9011, 0x9291
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4
WANTED = {
    "ifd0": frozenset({ORIENTATION, EXIF_POINTER, GPS_POINTER}),
    "exif": frozenset({DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, SUBSEC_TIME_ORIGINAL}),
    "gps": frozenset({GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE}),
}

# TIFF field type -> (bytes per item, struct code); RATIONALs are two LONGs.
TYPES = {1: (1, "B"), 2: (1, None), 3: (2, "H"), 4: (4, "L"), 5: (8, "L"), 6: (1, "b"),
         7: (1, None), 8: (2, "h"), 9: (4, "l"), 10: (8, "l"), 11: (4, "f"), 12: (8, "d"),
         13: (4, "L")}
ASCII, RATIONAL, SRATIONAL, UNDEFINED = 2, 5, 10, 7


class Ignored(Exception):
    """A directory (or the whole block) was skipped; str(error) is the warning."""


@dataclass
class Exif:
    """The wanted tags of each directory, tag -> value, and what was ignored."""

    ifd0: dict = field(default_factory=dict)
    exif: dict = field(default_factory=dict)
    gps: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def read_exif(block: bytes | None) -> Exif:
    """The wanted tags of an EXIF block (TIFF bytes, "Exif\\0\\0" prefix optional).

    Values come as Pillow gave them to callers: int, str (ASCII, trailing NULs
    removed), bytes (UNDEFINED), [numerator, denominator] for a rational, and a
    list when a tag holds several items. A value that cannot be read is missing.
    """
    found = Exif()
    if not block:
        return found
    if block.startswith(b"Exif\x00\x00"):
        block = block[6:]
    try:
        if len(block) > MAX_BLOCK_BYTES:
            raise Ignored(BLOCK_TOO_LARGE)
        order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
        if order is None:
            raise Ignored(DAMAGED)
        (start,) = struct.unpack_from(order + "L", block, 4)
        found.ifd0 = _directory(block, order, start, WANTED["ifd0"])
    except Ignored as ignored:
        found.warnings.append(str(ignored))
        return found
    visited = {start}
    for name, pointer in (("exif", EXIF_POINTER), ("gps", GPS_POINTER)):
        offset = found.ifd0.pop(pointer, None)
        if offset is None:
            continue
        try:
            if not isinstance(offset, int):
                raise Ignored(DAMAGED)
            if offset in visited:
                raise Ignored(LOOP)
            visited.add(offset)
            setattr(found, name, _directory(block, order, offset, WANTED[name]))
        except Ignored as ignored:
            if str(ignored) not in found.warnings:
                found.warnings.append(str(ignored))
    return found


def _directory(block, order, offset, wanted):
    """The wanted tags of the directory at `offset`: its entry headers are walked,
    only wanted values are decoded."""
    if not 8 <= offset <= len(block) - 2:
        raise Ignored(DAMAGED)
    (count,) = struct.unpack_from(order + "H", block, offset)
    if count > MAX_ENTRIES:
        raise Ignored(TOO_MANY_ENTRIES)
    if offset + 2 + 12 * count > len(block):
        raise Ignored(DAMAGED)
    tags = {}
    entry = struct.Struct(order + "HHL4s")
    for index in range(count):
        tag, kind, items, inline = entry.unpack_from(block, offset + 2 + 12 * index)
        if tag not in wanted or tag in tags or kind not in TYPES:
            continue
        size = TYPES[kind][0] * items
        if size > MAX_VALUE_BYTES:
            raise Ignored(VALUE_TOO_LARGE)
        if size <= 4:
            data = inline[:size]
        else:
            (at,) = struct.unpack(order + "L", inline)
            data = block[at:at + size]
            if len(data) < size:
                continue  # points past the block's end: this value is missing
        tags[tag] = _value(order, kind, items, data)
    return tags


def _value(order, kind, items, data):
    width, code = TYPES[kind]
    if kind == ASCII:
        return data.decode("latin-1").rstrip("\x00")
    if kind == UNDEFINED:
        return data
    if kind in (RATIONAL, SRATIONAL):
        numbers = struct.unpack(f"{order}{2 * items}{code}", data)
        values = [list(numbers[i:i + 2]) for i in range(0, len(numbers), 2)]
    else:
        values = list(struct.unpack(f"{order}{items}{code}", data))
    return values[0] if items == 1 else values
