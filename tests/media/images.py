"""Test files, made on the spot: photos with EXIF as phones write it, and bad uploads.

Every builder returns the file's bytes. Photos are split into four coloured
quadrants (see QUADRANTS), so a test can tell from a derivative's pixels which
way up it is.
"""
import functools
import io
import struct
import zlib
from datetime import datetime

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 30)
# Quadrant colours as stored: top-left, top-right, bottom-left, bottom-right.
QUADRANTS = (RED, GREEN, BLUE, YELLOW)
GRAY = (128, 128, 128)

DENVER = (39.7392, -104.9903)
SYDNEY = (-33.8688, 151.2093)
RIO = (-22.9068, -43.1729)


def picture(width, height, *, mode="RGB", color_split=True):
    """An image of four coloured quadrants (or plain gray), in `mode`."""
    image = Image.new("RGB", (width, height), GRAY)
    if color_split:
        half_w, half_h = width // 2, height // 2
        for colour, box in zip(QUADRANTS, ((0, 0, half_w, half_h), (half_w, 0, width, half_h),
                                           (0, half_h, half_w, height), (half_w, half_h, width, height))):
            image.paste(colour, box)
    if mode == "P":  # exact colours, not dithered web-palette ones
        return image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    if mode == "1":
        return image.convert("1", dither=Image.Dither.NONE)
    return image if mode == "RGB" else image.convert(mode)


def exif(*, orientation=None, taken=None, offset=None, subsec=None, modified=None,
         gps=None, gps_ifd=None):
    """An Image.Exif as a phone writes it, or None when given nothing.

    taken: DateTimeOriginal, a datetime or the raw text; offset: OffsetTimeOriginal
    ("-06:00"); modified: the top-level DateTime; gps: (latitude, longitude) in
    decimal degrees, written as degrees/minutes/seconds with N/S/E/W refs;
    gps_ifd: raw GPS IFD tags, merged over what `gps` wrote.
    """
    data = Image.Exif()
    if orientation is not None:
        data[0x0112] = orientation
    if modified is not None:
        data[0x0132] = _exif_time(modified)
    if taken is not None or offset is not None or subsec is not None:
        ifd = data.get_ifd(0x8769)
        if taken is not None:
            ifd[0x9003] = _exif_time(taken)
        if offset is not None:
            ifd[0x9011] = offset
        if subsec is not None:
            ifd[0x9291] = subsec
    if gps is not None or gps_ifd:
        ifd = data.get_ifd(0x8825)
        if gps is not None:
            latitude, longitude = gps
            ifd[1] = "N" if latitude >= 0 else "S"
            ifd[2] = _dms(latitude)
            ifd[3] = "E" if longitude >= 0 else "W"
            ifd[4] = _dms(longitude)
        ifd.update(gps_ifd or {})
    given = (orientation, taken, offset, subsec, modified, gps, gps_ifd or None)
    return data if any(value is not None for value in given) else None


def _exif_time(value):
    return value.strftime("%Y:%m:%d %H:%M:%S") if isinstance(value, datetime) else value


def _dms(decimal):
    """Degrees, minutes, seconds of abs(decimal), as Pillow writes them (rationals)."""
    decimal = abs(decimal)
    degrees = int(decimal)
    minutes = int((decimal - degrees) * 60)
    seconds = round((decimal - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def _encode(image, format, metadata, **params):
    if metadata is not None:
        params["exif"] = metadata.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


def jpeg(width=64, height=48, *, mode="RGB", color_split=True, quality=90, progressive=False,
         icc_profile=None, comment=None, **metadata):
    """A JPEG; metadata as for exif(): orientation, taken, offset, gps, ..."""
    params = {"quality": quality, "progressive": progressive}
    if icc_profile is not None:
        params["icc_profile"] = icc_profile
    if comment is not None:
        params["comment"] = comment
    return _encode(picture(width, height, mode=mode, color_split=color_split), "JPEG",
                   exif(**metadata), **params)


def png(width=64, height=48, *, mode="RGB", color_split=True, transparent=False, **metadata):
    """A PNG (EXIF in an eXIf chunk); transparent: the left half fully transparent."""
    image = picture(width, height, mode=mode, color_split=color_split)
    if transparent:
        alpha = Image.new("L", image.size, 255)
        alpha.paste(0, (0, 0, width // 2, height))
        image.putalpha(alpha)
    return _encode(image, "PNG", exif(**metadata))


def webp(width=64, height=48, *, mode="RGB", color_split=True, lossless=False, **metadata):
    return _encode(picture(width, height, mode=mode, color_split=color_split), "WEBP",
                   exif(**metadata), quality=90, lossless=lossless)


def heic(width=64, height=48, *, mode="RGB", color_split=True, thumbnails=(), **metadata):
    """A HEIC, encoded by pillow-heif (x265); thumbnails: sizes of embedded thumbnails.

    pillow-heif turns an EXIF orientation into the container's own rotation
    (irot/imir) when it writes, and reads the file back upright with orientation 1.
    """
    return _encode(picture(width, height, mode=mode, color_split=color_split), "HEIF",
                   exif(**metadata), quality=90, thumbnails=list(thumbnails))


def gif(width=16, height=16):
    return _encode(picture(width, height), "GIF", None)


def tiff(width=16, height=16):
    return _encode(picture(width, height), "TIFF", None)


@functools.cache
def png_bomb(width=20000, height=20000):
    """A valid 1-bit black PNG of width x height pixels that compresses to almost nothing.

    20000 x 20000 is 400 megapixels (1.6 GB once decoded as RGBA) in about 50 kB.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then all-black pixels
    compressor = zlib.compressobj(9)
    rows = [compressor.compress(row) for _ in range(height)]
    pixels = b"".join(rows) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def truncated_jpeg(width=640, height=480, keep=0.5):
    """A JPEG cut off after `keep` of its bytes, as an interrupted upload leaves it."""
    data = noisy_jpeg(width, height)
    return data[:int(len(data) * keep)]


def noisy_jpeg(width, height, **metadata):
    """A JPEG whose pixels vary everywhere, so its data fills the whole file like a photo's."""
    noise = Image.effect_noise((width, height), 64)
    image = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                noise.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    return _encode(image, "JPEG", exif(**metadata), quality=90)


def html_as_jpeg():
    """What a captive portal or an error page uploads under a .jpg name."""
    return (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
            b"<body><h1>502 Bad Gateway</h1></body></html>\n")


def ftyp(major, *compatible, minor=0):
    """An ISO-BMFF `ftyp` box."""
    brands = b"".join(compatible)
    return struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + struct.pack(">I", minor) + brands


def mp4_head(major=b"isom", compatible=(b"isom", b"iso2", b"avc1", b"mp41")):
    """The first bytes of an MP4 as Android phones write it: `ftyp`, then the `mdat` header."""
    return ftyp(major, *compatible, minor=512) + struct.pack(">I", 8) + b"free" + b"\x00\x10\x00\x00mdat"


def quicktime_head():
    """The first bytes of an iPhone .mov: `ftyp` with brand "qt  ", then `wide` and `mdat`."""
    return (ftyp(b"qt  ", b"qt  ", minor=0x20050300) + struct.pack(">I", 8) + b"wide"
            + b"\x00\x10\x00\x00mdat")
