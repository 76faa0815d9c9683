"""A read-only file made of pieces of another file, for Pillow to open.

containers.py describes what Pillow may see of an upload (the parts that carry
pixels) as pieces: (offset, length) ranges of the upload, or a few bytes of its
own (a header rewritten to match). Nothing is copied until Pillow reads it.
"""
import bisect
import io
import os


class Spliced(io.RawIOBase):
    """The concatenation of `pieces`: bytes, or (offset, length) ranges of `source`."""

    def __init__(self, source, pieces):
        super().__init__()
        self._source = source
        self._pieces = []
        self._starts = []
        self._size = 0
        for piece in pieces:
            length = len(piece) if isinstance(piece, bytes) else piece[1]
            if length > 0:
                self._starts.append(self._size)
                self._pieces.append(piece)
                self._size += length
        self._position = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=os.SEEK_SET):
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def read(self, size=-1):
        if size is None or size < 0:
            size = self._size - self._position
        parts = []
        while size > 0 and self._position < self._size:
            index = bisect.bisect_right(self._starts, self._position) - 1
            piece, skip = self._pieces[index], self._position - self._starts[index]
            if isinstance(piece, bytes):
                data = piece[skip:skip + size]
            else:
                offset, length = piece
                self._source.seek(offset + skip)
                data = self._source.read(min(size, length - skip))
                if not data:  # the source is shorter than it said
                    break
            parts.append(data)
            self._position += len(data)
            size -= len(data)
        return b"".join(parts)

    def readall(self):
        return self.read()

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
