"""Object keys and content types derived from a photo's display name."""
import posixpath
import secrets

from slugify import slugify

from ..derivatives import DERIVATIVES

SLUG_MAX_LENGTH = 100

# Extension -> content type for what phones and cameras produce.
IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".heic": "image/heic", ".heif": "image/heif", ".tif": "image/tiff",
    ".tiff": "image/tiff", ".bmp": "image/bmp", ".dng": "image/x-adobe-dng",
}
VIDEO_TYPES = {
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".m4v": "video/x-m4v", ".3gp": "video/3gpp",
    ".webm": "video/webm", ".avi": "video/x-msvideo", ".mkv": "video/x-matroska",
}


def media_kind(is_video):
    """The top-level MIME type an upload must have."""
    return "video" if is_video else "image"


def _fallback_slug(is_video):
    return "video" if is_video else "photo"


def object_key(name, is_video):
    """`<slug>_<8 hex><ext>`: e.g. `front-roof-damage_a1b2c3d4.jpg`.

    The slug is lowercase ASCII with hyphens (unicode transliterated), never
    empty and never a path; the extension is the name's own when it fits the
    media kind, else `.jpg` for photos and `.mp4` for videos.
    """
    stem, ext = posixpath.splitext(name.strip())
    known = VIDEO_TYPES if is_video else IMAGE_TYPES
    ext = ext.lower()
    if ext not in known:
        stem, ext = name, (".mp4" if is_video else ".jpg")
    slug = slugify(stem, max_length=SLUG_MAX_LENGTH, word_boundary=True) or _fallback_slug(is_video)
    return f"{slug}_{secrets.token_hex(4)}{ext}"


def derivative_key(key, name):
    """Where a derivative is stored: beside the original, e.g. `roof_a1b2c3d4.jpg.thumbnail.jpg`.

    Upload keys never contain a dot before their extension, so no client
    upload can name a derivative's key.
    """
    return f"{key}.{name}.jpg"


def original_key(key):
    """Where finalize puts the checked upload of `key`: `roof_a1b2c3d4.jpg.original.jpg`.

    No upload policy names it (upload keys have no dot before their extension)
    and no derivative is called "original", so nothing a client posts, even
    with a policy still valid, can change what is served.
    """
    return f"{key}.original{posixpath.splitext(key)[1]}"


def upload_key_of(key):
    """The upload key whose original `key` is (original_key's inverse), or None if `key` is
    no original's: how the sweep tells which photo an open multipart upload is for."""
    stem = posixpath.splitext(key)[0]
    upload = stem.removesuffix(".original")
    return upload if upload != stem and original_key(upload) == key else None


def served_key(key, original_key):
    """The object readers download and media work read, for a photo's upload `key` and
    `original_key`: the promoted original, or the upload itself for a photo finalized
    without one (before originals had their own key, or by a web process of the
    previous release during a deploy)."""
    return original_key or key


def stored_keys(photo):
    """Every object a photo may have had in the store: its upload, its original (where
    finalize puts it, even if that finalize never committed, and where a photo
    uploaded before originals had their own key keeps it) and its derivatives: every
    size of the table (photoservice/derivatives.py), and those it was given under an
    earlier table (a size since removed)."""
    made = (variant["key"] for variant in (photo.variants or {}).values())
    keys = [photo.key, original_key(photo.key), photo.original_key,
            *(derivative_key(photo.key, name) for name in DERIVATIVES), *made]
    return [key for key in dict.fromkeys(keys) if key is not None]


def content_type_for(key, is_video):
    """The Content-Type a key's extension implies."""
    ext = posixpath.splitext(key)[1]
    return (VIDEO_TYPES if is_video else IMAGE_TYPES)[ext]
