"""Photos for the media benchmark: roof shots with sensor grain and EXIF as phones write it.

Each is a sky above rows of shingles plus luminance grain, which is what makes a
12 MP phone JPEG 3-5 MB (a flat picture would be a few hundred KB and decode far
faster than anything a phone uploads). They are made once and kept in CACHE.
"""
import random
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parent.parent
# Bump the version when the generator changes, so stale files are not reused.
CACHE = ROOT / ".dev" / "bench-media" / "v1"
TWELVE_MP = (4000, 3000)
FORTY_EIGHT_MP = (8000, 6000)
GRAIN = 8  # standard deviation of the sensor grain, in levels
QUALITY = 90  # what phone cameras write
# Hail country: where roofing photos are taken.
SITES = ((39.7392, -104.9903), (32.7767, -96.7970), (35.4676, -97.5164), (41.2565, -95.9345))
# Phones store the sensor's landscape pixels and say how to turn them.
ORIENTATIONS = (1, 6, 1, 6, 1, 3, 1, 8)
ROOF_COLOURS = ((95, 80, 70), (80, 80, 85), (120, 70, 50))


def scene(size, seed):
    """A roof under a sky, `size` pixels, with grain; the same seed gives the same picture."""
    rnd = random.Random(seed)
    width, height = size
    horizon = int(height * rnd.uniform(0.25, 0.45))
    sky = ImageOps.colorize(Image.linear_gradient("L").resize((width, horizon)),
                            black=(70, 120, 200), white=(215, 225, 240))
    # Shingles drawn at quarter scale: the upscale softens their edges as a lens would.
    roof = Image.new("RGB", (width // 4, (height - horizon) // 4 + 1))
    draw = ImageDraw.Draw(roof)
    colour = rnd.choice(ROOF_COLOURS)
    row = max(6, roof.height // 40)
    for top in range(0, roof.height, row):
        left = -rnd.randrange(row * 2)
        while left < roof.width:
            shingle = rnd.randrange(row * 2, row * 4)
            shade = rnd.randrange(-25, 25)
            draw.rectangle((left, top, left + shingle - 2, top + row - 2),
                           fill=tuple(level + shade for level in colour))
            left += shingle
    picture = Image.new("RGB", size)
    picture.paste(sky, (0, 0))
    picture.paste(roof.resize((width, height - horizon), Image.Resampling.BICUBIC), (0, horizon))
    grain = Image.effect_noise(size, GRAIN)
    return ImageChops.add(picture, Image.merge("RGB", (grain, grain, grain)), offset=-128)


def phone_exif(seed):
    """EXIF as a phone writes it: make, model, orientation, capture time and GPS.

    Every third photo has no OffsetTimeOriginal (older Android phones), so its
    time zone comes from its position.
    """
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Google", "Pixel 7"
    exif[0x0112] = ORIENTATIONS[seed % len(ORIENTATIONS)]
    taken = datetime(2024, 5, 20, 14, 0) + timedelta(minutes=7 * seed)
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if seed % 3:
        details[0x9011] = "-06:00"
    latitude, longitude = SITES[seed % len(SITES)]
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if latitude >= 0 else "S"), _dms(latitude)
    gps[3], gps[4] = ("E" if longitude >= 0 else "W"), _dms(longitude)
    return exif


def _dms(decimal):
    decimal = abs(decimal)
    degrees = int(decimal)
    minutes = int((decimal - degrees) * 60)
    return (float(degrees), float(minutes), round((decimal - degrees - minutes / 60) * 3600, 4))


def photo_file(seed, size=TWELVE_MP):
    """The path of benchmark photo number `seed` at `size`, made on first use."""
    path = CACHE / f"roof-{seed:03d}-{size[0]}x{size[1]}.jpg"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        scene(size, seed).save(partial, "JPEG", quality=QUALITY, exif=phone_exif(seed).tobytes())
        partial.rename(path)
    return path
