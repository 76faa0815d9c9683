"""sniff(): what an upload really is, from the first bytes a ranged GET returns."""
import struct

import pytest

from photoservice.media.formats import ACCEPTED, SNIFF_BYTES, accepted, describe, sniff
from tests.media.images import (
    ftyp, gif, heic, html_as_jpeg, jpeg, mp4_head, png, quicktime_head, tiff, webp)


def head(data):
    """What finalize reads of an object: its first SNIFF_BYTES."""
    return data[:SNIFF_BYTES]


def test_a_sniff_reads_few_bytes():
    assert 16 <= SNIFF_BYTES <= 64


@pytest.mark.parametrize("data, expected", [
    (jpeg(), "image/jpeg"),
    (jpeg(progressive=True, orientation=6, taken="2024:05:01 14:30:00"), "image/jpeg"),
    (png(), "image/png"),
    (png(mode="RGBA", transparent=True), "image/png"),
    (webp(), "image/webp"),
    (webp(lossless=True), "image/webp"),
    (webp(mode="RGBA", taken="2024:05:01 14:30:00"), "image/webp"),  # VP8X: extended header
    (heic(), "image/heic"),
    (mp4_head(), "video/mp4"),
    (quicktime_head(), "video/quicktime"),
], ids=["jpeg", "jpeg-progressive-exif", "png", "png-rgba", "webp", "webp-lossless",
        "webp-extended", "heic", "mp4", "quicktime"])
def test_real_files_are_recognised(data, expected):
    assert sniff(head(data)) == expected


@pytest.mark.parametrize("major", [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"])
def test_heic_brands(major):
    assert sniff(ftyp(major, b"mif1", major)) == "image/heic"


@pytest.mark.parametrize("major", [b"mif1", b"msf1", b"heif"])
def test_heif_brands(major):
    assert sniff(ftyp(major, major, b"miaf")) == "image/heif"


def test_a_generic_image_brand_with_a_heic_brand_among_the_compatible_ones_is_heic():
    assert sniff(ftyp(b"mif1", b"mif1", b"heic", b"miaf")) == "image/heic"


@pytest.mark.parametrize("box", [
    ftyp(b"avif", b"avif", b"mif1", b"miaf"),
    ftyp(b"avis", b"avis", b"msf1", b"miaf"),
    ftyp(b"mif1", b"mif1", b"avif", b"miaf"),  # some encoders put avif second
], ids=["avif", "avis", "mif1-avif"])
def test_avif_is_not_accepted(box):
    assert sniff(box) is None
    assert describe(box) == "an AVIF image"


@pytest.mark.parametrize("major", [
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"dash", b"M4V ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"mmp4"])
def test_mp4_brands(major):
    assert sniff(ftyp(major, major, b"isom")) == "video/mp4"


def test_a_vendor_brand_is_judged_by_its_compatible_brands():
    assert sniff(ftyp(b"XYZW", b"XYZW", b"isom", b"mp42")) == "video/mp4"
    assert sniff(ftyp(b"XYZW", b"qt  ")) == "video/quicktime"
    assert sniff(ftyp(b"XYZW", b"mif1", b"heic")) == "image/heic"
    assert sniff(ftyp(b"XYZW", b"XYZW")) is None


@pytest.mark.parametrize("major", [b"M4A ", b"crx ", b"jp2 ", b"f4a "])
def test_other_iso_files_are_not_accepted(major):
    # Audio, camera raw, JPEG 2000: ISO-BMFF too, but nothing the service takes.
    assert sniff(ftyp(major, major)) is None


def test_compatible_brands_past_the_ftyp_box_are_not_read():
    # The box is 16 bytes (no compatible brands); what follows is the next box.
    data = ftyp(b"XYZW") + struct.pack(">I", 16) + b"heic" + b"\x00" * 8
    assert sniff(data) is None


def test_quicktime_brand():
    assert sniff(ftyp(b"qt  ", b"qt  ")) == "video/quicktime"


@pytest.mark.parametrize("atom", [b"moov", b"mdat", b"wide", b"free", b"skip"])
def test_quicktime_without_ftyp_opens_with_an_atom(atom):
    assert sniff(struct.pack(">I", 4096) + atom + b"\x00" * 24) == "video/quicktime"


@pytest.mark.parametrize("data, description", [
    (html_as_jpeg(), "an HTML document"),
    (b"\xef\xbb\xbf  <html lang='en'><body>Access denied</body></html>", "an HTML document"),
    (gif(), "a GIF image"),
    (tiff(), "a TIFF image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    (b"BM" + b"\x00" * 60, "a BMP image"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
    (b'{"error": "upload failed"}', "a text file"),
    (b"", "an empty file"),
    (bytes(range(64)), "unknown content"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "unknown content"),
], ids=["html", "html-bom", "gif", "tiff", "pdf", "bmp", "svg", "json", "empty", "binary", "wav"])
def test_other_content_is_not_accepted_and_is_named(data, description):
    assert sniff(head(data)) is None
    assert describe(head(data)) == description


@pytest.mark.parametrize("data", [
    b"\xff\xd8", b"\x89PNG\r\n", b"RIFF\x00\x00\x00\x00WEBP", b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x18ftypmi",
], ids=["jpeg-2", "png-6", "webp-12", "ftyp-8", "ftyp-10"])
def test_too_few_bytes_are_not_enough(data):
    assert sniff(data) is None


def test_describe_names_accepted_formats_too():
    assert describe(head(jpeg())) == "a JPEG image"
    assert describe(head(heic())) == "a HEIC image"
    assert describe(head(quicktime_head())) == "a QuickTime video"


def test_a_text_head_cut_inside_a_character_is_still_text():
    text = ("Fehler: Datei nicht gefunden – " * 3).encode()
    cut = text[:SNIFF_BYTES]
    with pytest.raises(UnicodeDecodeError):
        cut.decode("utf-8")
    assert describe(cut) == "a text file"


@pytest.mark.parametrize("content_type", sorted(ACCEPTED["image"]))
def test_photo_types_are_accepted_for_photos_only(content_type):
    assert accepted(content_type, is_video=False)
    assert not accepted(content_type, is_video=True)


@pytest.mark.parametrize("content_type", sorted(ACCEPTED["video"]))
def test_video_types_are_accepted_for_videos_only(content_type):
    assert accepted(content_type, is_video=True)
    assert not accepted(content_type, is_video=False)


@pytest.mark.parametrize("content_type", [None, "", "image/gif", "image/avif", "text/html",
                                          "application/octet-stream", "image/jpg"])
def test_other_types_are_not_accepted(content_type):
    assert not accepted(content_type, is_video=False)
    assert not accepted(content_type, is_video=True)


def test_a_declared_type_is_compared_without_case_or_parameters():
    assert accepted("Image/JPEG; charset=binary", is_video=False)


def test_every_sniffed_type_is_accepted_for_its_kind():
    for data in (jpeg(), png(), webp(), heic(), ftyp(b"mif1", b"mif1")):
        assert accepted(sniff(head(data)), is_video=False)
    for data in (mp4_head(), quicktime_head()):
        assert accepted(sniff(head(data)), is_video=True)
