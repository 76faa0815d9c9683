"""Clips for the video benchmark: 30 s phone videos at phones' own bit rates.

A 1080p H.264 clip at 16 Mbit/s and a 4K HEVC clip at 40 Mbit/s, 30 frames/s,
a key frame every second, made once and kept in CACHE. Encoding 30 s of 4K HEVC
on two shared cores would take many minutes, so one second (one closed group of
pictures) of moving grain is encoded at the target rate and its packets are
muxed thirty times over with shifted timestamps: the file has the size, the
bit rate and the structure (sample tables, key frames) of a real 30 s clip.
The grain keeps the encoder spending the bits a camera's sensor noise makes it.

    .venv/bin/python -m bench.video_clips     (makes both, prints their paths)
"""
import sys
from fractions import Fraction

import av
import numpy as np

from bench.photos import CACHE as PHOTO_CACHE

# Bump the version when the generator changes, so stale files are not reused.
CACHE = PHOTO_CACHE.parent / "video-v1"
RATE, SECONDS = 30, 30
CLIPS = {
    "1080p-h264": {"codec": "libx264", "size": (1920, 1080), "bit_rate": 16_000_000,
                   "options": {"preset": "veryfast", "profile": "high",
                               "x264-params": "keyint=30:min-keyint=30:scenecut=0:"
                                              "vbv-maxrate=16000:vbv-bufsize=8000:nal-hrd=cbr"}},
    "4k-hevc": {"codec": "libx265", "size": (3840, 2160), "bit_rate": 40_000_000, "tag": "hvc1",
                "options": {"preset": "ultrafast",
                            "x265-params": "keyint=30:min-keyint=30:scenecut=0:open-gop=0:"
                                           "vbv-maxrate=40000:vbv-bufsize=20000:strict-cbr=1:"
                                           "log-level=error"}},
}


def clip_file(name):
    """The path of the clip `name` (a key of CLIPS), made on first use."""
    path = CACHE / f"{name}.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        second = CACHE / f"{name}.second.mp4"
        _encode_second(second, **CLIPS[name])
        _repeat(second, path.with_suffix(".tmp"), SECONDS)
        second.unlink()
        path.with_suffix(".tmp").rename(path)
    return path


def _encode_second(path, codec, size, bit_rate, options, tag=None):
    width, height = size
    rng = np.random.default_rng(7)
    # Luma: a diagonal gradient under grain that moves every frame; chroma: flat.
    base = (np.add.outer(np.arange(height) * 0.05, np.arange(width) * 0.05) % 160 + 48).astype(np.int16)
    chroma = np.full((height // 2, width), 128, np.uint8)
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["creation_time"] = "2024-07-04T15:30:00.000000Z"
        stream = out.add_stream(codec, rate=RATE, options=options)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = width, height, "yuv420p", bit_rate
        if tag:
            stream.codec_tag = tag
        for index in range(RATE):
            grain = rng.integers(-24, 25, size=(height, width), dtype=np.int16)
            luma = np.clip(np.roll(base, index * 8, axis=1) + grain, 16, 235).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def _repeat(source, target, times):
    """`source`'s video packets muxed `times` over, each copy one `source` later."""
    with av.open(str(source)) as given, av.open(str(target), "w", format="mp4") as out:
        out.metadata["creation_time"] = "2024-07-04T15:30:00.000000Z"
        template = given.streams.video[0]
        stream = out.add_stream_from_template(template)
        packets = [(packet, packet.pts, packet.dts) for packet in given.demux(template) if packet.size]
        span = int(Fraction(1, 1) / template.time_base)  # one second in the stream's units
        for copy in range(times):
            # mux() rescales a packet's timestamps in place: set them afresh each time.
            for packet, pts, dts in packets:
                packet.time_base = template.time_base
                packet.pts, packet.dts = pts + copy * span, dts + copy * span
                packet.stream = stream
                out.mux(packet)


if __name__ == "__main__":
    for name in sys.argv[1:] or CLIPS:
        print(clip_file(name))
