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
    so a hundred photos of one roof cost one call. Misses take the shared gate,
    look again (another worker may just have answered), then call at most
    GEOCODER_MAX_RPS times a second across all workers (a local dataset is exempt).
    Raises GeocodingUnavailable (retry) or GeocodingRefused (give up).
    """
    config = current_app.config
    name, meters = config["GEOCODER"], config["GEOCODER_CACHE_METERS"]
    found = cache.lookup(name, latitude, longitude, meters)
    if found is not cache.MISS:
        return found
    geocoder, gate = runtime()
    with gate.exclusive() as turn:
        found = cache.lookup(name, latitude, longitude, meters)
        if found is not cache.MISS:
            return found
        if name != "offline":
            turn.wait_turn(1.0 / config["GEOCODER_MAX_RPS"])
        place = place_from_location(call_geocoder(geocoder, latitude, longitude))
        cache.store(name, latitude, longitude, place)
    return place
