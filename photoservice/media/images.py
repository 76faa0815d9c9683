"""A photo's facts and its derivatives, from the file a phone uploaded.

analyse_image() reads the header, refuses an image with too many pixels before
decoding anything, decodes once (a JPEG at the smallest scale that still gives
the largest derivative), reads the EXIF the header carried, and writes every
derivative in the table (photoservice/derivatives.py): upright, never upscaled,
and with no metadata at all. Pillow is
shown only the parts of a JPEG, PNG or WebP that carry pixels (containers.py):
what metadata costs is bounded here, not by what the file claims.
"""
import contextlib
import io
import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Callable

import pillow_heif
from PIL import Image

from photoservice.derivatives import DERIVATIVES, fitted, largest_first
from photoservice.media.containers import Unreadable, prune
from photoservice.media.formats import SNIFF_BYTES, describe, sniff
from photoservice.media.metadata import read_metadata

pillow_heif.register_heif_opener()
# analyse_image() checks every image against its own max_pixels right after
# reading the header, before any decode. Pillow's process-wide guard (a warning
# above 89 MP, an error above 179 MP) would otherwise overrule that limit.
Image.MAX_IMAGE_PIXELS = None

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# Formats decoded whole (a JPEG decodes at reduced scale), with the bytes per
# pixel their decoders were measured to need here. An image whose decode would
# pass the budget is refused like one over MEDIA_MAX_PIXELS: a 100 MP WebP alone
# would take 1.6 GB. The budget admits a 48 MP HEIC (iPhone) and a 32 MP WebP.
WHOLE_DECODE_BYTES_PER_PIXEL = {"WEBP": 16, "HEIF": 9, "PNG": 6}
DECODE_BUDGET_BYTES = 512 * 2**20
JPEG_QUALITY = 85
WHITE = (255, 255, 255)

# What decoding a damaged file raises: Pillow's OSError ("image file is
# truncated", "broken data stream", decoder errors), SyntaxError and
# struct.error from header parsers, ValueError and EOFError from plugins,
# zlib.error, and pillow-heif's RuntimeError/ValueError from libheif.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError,
                 zlib.error, RuntimeError)

# EXIF orientation -> the transpose that makes the pixels upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class MediaRefused(Exception):
    """The file can never be processed; str(error) says why, for the client."""


@dataclass(frozen=True)
class Derivative:
    name: str
    data: bytes  # JPEG
    width: int
    height: int


@dataclass(frozen=True)
class ImageFacts:
    width: int  # as displayed: EXIF orientation applied
    height: int
    captured_at: datetime | None  # timezone-aware
    latitude: float | None
    longitude: float | None
    derivatives: tuple[Derivative, ...]
    warnings: tuple[str, ...] = ()  # metadata that was ignored, and why


def analyse_image(source: str | os.PathLike | BinaryIO, max_pixels: int,
                  made: Callable[[Derivative], None] | None = None) -> ImageFacts:
    """Facts and derivatives of the image at `source` (a path or a binary file object).
    `made` is called with each derivative as soon as it is made (largest first), before
    the smaller ones are: the caller may start storing it meanwhile. Nothing is refused
    after the first derivative is made.

    Raises MediaRefused when the file is not a JPEG, PNG, WebP or HEIC/HEIF
    image, has more than `max_pixels` pixels, or cannot be decoded.
    """
    with _opened(source) as file:
        try:
            shown, blocks = prune(file)
            with Image.open(shown, formats=FORMATS) as image:
                width, height = image.size
                _check_pixels(width, height, max_pixels, image.format)
                largest = fitted(image.size, max(DERIVATIVES.values()))
                box = _decode(image, largest)
                metadata = read_metadata(blocks.with_image_info(image.info))
                derivatives = _derivatives(image, box, largest, metadata.orientation, release=True,
                                           made=made)
        except Unreadable as error:
            raise MediaRefused(str(error)) from None
        except Image.UnidentifiedImageError:
            raise MediaRefused(_unidentified(file)) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            # Only when Pillow's own guard was turned back on after import (the
            # warning is raised where warnings are errors).
            raise MediaRefused(f"The image has too many pixels: {error}") from None
        except DECODE_ERRORS as error:
            if isinstance(error, OSError) and error.errno is not None:
                raise  # the file could not be read (a system error), not a bad image
            if "truncated" in str(error):
                raise MediaRefused("The image file is incomplete: its end is missing.") from error
            raise MediaRefused("The image data is corrupt and cannot be decoded.") from error
    if metadata.orientation >= 5:
        width, height = height, width
    return ImageFacts(width, height, metadata.captured_at, metadata.latitude,
                      metadata.longitude, derivatives, metadata.warnings)


def _opened(source):
    """`source` as a binary file: a path is opened here, so that a missing file
    raises its own OSError rather than passing for a bad image."""
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("analyse_image() takes a path or a file object; wrap bytes in io.BytesIO")
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb")
    return contextlib.nullcontext(source)


def _unidentified(file):
    """Why Pillow could not open `file`: not an image it reads, or a damaged header."""
    try:
        file.seek(0)
        head = file.read(SNIFF_BYTES)
    except (OSError, ValueError):
        head = None
    if head == b"":
        return "The file is empty."
    if head and (sniff(head) or "").startswith("image/"):
        return f"The file looks like {describe(head)} but its header is damaged."
    found = describe(head) if head else "unknown content"
    if found == "unknown content":
        return "The file is not a JPEG, PNG, WebP or HEIC image."
    return f"The file is {found}, not a JPEG, PNG, WebP or HEIC image."


def _check_pixels(width, height, max_pixels, format):
    if width * height > max_pixels:
        raise MediaRefused(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {max_pixels / 1e6:g} megapixels.")
    needed = width * height * WHOLE_DECODE_BYTES_PER_PIXEL.get(format, 0)
    if needed > DECODE_BUDGET_BYTES:
        raise MediaRefused(
            f"The {format} image is {width}x{height} pixels; decoding it would take "
            f"{needed / 2**20:.0f} MB, over the {DECODE_BUDGET_BYTES / 2**20:.0f} MB a worker allows.")


def _decode(image, target):
    """Decode `image` at the smallest size Pillow offers that is no smaller than `target`.

    A JPEG decodes at 1/2, 1/4 or 1/8 scale; a HEIF picks an embedded thumbnail
    when one is large enough; PNG and WebP decode whole. Returns the box of the
    decoded pixels that holds the whole picture when it differs from the image
    (a scaled JPEG may carry a part-pixel at its right or bottom edge), else None.
    """
    drafted = image.draft("RGB", target)
    image.load()
    if drafted is None or drafted[1] == (0, 0, *image.size):
        return None
    return drafted[1]


def derivatives_of(image: Image.Image, orientation: int = 1) -> tuple[Derivative, ...]:
    """Every derivative of a picture already decoded and no larger than the largest size
    (a video's poster frame), turned upright by an EXIF-style `orientation`."""
    return _derivatives(image, None, fitted(image.size, max(DERIVATIVES.values())), orientation)


def _derivatives(frame, box, largest, orientation, release=False, made=None):
    """Every size in the table, in its order. The largest is resized from the decoded
    frame and turned upright; each smaller one is resized from the one before it, so
    the full picture is filtered once. A size the picture already fits in shares the
    larger one's bytes. With `release`, the frame's pixels are freed once the largest
    is made from them: turning it upright then needs no room for the frame as well
    (12 MB of a 48 MP photo's peak). `made` is called with each as it is made."""
    done, image = {}, None
    for name, longest in largest_first():
        if image is None:
            image = _rgb(_resize(_resizable(frame), largest, box))
            if release and image is not frame:
                frame.close()
            if orientation in UPRIGHT:
                image = image.transpose(UPRIGHT[orientation])
            data = _jpeg(image)
        else:
            smaller = _resize(image, fitted(image.size, longest), None)
            if smaller.size != image.size:
                image, data = smaller, _jpeg(smaller)
        done[name] = Derivative(name, data, *image.size)
        if made is not None:
            made(done[name])
    return tuple(done[name] for name in DERIVATIVES)


def _resize(image, size, box):
    if image.size == size and box is None:
        return image
    # What Image.thumbnail() does: a box reduction first when shrinking by more
    # than 2x, then bicubic. Lanczos measured 40% slower, for a difference that
    # is hard to see at these sizes.
    return image.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)


def _resizable(image):
    """`image` in a mode resize() filters properly (it only picks pixels of "P" and "1")."""
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")
    return image


def _rgb(image):
    """An RGB image: transparency composited on white, 16-bit levels scaled to 8."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, WHITE)
        flat.paste(rgba, mask=rgba)
        return flat
    if image.mode.startswith("I"):
        # Pillow clips 16-bit levels to 255 when converting; scale them instead.
        image = image.convert("I").point(lambda level: level * (1 / 257)).convert("L")
    return image.convert("RGB")


def _jpeg(image):
    """JPEG bytes of `image` and nothing else: no EXIF, ICC profile, XMP or comment."""
    # save() carries a comment over from image.info; the derivative has none.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return buffer.getvalue()
