"""Geocoding results shared by every worker, looked up by proximity."""
from geopy.distance import great_circle
from sqlalchemy import select

from ..extensions import db
from .geocoders import nearby_box
from .models import GeocodedPlace

MISS = object()


def lookup(geocoder_name, latitude, longitude, meters):
    """The nearest cached result within `meters` (possibly None: "nothing here"), or MISS."""
    lat_min, lat_max, lon_min, lon_max = nearby_box(latitude, longitude, meters)
    distance = ((GeocodedPlace.latitude - latitude) * (GeocodedPlace.latitude - latitude)
                + (GeocodedPlace.longitude - longitude) * (GeocodedPlace.longitude - longitude))
    place = db.session.execute(
        select(GeocodedPlace)
        .where(GeocodedPlace.geocoder == geocoder_name,
               GeocodedPlace.latitude.between(lat_min, lat_max),
               GeocodedPlace.longitude.between(lon_min, lon_max))
        .order_by(distance)
        .limit(1)
    ).scalar_one_or_none()
    if place is None or great_circle((latitude, longitude), (place.latitude, place.longitude)).meters > meters:
        return MISS  # the box's corners reach further than `meters`
    return place.location


def store(geocoder_name, latitude, longitude, location):
    """Remember a result; committed at once so other workers see it."""
    db.session.add(GeocodedPlace(geocoder=geocoder_name, latitude=latitude,
                                 longitude=longitude, location=location))
    db.session.commit()
