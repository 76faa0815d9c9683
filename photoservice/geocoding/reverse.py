"""Reverse geocoding of one point: cache first, then one paced call for everyone."""
from flask import current_app

from . import cache
from .geocoders import call_geocoder, place_from_location, runtime


def cached_place(latitude, longitude):
    """A place already geocoded within GEOCODER_CACHE_METERS of the point, or cache.MISS."""
    config = current_app.config
    return cache.lookup(config["GEOCODER"], latitude, longitude, config["GEOCODER_CACHE_METERS"])


def reverse_geocode(latitude, longitude):
    """Our `location` object for a point, or None where the geocoder knows nothing.

    Points within GEOCODER_CACHE_METERS of one already geocoded reuse its result,
    so a hundred photos of one roof cost one call; misses go to `geocode_miss`.
    Raises GeocodingUnavailable (retry) or GeocodingRefused (give up).
    """
    found = cached_place(latitude, longitude)
    return geocode_miss(latitude, longitude) if found is cache.MISS else found


def geocode_miss(latitude, longitude):
    """`reverse_geocode` for a point the cache did not know a moment ago.

    Takes the shared gate, looks again (another worker may just have answered),
    then calls at most GEOCODER_MAX_RPS times a second across all workers (a
    local dataset is exempt) and caches the answer.
    """
    config = current_app.config
    geocoder, gate = runtime()
    with gate.exclusive() as turn:
        found = cached_place(latitude, longitude)
        if found is not cache.MISS:
            return found
        if config["GEOCODER"] != "offline":
            turn.wait_turn(1.0 / config["GEOCODER_MAX_RPS"])
        place = place_from_location(call_geocoder(geocoder, latitude, longitude))
        cache.store(config["GEOCODER"], latitude, longitude, place)
    return place
