"""coordinates_from_exif: every GPS shape mobile clients send, and what is refused."""
import math
import re

import pytest

from photoservice.media.gps import UnparseableLocation, coordinates_from_exif

# 40°48'55.56" N, 73°58'10.92" W, worked out by hand.
LAT = 40.8154333
LON = 73.9697


def approx(latitude, longitude):
    return pytest.approx((latitude, longitude), abs=1e-6)


def gps(latitude, longitude, lat_ref="N", lon_ref="E"):
    return {"GPSLatitude": latitude, "GPSLatitudeRef": lat_ref,
            "GPSLongitude": longitude, "GPSLongitudeRef": lon_ref}


LATITUDE_FORMS = {
    "decimal": LAT,
    "decimal string": "40.8154333",
    "rationals": [[40, 1], [48, 1], [5556, 100]],
    "numbers": [40, 48, 55.56],
    "tuple of numbers": (40, 48, 55.56),
    "android string": "40/1,48/1,5556/100",
    "android string with spaces": "40/1, 48/1, 5556/100",
    "exif-js objects": [{"numerator": 40, "denominator": 1}, {"numerator": 48, "denominator": 1},
                        {"numerator": 5556, "denominator": 100}],
    "rational strings": ["40/1", "48/1", "5556/100"],
    "mixed components": [40, [48, 1], {"numerator": 5556, "denominator": 100}],
    "degrees and minutes": [40, 48.926],
    "degrees and minutes rationals": [[40, 1], [48926, 1000]],
    "degrees and minutes android": "40/1,48926/1000",
}

LONGITUDE_FORMS = {
    "decimal": LON,
    "decimal string": "73.9697",
    "rationals": [[73, 1], [58, 1], [1092, 100]],
    "numbers": [73, 58, 10.92],
    "android string": "73/1,58/1,1092/100",
    "exif-js objects": [{"numerator": 73, "denominator": 1}, {"numerator": 58, "denominator": 1},
                        {"numerator": 1092, "denominator": 100}],
    "degrees and minutes": [73, 58.182],
}

DEGREES_ONLY = [40, 40.0, "40", [40], [[40, 1]], "40/1", ["40/1"],
                [{"numerator": 80, "denominator": 2}], {"numerator": 40, "denominator": 1}]


@pytest.mark.parametrize("latitude", LATITUDE_FORMS.values(), ids=LATITUDE_FORMS.keys())
def test_latitude_forms(latitude):
    assert coordinates_from_exif(gps(latitude, 10)) == approx(LAT, 10)


@pytest.mark.parametrize("longitude", LONGITUDE_FORMS.values(), ids=LONGITUDE_FORMS.keys())
def test_longitude_forms(longitude):
    assert coordinates_from_exif(gps(10, longitude, lon_ref="W")) == approx(10, -LON)


@pytest.mark.parametrize("degrees", DEGREES_ONLY, ids=repr)
def test_degrees_only(degrees):
    assert coordinates_from_exif(gps(degrees, degrees)) == (40.0, 40.0)


def test_android_payload():
    exif = {"GPSLatitude": "45/1,30/1,4608/100", "GPSLatitudeRef": "N",
            "GPSLongitude": "122/1,40/1,1800/100", "GPSLongitudeRef": "W"}
    assert coordinates_from_exif(exif) == approx(45.5128, -122.6716667)


@pytest.mark.parametrize("seconds", [[0, 0], "0/0", {"numerator": 0, "denominator": 0}])
def test_zero_over_zero_means_zero(seconds):
    exif = gps([[40, 1], [48, 1], seconds], [[73, 1], [58, 1], seconds], "N", "W")
    assert coordinates_from_exif(exif) == approx(40.8, -73.9666667)


@pytest.mark.parametrize("latitude, longitude, expected", [
    (40.7128, -74.006, (40.7128, -74.006)),
    ("40.7128", "-74.006", (40.7128, -74.006)),
    (" -33.8688 ", "151.2093", (-33.8688, 151.2093)),
    (40, -74, (40.0, -74.0)),
    (-90, 180, (-90.0, 180.0)),
    (90, -180, (90.0, -180.0)),
])
def test_plain_decimals(latitude, longitude, expected):
    assert coordinates_from_exif({"latitude": latitude, "longitude": longitude}) == approx(*expected)


@pytest.mark.parametrize("lat_ref, lon_ref, expected", [
    ("N", "E", (LAT, LON)),
    ("S", "E", (-LAT, LON)),
    ("N", "W", (LAT, -LON)),
    ("S", "W", (-LAT, -LON)),
    ("n", "e", (LAT, LON)),
    ("s", "w", (-LAT, -LON)),
    ("North", "East", (LAT, LON)),
    ("South", "West", (-LAT, -LON)),
    ("SOUTH", "west", (-LAT, -LON)),
    (" S ", "W\n", (-LAT, -LON)),
    (None, None, (LAT, LON)),
    ("", "", (LAT, LON)),
])
def test_refs(lat_ref, lon_ref, expected):
    exif = gps([40, 48, 55.56], [73, 58, 10.92], lat_ref, lon_ref)
    assert coordinates_from_exif(exif) == approx(*expected)


def test_missing_ref_keys_mean_north_and_east():
    exif = {"GPSLatitude": [40, 48, 55.56], "GPSLongitude": [73, 58, 10.92]}
    assert coordinates_from_exif(exif) == approx(LAT, LON)


@pytest.mark.parametrize("lat_ref, lon_ref", [("S", "W"), ("N", "E"), (None, None)])
def test_negative_values_stay_negative(lat_ref, lon_ref):
    exif = gps(-LAT, [-73, 58, 10.92], lat_ref, lon_ref)
    assert coordinates_from_exif(exif) == approx(-LAT, -LON)


@pytest.mark.parametrize("container", ["GPS", "{GPS}"])
@pytest.mark.parametrize("payload", [
    gps([[40, 1], [48, 1], [5556, 100]], "73/1,58/1,1092/100", "N", "W"),
    {"latitude": LAT, "longitude": -LON},
    # Apple's GPS dictionary (CGImageProperties) as iOS pickers pass it through.
    {"Latitude": LAT, "LatitudeRef": "N", "Longitude": LON, "LongitudeRef": "W"},
], ids=["gps keys", "decimal keys", "apple keys"])
def test_nested(container, payload):
    exif = {"timestamp": 1732790400000, container: payload}
    assert coordinates_from_exif(exif) == approx(LAT, -LON)


@pytest.mark.parametrize("top", [
    gps(LAT, LON, "S", "W"),
    {"latitude": -LAT, "longitude": -LON},
], ids=["gps keys", "decimal keys"])
@pytest.mark.parametrize("container", ["GPS", "{GPS}"])
def test_top_level_wins_over_nested(top, container):
    exif = {**top, container: gps(1, 2, "N", "E")}
    assert coordinates_from_exif(exif) == approx(-LAT, -LON)


def test_ios_container_wins_over_gps_container():
    exif = {"{GPS}": gps(1, 2), "GPS": gps(3, 4)}
    assert coordinates_from_exif(exif) == (1.0, 2.0)


def test_gps_keys_win_over_decimal_keys_at_the_same_level():
    exif = {**gps(1, 2), "latitude": 3, "longitude": 4}
    assert coordinates_from_exif(exif) == (1.0, 2.0)


@pytest.mark.parametrize("not_an_object", ["40,-74", [40, -74], 7, None, True])
def test_non_object_gps_container_is_ignored(not_an_object):
    assert coordinates_from_exif({"GPS": not_an_object, "{GPS}": not_an_object}) is None
    exif = {**gps(1, 2), "GPS": not_an_object, "{GPS}": not_an_object}
    assert coordinates_from_exif(exif) == (1.0, 2.0)


def test_rounds_to_seven_decimals():
    latitude, longitude = coordinates_from_exif({"latitude": 40.123456789, "longitude": -74.98765432})
    assert (latitude, longitude) == (40.1234568, -74.9876543)


def test_south_of_zero_is_plain_zero():
    latitude, longitude = coordinates_from_exif(gps(0, 0, "S", "W"))
    assert (latitude, longitude) == (0.0, 0.0)
    assert math.copysign(1, latitude) == 1 and math.copysign(1, longitude) == 1


@pytest.mark.parametrize("lat_ref, lon_ref", [("N", "E"), ("S", "W"), ("N", None), ("", "E")])
def test_zero_zero_with_a_ref_is_a_real_place(lat_ref, lon_ref):
    assert coordinates_from_exif(gps([[0, 1], [0, 1], [0, 1]], 0, lat_ref, lon_ref)) == (0.0, 0.0)


@pytest.mark.parametrize("exif", [
    None,
    {},
    {"timestamp": 1732790400000, "Make": "Apple"},
    {"GPSLatitudeRef": "N", "GPSLongitudeRef": "W"},
    {"GPSLatitude": None, "GPSLongitude": None},
    {"GPS": {}},
    {"{GPS}": {"Altitude": 12.5}},
    {"latitude": 0, "longitude": 0},
    {"latitude": "0", "longitude": 0.0},
    gps([[0, 1], [0, 1], [0, 1]], [[0, 1], [0, 1], [0, 1]], None, None),
    gps([[0, 0], [0, 0], [0, 0]], "0/0,0/0,0/0", "", ""),
    {"GPSLatitude": 0, "GPSLongitude": 0},
    {"{GPS}": gps(0, 0, "", "")},
    [40, -74],
], ids=repr)
def test_no_location(exif):
    assert coordinates_from_exif(exif) is None


INVALID = [
    # what is wrong with it, the message it must carry
    (gps([[40, 1], [48, 0], [0, 1]], 10), "GPSLatitude has 48/0, a division by zero"),
    (gps(10, "73/1,58/0,0/1"), "GPSLongitude has 58/0, a division by zero"),
    (gps(10, [{"numerator": 5, "denominator": 0}]), "GPSLongitude has 5/0"),
    (gps([40, 60, 0], 10), "GPSLatitude minutes must be at least 0 and below 60, got 60"),
    (gps([40, 0, 60], 10), "GPSLatitude seconds must be at least 0 and below 60, got 60"),
    (gps([40, -1, 0], 10), "GPSLatitude minutes must be at least 0 and below 60, got -1"),
    (gps(10, "73/1,0/1,-5/1"), "GPSLongitude seconds must be at least 0 and below 60, got -5"),
    (gps(10, [[75, 1], [6000, 100]]), "GPSLongitude minutes must be at least 0 and below 60"),
    (gps([40, 48, 55, 1], 10), "GPSLatitude has 4 components"),
    (gps(10, "1/1,2/1,3/1,4/1"), "GPSLongitude has 4 components"),
    (gps([], 10), "GPSLatitude has 0 components"),
    (gps(True, 10), "GPSLatitude has True, which is not a number"),
    (gps(10, [73, False, 0]), "GPSLongitude has False, which is not a number"),
    (gps([[40, True]], 10), "GPSLatitude has True, which is not a number"),
    ({"latitude": True, "longitude": 10}, "latitude has True, which is not a number"),
    (gps(float("nan"), 10), "GPSLatitude has nan, which is not a finite number"),
    (gps(10, float("inf")), "GPSLongitude has inf, which is not a finite number"),
    (gps(10, [73, 58, float("nan")]), "GPSLongitude has nan, which is not a finite number"),
    (gps("nan", 10), "GPSLatitude has nan, which is not a finite number"),
    ({"latitude": "-inf", "longitude": 10}, "latitude has -inf, which is not a finite number"),
    (gps("1e400", 10), "GPSLatitude has inf, which is not a finite number"),
    (gps(10**400, 10), "GPSLatitude has inf, which is not a finite number"),
    (gps([[1e308, 1e-10]], 10), "GPSLatitude has inf, which is not a finite number"),
    (gps("north", 10), "GPSLatitude has 'north', which is not a number"),
    (gps("40/x", 10), "GPSLatitude has 'x', which is not a number"),
    (gps("", 10), "GPSLatitude has '', which is not a number"),
    (gps(10, [73, None, 0]), "GPSLongitude has None, which is not a number"),
    (gps({"degrees": 40}, 10), "GPSLatitude has {'degrees': 40}, which is not a number"),
    (gps([[40, 1, 1]], 10), "GPSLatitude has [40, 1, 1], which is not a number"),
    (gps(90.0000001, 10), "GPSLatitude 90.0000001 is outside -90..90"),
    (gps([90, 30, 0], 10, "S"), "GPSLatitude -90.5 is outside -90..90"),
    ({"latitude": -91, "longitude": 10}, "latitude -91 is outside -90..90"),
    (gps(10, "181/1"), "GPSLongitude 181 is outside -180..180"),
    ({"latitude": 10, "longitude": -180.5}, "longitude -180.5 is outside -180..180"),
    ({"GPSLatitude": 40, "GPSLatitudeRef": "N"}, "GPSLatitude is present but GPSLongitude is missing"),
    ({"GPSLongitude": "73/1,58/1,1092/100"}, "GPSLongitude is present but GPSLatitude is missing"),
    ({"latitude": 40.7}, "latitude is present but longitude is missing"),
    ({"longitude": 0}, "longitude is present but latitude is missing"),
    ({"GPSLatitude": 40, "GPSLongitude": None}, "GPSLatitude is present but GPSLongitude is missing"),
    ({"{GPS}": {"GPSLatitude": 40}}, "{GPS}.GPSLatitude is present but {GPS}.GPSLongitude is missing"),
    ({"GPS": {"Longitude": 7}}, "GPS.Longitude is present but GPS.Latitude is missing"),
    # The top level mentions a location, so the nested pair does not fill in for it.
    ({"latitude": 40, "GPS": gps(1, 2)}, "latitude is present but longitude is missing"),
    (gps(40, 10, "E", "E"), "GPSLatitudeRef must be N or S, got 'E'"),
    (gps(40, 10, "X", "E"), "GPSLatitudeRef must be N or S, got 'X'"),
    (gps(40, 10, "N", "N"), "GPSLongitudeRef must be E or W, got 'N'"),
    (gps(40, 10, "N", "Westward"), "GPSLongitudeRef must be E or W, got 'Westward'"),
    (gps(40, 10, 1, "E"), "GPSLatitudeRef must be N or S, got 1"),
    (gps(40, 10, "N", ["W"]), "GPSLongitudeRef must be E or W, got ['W']"),
    (gps(0, 0, "Q", ""), "GPSLatitudeRef must be N or S, got 'Q'"),
    ({"{GPS}": gps(40, 10, "N", "Z")}, "{GPS}.GPSLongitudeRef must be E or W, got 'Z'"),
]


@pytest.mark.parametrize("exif, message", INVALID, ids=[message for _, message in INVALID])
def test_invalid(exif, message):
    with pytest.raises(UnparseableLocation, match=re.escape(message)):
        coordinates_from_exif(exif)


def test_unparseable_location_is_a_value_error():
    with pytest.raises(ValueError):
        coordinates_from_exif({"latitude": 91, "longitude": 0})
