"""Geocoding results shared by every worker, looked up by proximity."""
from geopy.distance import great_circle
from sqlalchemy import Float, bindparam, select

from ..extensions import db
from ..database import execute
from .geocoders import nearby_box
from .models import GeocodedPlace

MISS = object()


def _nearest_in_box():
    """The cached point nearest to (:latitude, :longitude) inside the bound box."""
    places = GeocodedPlace.__table__.c
    latitude, longitude = bindparam("latitude", type_=Float), bindparam("longitude", type_=Float)
    distance = ((places.latitude - latitude) * (places.latitude - latitude)
                + (places.longitude - longitude) * (places.longitude - longitude))
    return (select(places.latitude, places.longitude, places.location)
            .where(places.geocoder == bindparam("geocoder"),
                   places.latitude.between(bindparam("lat_min"), bindparam("lat_max")),
                   places.longitude.between(bindparam("lon_min"), bindparam("lon_max")))
            .order_by(distance)
            .limit(1))


_NEAREST_IN_BOX = _nearest_in_box()


def lookup(geocoder_name, latitude, longitude, meters):
    """The nearest cached result within `meters` (possibly None: "nothing here"), or MISS."""
    lat_min, lat_max, lon_min, lon_max = nearby_box(latitude, longitude, meters)
    place = execute(_NEAREST_IN_BOX, {
        "geocoder": geocoder_name, "latitude": latitude, "longitude": longitude,
        "lat_min": lat_min, "lat_max": lat_max, "lon_min": lon_min, "lon_max": lon_max,
    }).one_or_none()
    if place is None or great_circle((latitude, longitude), (place.latitude, place.longitude)).meters > meters:
        return MISS  # the box's corners reach further than `meters`
    return place.location


def store(geocoder_name, latitude, longitude, location):
    """Remember a result; committed at once so other workers see it."""
    db.session.add(GeocodedPlace(geocoder=geocoder_name, latitude=latitude,
                                 longitude=longitude, location=location))
    db.session.commit()
