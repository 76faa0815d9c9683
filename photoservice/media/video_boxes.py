"""An MP4/QuickTime file's structure, checked from box headers alone before FFmpeg reads it.

FFmpeg's demuxer parses the whole index (`moov`) as it opens a file and makes a stream
for every track it lists, whatever their number or size. So the top-level boxes are
walked first (8 or 16 header bytes each): a box that runs past the end of the file
means the upload was cut short; an index too large to parse cheaply, or one listing
more tracks than a phone writes, is refused.
"""
import struct

from photoservice.media.images import MediaRefused

MAX_MOOV_BYTES = 64 * 2**20  # an hour of 4K at 60 frames/s indexes in ~5 MB
MAX_TRACKS = 16  # a phone writes 2 to 6 (video, audio, metadata)
# Top-level boxes, and boxes directly inside the index: a fragmented recording has a
# moof and an mdat per fragment (two an hour at one fragment a second is 7200).
MAX_BOXES = 65536
CORRUPT = "The video data is corrupt and cannot be read."
INCOMPLETE = "The video file is incomplete: its end is missing."


def check_boxes(file):
    """Refuse a file cut short, an index over MAX_MOOV_BYTES or more than MAX_TRACKS tracks,
    from box headers alone."""
    size = file.seek(0, 2)
    boxes = list(_boxes(file, 0, size, incomplete=True))
    moov = [(start, end) for kind, start, end in boxes if kind == b"moov"]
    if not moov:
        raise MediaRefused("The video has no index (its moov box is missing): "
                           "the file is incomplete or damaged.")
    start, end = moov[0]
    if end - start > MAX_MOOV_BYTES:
        raise MediaRefused(f"The video's index is {(end - start) / 2**20:.0f} MB, over the "
                           f"{MAX_MOOV_BYTES / 2**20:.0f} MB a worker reads.")
    tracks = sum(kind == b"trak" for kind, _, _ in _boxes(file, start + 8, end, incomplete=False))
    if tracks > MAX_TRACKS:
        raise MediaRefused(f"The video has {tracks} tracks; at most {MAX_TRACKS} are read.")


def _boxes(file, position, end, incomplete):
    """(kind, start, end) of each box from `position` to `end`."""
    for _ in range(MAX_BOXES):
        if end - position < 8:
            return  # the end, or a few bytes of padding
        file.seek(position)
        header = file.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        if size == 1 and len(header) == 16:
            size, = struct.unpack(">Q", header[8:])
        elif size == 0:
            size = end - position
        if size < 8:
            raise MediaRefused(CORRUPT)
        if position + size > end:
            raise MediaRefused(INCOMPLETE if incomplete else CORRUPT)
        yield kind, position, position + size
        position += size
    raise MediaRefused(f"The video has more than {MAX_BOXES} boxes at one level.")
