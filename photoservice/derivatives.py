"""The derivative sizes: each sized JPEG copy the media work makes of a photo.

One line here is one size. Everything else reads this table: the media work
makes every size in it (media/images.py), the store keys and deletions name
each (photos/object_keys.py), the response schema lists each (photos/schemas.py)
and the OpenAPI example shows each (web/openapi.py). Photos made before a size
was added get it from `flask --app wsgi rebuild-media` (media/rebuild.py).

It imports nothing from the service, so any package may read it.
"""

#: Name -> the longest side in pixels of the box the copy fits in, smallest first
#: (the order responses and stored variants list them in).
DERIVATIVES = {
    "thumbnail": 400,
    "web": 1600,
}


def fitted(size, longest):
    """`size` (width, height) scaled down to fit inside longest x longest; never scaled up."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def largest_first():
    """(name, longest) of every size, the largest first: the order they are made in,
    each from the one before it."""
    return sorted(DERIVATIVES.items(), key=lambda item: item[1], reverse=True)
