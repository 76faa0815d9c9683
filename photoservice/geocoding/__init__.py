"""Reverse geocoding: geocoders (geopy), the shared gate and the shared cache.

Nothing is imported here on purpose: geopy costs a process ~20 MB, and the web
processes, which only need the cache table's model, never geocode.
"""
