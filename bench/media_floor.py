"""The media floor: decode + two JPEG derivatives with bare Pillow, in one process.

The least work a photo's derivatives can take on this machine: files from local
disk, a JPEG decoded at the smallest scale that still covers the web size,
turned upright, resized to 1600 and 400 px, encoded; no hash, no store, no
database, no queue. It stands alone, so it stays the reference whatever the
service's code does.

    .venv/bin/python -m bench.media_floor FILE...
"""
import io
import sys
import time

from PIL import Image

WEB, THUMBNAIL = 1600, 400
QUALITY = 85
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


def fit(size, longest):
    scale = min(1.0, longest / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def encode(image):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def derive(path):
    """(web, thumbnail) JPEG bytes of the photo at `path`."""
    with Image.open(path) as image:
        web_size = fit(image.size, WEB)
        image.draft("RGB", web_size)
        orientation = image.getexif().get(0x0112, 1)
        web = image.resize(web_size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    if orientation in UPRIGHT:
        web = web.transpose(UPRIGHT[orientation])
    thumbnail = web.resize(fit(web.size, THUMBNAIL), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return encode(web), encode(thumbnail)


def photos_per_second(paths):
    """Derive every photo in `paths` once; photos/second of wall time."""
    started = time.perf_counter()
    for path in paths:
        derive(path)
    return len(paths) / (time.perf_counter() - started)


if __name__ == "__main__":
    print(f"{photos_per_second(sys.argv[1:]):.2f} photos/s")
