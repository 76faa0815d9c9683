"""What an uploaded file really is, judged from its first bytes.

A phone says what it uploads, but the object in the store is whatever was
sent: finalize reads the first SNIFF_BYTES of it and compares. Only the
formats the service can process are named; everything else is None.
"""
import struct

# A ranged GET of this many bytes is enough for every signature below, and an
# ISO-BMFF `ftyp` box with a dozen compatible brands.
SNIFF_BYTES = 64

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
MP4 = "video/mp4"
QUICKTIME = "video/quicktime"

ACCEPTED = {
    "image": frozenset({JPEG, PNG, WEBP, HEIC, HEIF}),
    "video": frozenset({MP4, QUICKTIME}),
}

# ISO-BMFF brands (the `ftyp` box), by what they make of a file.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
QUICKTIME_BRANDS = frozenset({b"qt  "})
MP4_BRANDS = frozenset({
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"M4V ", b"M4VH", b"M4VP", b"mmp4",
    b"MSNV", b"XAVC", b"f4v ", b"NDSC", b"NDSH", b"NDSM", b"NDSP", b"NDSS", b"NDXC",
    b"NDXH", b"NDXM", b"NDXP", b"NDXS",
})
# 3GPP and 3GPP2 brands carry a release number: 3gp4..3gp9, 3g2a..3g2c, 3gs7, ...
MP4_BRAND_PREFIXES = (b"3gp", b"3g2", b"3ge", b"3gg", b"3gr", b"3gs")
# Old QuickTime files have no `ftyp` and open with one of these atoms.
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip"})

NAMES = {
    JPEG: "a JPEG image", PNG: "a PNG image", WEBP: "a WebP image", HEIC: "a HEIC image",
    HEIF: "a HEIF image", MP4: "an MP4 video", QUICKTIME: "a QuickTime video",
}
# Formats the service refuses, named for the message that says so.
OTHER_SIGNATURES = (
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"), (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "a gzip archive"),
)


def sniff(head: bytes) -> str | None:
    """The content type `head` (a file's first bytes) really is, or None when not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
        return WEBP
    if head[4:8] == b"ftyp":
        return _ftyp(head)
    if len(head) >= 8 and head[4:8] in QUICKTIME_ATOMS:
        return QUICKTIME
    return None


def accepted(content_type: str | None, is_video: bool) -> bool:
    """Whether `content_type` is one the service takes for a photo (or a video)."""
    if not content_type:
        return False
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare in ACCEPTED["video" if is_video else "image"]


def describe(head: bytes) -> str:
    """A short name for what `head` is, for messages: "a JPEG image", "an HTML document"."""
    content_type = sniff(head)
    if content_type:
        return NAMES[content_type]
    if not head:
        return "an empty file"
    if head[4:8] == b"ftyp" and _brands(head) & AVIF_BRANDS:
        return "an AVIF image"
    for signature, name in OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML document"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG image"
    if text.startswith(b"<?xml"):
        return "an XML document"
    if _is_text(head):
        return "a text file"
    return "unknown content"


def _ftyp(head):
    """The content type an ISO-BMFF file declares in its `ftyp` box."""
    major = head[8:12]
    if len(major) < 4:
        return None
    brands = _brands(head)
    if major in HEIC_BRANDS:
        return HEIC
    if major in HEIF_BRANDS:
        # `mif1` only says "image file"; the compatible brands say which codec.
        if brands & HEIC_BRANDS:
            return HEIC
        return None if brands & AVIF_BRANDS else HEIF
    if major in QUICKTIME_BRANDS:
        return QUICKTIME
    if _mp4_brand(major):
        return MP4
    if major in AVIF_BRANDS:
        return None
    # A vendor's own major brand (Sony, Canon, ...): the compatible ones decide.
    if brands & HEIC_BRANDS:
        return HEIC
    if brands & QUICKTIME_BRANDS:
        return QUICKTIME
    if any(_mp4_brand(brand) for brand in brands):
        return MP4
    return None


def _brands(head):
    """The major and compatible brands of the `ftyp` box at the start of `head`."""
    (size,) = struct.unpack(">I", head[:4])
    # 0 means "to the end of the file"; 1 (a 64-bit size) never happens for `ftyp`.
    end = len(head) if size in (0, 1) else min(size, len(head))
    compatible = (head[i:i + 4] for i in range(16, end - 3, 4))
    return {head[8:12], *compatible}


def _mp4_brand(brand):
    return brand in MP4_BRANDS or brand.startswith(MP4_BRAND_PREFIXES)


def _is_text(head):
    # Up to three bytes may be a multi-byte character cut off by the sniff's end.
    for cut in range(4):
        try:
            text = head[:len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return all(char.isprintable() or char in "\t\r\n" for char in text)
    return False
