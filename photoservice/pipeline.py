"""The seam between the API and background work.

Services send `photo_created` after the photo's row is committed; the worker
package connects the receiver that queues the processing tasks. With nothing
connected, creating a photo still works: processing simply has no consumer.
"""
from blinker import Namespace

signals = Namespace()

#: Sent with `photo_id=` once a new photo's row is committed.
photo_created = signals.signal("photo-created")


def announce_photo_created(photo_id):
    photo_created.send(None, photo_id=photo_id)
