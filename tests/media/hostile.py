"""Hostile files, made on the spot: metadata built to cost a reader time and memory.

Each EXIF block is a big-endian TIFF laid out by hand (header, IFD0, then
sub-directories), so a test controls every entry count and offset. The
builders return the file's bytes.
"""
import functools
import io
import struct
import zlib

from photoservice.media.exif import BLOCK_TOO_LARGE, LOOP, TOO_MANY_ENTRIES, VALUE_TOO_LARGE
from tests.media.images import _chunk, exif, jpeg, picture, png

SHORT, LONG, RATIONAL = 3, 4, 5
ORIENTATION, EXIF_POINTER, GPS_POINTER, DATETIME_ORIGINAL = 0x0112, 0x8769, 0x8825, 0x9003
IFD0_AT = 8


def directory(entries, next_ifd=0):
    """An IFD: (tag, type, count, value) entries, the value 4 inline bytes or an offset."""
    packed = b"".join(struct.pack(">HHL", tag, kind, count)
                      + (value if isinstance(value, bytes) else struct.pack(">L", value))
                      for tag, kind, count, value in entries)
    return struct.pack(">H", len(entries)) + packed + struct.pack(">L", next_ifd)


def directory_size(entries):
    return 2 + 12 * entries + 4


def tiff(*directories):
    """The TIFF header (IFD0 at offset 8), then `directories` as laid out by the caller."""
    return b"MM\x00*" + struct.pack(">L", IFD0_AT) + b"".join(directories)


def gps_fan(entries=900, shared=32 * 1024):
    """An EXIF block whose GPS directory holds `entries` tags, each a run of rationals
    filling one shared `shared`-byte block: Pillow decodes the whole block once per tag."""
    gps_at = IFD0_AT + directory_size(1)
    shared_at = gps_at + directory_size(entries)
    return (tiff(directory([(GPS_POINTER, LONG, 1, gps_at)]), directory(_fan(entries, shared, shared_at)))
            + b"\x00\x00\x00\x01" * (shared // 4))


def ifd0_fan(entries=900, shared=32 * 1024):
    """The same fan in IFD0, where an MPO index (a JPEG's APP2 "MPF") keeps its tags."""
    shared_at = IFD0_AT + directory_size(entries)
    return tiff(directory(_fan(entries, shared, shared_at))) + b"\x00\x00\x00\x01" * (shared // 4)


def _fan(entries, shared, shared_at):
    return [(tag, RATIONAL, shared // 8, shared_at) for tag in range(1, entries + 1)]


def self_referencing(orientation=6):
    """IFD0 is its own Exif and GPS directory, and its own next directory."""
    return tiff(directory([(ORIENTATION, SHORT, 1, struct.pack(">HH", orientation, 0)),
                           (EXIF_POINTER, LONG, 1, IFD0_AT), (GPS_POINTER, LONG, 1, IFD0_AT)],
                          next_ifd=IFD0_AT))


def shared_sub_directory():
    """The Exif and the GPS pointers name one directory, which also points back at IFD0."""
    sub_at = IFD0_AT + directory_size(2)
    date_at = sub_at + directory_size(2)
    return (tiff(directory([(EXIF_POINTER, LONG, 1, sub_at), (GPS_POINTER, LONG, 1, sub_at)]),
                 directory([(DATETIME_ORIGINAL, 2, 20, date_at), (GPS_POINTER, LONG, 1, IFD0_AT)],
                           next_ifd=IFD0_AT))
            + b"2024:05:01 14:30:00\x00")


def jpeg_with(*segments, **photo):
    """A JPEG with `segments` ((marker, payload) pairs) right after its SOI."""
    data = jpeg(**photo)
    extra = b"".join(struct.pack(">BBH", 0xFF, marker, 2 + len(payload)) + payload
                     for marker, payload in segments)
    return data[:2] + extra + data[2:]


def jpeg_exif(block, **photo):
    return jpeg_with((0xE1, b"Exif\x00\x00" + block), **photo)


def png_with(*chunks, **photo):
    """A PNG with `chunks` ((type, data) pairs) right after its IHDR."""
    data = png(**photo)
    extra = b"".join(_chunk(kind, payload) for kind, payload in chunks)
    return data[:33] + extra + data[33:]


def png_exif(block, **photo):
    return png_with((b"eXIf", block), **photo)


def png_text_flood(chunks=60, inflated=1024 * 1024):
    """zTXt chunks that each inflate to `inflated` bytes (Pillow keeps up to 64 MB of them)."""
    text = zlib.compress(b"A" * inflated, 9)
    return png_with(*[(b"zTXt", b"Comment%d\x00\x00" % index + text) for index in range(chunks)])


def png_many_chunks(chunks=30000):
    """Private chunks, each kept in a list by Pillow, between IHDR and the pixels."""
    return png_with(*[(b"prVt", b"x")] * chunks)


def webp_exif(block, width=64, height=48):
    buffer = io.BytesIO()
    picture(width, height).save(buffer, "WEBP", exif=block, quality=90)
    return buffer.getvalue()


def heic_exif(block, width=64, height=48):
    buffer = io.BytesIO()
    picture(width, height).save(buffer, "HEIF", exif=block, quality=90)
    return buffer.getvalue()


def phone_exif(**tags):
    """A well-formed EXIF block as tests.media.images writes it (orientation, taken, gps, ...)."""
    return exif(**tags).tobytes()[6:]  # without "Exif\0\0"



# The largest payload one JPEG segment holds; less "Exif\0\0", the largest EXIF block.
LARGEST_JPEG_EXIF = 65533 - 6
MB = 2**20

# name -> (content type, builder, the photo's media_warnings)
HOSTILE = {
    "jpeg-gps-fan": ("image/jpeg", lambda: jpeg_exif(gps_fan()), [TOO_MANY_ENTRIES]),
    "jpeg-largest-exif": ("image/jpeg", lambda: jpeg_exif(gps_fan(
        200, LARGEST_JPEG_EXIF - IFD0_AT - directory_size(1) - directory_size(200))), [VALUE_TOO_LARGE]),
    "jpeg-self-referencing": ("image/jpeg", lambda: jpeg_exif(self_referencing()), [LOOP]),
    "jpeg-shared-sub-directory": ("image/jpeg", lambda: jpeg_exif(shared_sub_directory()), [LOOP]),
    "jpeg-mpf-fan": ("image/jpeg", lambda: jpeg_with((0xE2, b"MPF\x00" + ifd0_fan())), []),
    "png-exif-64k-fan": ("image/png", lambda: png_exif(gps_fan(900, 64 * 1024)), [BLOCK_TOO_LARGE]),
    "png-exif-4mb": ("image/png", lambda: png_exif(gps_fan(900, 4 * MB)), [BLOCK_TOO_LARGE]),
    "webp-exif-4mb": ("image/webp", lambda: webp_exif(gps_fan(900, 4 * MB)), [BLOCK_TOO_LARGE]),
    "heic-exif-4mb": ("image/heic", lambda: heic_exif(gps_fan(900, 4 * MB)), [BLOCK_TOO_LARGE]),
    "png-ztxt-flood": ("image/png", png_text_flood, []),
    "png-ztxt-bomb": ("image/png", lambda: png_text_flood(1, 64 * MB), []),
    "png-private-chunks": ("image/png", png_many_chunks, []),
}


@functools.cache
def hostile(name):
    """The bytes of HOSTILE[name], built once per test session."""
    return HOSTILE[name][1]()
