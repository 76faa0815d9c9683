"""What a photo's own EXIF says: orientation, capture time, place.

Everything here is read from the header Pillow has already parsed; nothing
decodes pixels. Bad metadata is never a reason to refuse a photo: a value
that cannot be read is simply missing.
"""
import atexit
import re
import struct
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PIL import ExifTags, Image, TiffImagePlugin

from photoservice.processing.gps import UnparseableLocation, coordinates_from_exif

ORIENTATION = ExifTags.Base.Orientation
DATETIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
OFFSET_TIME_ORIGINAL = ExifTags.Base.OffsetTimeOriginal
SUBSEC_TIME_ORIGINAL = ExifTags.Base.SubsecTimeOriginal
GPS_NAMES = {
    ExifTags.GPS.GPSLatitudeRef: "GPSLatitudeRef",
    ExifTags.GPS.GPSLatitude: "GPSLatitude",
    ExifTags.GPS.GPSLongitudeRef: "GPSLongitudeRef",
    ExifTags.GPS.GPSLongitude: "GPSLongitude",
}
# What Pillow's EXIF parser raises on a damaged block (the set Pillow itself
# tolerates when it reads the resolution from EXIF), plus the I/O errors of a
# sub-IFD that points past the end of the block.
EXIF_ERRORS = (struct.error, KeyError, SyntaxError, TypeError, ValueError,
               ZeroDivisionError, OverflowError, IndexError, EOFError, OSError)

DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@dataclass(frozen=True)
class Metadata:
    orientation: int  # 1..8, 1 when missing or invalid
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None


def read_metadata(image: Image.Image) -> Metadata:
    """The orientation, capture time and location an opened image's EXIF carries."""
    try:
        exif = image.getexif()
    except EXIF_ERRORS:
        return Metadata(1, None, None, None)
    location = _location(_ifd(exif, ExifTags.IFD.GPSInfo))
    captured_at = _captured_at(_ifd(exif, ExifTags.IFD.Exif), location)
    latitude, longitude = location or (None, None)
    return Metadata(_orientation(exif), captured_at, latitude, longitude)


def _ifd(exif, tag):
    try:
        return exif.get_ifd(tag)
    except EXIF_ERRORS:
        return {}


def _orientation(exif):
    value = exif.get(ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _captured_at(exif_ifd, location):
    """DateTimeOriginal, in its own offset, else in the zone of `location`, else in UTC."""
    moment = _datetime(exif_ifd.get(DATETIME_ORIGINAL))
    if moment is None:
        return None
    fraction = _text(exif_ifd.get(SUBSEC_TIME_ORIGINAL)).strip()
    if fraction.isascii() and fraction.isdigit():
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    zone = _offset(exif_ifd.get(OFFSET_TIME_ORIGINAL))
    if zone is None and location is not None:
        zone = zone_at(*location)
    return moment.replace(tzinfo=zone or timezone.utc)


def _datetime(value):
    """A naive datetime from EXIF's "YYYY:MM:DD HH:MM:SS", or None."""
    match = DATETIME.fullmatch(_text(value).strip())
    if not match:
        return None
    try:
        return datetime(*map(int, match.groups()))
    except ValueError:  # "0000:00:00 00:00:00", month 13, ...
        return None


def _offset(value):
    """A fixed offset from EXIF's "+HH:MM", or None."""
    match = OFFSET.fullmatch(_text(value).strip())
    if not match:
        return None
    sign, hours, minutes = match[1], int(match[2]), int(match[3])
    if hours > 18 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.rstrip("\x00") if isinstance(value, str) else ""


def _location(gps_ifd):
    """(latitude, longitude) from a GPS IFD, or None when missing or unreadable."""
    exif = {name: _plain(gps_ifd[tag]) for tag, name in GPS_NAMES.items() if tag in gps_ifd}
    try:
        return coordinates_from_exif(exif)
    except UnparseableLocation:
        return None


def _plain(value):
    """An IFD value in the shapes coordinates_from_exif reads: [num, den], lists, text."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        return [value.numerator, value.denominator]
    if isinstance(value, (tuple, list)):
        return [_plain(part) for part in value]
    if isinstance(value, (bytes, str)):
        return _text(value)
    return value


_finder = None
_finder_lock = threading.Lock()


def zone_at(latitude: float, longitude: float) -> tzinfo | None:
    """The time zone in force at a point (offline), or None where none is known."""
    global _finder
    if _finder is None:
        with _finder_lock:
            if _finder is None:
                # Imported here too: the package and its data cost ~0.2 s and
                # ~40 MB, which a process that never sees a naive time skips.
                from timezonefinder import TimezoneFinder
                _finder = TimezoneFinder()
                # Its data files stay open (memory-mapped) for the process's life.
                atexit.register(_finder.cleanup)
    name = _finder.timezone_at(lng=longitude, lat=latitude)
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
