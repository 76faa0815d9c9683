"""geopy geocoders: which one, how its failures sort, and our `location` from its answer."""
import math
import os
from functools import lru_cache

from flask import current_app
from geopy.adapters import RequestsAdapter
from geopy.exc import (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges,
                       GeocoderQueryError, GeocoderRateLimited, GeocoderServiceError)
from geopy.geocoders import Nominatim

from .gate import GateBusy, RedisGate
from .offline import OfflineGeocoder

METERS_PER_DEGREE = 111_320


class GeocodingUnavailable(Exception):
    """A transient failure: retry later, not before `retry_after` seconds if set."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class GeocodingRefused(Exception):
    """A permanent failure (bad request, no permission): retrying will not help."""


def _no_retry_adapter(proxies, ssl_context):
    # geopy's default adapter retries inside urllib3 (a 429 took 3 tries and 14 s);
    # Celery owns retries, with backoff and the provider's Retry-After.
    return RequestsAdapter(proxies=proxies, ssl_context=ssl_context, max_retries=0)


def build_geocoder(config):
    """The geopy geocoder named by the GEOCODER setting."""
    name = config["GEOCODER"]
    if name == "offline":
        return OfflineGeocoder(max_distance_km=config["OFFLINE_GEOCODER_MAX_KM"])
    if name == "nominatim":
        return Nominatim(user_agent=config["GEOCODER_USER_AGENT"], domain=config["NOMINATIM_DOMAIN"],
                         scheme=config["NOMINATIM_SCHEME"], timeout=config["GEOCODER_TIMEOUT"],
                         adapter_factory=_no_retry_adapter)
    raise RuntimeError(f"unknown GEOCODER {name!r}: use offline or nominatim")


def build_gate(config):
    # A worker killed inside the gate blocks the others until the lock expires:
    # hold it no longer than one paced call can take.
    hold = config["GEOCODER_TIMEOUT"] + 1.0 / config["GEOCODER_MAX_RPS"] + 5
    return RedisGate(config["REDIS_URL"], hold_seconds=hold)


@lru_cache(maxsize=4)
def _runtime(pid, app_id):
    # One geocoder and gate per process (and app): geopy sessions are not fork-safe.
    config = current_app.config
    return build_geocoder(config), build_gate(config)


def runtime():
    return _runtime(os.getpid(), id(current_app._get_current_object()))


def call_geocoder(geocoder, latitude, longitude):
    """Ask the geocoder, sorting its failures into transient and permanent."""
    try:
        return geocoder.reverse((latitude, longitude), exactly_one=True)
    except GeocoderRateLimited as error:
        raise GeocodingUnavailable(f"rate limited: {error}", retry_after=error.retry_after) from error
    except (GeocoderQueryError, GeocoderInsufficientPrivileges,
            GeocoderAuthenticationFailure) as error:
        raise GeocodingRefused(f"{type(error).__name__}: {error}") from error
    except GeocoderServiceError as error:  # timeouts, 5xx, unreachable, unparseable answers
        raise GeocodingUnavailable(f"{type(error).__name__}: {error}") from error


def place_from_location(location):
    """Our `location` object from a geopy Location (Nominatim or offline), or None."""
    if location is None:
        return None
    address = (location.raw or {}).get("address") or {}
    street = " ".join(p for p in (address.get("house_number"), address.get("road")) if p)
    city = next((address[k] for k in ("city", "town", "village", "hamlet", "municipality")
                 if address.get(k)), None)
    code = address.get("country_code")
    return {
        "address": street or None,
        "city": city,
        "state": address.get("state"),
        "postal_code": address.get("postcode"),
        "country": address.get("country"),
        "country_code": code.upper() if code else None,
        "display_name": location.address,
    }


def nearby_box(latitude, longitude, meters):
    """(lat_min, lat_max, lon_min, lon_max) of a square `meters` around a point."""
    dlat = meters / METERS_PER_DEGREE
    dlon = meters / (METERS_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


__all__ = ["GateBusy", "GeocodingRefused", "GeocodingUnavailable", "build_geocoder",
           "call_geocoder", "place_from_location", "runtime", "nearby_box"]
