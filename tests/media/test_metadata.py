"""Capture time and place, as analyse_image() reads them from a photo's own EXIF."""
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL.TiffImagePlugin import IFDRational

from photoservice.media import metadata
from photoservice.media.images import analyse_image
from tests.media.images import DENVER, RIO, SYDNEY, heic, jpeg, png, webp

MAY_DAY = "2024:05:01 14:30:00"


def analyse(data):
    return analyse_image(io.BytesIO(data), 100_000_000)


def offset(facts):
    return facts.captured_at.utcoffset()


# Capture time -------------------------------------------------------------------------

def test_the_capture_time_carries_its_own_offset():
    facts = analyse(jpeg(taken=MAY_DAY, offset="-06:00"))
    assert facts.captured_at == datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc)
    assert offset(facts) == timedelta(hours=-6)


def test_its_own_offset_wins_over_the_place():
    facts = analyse(jpeg(taken=MAY_DAY, offset="+05:30", gps=DENVER))
    assert offset(facts) == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("taken, expected_offset", [
    ("2024:05:01 14:30:00", timedelta(hours=-6)),  # daylight saving time: MDT
    ("2024:01:15 09:00:00", timedelta(hours=-7)),  # standard time: MST
])
def test_a_naive_time_is_local_time_where_the_photo_was_taken(taken, expected_offset):
    facts = analyse(jpeg(taken=taken, gps=DENVER))
    assert facts.captured_at.tzinfo.key == "America/Denver"
    assert offset(facts) == expected_offset
    assert facts.captured_at.replace(tzinfo=None) == datetime.strptime(taken, "%Y:%m:%d %H:%M:%S")


def test_a_naive_time_in_the_southern_hemisphere():
    facts = analyse(jpeg(taken=MAY_DAY, gps=SYDNEY))
    assert facts.captured_at.tzinfo.key == "Australia/Sydney"
    assert offset(facts) == timedelta(hours=10)  # May is winter there: AEST


def test_a_naive_time_with_no_place_is_utc():
    facts = analyse(jpeg(taken=MAY_DAY))
    assert facts.captured_at == datetime(2024, 5, 1, 14, 30, tzinfo=timezone.utc)
    assert offset(facts) == timedelta(0)


def test_a_naive_time_at_sea_takes_the_nautical_zone():
    facts = analyse(jpeg(taken=MAY_DAY, gps=(0.5, -30.0)))  # mid-Atlantic
    assert offset(facts) == timedelta(hours=-2)


def test_the_modification_time_is_not_the_capture_time():
    assert analyse(jpeg(modified="2024:06:01 10:00:00")).captured_at is None
    facts = analyse(jpeg(modified="2024:06:01 10:00:00", taken=MAY_DAY, offset="+00:00"))
    assert facts.captured_at == datetime(2024, 5, 1, 14, 30, tzinfo=timezone.utc)


def test_sub_seconds_are_kept():
    facts = analyse(jpeg(taken=MAY_DAY, offset="+02:00", subsec="042"))
    assert facts.captured_at.microsecond == 42_000


@pytest.mark.parametrize("taken", [
    "garbage", "0000:00:00 00:00:00", "2024:13:45 25:61:00", "2024:02:30 10:00:00", "    :  :     :  :  ",
    "", "2024:05:01",
])
def test_an_unreadable_capture_time_is_none_and_not_a_failure(taken):
    facts = analyse(jpeg(80, 60, taken=taken, offset="-06:00", gps=DENVER, orientation=6))
    assert facts.captured_at is None
    assert (facts.width, facts.height, facts.latitude) == (60, 80, pytest.approx(DENVER[0]))


def test_a_capture_time_written_with_dashes_is_read():
    facts = analyse(jpeg(taken="2024-05-01 14:30:00", offset="-06:00"))
    assert facts.captured_at == datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("bad_offset", ["junk", "+25:00", "-06:75", "06:00", "   :  "])
def test_an_unreadable_offset_falls_back_to_the_place_or_utc(bad_offset):
    assert offset(analyse(jpeg(taken=MAY_DAY, offset=bad_offset))) == timedelta(0)
    assert analyse(jpeg(taken=MAY_DAY, offset=bad_offset, gps=DENVER)).captured_at.tzinfo.key == "America/Denver"


@pytest.mark.parametrize("build", [png, webp, heic], ids=["png", "webp", "heic"])
def test_other_formats_carry_the_capture_time_too(build):
    facts = analyse(build(taken=MAY_DAY, gps=DENVER))
    assert facts.captured_at == datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc)


def test_one_time_zone_finder_serves_the_process():
    analyse(jpeg(taken=MAY_DAY, gps=DENVER))
    finder = metadata._finder
    assert finder is not None
    analyse(jpeg(taken=MAY_DAY, gps=SYDNEY))
    assert metadata._finder is finder


# Place ---------------------------------------------------------------------------------

@pytest.mark.parametrize("place", [DENVER, SYDNEY, RIO, (51.5007, -0.1246), (35.6586, 139.7454)],
                         ids=["N-W", "S-E", "S-W", "N-W-near-zero", "N-E"])
def test_the_place_comes_from_the_gps_ifd_with_its_hemisphere(place):
    facts = analyse(jpeg(gps=place))
    assert (facts.latitude, facts.longitude) == pytest.approx(place, abs=1e-6)
    assert facts.captured_at is None


def test_no_gps_is_no_place():
    facts = analyse(jpeg(orientation=1))
    assert (facts.latitude, facts.longitude) == (None, None)


@pytest.mark.parametrize("gps_ifd", [
    {1: "N", 2: (91.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # latitude out of range
    {1: "X", 2: (39.0, 44.0, 21.0), 3: "W", 4: (104.0, 59.0, 25.0)},  # no such hemisphere
    {1: "N", 2: (39.0, 75.0, 21.0), 3: "W", 4: (104.0, 59.0, 25.0)},  # 75 minutes
    {1: "N", 2: (39.0, 44.0, 21.0)},  # a latitude without a longitude
    {1: "N", 2: (39.0, 44.0, 21.0), 3: "W", 4: (IFDRational(104, 1), IFDRational(5, 0), 0.0)},  # 5/0
    {1: "N", 2: (39.0, 44.0, 21.0), 3: "E", 4: (181.0, 0.0, 0.0)},  # longitude out of range
    {0: b"\x02\x03\x00\x00", 1: "N", 3: "W"},  # refs, but no coordinates
    {1: "", 2: (0.0, 0.0, 0.0), 3: "", 4: (0.0, 0.0, 0.0)},  # zeros for "location off"
], ids=["out-of-range", "bad-ref", "bad-minutes", "half", "division-by-zero",
        "longitude-out-of-range", "refs-only", "zeros"])
def test_broken_gps_is_no_place_and_not_a_failure(gps_ifd):
    facts = analyse(jpeg(80, 60, gps_ifd=gps_ifd, taken=MAY_DAY, offset="-06:00", orientation=6))
    assert (facts.latitude, facts.longitude) == (None, None)
    assert facts.captured_at == datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc)
    assert (facts.width, facts.height) == (60, 80)


def test_an_unknown_seconds_slot_counts_as_zero():
    # Cameras write 0/0 for "unknown".
    facts = analyse(jpeg(gps_ifd={1: "S", 2: (IFDRational(33, 1), IFDRational(52, 1), IFDRational(0, 0)),
                                  3: "E", 4: (151.0, 12.0, 0.0)}))
    assert (facts.latitude, facts.longitude) == pytest.approx((-(33 + 52 / 60), 151.2), abs=1e-6)


def test_the_equator_and_the_meridian_with_refs_are_a_place():
    facts = analyse(jpeg(gps_ifd={1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}))
    assert (facts.latitude, facts.longitude) == (0.0, 0.0)


def test_a_damaged_exif_block_loses_its_facts_but_not_the_photo():
    data = bytearray(jpeg(80, 60, orientation=6, taken=MAY_DAY, gps=DENVER))
    start = data.index(b"Exif\x00\x00") + 6
    data[start + 8:start + 40] = b"\xff" * 32  # the first IFD's entries, overwritten
    facts = analyse(bytes(data))
    assert facts.derivatives
    assert facts.captured_at is None and facts.latitude is None
    assert facts.warnings == ("metadata ignored: EXIF directory has too many entries",)
