"""A video's facts and its poster's derivatives, from the file a phone uploaded.

analyse_video() walks the MP4/QuickTime boxes first (headers only, video_boxes.py):
a file cut short, an index (`moov`) too large to parse or too many tracks is refused
before FFmpeg reads anything. FFmpeg (PyAV) then reads the index; the frame size the
stream's header claims is checked against the pixel limit before any decode,
and the decoder itself refuses a frame over it. The poster is the key frame at
or before POSTER_AT (else the first after it): its packet is read after one seek
and decoded alone (every frame but key frames skipped), one thread; at most
MAX_PACKETS packets are read looking for it, so a key frame far away costs no
more than one nearby, and a stream without one is refused quickly. The
frame is scaled by FFmpeg straight to the largest derivative, turned upright as
the display matrix says, and the derivatives are made as a photo's are.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import av

from photoservice.derivatives import DERIVATIVES, fitted
from photoservice.media import video_tags
from photoservice.media.images import (DECODE_BUDGET_BYTES, Derivative, MediaRefused,
                                       derivatives_of)
from photoservice.media.video_boxes import CORRUPT, MAX_TRACKS, check_boxes

POSTER_AT = 1.0  # seconds in: past a fade-in or a shaky start, still early
MAX_PACKETS = 64  # read after the seek, looking for a decodable key frame
MAX_PACKET_BYTES = 64 * 2**20  # a 4K HEVC key frame is ~1 MB
# What decoding one frame takes, per pixel of the frame (measured on 4K HEVC and
# 1080p H.264: frame pool, reference and scaling buffers).
DECODE_BYTES_PER_PIXEL = 8
DECODERS = frozenset({"h264", "hevc", "libdav1d", "vp9", "mpeg4", "prores", "mjpeg"})
# FFmpeg options: the demuxer makes no stream past MAX_TRACKS and probes at most 1 MiB
# of packets (probing H.264 decodes a few frames: ~35 ms at 1080p); every decoder (also
# those FFmpeg opens while probing) refuses frames over the limit.
CONTAINER_OPTIONS = {"max_streams": str(MAX_TRACKS), "probesize": str(2**20), "fpsprobesize": "0"}
# Display matrix rotation (degrees counter-clockwise) -> the EXIF orientation that
# turns the stored frame upright.
ORIENTATIONS = {0: 1, -90: 6, 270: 6, 180: 3, -180: 3, 90: 8, -270: 8}


@dataclass(frozen=True)
class VideoFacts:
    width: int  # as displayed: rotation and pixel aspect applied
    height: int
    duration: float | None  # seconds
    captured_at: datetime | None  # timezone-aware
    latitude: float | None
    longitude: float | None
    derivatives: tuple[Derivative, ...]  # of the poster frame
    warnings: tuple[str, ...] = ()


def analyse_video(file: BinaryIO, max_pixels: int) -> VideoFacts:
    """Facts and poster derivatives of the MP4/QuickTime video in `file` (seekable).

    Raises MediaRefused when the file is damaged, too large to read safely, has no
    video track the service decodes, or frames of more than `max_pixels` pixels.
    """
    check_boxes(file)
    file.seek(0)
    try:
        with av.open(file, "r", format="mov", container_options=CONTAINER_OPTIONS,
                     options={"max_pixels": str(max_pixels), "threads": "1"},
                     metadata_errors="replace") as container:
            stream = _video_stream(container)
            _check_frame(stream.codec_context.width, stream.codec_context.height, max_pixels)
            tags = {**stream.metadata, **container.metadata}
            duration = _duration(container, stream)
            frame = _poster(container, stream)
            _check_frame(frame.width, frame.height, max_pixels)
            image, orientation = _picture(frame, stream)
            # Read while the container is open: the stream's fields point into it.
            width, height = _stored_display_size(frame, stream)
    except (av.FFmpegError, ValueError, OverflowError):
        # ValueError, OverflowError: PyAV turning absurd values (a display matrix of
        # zeros, a time base of 0) into Python numbers.
        raise MediaRefused(CORRUPT) from None
    place = video_tags.coordinates(tags)
    if orientation >= 5:
        width, height = height, width
    return VideoFacts(width, height, duration, video_tags.captured_at(tags, place),
                      *(place or (None, None)), derivatives_of(image, orientation))


def _video_stream(container):
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:  # not cover art
            if stream.codec_context.name not in DECODERS:
                raise MediaRefused(f"The video is encoded as {stream.codec_context.name}; "
                                   "H.264 and HEVC videos (and AV1, VP9, MPEG-4, ProRes) are read.")
            return stream
    raise MediaRefused("The file has no video track.")


def _check_frame(width, height, max_pixels):
    if not width or not height:
        raise MediaRefused("The video's header gives no frame size.")
    if width * height > max_pixels:
        raise MediaRefused(
            f"The video's frames are {width}x{height} pixels ({width * height / 1e6:.1f} "
            f"megapixels); the limit is {max_pixels / 1e6:g} megapixels.")
    if width * height * DECODE_BYTES_PER_PIXEL > DECODE_BUDGET_BYTES:
        raise MediaRefused(
            f"The video's frames are {width}x{height} pixels; decoding one would take "
            f"{width * height * DECODE_BYTES_PER_PIXEL / 2**20:.0f} MB, over the "
            f"{DECODE_BUDGET_BYTES / 2**20:.0f} MB a worker allows.")


def _duration(container, stream):
    if container.duration and container.duration > 0:
        return round(container.duration / av.time_base, 3)
    if stream.duration and stream.time_base and stream.duration > 0:
        return round(float(stream.duration * stream.time_base), 3)
    return None


def _poster(container, stream):
    """The first key frame at or before POSTER_AT that decodes cleanly."""
    decoder = stream.codec_context
    decoder.skip_frame = "NONKEY"
    decoder.thread_count = 1
    entries = stream.index_entries
    if len(entries) and stream.time_base:
        target = int(POSTER_AT / stream.time_base)
        found = entries.search_timestamp(target, backward=True)
        if found < 0:  # no key frame that early: the first one after, however far
            found = entries.search_timestamp(target, backward=False)
        if found >= 0 and entries[found].size > MAX_PACKET_BYTES:
            _too_large(entries[found].size)
        if found > 0:
            container.seek(entries[found].timestamp, stream=stream, backward=True)
    for count, packet in enumerate(container.demux(stream)):
        if count >= MAX_PACKETS:
            break
        if packet.size > MAX_PACKET_BYTES:
            _too_large(packet.size)
        if not packet.is_keyframe:
            continue
        try:
            frames = [*stream.decode(packet), *stream.decode(None)]
        except av.InvalidDataError:
            frames = []
        clean = [frame for frame in frames if not frame.is_corrupt]
        if clean:
            return clean[0]
        decoder.flush_buffers()  # after the drain above, ready for the next key frame
    raise MediaRefused("No picture near the start of the video could be decoded.")


def _too_large(size):
    raise MediaRefused(f"A frame of the video is {size / 2**20:.0f} MB, over the "
                       f"{MAX_PACKET_BYTES / 2**20:.0f} MB a worker reads.")


def _picture(frame, stream):
    """(the poster as an RGB image no larger than the largest derivative, its EXIF-style
    orientation); FFmpeg scales it, the pixel aspect ratio applied."""
    orientation = ORIENTATIONS.get(round(frame.rotation or 0), 1)
    width, height = fitted(_stored_display_size(frame, stream), max(DERIVATIVES.values()))
    scaled = frame.reformat(width=width, height=height, format="rgb24", interpolation="BICUBIC")
    return scaled.to_image(), orientation


def _stored_display_size(frame, stream):
    """(width, height) of the stored frame with its pixel aspect ratio applied."""
    aspect = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if aspect and 0.1 <= aspect <= 10 and aspect != 1:
        return max(1, round(frame.width * aspect)), frame.height
    return frame.width, frame.height
