"""analyse_image(): dimensions, upright metadata-free derivatives, refusals, memory."""
import io
import json
import random
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from photoservice.media.images import DERIVATIVES, Derivative, ImageFacts, MediaRefused, analyse_image
from tests.media.images import (
    BLUE, GREEN, QUADRANTS, RED, YELLOW, gif, heic, html_as_jpeg, jpeg, noisy_jpeg, png, png_bomb,
    truncated_jpeg, webp)

ROOT = Path(__file__).resolve().parents[2]
MAX_PIXELS = 100_000_000
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
       b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
       b' dc:creator="Site crew"/></rdf:RDF></x:xmpmeta>')


def analyse(data, max_pixels=MAX_PIXELS):
    return analyse_image(io.BytesIO(data), max_pixels)


def derivative(facts, name):
    (found,) = (d for d in facts.derivatives if d.name == name)
    return found


def decoded(found):
    image = Image.open(io.BytesIO(found.data))
    assert image.format == "JPEG"
    assert image.size == (found.width, found.height)
    return image


def quadrant_colours(image):
    """The colours at the centres of the top-left, top-right, bottom-left, bottom-right quadrants."""
    width, height = image.size
    image = image.convert("RGB")
    return tuple(image.getpixel((x * width // 4, y * height // 4)) for y in (1, 3) for x in (1, 3))


def assert_colours(actual, expected, tolerance=40):
    for got, want in zip(actual, expected, strict=True):
        assert all(abs(a - b) <= tolerance for a, b in zip(got, want)), (actual, expected)


def displayed_quadrants(orientation):
    """The quadrant colours a viewer shows for `orientation`, by Pillow's own exif_transpose."""
    grid = Image.new("RGB", (2, 2))
    for index, colour in enumerate(QUADRANTS):
        grid.putpixel((index % 2, index // 2), colour)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    grid.save(buffer, "PNG", exif=exif)
    upright = ImageOps.exif_transpose(Image.open(buffer))
    return tuple(upright.getpixel((x, y)) for y in (0, 1) for x in (0, 1))


# Orientation --------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
def test_derivatives_are_upright_for_every_orientation(orientation):
    facts = analyse(jpeg(80, 60, orientation=orientation))
    portrait = orientation >= 5
    assert (facts.width, facts.height) == ((60, 80) if portrait else (80, 60))
    for found in facts.derivatives:
        assert (found.width, found.height) == (facts.width, facts.height)
        assert_colours(quadrant_colours(decoded(found)), displayed_quadrants(orientation))


def test_orientation_6_is_a_portrait_turned_clockwise():
    facts = analyse(jpeg(800, 600, orientation=6))
    assert (facts.width, facts.height) == (600, 800)
    # Stored: red | green over blue | yellow. Turned a quarter clockwise, the
    # stored left column (red over blue) becomes the top row, blue first.
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))), (BLUE, RED, YELLOW, GREEN))
    assert_colours(quadrant_colours(decoded(derivative(facts, "thumbnail"))), (BLUE, RED, YELLOW, GREEN))


def test_orientation_8_is_a_portrait_turned_anticlockwise():
    facts = analyse(jpeg(800, 600, orientation=8))
    assert (facts.width, facts.height) == (600, 800)
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))), (GREEN, YELLOW, RED, BLUE))


def test_a_large_rotated_jpeg_is_decoded_at_reduced_scale_and_turned():
    # 4001 x 3001: decoded at 1/2 scale, with a part-pixel at the edges.
    facts = analyse(jpeg(4001, 3001, orientation=6))
    assert (facts.width, facts.height) == (3001, 4001)
    web, thumbnail = derivative(facts, "web"), derivative(facts, "thumbnail")
    assert (web.width, web.height) == (1200, 1600)
    assert (thumbnail.width, thumbnail.height) == (300, 400)
    assert_colours(quadrant_colours(decoded(web)), (BLUE, RED, YELLOW, GREEN))
    assert_colours(quadrant_colours(decoded(thumbnail)), (BLUE, RED, YELLOW, GREEN))


def test_an_xmp_orientation_counts_when_exif_has_none():
    buffer = io.BytesIO()
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
           b'22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
           b' tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')
    Image.open(io.BytesIO(jpeg(80, 60))).save(buffer, "JPEG", xmp=xmp)
    facts = analyse(buffer.getvalue())
    assert (facts.width, facts.height) == (60, 80)


@pytest.mark.parametrize("orientation", [0, 9, 255])
def test_an_invalid_orientation_is_ignored(orientation):
    facts = analyse(jpeg(80, 60, orientation=orientation))
    assert (facts.width, facts.height) == (80, 60)
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))), QUADRANTS)


# Derivative sizes ---------------------------------------------------------------------

def test_the_derivatives_are_a_thumbnail_and_a_web_image():
    assert DERIVATIVES == {"thumbnail": 400, "web": 1600}
    facts = analyse(jpeg(64, 48))
    assert isinstance(facts, ImageFacts)
    assert [d.name for d in facts.derivatives] == ["thumbnail", "web"]
    assert all(isinstance(d, Derivative) for d in facts.derivatives)


@pytest.mark.parametrize("size, web, thumbnail", [
    ((3000, 2000), (1600, 1067), (400, 267)),
    ((2000, 3000), (1067, 1600), (267, 400)),
    ((2400, 2400), (1600, 1600), (400, 400)),
    ((3300, 2400), (1600, 1164), (400, 291)),  # decoded at 1/2: 1650 x 1200, still >= 1600
    ((1000, 800), (1000, 800), (400, 320)),  # between the two: the web image keeps its size
    ((300, 200), (300, 200), (300, 200)),  # smaller than both: never scaled up
    ((6000, 40), (1600, 11), (400, 3)),
])
def test_derivatives_fit_their_box_keep_the_aspect_and_are_never_upscaled(size, web, thumbnail):
    facts = analyse(jpeg(*size))
    assert (facts.width, facts.height) == size
    for name, expected in (("web", web), ("thumbnail", thumbnail)):
        found = derivative(facts, name)
        assert (found.width, found.height) == expected
        assert decoded(found).mode == "RGB"


def test_an_image_smaller_than_a_thumbnail_is_encoded_once():
    facts = analyse(jpeg(300, 200))
    assert derivative(facts, "web").data is derivative(facts, "thumbnail").data


def test_derivatives_carry_no_metadata():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = jpeg(2000, 1500, orientation=3, taken="2024:05:01 14:30:00", offset="-06:00",
                    gps=(39.7392, -104.9903), icc_profile=icc, comment="Job 1234, 12 Elm St")
    buffer = io.BytesIO()
    Image.open(io.BytesIO(original)).save(buffer, "JPEG", exif=Image.open(io.BytesIO(original)).getexif(),
                                          icc_profile=icc, comment="Job 1234, 12 Elm St", xmp=XMP)
    for source in (original, buffer.getvalue()):
        facts = analyse(source)
        assert facts.latitude is not None
        for found in facts.derivatives:
            image = decoded(found)
            assert not image.getexif()
            assert not {"exif", "icc_profile", "comment", "xmp", "dpi"} & image.info.keys()
            for marker in (b"Exif", b"ICC_PROFILE", b"ns.adobe.com", b"Elm St"):
                assert marker not in found.data


def test_derivatives_are_reasonable_jpegs():
    facts = analyse(noisy_jpeg(2000, 1500))
    web = derivative(facts, "web")
    # Quality 85 of a 1600 x 1200 image of noise: far below the original's size, far above junk.
    assert 100_000 < len(web.data) < 2_000_000
    assert decoded(web).info.get("progressive") is None


# Formats ------------------------------------------------------------------------------

def test_heic_with_orientation_capture_time_and_place():
    facts = analyse(heic(80, 60, orientation=6, taken="2024:05:01 14:30:00", offset="-06:00",
                         gps=(39.7392, -104.9903)))
    assert (facts.width, facts.height) == (60, 80)
    assert facts.captured_at.isoformat() == "2024-05-01T14:30:00-06:00"
    assert (facts.latitude, facts.longitude) == pytest.approx((39.7392, -104.9903), abs=1e-6)
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))), (BLUE, RED, YELLOW, GREEN))


def test_heic_without_metadata():
    facts = analyse(heic(2400, 1800))
    assert (facts.width, facts.height) == (2400, 1800)
    assert (facts.captured_at, facts.latitude, facts.longitude) == (None, None, None)
    web = derivative(facts, "web")
    assert (web.width, web.height) == (1600, 1200)
    assert_colours(quadrant_colours(decoded(web)), QUADRANTS)


@pytest.mark.parametrize("thumbnails", [(1800, 256), (256,)], ids=["large-enough", "too-small"])
def test_a_heic_thumbnail_is_decoded_instead_only_when_it_covers_the_web_size(thumbnails, monkeypatch):
    heif_image = type(Image.open(io.BytesIO(heic())))
    drafted = []
    original_draft = heif_image.draft
    monkeypatch.setattr(heif_image, "draft",
                        lambda self, *args: drafted.append(original_draft(self, *args)) or drafted[-1])
    facts = analyse(heic(3200, 2400, orientation=6, thumbnails=thumbnails))
    assert drafted == ([("RGB", (0, 0, 1350, 1800))] if 1800 in thumbnails else [None])
    assert (facts.width, facts.height) == (2400, 3200)
    web, thumbnail = derivative(facts, "web"), derivative(facts, "thumbnail")
    assert ((web.width, web.height), (thumbnail.width, thumbnail.height)) == ((1200, 1600), (300, 400))
    assert_colours(quadrant_colours(decoded(web)), (BLUE, RED, YELLOW, GREEN))


def test_png_transparency_is_flattened_on_white():
    facts = analyse(png(80, 60, mode="RGBA", transparent=True))
    image = decoded(derivative(facts, "web"))
    assert image.mode == "RGB"
    # The left half is fully transparent: white. The right half keeps its colours.
    assert_colours(quadrant_colours(image), ((255, 255, 255), GREEN, (255, 255, 255), YELLOW), 8)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "RGB", "RGBA"])
def test_png_modes_become_rgb(mode):
    facts = analyse(png(80, 60, mode=mode))
    image = decoded(derivative(facts, "web"))
    assert image.mode == "RGB"
    reference = Image.open(io.BytesIO(png(80, 60, mode=mode))).convert("RGB")
    assert_colours(quadrant_colours(image), quadrant_colours(reference))


def test_a_palette_png_with_a_transparent_colour_is_flattened_on_white():
    image = Image.open(io.BytesIO(png(80, 60, mode="P")))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=image.getpixel((0, 0)))  # red becomes transparent
    facts = analyse(buffer.getvalue())
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))),
                   ((255, 255, 255), GREEN, BLUE, YELLOW), 8)


@pytest.mark.parametrize("level, expected", [(65535, 255), (32768, 128), (0, 0)])
def test_sixteen_bit_png_levels_are_scaled_not_clipped(level, expected):
    buffer = io.BytesIO()
    Image.new("I;16", (40, 30), level).save(buffer, "PNG")
    facts = analyse(buffer.getvalue())
    assert abs(decoded(derivative(facts, "web")).getpixel((20, 15))[0] - expected) <= 2


@pytest.mark.parametrize("build", [
    lambda: webp(80, 60, orientation=8),
    lambda: webp(80, 60, orientation=8, lossless=True, mode="RGBA"),
], ids=["lossy", "lossless-rgba"])
def test_webp(build):
    facts = analyse(build())
    assert (facts.width, facts.height) == (60, 80)
    assert_colours(quadrant_colours(decoded(derivative(facts, "web"))), (GREEN, YELLOW, RED, BLUE))


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grayscale_and_cmyk_jpegs_become_rgb(mode):
    facts = analyse(jpeg(80, 60, mode=mode))
    image = decoded(derivative(facts, "web"))
    assert image.mode == "RGB"
    reference = Image.open(io.BytesIO(jpeg(80, 60, mode=mode))).convert("RGB")
    assert_colours(quadrant_colours(image), quadrant_colours(reference))


def test_a_multi_picture_jpeg_is_its_first_picture():
    # Phones write MPO-style JPEGs (depth maps, gain maps); Pillow opens them as "MPO".
    buffer = io.BytesIO()
    first = Image.open(io.BytesIO(jpeg(3400, 2550)))
    first.save(buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (1700, 1275), GREEN)])
    facts = analyse(buffer.getvalue())
    assert (facts.width, facts.height) == (3400, 2550)
    web = derivative(facts, "web")
    assert (web.width, web.height) == (1600, 1200)
    assert_colours(quadrant_colours(decoded(web)), QUADRANTS)


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
