"""exif.read_exif on blocks laid out by hand: what it reads, and what it refuses to."""
import struct

import pytest

from photoservice.media import exif
from tests.media.hostile import (DATETIME_ORIGINAL, EXIF_POINTER, GPS_POINTER, IFD0_AT, LONG,
                                 ORIENTATION, RATIONAL, SHORT, directory, directory_size,
                                 phone_exif, tiff)

SIX = struct.pack(">HH", 6, 0)


def test_a_phones_block_gives_the_wanted_tags_only():
    block = phone_exif(orientation=6, taken="2024:05:01 14:30:00", offset="-06:00", subsec="042",
                       modified="2024:06:01 10:00:00", gps=(39.5, -104.25))
    found = exif.read_exif(b"Exif\x00\x00" + block)
    assert found.ifd0 == {exif.ORIENTATION: 6}  # no DateTime, no pointers
    assert found.exif == {exif.DATETIME_ORIGINAL: "2024:05:01 14:30:00",
                          exif.OFFSET_TIME_ORIGINAL: "-06:00", exif.SUBSEC_TIME_ORIGINAL: "042"}
    assert found.gps == {1: "N", 2: [[39, 1], [30, 1], [0, 1]], 3: "W", 4: [[104, 1], [15, 1], [0, 1]]}
    assert found.warnings == [] and exif.read_exif(block) == found  # the prefix is optional


def test_little_endian_blocks_are_read():
    block = b"II*\x00" + struct.pack("<L", 8) + struct.pack("<HHHLHHL", 1, ORIENTATION, SHORT, 1, 3, 0, 0)
    assert exif.read_exif(block).ifd0 == {exif.ORIENTATION: 3}


@pytest.mark.parametrize("block, warning", [
    (tiff(directory([(ORIENTATION, SHORT, 1, SIX)])) + bytes(exif.MAX_BLOCK_BYTES), exif.BLOCK_TOO_LARGE),
    (b"GIF89a" + bytes(20), exif.DAMAGED),
    (b"MM\x00*" + struct.pack(">L", 4000), exif.DAMAGED),  # IFD0 past the end
    (tiff(struct.pack(">H", 3) + bytes(12)), exif.DAMAGED),  # three entries announced, one there
    (tiff(struct.pack(">H", exif.MAX_ENTRIES + 1)), exif.TOO_MANY_ENTRIES),
    (tiff(directory([(ORIENTATION, SHORT, 200, 26)])) + bytes(400), exif.VALUE_TOO_LARGE),
], ids=["too-large", "not-tiff", "ifd0-outside", "entries-cut-off", "too-many-entries", "value-too-large"])
def test_a_block_that_breaks_a_rule_is_ignored_whole(block, warning):
    found = exif.read_exif(block)
    assert (found.ifd0, found.exif, found.gps, found.warnings) == ({}, {}, {}, [warning])


def test_a_broken_sub_directory_loses_only_its_own_tags():
    gps_at = IFD0_AT + directory_size(3)
    block = tiff(directory([(ORIENTATION, SHORT, 1, SIX), (EXIF_POINTER, LONG, 1, 60000),
                            (GPS_POINTER, LONG, 1, gps_at)]),
                 struct.pack(">H", 1000))  # the GPS directory: too many entries
    found = exif.read_exif(block)
    assert (found.ifd0, found.exif, found.gps) == ({exif.ORIENTATION: 6}, {}, {})
    assert found.warnings == [exif.DAMAGED, exif.TOO_MANY_ENTRIES]


def test_a_value_past_the_end_is_missing_and_the_rest_is_read():
    exif_at = IFD0_AT + directory_size(1)
    block = tiff(directory([(EXIF_POINTER, LONG, 1, exif_at)]),
                 directory([(DATETIME_ORIGINAL, 2, 20, 5000), (0x9011, 2, 4, b"+01\x00")]))
    found = exif.read_exif(block)
    assert found.exif == {exif.OFFSET_TIME_ORIGINAL: "+01"} and found.warnings == []


def test_only_the_first_of_a_repeated_tag_counts_and_unwanted_values_are_never_read():
    block = tiff(directory([(ORIENTATION, SHORT, 1, SIX), (ORIENTATION, SHORT, 1, struct.pack(">HH", 3, 0)),
                            (0x0132, RATIONAL, 2**30, 26)]))  # an unwanted tag claiming 8 GB
    found = exif.read_exif(block)
    assert found.ifd0 == {exif.ORIENTATION: 6} and found.warnings == []
