"""Media work again for photos already uploaded: `flask --app wsgi rebuild-media`.

When the derivatives table (photoservice/derivatives.py) gains or changes a size,
photos made before have the sizes of their day. This hands their media work back
to the media workers, as finalize first did: the work reads the file again and
rewrites every variant of the current table under the same keys.

A company may hold a million photos, so the photos go in batches, keyset over
ids (no OFFSET scan, no transaction longer than one batch): each batch is one
UPDATE, committed with its outbox marker clear (held back, as a finalize past its
company's fair share leaves it: photos/outbox.py); then each company's oldest
held-back work is claimed within its share and sent. The rest follows as the
company's media tasks end, or with the sweep: a whole library re-queued never
stands in the queue in front of another company's new photos.

What a rebuild resets: the status (queued), the attempts, the error, and the hash
(the media work reads the file only while the photo has none). What it keeps:
the variants (served until the new ones replace them), the place, and
`processed_event_at` (`photo.processed` is announced once; a rebuild announces
nothing). Videos are rebuilt too: their poster's sizes come from the same table
(their whole file is read again). A photo whose media work
is still queued is left as it is: that work makes the current sizes already, and
resetting its hash under a worker that is half way through would lose it.
"""
from dataclasses import dataclass

from sqlalchemy import select, update

from .. import queue, request_ids
from ..extensions import db
from . import outbox
from .models import MediaStatus, Photo, PhotoStatus

BATCH = 500
#: Media work that has ended, either way: only such a photo is re-queued.
FINISHED = (MediaStatus.PROCESSED.value, MediaStatus.FAILED.value)


@dataclass(frozen=True)
class Batch:
    """One committed batch: how many photos it re-queued, and the last id it looked at."""

    requeued: int
    last_id: int


def requeue_media(company_id=None, photo_id=None, batch=BATCH):
    """Re-queue the media work of uploaded photos (every company's, one company's, or
    one photo), yielding a Batch after each batch is committed and sent.

    Safe to run again and to interrupt: a second run re-queues what has finished
    since; a photo deleted meanwhile is simply not updated.
    """
    candidates = [Photo.status == PhotoStatus.UPLOADED.value, Photo.media_status.in_(FINISHED)]
    if company_id is not None:
        candidates.append(Photo.company_id == company_id)
    if photo_id is not None:
        candidates.append(Photo.id == photo_id)
    after = 0
    while True:
        ids = db.session.execute(select(Photo.id).where(*candidates, Photo.id > after)
                                 .order_by(Photo.id).limit(batch)).scalars().all()
        if not ids:
            return
        # The conditions again, under the rows' locks: a photo re-queued, or deleted,
        # since it was read is skipped.
        requeued = db.session.execute(
            update(Photo).where(Photo.id.in_(ids), *candidates)
            .values(media_status=MediaStatus.QUEUED.value, media_attempts=0, media_error=None,
                    sha256=None, media_dispatched_at=None, media_request_id=request_ids.current())
            .returning(Photo.id, Photo.company_id).execution_options(synchronize_session=False)).all()
        db.session.commit()
        for company_id in sorted({company for _, company in requeued}):
            queue.send_claimed("media", outbox.claim_media(company_id))
        after = ids[-1]
        yield Batch(len(requeued), after)
