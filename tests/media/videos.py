"""Videos made in the tests with PyAV: tiny H.264 and HEVC clips in MP4 or QuickTime,
with the container tags and display matrix phones write, and damaged ones.

A rotation is written as phones write it: the display matrix in the video track's
header (`tkhd`), patched into the muxed file.
"""
import io
import random
import struct

import av
import numpy as np

RED, BLUE = (230, 30, 30), (30, 30, 230)


def clip(size=(64, 48), codec="libx264", format="mp4", tags=None, rotation=0, frames=5,
         baseline=False, key_every=None, sound=False, fragmented=False, pix_fmt="yuv420p"):
    """A clip whose upright picture is `size` (width, height), red in its top third and blue
    below. With `rotation` (90, 180, 270: clockwise, as a phone held sideways records) the
    pixels are stored turned the other way and the display matrix says how to show them.
    `sound` adds an AAC track of silence, as phones record; `fragmented` writes the
    pictures in fragments after an empty index (`moof` boxes), as some recorders do;
    `pix_fmt="yuv420p10le"` with HEVC is an iPhone's HDR video (Main 10).
    """
    stored_width = size[1] if rotation in (90, 270) else size[0]
    # libx265 4.2 corrupts the heap on frames narrower than 64 pixels (48: always).
    assert codec != "libx265" or stored_width >= 64, "HEVC clips must be stored 64 pixels wide or more"
    width, height = size
    upright = np.empty((height, width, 3), np.uint8)
    upright[: height // 3], upright[height // 3:] = RED, BLUE
    stored = np.ascontiguousarray(np.rot90(upright, k=rotation // 90))  # counter-clockwise
    buffer = io.BytesIO()
    # A phone's QuickTime tags (a `keys` box) are written only with use_metadata_tags.
    flags = ["use_metadata_tags"] * (format == "mov") + ["frag_keyframe", "empty_moov"] * fragmented
    with av.open(buffer, "w", format=format, options={"movflags": "+".join(flags)} if flags else {}) as out:
        out.metadata.update(tags or {})
        # One thread: the tests share two cores with everything else.
        options = {"preset": "ultrafast", "threads": "1"}
        options.update({"x265-params": "log-level=none:pools=none:frame-threads=1"}
                       if codec == "libx265" else {})
        options.update({"profile": "baseline"} if baseline else {})
        options.update({"x264-params": f"keyint={key_every}:scenecut=0"} if key_every else {})
        stream = out.add_stream(codec, rate=25, options=options)
        stream.height, stream.width = stored.shape[:2]
        stream.pix_fmt = pix_fmt
        audio = out.add_stream("aac", rate=8000) if sound else None
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            out.mux(stream.encode(frame.reformat(format=pix_fmt)))
        out.mux(stream.encode())
        if audio:
            _silence(out, audio, seconds=frames / 25)
    return with_matrix(buffer.getvalue(), rotation) if rotation else buffer.getvalue()


def _silence(out, stream, seconds, rate=8000):
    for start in range(0, int(seconds * rate), 1024):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate, frame.pts = rate, start
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        out.mux(stream.encode(frame))
    out.mux(stream.encode())


def with_matrix(data, rotation=0, matrix=None):
    """The clip with its video track's display matrix (in `tkhd`, where phones write it)
    turned `rotation` degrees clockwise, or set to `matrix` (a, b, c, d in 16.16)."""
    a, b, c, d = matrix or ROTATIONS[rotation]
    moov_offset, moov_size = boxes(data)[b"moov"]
    start = data.index(b"tkhd", moov_offset, moov_offset + moov_size) - 4
    at = start + (60 if data[start + 8] == 1 else 48)  # the matrix, after version 1 or 0 fields
    patched = bytearray(data)
    struct.pack_into(">ii", patched, at, a, b)
    struct.pack_into(">ii", patched, at + 12, c, d)
    return bytes(patched)


ONE = 0x10000
# Clockwise rotation -> the matrix's a, b, c, d (QuickTime's [a b u; c d v; x y w]).
ROTATIONS = {0: (ONE, 0, 0, ONE), 90: (0, ONE, -ONE, 0), 180: (-ONE, 0, 0, -ONE),
             270: (0, -ONE, ONE, 0)}


def boxes(data, start=0, end=None):
    """{kind: (offset, size)} of the boxes from `start` (the first of each kind)."""
    found, position, end = {}, start, len(data) if end is None else end
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        found.setdefault(kind, (position, size))
        position += size or end - position
    return found


def many_tracks(data, count):
    """The clip with its one track repeated `count` times in its index (which sits after
    the pictures, so no offset moves)."""
    moov_offset, moov_size = boxes(data)[b"moov"]
    assert moov_offset > boxes(data)[b"mdat"][0]
    trak_offset, trak_size = boxes(data, moov_offset + 8, moov_offset + moov_size)[b"trak"]
    trak = data[trak_offset:trak_offset + trak_size]
    extra = trak * (count - 1)
    moov = struct.pack(">I", moov_size + len(extra)) + data[moov_offset + 4:trak_offset] + extra + \
        data[trak_offset:moov_offset + moov_size]
    return data[:moov_offset] + moov + data[moov_offset + moov_size:]


def late_key_frame(frames=60, key_every=40):
    """A clip whose first packet (a key frame) was lost: its first key frame comes
    key_every frames in, after frames that cannot be shown alone."""
    source = av.open(io.BytesIO(clip(frames=frames, baseline=True, key_every=key_every)))
    buffer = io.BytesIO()
    with source, av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for index, packet in enumerate(source.demux(source.streams.video[0])):
            if index and packet.size:
                packet.stream = stream
                out.mux(packet)
    return buffer.getvalue()


def truncated(data):
    """The first half of the file, as an interrupted upload leaves it."""
    return data[: len(data) // 2]


def scrambled_index(data):
    """The index (moov) overwritten with noise, its own header kept."""
    offset, size = boxes(data)[b"moov"]
    noise = random.Random(21).randbytes(size - 8)
    return data[: offset + 8] + noise + data[offset + size:]


def scrambled_pictures(data):
    """Every picture's bytes (the mdat) overwritten with noise, the index kept."""
    offset, size = boxes(data)[b"mdat"]
    noise = random.Random(22).randbytes(size - 8)
    return data[: offset + 8] + noise + data[offset + size:]


def enormous(data, width_mbs=768, height_mbs=768):
    """A baseline H.264 clip (clip(baseline=True)) whose sequence header claims frames of width_mbs x height_mbs macroblocks
    (12288 x 12288 pixels by default): its SPS is rewritten in place, the same length."""
    position = data.index(b"avcC")
    sps_length, = struct.unpack_from(">H", data, position + 4 + 6)
    start = position + 4 + 8
    nal = data[start:start + sps_length]
    bits = _Bits(_unescape(nal[1:]))
    head = [bits.read(8) for _ in range(3)]  # profile, constraints, level
    assert head[0] == 66, "a baseline profile SPS is expected"
    fields = [bits.ue(), bits.ue(), bits.ue()]  # sps id, log2 max frame num - 4, poc type
    assert fields[2] == 2, "poc type 2 (no B-frames) is expected"
    refs, gaps = bits.ue(), bits.read(1)
    bits.ue(), bits.ue()  # the real width and height
    frame_mbs_only, direct_8x8 = bits.read(1), bits.read(1)
    out = _Writer()
    for value in head:
        out.write(value, 8)
    for value in (*fields, refs):
        out.ue(value)
    out.write(gaps, 1)
    out.ue(width_mbs - 1)
    out.ue(height_mbs - 1)
    out.write(frame_mbs_only, 1)
    out.write(direct_8x8, 1)
    out.write(0, 1)  # no cropping
    out.write(0, 1)  # no VUI
    rewritten = nal[:1] + _escape(out.finish())
    assert len(rewritten) <= len(nal)
    rewritten += b"\x00" * (len(nal) - len(rewritten))  # trailing zero bytes: allowed
    return data[:start] + rewritten + data[start + sps_length:]


class _Bits:
    def __init__(self, data):
        self.value, self.left = int.from_bytes(data, "big"), len(data) * 8

    def read(self, count):
        self.left -= count
        return (self.value >> self.left) & ((1 << count) - 1)

    def ue(self):
        zeros = 0
        while not self.read(1):
            zeros += 1
        return (1 << zeros) - 1 + self.read(zeros)


class _Writer:
    def __init__(self):
        self.value, self.count = 0, 0

    def write(self, value, count):
        self.value, self.count = (self.value << count) | value, self.count + count

    def ue(self, value):
        code = value + 1
        self.write(0, code.bit_length() - 1)
        self.write(code, code.bit_length())

    def finish(self):
        self.write(1, 1)  # the stop bit
        self.write(0, -self.count % 8)
        return self.value.to_bytes(self.count // 8, "big")


def _unescape(data):
    return data.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(data):
    out, zeros = bytearray(), 0
    for byte in data:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)
