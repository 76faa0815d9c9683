"""A video's capture time and place from its container's tags, as FFmpeg reports them.

Phones write them in different places: an iPhone's QuickTime `keys` carry
`com.apple.quicktime.creationdate` (local time with its offset) and
`com.apple.quicktime.location.ISO6709`; Android and most cameras write the
movie header's `creation_time` (UTC) and a `©xyz` location, which FFmpeg calls
`location`. The first that reads well wins, in that order. Tags that do not
parse are skipped, as a photo's unreadable EXIF values are.
"""
import re
from datetime import datetime, timezone

from .gps import UnparseableLocation, coordinates_from_exif
from .metadata import zone_at

CREATION_DATE = "com.apple.quicktime.creationdate"
CREATION_TIME = "creation_time"
LOCATIONS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng", "©xyz")
MAX_TAG_CHARS = 200  # a date or a point is short; anything longer is not one
# ISO 6709: latitude then longitude, each signed, in degrees (±DD.D, ±DDD.D), degrees
# and minutes (±DDMM.M, ±DDDMM.M) or with seconds (±DDMMSS.S, ±DDDMMSS.S); then an
# optional altitude and a solidus.
ISO6709 = re.compile(r"([+-])(\d{2,6})(\.\d+)?([+-])(\d{3,7})(\.\d+)?(?:[+-][\d.]+)?(?:CRS[^/]*)?/?")
# The movie header's epoch (1904) and clocks never set: not a capture time.
EARLIEST_YEAR = 1971


def captured_at(tags: dict, location: tuple[float, float] | None) -> datetime | None:
    """When the video was taken, timezone-aware, or None.

    A creation date without an offset is read in the zone of `location`, else in
    UTC, as a photo's EXIF time is.
    """
    for name in (CREATION_DATE, CREATION_TIME):
        moment = _moment(tags.get(name))
        if moment is None:
            continue
        if moment.tzinfo is None:
            zone = zone_at(*location) if location is not None and name == CREATION_DATE else None
            moment = moment.replace(tzinfo=zone or timezone.utc)
        return moment
    return None


def coordinates(tags: dict) -> tuple[float, float] | None:
    """(latitude, longitude) from the first location tag that reads well, or None."""
    for name in LOCATIONS:
        point = _iso6709(tags.get(name))
        if point is not None:
            return point
    return None


def _moment(value):
    if not isinstance(value, str) or len(value) > MAX_TAG_CHARS:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Apple writes "+0200"; fromisoformat() wants "+02:00" before Python 3.11.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.year >= EARLIEST_YEAR else None


def _iso6709(value):
    if not isinstance(value, str) or len(value) > MAX_TAG_CHARS:
        return None
    match = ISO6709.match(value.strip())
    if not match:
        return None
    lat_sign, lat_whole, lat_part, lon_sign, lon_whole, lon_part = match.groups()
    latitude = _degrees(lat_whole, lat_part or "", 2)
    longitude = _degrees(lon_whole, lon_part or "", 3)
    if latitude is None or longitude is None:
        return None
    exif = {"latitude": latitude if lat_sign == "+" else -latitude,
            "longitude": longitude if lon_sign == "+" else -longitude}
    try:
        # The photo rules: ranges checked, and (0, 0) read as "no location".
        return coordinates_from_exif(exif)
    except UnparseableLocation:
        return None


def _degrees(whole, fraction, degree_digits):
    """Decimal degrees from ISO 6709's D, DM or DMS form (by the count of whole digits)."""
    extra = len(whole) - degree_digits
    if extra not in (0, 2, 4):
        return None
    value = float(whole[-2:] + fraction) if extra else float(whole + fraction)
    if extra == 0:
        return value
    degrees = int(whole[:degree_digits])
    if extra == 2:
        return degrees + value / 60
    return degrees + int(whole[degree_digits:degree_digits + 2]) / 60 + value / 3600
