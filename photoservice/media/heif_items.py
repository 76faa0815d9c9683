"""A HEIF's metadata items, hidden from libheif when they are over their caps.

A HEIF keeps its EXIF and XMP as items: `iinf` gives each item's type, `iloc`
where its bytes are. libheif reads every metadata item whole while it opens the
file, and pillow-heif copies it twice more: a 40 MB EXIF item cost 166 MB. So
the item tables in `meta` are read first (headers only, capped), and in the view
Pillow opens, an EXIF or XMP item over its cap holds one byte an extent and has a
type nothing reads. Smaller blocks are read by libheif as before.
"""
import struct

from .exif import BLOCK_TOO_LARGE, MAX_BLOCK_BYTES
from .metadata import MAX_XMP_BYTES, XMP_TOO_LARGE

MAX_BOXES = 1024  # a HEIF has a handful at the top and in `meta`
MAX_TABLE_BYTES = 1024 * 1024  # an iPhone's 48-tile grid needs 3 KB
HIDDEN_TYPE = b"hide"
XMP_TYPE = b"application/rdf+xml"


class Unwalkable(Exception):
    """The HEIF's boxes are too many or its item tables too large; str(error) says so."""


def heif_pieces(file, size, blocks):
    """The file as pieces for view.Spliced, oversized metadata items cut to one byte
    an extent (libheif reads every item that describes the image, whatever its type)
    and given a type nothing reads."""
    meta = _box(file, 0, size, b"meta")
    iinf = meta and _box(file, meta[0] + 4, meta[1], b"iinf")
    iloc = meta and _box(file, meta[0] + 4, meta[1], b"iloc")
    if not (iinf and iloc):
        return [(0, size)]
    try:
        types = _item_types(_table(file, iinf), iinf[0])
        extents = _item_extents(_table(file, iloc), iloc[0], size)
    except (IndexError, struct.error, ValueError):
        return [(0, size)]  # damaged tables: libheif says what is wrong
    patches = {}
    for item, (kind, at, content_type) in types.items():
        length, fields, width = extents.get(item, (0, [], 0))
        if kind == b"Exif" and length > MAX_BLOCK_BYTES + 16:  # + its offset and "Exif\0\0"
            blocks.ignore(BLOCK_TOO_LARGE)
        elif kind == b"mime" and content_type.startswith(XMP_TYPE) and length > MAX_XMP_BYTES:
            blocks.ignore(XMP_TOO_LARGE)
        else:
            continue
        if width == 0:  # extents without lengths run to the end of the file
            raise Unwalkable("The HEIF file's metadata cannot be skipped.")
        patches[at] = HIDDEN_TYPE
        patches.update({field: (1).to_bytes(width, "big") for field in fields})
    pieces, position = [], 0
    for at, replacement in sorted(patches.items()):
        pieces += [(position, at - position), replacement]
        position = at + len(replacement)
    return pieces + [(position, size - position)]


def _box(file, start, end, wanted):
    """(payload start, end) of the first `wanted` box between start and end, or None."""
    for _ in range(MAX_BOXES):
        if start + 8 > end:
            return None
        file.seek(start)
        header = file.read(16)
        if len(header) < 8:
            return None
        length, kind = struct.unpack(">L4s", header[:8])
        payload = start + 8
        if length == 1 and len(header) == 16:  # a 64-bit size follows
            (length,), payload = struct.unpack(">Q", header[8:]), start + 16
        elif length == 0:  # to the end
            length = end - start
        if length < payload - start:
            return None
        if kind == wanted:
            return payload, min(start + length, end)
        start += length
    raise Unwalkable("The HEIF file has too many boxes.")


def _table(file, box):
    start, end = box
    if end - start > MAX_TABLE_BYTES:
        raise Unwalkable("The HEIF file's item tables are too large.")
    file.seek(start)
    return file.read(end - start)


def _item_types(table, table_at):
    """item id -> (type, where the type is in the file, MIME type) from `iinf`."""
    count_size = 2 if table[0] == 0 else 4
    count, position = _uint(table, 4, count_size), 4 + count_size
    types = {}
    for _ in range(count):
        length, kind, entry_version = struct.unpack_from(">L4sB", table, position)
        if length < 12:
            raise ValueError("damaged infe")
        if kind == b"infe" and entry_version >= 2:
            item_format = ">H" if entry_version == 2 else ">L"
            (item,) = struct.unpack_from(item_format, table, position + 12)
            at = position + 12 + struct.calcsize(item_format) + 2  # past item id and protection
            name_end = table.index(b"\x00", at + 4, position + length)
            content_type = table[name_end + 1:position + length].split(b"\x00", 1)[0]
            types[item] = (table[at:at + 4], table_at + at, content_type)
        position += length
    return types


def _item_extents(table, table_at, size):
    """item id -> (bytes its extents hold, where their length fields are in the file,
    the fields' width), from `iloc`. A length of 0 (or none) runs to the file's end."""
    version = table[0]
    offset_size, length_size = table[4] >> 4, table[4] & 15
    base_size, index_size = table[5] >> 4, (table[5] & 15 if version in (1, 2) else 0)
    id_size = 4 if version == 2 else 2
    count, position = _uint(table, 6, id_size), 6 + id_size
    extents = {}
    for _ in range(count):
        item = _uint(table, position, id_size)
        position += id_size + (2 if version in (1, 2) else 0) + 2  # method, data reference
        base = _uint(table, position, base_size)
        extent_count = _uint(table, position + base_size, 2)
        position += base_size + 2
        width, total, fields = index_size + offset_size + length_size, 0, []
        if width == 0:  # no offsets, no lengths: each extent is the whole file
            extent_count, total = 0, max(size - base, 0) if extent_count else 0
        for _ in range(extent_count):  # each extent is `width` bytes of the table: bounded
            offset = _uint(table, position + index_size, offset_size)
            length = _uint(table, position + index_size + offset_size, length_size)
            total += length or max(size - base - offset, 0)
            fields.append(table_at + position + index_size + offset_size)
            position += width
        extents[item] = (total, fields, length_size)
    return extents


def _uint(table, position, width):
    if position + width > len(table):
        raise IndexError("iloc ends early")
    return int.from_bytes(table[position:position + width], "big")
