"""containers.prune: what Pillow is shown of each format, and the blocks read beside it."""
import io
import struct

from PIL import Image

from photoservice.media.containers import prune
from photoservice.media.exif import BLOCK_TOO_LARGE
from tests.media.hostile import MB, heic_exif, jpeg_with, phone_exif, png_with, webp_exif
from tests.media.images import heic, jpeg, webp


def shown(data):
    view, blocks = prune(io.BytesIO(data))
    return view.read(), blocks


def chunk_types(data):
    """The chunk types of a PNG, in order."""
    position, types = 8, []
    while position < len(data):
        length, kind = struct.unpack(">L4s", data[position:position + 8])
        types.append(kind)
        position += 12 + length
    return types


def test_a_jpeg_is_shown_without_its_metadata_segments():
    photo = {"orientation": 6, "taken": "2024:05:01 14:30:00", "comment": b"phone"}
    data = jpeg_with((0xE2, b"MPF\x00" + bytes(100)), (0xFE, b"a comment"), (0xEE, b"Adobe" + bytes(7)),
                     (0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"), **photo)
    view, blocks = shown(data)
    assert b"Exif" not in view and b"MPF" not in view and b"comment" not in view and b"xap" not in view
    assert b"Adobe" in view  # how a CMYK JPEG is stored
    assert blocks.exif.startswith(b"Exif\x00\x00MM\x00*") and blocks.xmp == b"<x:xmpmeta/>"
    # JFIF kept, the pixels stay YCbCr whatever the Adobe segment says: as decoded without it.
    assert Image.open(io.BytesIO(view)).tobytes() == Image.open(io.BytesIO(jpeg(**photo))).tobytes()


def test_junk_and_fill_bytes_between_jpeg_segments_are_skipped_as_pillow_does():
    data = jpeg(64, 48, orientation=3)
    sos = data.index(b"\xff\xda")
    padded = data[:sos] + b"\x00junk\xff\xff\xff" + data[sos:]
    view, blocks = shown(padded)
    assert b"junk" not in view and blocks.exif is not None
    assert Image.open(io.BytesIO(view)).tobytes() == Image.open(io.BytesIO(data)).tobytes()


def test_a_png_is_shown_with_the_chunks_that_carry_pixels_only():
    data = png_with((b"tEXt", b"Comment\x00hello"), (b"prVt", b"private"), (b"iCCP", b"icc\x00\x00xx"),
                    mode="P", taken="2024:05:01 14:30:00")
    view, blocks = shown(data)
    assert b"tEXt" in chunk_types(data) and b"eXIf" in chunk_types(data)
    assert chunk_types(view) == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]
    assert blocks.exif is not None and blocks.warnings == []
    assert Image.open(io.BytesIO(view)).tobytes() == Image.open(io.BytesIO(data)).tobytes()


def test_a_webp_with_small_metadata_is_shown_as_it_is():
    data = webp(taken="2024:05:01 14:30:00")
    view, blocks = shown(data)
    assert view == data and blocks.exif is not None


def test_a_webp_with_an_oversized_exif_is_shown_without_it():
    data = webp_exif(phone_exif(orientation=6) + bytes(MB))
    view, blocks = shown(data)
    assert len(view) < 10_000 and b"EXIF" not in view
    assert struct.unpack("<L", view[4:8])[0] == len(view) - 8  # the RIFF size matches
    assert view[20] & 0x08 == 0  # VP8X no longer announces an EXIF chunk
    image = Image.open(io.BytesIO(view))
    assert "exif" not in image.info and image.size == (64, 48)
    assert (blocks.exif, blocks.warnings) == (None, [BLOCK_TOO_LARGE])


def test_a_heif_exif_item_over_the_cap_is_hidden_from_libheif():
    small = heic(taken="2024:05:01 14:30:00")
    assert shown(small)[0] == small  # nothing hidden, nothing changed
    view, blocks = shown(heic_exif(phone_exif(orientation=6) + bytes(MB)))
    image = Image.open(io.BytesIO(view))
    assert not image.info.get("exif") and image.size == (48, 64)  # turned by the container's irot
    assert all(len(block["data"]) < 16 for block in image.info.get("metadata", []))
    assert blocks.warnings == [BLOCK_TOO_LARGE] and blocks.in_image
