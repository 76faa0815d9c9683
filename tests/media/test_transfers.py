"""How the media work moves a photo's bytes: the original read as it arrives, the
derivatives stored side by side, and the row written in few statements; against the real
store and database, with failures put in where the store would fail."""
import hashlib
import threading
import time

import pytest
from sqlalchemy import event

from photoservice import storage
from photoservice.derivatives import DERIVATIVES
from photoservice.errors import DependencyUnavailable
from photoservice.extensions import db
from photoservice.media import images
from photoservice.processing import arriving, media
from tests.media.images import DENVER, jpeg
from tests.support import load_photo


def run_media(app, photo_id):
    with app.app_context():
        media.process_media(photo_id)
    return load_photo(app, photo_id)


def assert_nothing_recorded(app, photo_id):
    """The attempt counted, and nothing of the file: the work waits for its retry."""
    photo = load_photo(app, photo_id)
    assert photo.media_status == "queued" and photo.media_attempts == 1
    assert (photo.sha256, photo.variants, photo.width, photo.media_error) == (None, None, None, None)


def test_the_derivatives_are_stored_side_by_side(app, uploaded, monkeypatch):
    # Every derivative's upload must be under way before any of them ends: in turn, the
    # first would wait at the barrier alone and break it.
    both_sent = threading.Barrier(len(DERIVATIVES), timeout=10)
    real_put = storage.put_object

    def put(key, data, content_type):
        both_sent.wait()
        real_put(key, data, content_type)

    monkeypatch.setattr(storage, "put_object", put)
    photo = run_media(app, uploaded(jpeg(2000, 1500)))
    assert photo.media_status == "processed" and set(photo.variants) == set(DERIVATIVES)


def test_the_largest_derivative_is_on_its_way_while_the_smaller_are_made(app, uploaded, monkeypatch):
    # The thumbnail's encoding waits for the web derivative's upload to start: were the
    # uploads started only once every derivative was made, it would wait in vain.
    web_sent, waited, encoded = threading.Event(), [], []
    real_put, real_jpeg = storage.put_object, images._jpeg

    def put(key, data, content_type):
        if key.endswith(".web.jpg"):
            web_sent.set()
        real_put(key, data, content_type)

    def encode(image):
        if encoded:  # a smaller one than the largest
            waited.append(web_sent.wait(5))
        encoded.append(image.size)
        return real_jpeg(image)

    monkeypatch.setattr(storage, "put_object", put)
    monkeypatch.setattr(images, "_jpeg", encode)
    photo = run_media(app, uploaded(jpeg(2000, 1500)))
    assert photo.media_status == "processed" and set(photo.variants) == set(DERIVATIVES)
    assert len(encoded) == len(DERIVATIVES) and waited == [True] * (len(DERIVATIVES) - 1)


def test_a_store_outage_on_one_derivative_records_nothing(app, uploaded, monkeypatch):
    content = jpeg(2000, 1500)
    photo_id = uploaded(content)
    real_put, stored = storage.put_object, []

    def put(key, data, content_type):
        if key.endswith(".web.jpg"):
            time.sleep(0.2)  # the other one has ended by then: its object is in the store
            raise DependencyUnavailable("The object store is unavailable; try again shortly.")
        real_put(key, data, content_type)
        stored.append(key)

    monkeypatch.setattr(storage, "put_object", put)
    with app.app_context(), pytest.raises(DependencyUnavailable):
        media.process_media(photo_id)
    assert stored  # the other derivative went up meanwhile ...
    assert_nothing_recorded(app, photo_id)  # ... yet the row names none of them
    monkeypatch.undo()
    photo = run_media(app, photo_id)
    assert photo.media_status == "processed" and photo.media_attempts == 2
    assert photo.sha256 == hashlib.sha256(content).hexdigest()


def cut_off(after_bytes, then):
    """storage.open_object whose body stops after `after_bytes`: `then` is raised (or
    None: the body just ends, shorter than the object)."""
    real_open = storage.open_object

    def open_object(key, chunk_size=1 << 20):
        size, chunks = real_open(key, chunk_size=4096)

        def partial():
            sent = 0
            for chunk in chunks:
                if sent + len(chunk) > after_bytes:
                    if then is not None:
                        raise then
                    return
                sent += len(chunk)
                yield chunk
        return size, partial()
    return open_object


@pytest.mark.parametrize("then", [DependencyUnavailable("The object store is unavailable."), None])
def test_a_transfer_cut_off_is_an_outage_not_a_damaged_file(app, uploaded, monkeypatch, then):
    # The decoder reading what arrived would call the file truncated: a permanent failure.
    content = jpeg(2000, 1500, quality=95)
    photo_id = uploaded(content)
    monkeypatch.setattr(storage, "open_object", cut_off(len(content) // 2, then))
    with app.app_context(), pytest.raises(DependencyUnavailable):
        media.process_media(photo_id)
    assert_nothing_recorded(app, photo_id)
    monkeypatch.undo()
    assert run_media(app, photo_id).media_status == "processed"


def test_the_attempt_is_saved_before_the_file_is_read(app, uploaded, monkeypatch):
    photo_id = uploaded(jpeg(640, 480))
    seen = []
    real_analyse = media.analyse_image

    def analyse(source, max_pixels, **kwargs):
        seen.append(load_photo(app, photo_id).media_attempts)  # another session's view
        return real_analyse(source, max_pixels, **kwargs)

    monkeypatch.setattr(media, "analyse_image", analyse)
    assert run_media(app, photo_id).media_status == "processed"
    assert seen == [1]


def statements_of(app, photo_id):
    """The SQL statements one photo's media work sends."""
    sent = []

    def note(conn, cursor, statement, *args):
        sent.append(statement.split(None, 1)[0].upper())

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            media.process_media(photo_id)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    return sent


def test_the_work_reads_and_writes_the_row_once_each(app, uploaded):
    # The claim (counting the attempt) returns the row; the facts go in one UPDATE.
    assert statements_of(app, uploaded(jpeg(640, 480))) == ["UPDATE", "UPDATE"]
    # A place from the file alone, already in the geocoding cache: one look there.
    run_media(app, uploaded(jpeg(640, 480, gps=DENVER)))
    assert statements_of(app, uploaded(jpeg(640, 480, gps=DENVER))) == ["UPDATE", "SELECT", "UPDATE"]


def test_an_arriving_file_reads_what_has_arrived_and_waits_for_the_rest():
    content = bytes(range(256)) * 4096  # 1 MiB
    chunks_sent = threading.Event()

    def slowly():
        for start in range(0, len(content), 65536):
            yield content[start:start + 65536]
            time.sleep(0.002)
        chunks_sent.set()

    with arriving.arriving(len(content), slowly()) as (file, digest):
        assert file.seek(0, 2) == len(content)  # its size is known before it has arrived
        file.seek(100)
        head = file.read(10)
        read = head + file.read()
    assert read == content[100:]
    assert digest == [hashlib.sha256(content).hexdigest()]


def test_an_arriving_file_stops_readers_when_the_transfer_fails():
    def broken():
        yield b"x" * 1000
        raise DependencyUnavailable("The object store is unavailable.")

    with pytest.raises(DependencyUnavailable):
        with arriving.arriving(5000, broken()) as (file, _):
            assert file.read(1000) == b"x" * 1000
            with pytest.raises(arriving.TransferFailed):
                file.read(1)
