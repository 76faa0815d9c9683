"""OfflineGeocoder: geopy's Geocoder interface over the bundled GeoNames cities.

No network and no database: the dataset ships in the `rgeocoder` package. The
nearest city counts only within `max_distance_km`, so open sea gets no place.
"""
import pytest
from geopy.distance import distance, great_circle
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from photoservice.geocoding.geocoders import build_geocoder, place_from_location
from photoservice.geocoding.offline import OfflineGeocoder

STANLEY = (-51.6938, -57.8570)  # Falkland Islands: no other town within 100 km


@pytest.fixture(scope="module")
def geocoder():
    return OfflineGeocoder()


def test_is_a_geopy_geocoder(geocoder):
    assert isinstance(geocoder, Geocoder)
    location = geocoder.reverse((40.7128, -74.006), exactly_one=True)
    assert isinstance(location, Location)
    assert great_circle(location.point, (40.7128, -74.006)).km < 5
    assert location.address == "New York City, New York, United States"


def test_accepts_geopy_query_forms(geocoder):
    as_tuple = geocoder.reverse((48.8566, 2.3522))
    as_string = geocoder.reverse("48.8566, 2.3522")
    assert as_tuple.raw == as_string.raw
    [only] = geocoder.reverse((48.8566, 2.3522), exactly_one=False)
    assert only.raw == as_tuple.raw


@pytest.mark.parametrize("point, city, state, country, code", [
    ((40.7128, -74.0060), "New York City", "New York", "United States", "US"),
    ((39.7392, -104.9903), "Denver", "Colorado", "United States", "US"),
    ((48.8566, 2.3522), "Paris", "Ile-de-France", "France", "FR"),
    ((-33.8688, 151.2093), "Sydney", "New South Wales", "Australia", "AU"),
])
def test_known_cities(geocoder, point, city, state, country, code):
    place = place_from_location(geocoder.reverse(point))
    assert (place["city"], place["state"], place["country"], place["country_code"]) == (
        city, state, country, code)
    assert place["address"] is None and place["postal_code"] is None  # not in the dataset


@pytest.mark.parametrize("point", [(0, 0), (0.5, -30), (-45, -140)])
def test_open_sea_is_nothing(geocoder, point):
    assert geocoder.reverse(point) is None


def test_cut_off_decides_for_a_point_30_km_from_a_town():
    point = distance(kilometers=30).destination(STANLEY, bearing=90)
    query = (point.latitude, point.longitude)
    near = OfflineGeocoder(max_distance_km=50).reverse(query)
    assert near.raw["address"]["city"] == "Stanley"
    assert 28 < near.raw["address"]["distance_km"] < 32
    assert OfflineGeocoder(max_distance_km=20).reverse(query) is None


def test_build_geocoder_applies_the_configured_cut_off():
    point = distance(kilometers=30).destination(STANLEY, bearing=90)
    query = (point.latitude, point.longitude)
    strict = build_geocoder({"GEOCODER": "offline", "OFFLINE_GEOCODER_MAX_KM": 20.0})
    lenient = build_geocoder({"GEOCODER": "offline", "OFFLINE_GEOCODER_MAX_KM": 50.0})
    assert isinstance(strict, OfflineGeocoder)
    assert strict.reverse(query) is None
    assert lenient.reverse(query).raw["address"]["city"] == "Stanley"


def test_unknown_geocoder_setting_is_an_error():
    with pytest.raises(RuntimeError, match="GEOCODER"):
        build_geocoder({"GEOCODER": "telepathy"})
