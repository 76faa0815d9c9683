"""The photos the soak sends: a small JPEG each, and EXIF in the shapes Android, iOS
and plain clients send, with the place and capture time processing must derive.
"""
import io
from datetime import datetime

try:
    from PIL import Image
except ImportError:  # not a dependency: a fixed JPEG does
    Image = None

# A valid 1x1 grey baseline JPEG, for when Pillow is not installed.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300010101010101010101010101010101"
    "01010101010101010101010101010101010101010101010101010101010101010101010101010101"
    "010101010101010101ffc0000b080001000101011100ffc400140001000000000000000000000000"
    "00000000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9")

# Places the offline geocoder knows: (name, latitude, longitude).
SITES = [("Springfield IL", 39.7817, -89.6501), ("Denver", 39.7392, -104.9903),
         ("Dallas", 32.7767, -96.7970), ("Tampa", 27.9506, -82.4572),
         ("Sydney", -33.8688, 151.2093)]


def make_jpeg(n):
    if Image is None:
        return TINY_JPEG
    image = Image.new("RGB", (64, 48), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def dms(value):
    """Android's "deg/1,min/1,sec*100/100" for the absolute value of a coordinate."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    hundredths = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return f"{degrees}/1,{minutes}/1,{hundredths}/100"


def exif_for(n, now_ms):
    """(exif or None, expected (lat, lon) or None, expected capture time in ms or None)."""
    shape = n % 4
    if shape == 3:
        return None, None, None
    _, lat, lon = SITES[n % len(SITES)]
    stamp = now_ms - n * 60_000
    if shape == 0:  # plain decimals, as in the API's example
        return {"timestamp": stamp, "GPSLatitude": lat, "GPSLongitude": lon}, (lat, lon), stamp
    if shape == 1:  # Android: rationals and refs
        exif = {"timestamp": stamp,
                "GPSLatitude": dms(lat), "GPSLatitudeRef": "N" if lat >= 0 else "S",
                "GPSLongitude": dms(lon), "GPSLongitudeRef": "E" if lon >= 0 else "W",
                "Make": "Google", "Model": "Pixel 8"}
        return exif, (lat, lon), stamp
    # iOS: a nested GPS dictionary, no timestamp
    exif = {"{GPS}": {"Latitude": abs(lat), "LatitudeRef": "N" if lat >= 0 else "S",
                      "Longitude": abs(lon), "LongitudeRef": "E" if lon >= 0 else "W"},
            "{TIFF}": {"Make": "Apple", "Model": "iPhone 15"}}
    return exif, (lat, lon), None


def parse_time(text):
    return datetime.fromisoformat(text) if text else None


class Photo:
    def __init__(self, n, key_index, photo_id, coords, stamp, jpeg, created_at):
        self.n, self.key_index, self.id = n, key_index, photo_id
        self.coords, self.stamp, self.jpeg = coords, stamp, jpeg
        self.created_at = created_at
        self.uploaded = False
        self.final = None  # "processed" or "failed"
        self.checks = 0
