"""Media files as uploaded: what they are (formats) and what a photo holds (images).

The modules are imported separately on purpose: formats needs nothing but the
standard library (the API uses it at finalize), images brings in Pillow,
pillow-heif and, on first need, timezonefinder (the worker uses it). gps reads
coordinates from EXIF values, the client's and the file's alike.

Nothing here knows photos: the media work that reads a photo's file and writes its
row is `processing/media.py` (the import-linter contracts in pyproject.toml hold it).
"""
