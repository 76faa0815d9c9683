"""analyse_image() on what it must refuse or survive: bad sources, damaged and oversized
files, and memory bounds."""
import io
import json
import random
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from photoservice.media.images import MediaRefused, analyse_image
from tests.media.images import (gif, heic, html_as_jpeg, jpeg, noisy_jpeg, png, png_bomb,
                                truncated_jpeg, webp)

ROOT = Path(__file__).resolve().parents[2]
MAX_PIXELS = 100_000_000


def analyse(data, max_pixels=MAX_PIXELS):
    return analyse_image(io.BytesIO(data), max_pixels)


def test_a_path_and_a_file_object_are_both_sources(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(jpeg(80, 60, orientation=6))
    with open(path, "rb") as file:
        from_file = analyse_image(file, MAX_PIXELS)
        assert not file.closed  # the caller's file stays the caller's
    for source in (path, str(path)):
        assert analyse_image(source, MAX_PIXELS) == from_file
    assert (from_file.width, from_file.height) == (60, 80)


def test_a_missing_file_is_not_a_refused_image(tmp_path):
    with pytest.raises(FileNotFoundError):
        analyse_image(tmp_path / "gone", MAX_PIXELS)


# Refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("data, reason", [
    (truncated_jpeg(), "^The image file is incomplete: its end is missing.$"),
    (png(400, 300)[:-200], "^The image file is incomplete: its end is missing.$"),
    (b"", "^The file is empty.$"),
    (b"\x00" + random.Random(7).randbytes(5000), "^The file is not a JPEG, PNG, WebP or HEIC image.$"),
    (html_as_jpeg(), "^The file is an HTML document, not a JPEG, PNG, WebP or HEIC image.$"),
    (gif(), "^The file is a GIF image, not a JPEG, PNG, WebP or HEIC image.$"),
    (b"\xff\xd8\xff\xe0" + bytes(200), "^The file looks like a JPEG image but its header is damaged.$"),
], ids=["truncated-jpeg", "truncated-png", "empty", "random", "html", "gif", "jpeg-signature-only"])
def test_files_that_are_not_usable_images_are_refused(data, reason):
    with pytest.raises(MediaRefused, match=reason):
        analyse(data)


@pytest.mark.parametrize("data", [
    heic(640, 480)[:-300], webp(640, 480)[:-300], noisy_jpeg(640, 480)[:3000],
], ids=["heic", "webp", "jpeg-header-only"])
def test_truncated_files_of_every_format_are_refused(data):
    with pytest.raises(MediaRefused):
        analyse(data)


def test_corrupt_jpeg_data_is_refused():
    data = bytearray(noisy_jpeg(320, 240))
    table = data.index(b"\xff\xc4")  # a Huffman table whose code counts cannot be
    data[table + 4:table + 21] = bytes([0] + [255] * 16)
    with pytest.raises(MediaRefused, match="^The image data is corrupt and cannot be decoded.$"):
        analyse(bytes(data))


def test_a_damaged_header_is_told_apart_from_another_kind_of_file():
    data = bytearray(noisy_jpeg(320, 240))
    table = data.index(b"\xff\xdb")  # a quantization table 3 bytes long
    data[table + 2:table + 4] = b"\x00\x03"
    with pytest.raises(MediaRefused, match="^The file looks like a JPEG image but its header is damaged.$"):
        analyse(bytes(data))


def test_an_image_over_the_pixel_limit_is_refused_and_one_at_it_is_not():
    data = jpeg(400, 300)
    assert analyse(data, max_pixels=120_000).width == 400
    with pytest.raises(MediaRefused, match=r"400x300 pixels \(0.1 megapixels\); the limit is 0.119999"):
        analyse(data, max_pixels=119_999)


def test_a_png_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    bomb = png_bomb(20000, 20000)
    assert len(bomb) < 100_000
    loads = []
    original_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self) or original_load(self))
    started = time.perf_counter()
    limit = r"20000x20000 pixels \(400.0 megapixels\); the limit is 100 megapixels"
    with pytest.raises(MediaRefused, match=limit):
        analyse(bomb, max_pixels=MAX_PIXELS)
    assert time.perf_counter() - started < 1
    assert loads == []


def test_pillows_own_pixel_guard_does_not_overrule_the_limit(monkeypatch):
    assert Image.MAX_IMAGE_PIXELS is None  # analyse_image's own limit decides
    # Were it turned back on, what it raises is still a refusal, warning or error.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(MediaRefused, match="too many pixels"):
        analyse(jpeg(64, 48))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MediaRefused, match="too many pixels"):
            analyse(jpeg(64, 48))


MUTATED = {
    "jpeg": jpeg(120, 90, orientation=6, taken="2024:05:01 14:30:00", gps=(39.7392, -104.9903)),
    "progressive-jpeg": jpeg(120, 90, progressive=True),
    "png": png(120, 90, mode="RGBA", transparent=True, taken="2024:05:01 14:30:00"),
    "palette-png": png(120, 90, mode="P"),
    "webp": webp(120, 90, taken="2024:05:01 14:30:00", gps=(-33.8688, 151.2093)),
    "lossless-webp": webp(120, 90, lossless=True, mode="RGBA"),
    "heic": heic(120, 90, orientation=6, taken="2024:05:01 14:30:00", gps=(39.7392, -104.9903)),
}


@pytest.mark.parametrize("name", MUTATED)
@pytest.mark.filterwarnings("ignore:.*(EXIF|Truncated File Read):UserWarning")  # Pillow, on damaged EXIF
def test_damaged_files_are_refused_or_analysed_never_anything_else(name):
    # Bytes flipped, cut and overwritten, as broken uploads and storage do it: the only
    # acceptable outcomes are facts or MediaRefused (which the worker treats as permanent).
    rng = random.Random(name)
    original = MUTATED[name]
    for _ in range(60):
        data = bytearray(original)
        for _ in range(rng.choice((1, 4, 32))):
            position = rng.randrange(len(data))
            data[position:position + rng.choice((1, 1, 8))] = rng.randbytes(rng.choice((0, 1, 8)))
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data))]
        try:
            facts = analyse(bytes(data), max_pixels=10_000_000)
        except MediaRefused as refusal:
            assert str(refusal)
        else:
            assert facts.derivatives


# Memory -------------------------------------------------------------------------------

# The child reads its peak RSS from VmHWM: ru_maxrss would start from the RSS of
# the test process it was forked from (Linux keeps it across exec), and that
# process has just built an 8000 x 6000 image.
CHILD = """
import json, sys
from photoservice.media.images import analyse_image
from photoservice.media.metadata import zone_at

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

zone_at(0, 0)  # time zone data loaded up front: what follows is decoding
before = peak_kb()
facts = analyse_image(sys.argv[1], 100_000_000)
peak = peak_kb()
print(json.dumps({"before_kb": before, "peak_kb": peak, "size": [facts.width, facts.height],
                  "web": [d.width for d in facts.derivatives if d.name == "web"],
                  "captured_at": facts.captured_at.isoformat()}))
"""


@pytest.mark.parametrize("progressive, growth_mb", [(False, 100), (True, 200)],
                         ids=["baseline", "progressive"])
def test_a_48_megapixel_jpeg_is_analysed_in_bounded_memory(tmp_path, progressive, growth_mb):
    path = tmp_path / "48mp.jpg"
    path.write_bytes(jpeg(8000, 6000, orientation=6, taken="2024:05:01 14:30:00",
                          gps=(39.7392, -104.9903), quality=85, progressive=progressive))
    result = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["size"] == [6000, 8000]
    assert report["web"] == [1200]
    assert report["captured_at"] == "2024-05-01T14:30:00-06:00"
    # Decoded whole, 48 MP would take 192 MB for the pixels alone; drafted at
    # 1/4 scale they take 12 MB. A progressive JPEG also holds all its DCT
    # coefficients while it decodes (about 150 MB at 48 MP).
    assert report["peak_kb"] <= 350 * 1024
    assert report["peak_kb"] - report["before_kb"] <= growth_mb * 1024


def test_a_webp_too_large_to_decode_within_the_budget_is_refused_before_decoding():
    # 48 MP is under MEDIA_MAX_PIXELS, but libwebp would need ~16 bytes a pixel.
    data = webp(8000, 6000, color_split=False, lossless=True)
    started = time.monotonic()
    with pytest.raises(MediaRefused, match="MB a worker allows"):
        analyse_image(io.BytesIO(data), max_pixels=100_000_000)
    assert time.monotonic() - started < 0.5
