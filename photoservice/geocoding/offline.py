"""A reverse geocoder that needs no network, behind geopy's Geocoder interface.

It answers from the GeoNames cities (population > 1000) shipped in the
`rgeocoder` package. The nearest city is returned only within `max_distance_km`:
otherwise a point in mid-ocean would get a town hundreds of kilometres away.
"""
import pycountry
from geopy.distance import great_circle
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point
from rgeocoder import ReverseGeocoder

DEFAULT_MAX_DISTANCE_KM = 50

_cities = None


def load_cities():
    """The GeoNames cities, loaded once per process (before fork, in a worker)."""
    global _cities
    if _cities is None:
        _cities = ReverseGeocoder(lazy=False)
    return _cities


def country_name(code):
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", None)


class OfflineGeocoder(Geocoder):
    """geopy-compatible `reverse()` over a local dataset: no HTTP, no provider limit."""

    def __init__(self, max_distance_km=DEFAULT_MAX_DISTANCE_KM):
        super().__init__()
        self.max_distance_km = max_distance_km
        self._cities = load_cities()

    def reverse(self, query, *, exactly_one=True, timeout=None):
        """The nearest city to `query` as a geopy Location, or None if none is near."""
        point = Point(query)
        city = self._cities.nearest(point.latitude, point.longitude)
        distance_km = great_circle((point.latitude, point.longitude), (city.lat, city.lon)).km
        if distance_km > self.max_distance_km:
            return None
        raw = {
            "city": city.name,
            "county": city.admin2 or None,
            "state": city.admin1 or None,
            "country": country_name(city.cc),
            "country_code": city.cc.lower(),
            "distance_km": round(distance_km, 3),
        }
        address = ", ".join(part for part in (city.name, city.admin1, raw["country"]) if part)
        location = Location(address, (city.lat, city.lon), {"address": raw})
        return location if exactly_one else [location]
