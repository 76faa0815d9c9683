"""Decimal coordinates from the `exif` object a mobile client sends.

Clients disagree on the shape: Android sends `"45/1,30/1,4608/100"` strings,
exif-js sends `{numerator, denominator}` objects, iOS nests its GPS dictionary
under `{GPS}`, and some apps send plain `latitude`/`longitude` decimals.
"""
import math

# (latitude key, longitude key, latitude ref key, longitude ref key)
GPS_KEYS = ("GPSLatitude", "GPSLongitude", "GPSLatitudeRef", "GPSLongitudeRef")
DECIMAL_KEYS = ("latitude", "longitude", None, None)
# Apple's own GPS dictionary (kCGImagePropertyGPSLatitude, ...) drops the prefix.
APPLE_KEYS = ("Latitude", "Longitude", "LatitudeRef", "LongitudeRef")
NESTED = ("{GPS}", "GPS")

LATITUDE_REFS = {"n": 1, "north": 1, "s": -1, "south": -1}
LONGITUDE_REFS = {"e": 1, "east": 1, "w": -1, "west": -1}
DECIMALS = 7


class UnparseableLocation(ValueError):
    """GPS data is present but cannot be turned into coordinates; str(error) says why."""


def coordinates_from_exif(exif: dict | None) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees, or None when the exif carries no location.

    Raises UnparseableLocation when location data is present but invalid.
    """
    if not isinstance(exif, dict):
        return None
    # The first place that mentions a location decides, so top-level keys win.
    for prefix, level, forms in _levels(exif):
        for keys in forms:
            if level.get(keys[0]) is not None or level.get(keys[1]) is not None:
                return _coordinates(level, keys, prefix)
    return None


def _levels(exif):
    yield "", exif, (GPS_KEYS, DECIMAL_KEYS)
    for name in NESTED:
        if isinstance(exif.get(name), dict):
            yield f"{name}.", exif[name], (GPS_KEYS, DECIMAL_KEYS, APPLE_KEYS)


def _coordinates(level, keys, prefix):
    # Names as the client wrote them, for error messages: "{GPS}.GPSLatitude".
    lat_name, lon_name, lat_ref_name, lon_ref_name = (prefix + k if k else None for k in keys)
    lat_value, lon_value = level.get(keys[0]), level.get(keys[1])
    if lat_value is None or lon_value is None:
        present, missing = (lat_name, lon_name) if lon_value is None else (lon_name, lat_name)
        raise UnparseableLocation(f"{present} is present but {missing} is missing")
    lat_ref = _ref(level.get(keys[2]) if keys[2] else None, lat_ref_name, LATITUDE_REFS)
    lon_ref = _ref(level.get(keys[3]) if keys[3] else None, lon_ref_name, LONGITUDE_REFS)
    latitude = _signed(_degrees(lat_value, lat_name), lat_ref)
    longitude = _signed(_degrees(lon_value, lon_name), lon_ref)
    if not -90 <= latitude <= 90:
        raise UnparseableLocation(f"{lat_name} {latitude:.10g} is outside -90..90")
    if not -180 <= longitude <= 180:
        raise UnparseableLocation(f"{lon_name} {longitude:.10g} is outside -180..180")
    # Apps that strip location often write zeros instead of deleting the tags;
    # only explicit refs make (0, 0) a real place.
    if latitude == 0 and longitude == 0 and lat_ref is None and lon_ref is None:
        return None
    # `+ 0.0` turns -0.0 (from "S" on a zero) into 0.0.
    return round(latitude, DECIMALS) + 0.0, round(longitude, DECIMALS) + 0.0


def _ref(ref, name, signs):
    """+1, -1, or None when the ref is missing or empty."""
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None
    sign = signs.get(ref.strip().lower()) if isinstance(ref, str) else None
    if sign is None:
        allowed = " or ".join(k.upper() for k in signs if len(k) == 1)
        raise UnparseableLocation(f"{name} must be {allowed}, got {ref!r}")
    return sign


def _signed(value, sign):
    # A value that is already negative stays negative: S/W only ever add the sign.
    return -abs(value) if sign == -1 else value


def _degrees(value, name):
    """Degrees from a decimal, a [deg, min, sec] list, or an Android 'n/d,n/d,n/d' string."""
    if isinstance(value, str):
        parts = [_number(part, name) for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        parts = [_component(part, name) for part in value]
    else:
        parts = [_component(value, name)]
    if not 1 <= len(parts) <= 3:
        raise UnparseableLocation(
            f"{name} has {len(parts)} components; expected degrees, minutes, seconds (1 to 3)")
    degrees, minutes, seconds = parts + [0.0] * (3 - len(parts))
    for label, amount in (("minutes", minutes), ("seconds", seconds)):
        if not 0 <= amount < 60:
            raise UnparseableLocation(
                f"{name} {label} must be at least 0 and below 60, got {amount:g}")
    return math.copysign(abs(degrees) + minutes / 60 + seconds / 3600, degrees)


def _component(part, name):
    if isinstance(part, (list, tuple)) and len(part) == 2:
        return _ratio(part[0], part[1], name)
    if isinstance(part, dict) and {"numerator", "denominator"} <= part.keys():
        return _ratio(part["numerator"], part["denominator"], name)
    if isinstance(part, str):
        return _number(part, name)
    return _finite(part, name)


def _number(text, name):
    """A number from text: '40.7128' or a rational '4608/100'."""
    numerator, slash, denominator = text.partition("/")
    if slash:
        return _ratio(_parse(numerator, name), _parse(denominator, name), name)
    return _parse(text, name)


def _parse(text, name):
    try:
        number = float(text)
    except ValueError:
        raise UnparseableLocation(f"{name} has {text!r}, which is not a number") from None
    return _finite(number, name)


def _ratio(numerator, denominator, name):
    numerator, denominator = _finite(numerator, name), _finite(denominator, name)
    if denominator == 0:
        # Cameras write 0/0 for "unknown", typically in the seconds slot.
        if numerator == 0:
            return 0.0
        raise UnparseableLocation(f"{name} has {numerator:g}/0, a division by zero")
    return _finite(numerator / denominator, name)


def _finite(value, name):
    # bool is an int subclass, but True is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnparseableLocation(f"{name} has {value!r}, which is not a number")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise UnparseableLocation(f"{name} has {value}, which is not a finite number")
    return value
