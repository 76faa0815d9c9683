"""Media files as uploaded: what they are (formats) and what a photo holds (images).

The modules are imported separately on purpose: formats needs nothing but the
standard library (the API uses it at finalize), images brings in Pillow,
pillow-heif and, on first need, timezonefinder (the worker uses it).
"""
