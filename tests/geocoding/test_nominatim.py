"""GEOCODER=nominatim: geopy's real Nominatim client over HTTP against a local stub.

The public Nominatim is unreachable here, so `NominatimStub` answers /reverse on
127.0.0.1 and logs every request. What is checked: the answer becomes our
`location`, provider failures split into transient (GeocodingUnavailable) and
permanent (GeocodingRefused) with no hidden retries, and reverse_geocode caches
by proximity, caches no failure and paces calls to GEOCODER_MAX_RPS.
"""
import time

import pytest
from sqlalchemy import select

import photoservice.geocoding.geocoders as geocoding
from devstack.seaweed import free_port
from photoservice.extensions import db
from photoservice.geocoding.geocoders import (GeocodingRefused, GeocodingUnavailable, build_geocoder,
                                    call_geocoder, place_from_location)
from photoservice.geocoding.models import GeocodedPlace
from photoservice.geocoding.reverse import reverse_geocode
from tests.support import METRE

USER_AGENT = "photoservice-tests/2.0 (ops@example.com)"
TIMEOUT = 1.0
SPRINGFIELD = {"address": "12 Main Street", "city": "Springfield", "state": "Illinois",
               "postal_code": "62701", "country": "United States", "country_code": "US"}
# About one metre of latitude, in degrees.


@pytest.fixture
def stub(nominatim_stub):
    return nominatim_stub


@pytest.fixture
def nominatim(app, monkeypatch, stub):
    """app.config pointed at the stub; the per-process geocoder is rebuilt around it."""
    settings = {"GEOCODER": "nominatim", "NOMINATIM_DOMAIN": stub.domain, "NOMINATIM_SCHEME": "http",
                "GEOCODER_TIMEOUT": TIMEOUT, "GEOCODER_MAX_RPS": 50.0,
                "GEOCODER_USER_AGENT": USER_AGENT, "GEOCODER_CACHE_METERS": 100.0}
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    geocoding._runtime.cache_clear()
    yield app.config
    geocoding._runtime.cache_clear()


def ask(config, latitude=40.7128, longitude=-74.006):
    """One call through the real client, as the service makes it."""
    return call_geocoder(build_geocoder(config), latitude, longitude)


def cached_places(app):
    with app.app_context():
        return db.session.execute(select(GeocodedPlace)).scalars().all()


# ---------------------------------------------------------------- the client


def test_answer_becomes_our_location(nominatim, stub):
    place = place_from_location(ask(nominatim, 40.7128, -74.006))
    assert {k: place[k] for k in SPRINGFIELD} == SPRINGFIELD
    assert [(lat, lon) for _, lat, lon, _ in stub.requests] == [("40.7128", "-74.006")]


def test_request_carries_the_configured_user_agent(nominatim, stub):
    ask(nominatim)
    assert [agent for *_, agent in stub.requests] == [USER_AGENT]


def test_rate_limited_is_transient_with_retry_after_and_not_retried(nominatim, stub):
    stub.script = [("status", 429, {"Retry-After": "7"})]
    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable) as caught:
        ask(nominatim)
    assert caught.value.retry_after == 7
    assert len(stub.requests) == 1
    assert time.monotonic() - started < 2  # no sleeping out the Retry-After either


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient_and_not_retried(nominatim, stub, status):
    stub.script = [("status", status, {})]
    with pytest.raises(GeocodingUnavailable) as caught:
        ask(nominatim)
    assert caught.value.retry_after is None
    assert len(stub.requests) == 1


def test_timeout_is_transient(nominatim, stub):
    stub.script = [("sleep", TIMEOUT + 1.0)]
    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable):
        ask(nominatim)
    assert TIMEOUT * 0.9 <= time.monotonic() - started < TIMEOUT + 0.9
    assert len(stub.requests) == 1


def test_garbage_answer_is_transient(nominatim, stub):
    stub.script = ["garbage"]
    with pytest.raises(GeocodingUnavailable):
        ask(nominatim)
    assert len(stub.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refusals_are_permanent(nominatim, stub, status):
    stub.script = [("status", status, {})]
    with pytest.raises(GeocodingRefused):
        ask(nominatim)
    assert len(stub.requests) == 1


def test_connection_refused_is_transient(nominatim, monkeypatch):
    monkeypatch.setitem(nominatim, "NOMINATIM_DOMAIN", f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable):
        ask(nominatim)
    assert time.monotonic() - started < TIMEOUT + 0.9


# ---------------------------------------------------------------- reverse_geocode


def test_reverse_geocode_returns_the_place_and_caches_it(app, nominatim, stub):
    with app.app_context():
        place = reverse_geocode(40.7128, -74.006)
    assert {k: place[k] for k in SPRINGFIELD} == SPRINGFIELD
    [cached] = cached_places(app)
    assert (cached.geocoder, cached.latitude, cached.longitude) == ("nominatim", 40.7128, -74.006)
    assert cached.location == place


def test_points_30_m_apart_share_one_request(app, nominatim, stub):
    with app.app_context():
        first = reverse_geocode(40.7128, -74.006)
        second = reverse_geocode(40.7128 + 30 * METRE, -74.006)
    assert second == first
    assert len(stub.requests) == 1
    assert len(cached_places(app)) == 1


def test_points_500_m_apart_are_asked_separately(app, nominatim, stub):
    with app.app_context():
        reverse_geocode(40.7128, -74.006)
        reverse_geocode(40.7128 + 500 * METRE, -74.006)
    assert len(stub.requests) == 2
    assert len(cached_places(app)) == 2


@pytest.mark.parametrize("reply, error", [
    (("status", 503, {}), GeocodingUnavailable),
    (("status", 429, {"Retry-After": "3"}), GeocodingUnavailable),
    (("status", 403, {}), GeocodingRefused),
])
def test_a_failed_call_caches_nothing(app, nominatim, stub, reply, error):
    stub.script = [reply]
    with app.app_context():
        with pytest.raises(error):
            reverse_geocode(40.7128, -74.006)
        assert cached_places(app) == []
        place = reverse_geocode(40.7128, -74.006)  # the failure was not remembered
    assert place["city"] == "Springfield"
    assert len(stub.requests) == 2


def test_calls_are_paced_to_max_rps(app, nominatim, stub, monkeypatch):
    monkeypatch.setitem(nominatim, "GEOCODER_MAX_RPS", 5.0)
    with app.app_context():
        for n in range(4):  # far apart: every one is a cache miss
            reverse_geocode(10.0 + n, 20.0)
    starts = [at for at, *_ in stub.requests]
    assert len(starts) == 4
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert min(gaps) >= 0.2 - 0.01, gaps
