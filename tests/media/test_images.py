"""analyse_image(): dimensions, upright metadata-free derivatives, every accepted format."""
import io

import pytest
from PIL import Image, ImageCms, ImageOps

from photoservice.derivatives import DERIVATIVES
from photoservice.media.images import Derivative, ImageFacts, analyse_image
from tests.media.images import BLUE, GREEN, QUADRANTS, RED, YELLOW, heic, jpeg, noisy_jpeg, png, webp

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

def test_the_derivatives_are_every_size_of_the_table_a_thumbnail_and_a_web_image_among_them():
    assert {"thumbnail": 400, "web": 1600}.items() <= DERIVATIVES.items()  # what clients rely on
    facts = analyse(jpeg(64, 48))
    assert isinstance(facts, ImageFacts)
    assert [d.name for d in facts.derivatives] == list(DERIVATIVES)
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


def test_a_size_added_to_the_table_is_made_in_the_table_order_and_changes_no_other(monkeypatch):
    content = jpeg(3000, 2000, orientation=6)
    before = analyse(content)
    monkeypatch.setitem(DERIVATIVES, "extra", 200)
    facts = analyse(content)
    assert [d.name for d in facts.derivatives] == [d.name for d in before.derivatives] + ["extra"]
    extra = derivative(facts, "extra")
    assert (extra.width, extra.height) == (134, 200)  # from the 267 x 400 thumbnail, upright
    assert_colours(quadrant_colours(decoded(extra)), displayed_quadrants(6))
    for found in before.derivatives:
        assert derivative(facts, found.name).data == found.data


def test_a_size_larger_than_the_web_image_sets_the_decode_and_the_others_follow(monkeypatch):
    monkeypatch.setitem(DERIVATIVES, "large", 2400)
    facts = analyse(jpeg(3000, 2000, orientation=8))
    sizes = {d.name: (d.width, d.height) for d in facts.derivatives}
    assert {name: sizes[name] for name in ("thumbnail", "web", "large")} == {
        "thumbnail": (267, 400), "web": (1067, 1600), "large": (1600, 2400)}
    for found in facts.derivatives:
        assert_colours(quadrant_colours(decoded(found)), displayed_quadrants(8))


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
