"""What a photo's own metadata says: orientation, capture time, place.

Read from the EXIF and XMP blocks containers.py set aside (never from Pillow's
EXIF reader, whose cost follows what the tags claim): exif.py reads only the
tags used here, at a bounded cost. Bad metadata is never a reason to refuse a
photo: a value that cannot be read is simply missing, and a block or directory
that was skipped is named in `warnings`.
"""
import atexit
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from photoservice.media.gps import UnparseableLocation, coordinates_from_exif

from .exif import (BLOCK_TOO_LARGE, DATETIME_ORIGINAL, GPS_LATITUDE, GPS_LATITUDE_REF,
                   GPS_LONGITUDE, GPS_LONGITUDE_REF, MAX_BLOCK_BYTES, OFFSET_TIME_ORIGINAL,
                   ORIENTATION, SUBSEC_TIME_ORIGINAL, read_exif)

GPS_NAMES = {
    GPS_LATITUDE_REF: "GPSLatitudeRef",
    GPS_LATITUDE: "GPSLatitude",
    GPS_LONGITUDE_REF: "GPSLongitudeRef",
    GPS_LONGITUDE: "GPSLongitude",
}

DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
# What Pillow also read: an XMP orientation where EXIF has none (the block is
# capped at MAX_XMP_BYTES before this runs).
XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')
MAX_XMP_BYTES = 64 * 1024
XMP_TOO_LARGE = "metadata ignored: XMP block too large"


@dataclass
class Blocks:
    """A file's raw EXIF and XMP as its container holds them, and what was left out."""

    exif: bytes | None = None
    xmp: bytes | None = None
    warnings: list = field(default_factory=list)
    in_image: bool = False  # a HEIF: libheif reads them, they are in the opened image's info

    def ignore(self, warning):
        """Record that a block was left out (None: one the service does not read)."""
        if warning and warning not in self.warnings:
            self.warnings.append(warning)

    def with_image_info(self, info):
        """These blocks, a HEIF's taken from its opened image's `info`, each within its cap."""
        if not self.in_image:
            return self
        exif, xmp = info.get("exif") or None, info.get("xmp") or None
        too_large = exif is not None and len(exif) > MAX_BLOCK_BYTES + 6  # + "Exif\0\0"
        self.exif = None if too_large else exif
        if too_large:
            self.ignore(BLOCK_TOO_LARGE)
        self.xmp = None if xmp is not None and len(xmp) > MAX_XMP_BYTES else xmp
        if xmp is not None and self.xmp is None:
            self.ignore(XMP_TOO_LARGE)
        return self


@dataclass(frozen=True)
class Metadata:
    orientation: int  # 1..8, 1 when missing or invalid
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    warnings: tuple[str, ...] = ()  # what was ignored, for the photo's media_warnings


def read_metadata(blocks: Blocks) -> Metadata:
    """The orientation, capture time and location a file's EXIF (or XMP) carries."""
    exif = read_exif(blocks.exif)
    location = _location(exif.gps)
    captured_at = _captured_at(exif.exif, location)
    latitude, longitude = location or (None, None)
    orientation = exif.ifd0.get(ORIENTATION)
    if orientation is None and blocks.xmp:
        match = XMP_ORIENTATION.search(blocks.xmp)
        orientation = int(match[2]) if match else None
    warnings = tuple(dict.fromkeys([*blocks.warnings, *exif.warnings]))
    return Metadata(_orientation(orientation), captured_at, latitude, longitude, warnings)


def _orientation(value):
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
    return _text(value) if isinstance(value, (bytes, str)) else value


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
