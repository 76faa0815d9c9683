"""A photo's background work, as its tasks call it: metadata (services.py) and the file
itself (media.py). It sits above photos (the row) and media (what a file says).
"""
