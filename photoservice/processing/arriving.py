"""The original as it arrives: read by the media work while the store is still sending it.

A photo's bytes are hashed and written to a temporary file once, by a thread of their
own, as they come off the socket; the decoder reads the same file meanwhile, waiting
only where it has caught up with the transfer. The download, the hash and the decode
no longer take turns. The bytes sit in the page cache, not in the worker: a 48 MP
photo's 16 MB no longer add to the worker's peak.
"""
import hashlib
import io
import os
import tempfile
import threading
from contextlib import contextmanager

from ..errors import DependencyUnavailable


class TransferFailed(Exception):
    """The transfer stopped before the bytes a read asked for arrived (the reader's side of
    the transfer's own error, which `arriving` raises)."""


class ArrivingFile(io.FileIO):
    """`spool` (an unbuffered temporary file) read while another thread writes it from
    start to end (`append`): a read-only file of `size` bytes, its announced size, whose
    reads return once the bytes they ask for are there."""

    def __init__(self, size, spool):
        super().__init__(spool.fileno(), "rb", closefd=False)
        self._size = size
        self._arrived = 0
        self._failed = False
        self._changed = threading.Condition()

    def append(self, chunk):
        """The next bytes of the file, from the transfer's thread."""
        end = self._arrived + len(chunk)
        if end > self._size:
            raise DependencyUnavailable("The object store sent more bytes than the object holds.")
        written = 0
        while written < len(chunk):  # at its own offsets: the reader's position stays put
            written += os.pwrite(self.fileno(), memoryview(chunk)[written:], self._arrived + written)
        with self._changed:
            self._arrived = end
            self._changed.notify_all()

    def stop(self):
        """The transfer ended before the last byte: reads waiting for more raise TransferFailed."""
        with self._changed:
            self._failed = True
            self._changed.notify_all()

    def seek(self, offset, whence=os.SEEK_SET):
        if whence == os.SEEK_END:  # the announced end, not what has arrived so far
            offset, whence = self._size + offset, os.SEEK_SET
        return super().seek(offset, whence)

    def read(self, size=-1):
        wanted = self._size if size is None or size < 0 else self.tell() + size
        self._wait_for(min(self._size, wanted))
        return super().read(size)

    def readall(self):
        return self.read()

    def readinto(self, buffer):
        self._wait_for(min(self._size, self.tell() + len(buffer)))
        return super().readinto(buffer)

    def _wait_for(self, end):
        if self._arrived >= end:
            return
        with self._changed:
            while self._arrived < end and not self._failed:
                self._changed.wait()
            if self._arrived < end:
                raise TransferFailed("the transfer stopped before these bytes arrived")


@contextmanager
def arriving(size, chunks):
    """An ArrivingFile of `size` bytes, filled from `chunks` by a thread of its own while the
    caller reads it; yields (file, digest), digest a list that holds the sha256 (hex) once
    the block ends. Leaving the block waits for the whole transfer; a transfer that failed
    raises its own error there (DependencyUnavailable), whatever the reading made of it.
    """
    spool = tempfile.TemporaryFile(prefix="photoservice-media-", buffering=0)
    file, digest, failure = ArrivingFile(size, spool), [], []

    def fill():
        sha256, received = hashlib.sha256(), 0
        try:
            for chunk in chunks:
                sha256.update(chunk)  # large chunks are hashed outside the GIL
                file.append(chunk)
                received += len(chunk)
            if received != size:
                raise DependencyUnavailable("The object store sent fewer bytes than the object holds.")
            digest.append(sha256.hexdigest())
        except BaseException as error:  # handed to the reader's thread, below
            failure.append(error)
            file.stop()

    transfer = threading.Thread(target=fill, name="media-download", daemon=True)
    transfer.start()
    try:
        yield file, digest
    finally:
        transfer.join()
        file.close()
        spool.close()
        if failure:
            raise failure[0]


def copy_hashed(chunks, file):
    """Write `chunks` to `file` and rewind it; the sha256 (hex) of what was written."""
    sha256 = hashlib.sha256()
    for chunk in chunks:
        sha256.update(chunk)
        file.write(chunk)
    file.flush()
    file.seek(0)
    return sha256.hexdigest()
