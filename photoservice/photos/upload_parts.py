"""A resumable upload's parts: the layout the server chooses, and completing the upload
from the parts the store itself received.

The upload goes straight to the photo's original key (object_keys.original_key),
which no upload policy names: once completed, it is the original, and nothing is
copied. Part URLs are signed only for a pending photo's open upload id, and a
completed upload id is gone from the store, so nothing a client can sign later
changes what is served.
"""
from flask import current_app

from .. import multipart_store, storage
from ..errors import Conflict

MIB = 1024 * 1024
#: The smallest part the server chooses: S3 takes no part but the last under 5 MiB;
#: 8 MiB (boto3's own chunk size) is ~6 s at 10 Mbit/s, little to send again.
MIN_PART_SIZE = 8 * MIB
#: S3's most parts in one upload.
MAX_PARTS = 10_000


def upload_limit(is_video):
    """The largest file the resumable path takes for a photo or a video."""
    return current_app.config["VIDEO_UPLOAD_MAX_BYTES" if is_video else "PHOTO_UPLOAD_MAX_BYTES"]


def part_size_for(size):
    """The part size for a file of `size` bytes: MIN_PART_SIZE, or whole MiB enough to stay
    within MAX_PARTS."""
    return max(MIN_PART_SIZE, -(-size // (MAX_PARTS * MIB)) * MIB)


def part_count(size, part_size):
    return -(-size // part_size)


def part_length(number, size, part_size):
    """The exact length of part `number` (1-based): part_size, less for the last."""
    return min(part_size, size - (number - 1) * part_size)


def complete(photo, target):
    """Complete the photo's open upload into `target` from the store's own part list; the
    stored object (storage.StoredObject). 409 with `missing_parts` and `wrong_size_parts`
    when a part is missing or of the wrong length (the upload stays open); UploadGone when
    the upload is no longer in the store and made no object.

    An upload completed by a finalize that then did not commit is gone too: its object,
    of the declared size, is taken as it is.
    """
    size, part_size = photo.multipart_size, photo.multipart_part_size
    received = multipart_store.parts(target, photo.multipart_upload_id)
    if received is not None:
        by_number = {part.number: part for part in received}
        numbers = range(1, part_count(size, part_size) + 1)
        missing = [number for number in numbers if number not in by_number]
        wrong = [number for number in numbers if number in by_number
                 and by_number[number].size != part_length(number, size, part_size)]
        if missing or wrong:
            raise Conflict("The resumable upload is not complete: upload the parts listed "
                           "(ask parts/ for their URLs), then finalize again.",
                           details={"missing_parts": missing, "wrong_size_parts": wrong})
        multipart_store.complete(target, photo.multipart_upload_id,
                                 [by_number[number] for number in numbers])
    stored = storage.stat_object(target)
    if stored is None or stored.size != size:
        raise UploadGone()
    return stored


class UploadGone(Conflict):
    """The open upload is no longer in the store (aborted, or past its time), and no object
    was made from it."""

    def __init__(self):
        super().__init__("The resumable upload is no longer open (aborted or expired): start "
                         "it again (POST multipart/) and send every part.")
