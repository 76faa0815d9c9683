"""A video's facts and poster (media.video) from clips PyAV makes here: real H.264 and
HEVC in MP4 and QuickTime, with phones' tags and display matrices, and damaged ones."""
import io
import time
from datetime import datetime, timedelta, timezone

import av
import pytest
from PIL import Image

from photoservice.media import video_tags
from photoservice.media.images import MediaRefused
from photoservice.media.video import MAX_TRACKS, analyse_video
from tests.media import videos
from tests.media.videos import BLUE, RED, clip

LIMIT = 100_000_000  # MEDIA_MAX_PIXELS's default
APPLE_DENVER = {"com.apple.quicktime.creationdate": "2024-07-04T09:30:00-0600",
                "com.apple.quicktime.location.ISO6709": "+39.7392-104.9903+1609.000/"}


def analyse(data, max_pixels=LIMIT):
    return analyse_video(io.BytesIO(data), max_pixels)


def poster(facts, name="thumbnail"):
    [derivative] = [d for d in facts.derivatives if d.name == name]
    image = Image.open(io.BytesIO(derivative.data))
    assert image.format == "JPEG" and image.size == (derivative.width, derivative.height)
    return image, derivative.data


def near(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def assert_upright(image):
    """Red in the top third, blue below, as the clip's picture is meant to be seen."""
    width, height = image.size
    assert near(image.getpixel((width // 2, height // 8)), RED)
    assert near(image.getpixel((width // 2, height * 7 // 8)), BLUE)


@pytest.mark.parametrize("codec, format", [("libx264", "mp4"), ("libx265", "mp4"),
                                           ("libx264", "mov"), ("libx265", "mov")])
def test_a_landscape_clip_is_measured_and_gets_an_upright_poster(codec, format):
    facts = analyse(clip((96, 64), codec=codec, format=format, frames=10))
    assert (facts.width, facts.height, facts.duration) == (96, 64, 0.4)
    assert (facts.captured_at, facts.latitude, facts.longitude) == (None, None, None)  # no tags at all
    # Never upscaled: both sizes are the frame itself.
    assert [(d.name, d.width, d.height) for d in facts.derivatives] == [
        ("thumbnail", 96, 64), ("web", 96, 64)]
    assert_upright(poster(facts)[0])


@pytest.mark.parametrize("rotation", [90, 270])
@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_a_portrait_phone_clip_is_shown_upright(rotation, codec):
    facts = analyse(clip((48, 64), codec=codec, format="mov", rotation=rotation))
    assert (facts.width, facts.height) == (48, 64)  # as displayed, not as stored (64 x 48)
    image, _ = poster(facts)
    assert image.size == (48, 64)
    assert_upright(image)


def test_an_upside_down_clip_is_turned_over():
    facts = analyse(clip((64, 48), rotation=180))
    assert (facts.width, facts.height) == (64, 48)
    assert_upright(poster(facts, "web")[0])


@pytest.mark.parametrize("format", ["mp4", "mov"])
def test_a_clip_with_sound_or_in_fragments_is_read(format):
    tags = APPLE_DENVER if format == "mov" else {"location": "+39.7392-104.9903/"}
    with_sound = analyse(clip(format=format, sound=True, tags=tags))
    assert (with_sound.width, with_sound.height, with_sound.latitude) == (64, 48, 39.7392)
    assert_upright(poster(with_sound)[0])
    fragmented = analyse(clip(format=format, sound=True, fragmented=True, frames=60, key_every=25))
    assert (fragmented.width, fragmented.height, fragmented.duration) == (64, 48, 2.56)
    assert_upright(poster(fragmented)[0])


def test_a_ten_bit_hevc_clip_gives_an_eight_bit_poster():
    facts = analyse(clip((48, 64), codec="libx265", format="mov", pix_fmt="yuv420p10le", rotation=90))
    image, _ = poster(facts)
    assert image.mode == "RGB" and image.size == (48, 64)
    assert_upright(image)


def test_a_display_matrix_of_zeros_shows_the_frame_as_stored():
    facts = analyse(videos.with_matrix(clip(), matrix=(0, 0, 0, 0)))
    assert (facts.width, facts.height) == (64, 48)
    assert_upright(poster(facts)[0])


def test_tags_that_are_not_utf8_are_read_around():
    content = clip(tags={"location": "+40.7128-074.0060/", "title": "Zroof"})
    facts = analyse(content.replace(b"Zroof", b"\xff\xfeoof"))
    assert (facts.latitude, facts.longitude) == (40.7128, -74.006)


def test_a_large_frame_is_scaled_to_each_size():
    facts = analyse(clip((1920, 1080), frames=1))
    assert [(d.name, d.width, d.height) for d in facts.derivatives] == [
        ("thumbnail", 400, 225), ("web", 1600, 900)]
    assert_upright(poster(facts, "web")[0])


def test_an_iphone_clip_gives_its_local_time_with_offset_and_its_place():
    facts = analyse(clip(codec="libx265", format="mov", tags=APPLE_DENVER))
    assert facts.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)
    assert facts.captured_at.utcoffset() == timedelta(hours=-6)  # the offset it was taken in
    assert (facts.latitude, facts.longitude) == (39.7392, -104.9903)


def test_an_android_clip_gives_its_utc_creation_time_and_xyz_location():
    facts = analyse(clip(tags={"creation_time": "2024-07-04T15:30:00.000000Z",
                               "location": "+40.7128-074.0060/"}))
    assert facts.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)
    assert (facts.latitude, facts.longitude) == (40.7128, -74.006)


def test_the_apple_creation_date_wins_over_the_movie_header():
    facts = analyse(clip(format="mov", tags={**APPLE_DENVER, "creation_time": "2030-01-01T00:00:00Z"}))
    assert facts.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)


def test_a_creation_date_without_offset_is_local_time_at_the_place():
    # Denver in July is UTC-6 (MDT).
    located = analyse(clip(format="mov", tags={**APPLE_DENVER,
                                               "com.apple.quicktime.creationdate": "2024-07-04T09:30:00"}))
    assert located.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)
    nowhere = analyse(clip(format="mov", tags={"com.apple.quicktime.creationdate": "2024-07-04T09:30:00"}))
    assert nowhere.captured_at == datetime(2024, 7, 4, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("tag, expected", [
    ("+39.7392-104.9903+1609.000/", (39.7392, -104.9903)),
    ("-33.8688+151.2093/", (-33.8688, 151.2093)),
    ("+3944.352-10459.418/", (39.7392, -104.9903)),  # degrees and minutes
    ("+394421.12-1045921.08/", (39.7392, -104.9892)),  # degrees, minutes and seconds
    ("+00.0000+000.0000/", None),  # a location switched off
    ("+91.0000+000.0000/", None),
    ("somewhere", None),
    ("+39.7392" * 100, None),
])
def test_iso6709_locations(tag, expected):
    found = video_tags.coordinates({"location": tag})
    assert found == (pytest.approx(expected, abs=1e-4) if expected else None)


@pytest.mark.parametrize("tags", [{"creation_time": "1904-01-01T00:00:00Z"},
                                  {"com.apple.quicktime.creationdate": "yesterday"}, {}])
def test_unusable_times_are_no_time(tags):
    assert video_tags.captured_at(tags, None) is None


def test_the_poster_carries_no_metadata():
    facts = analyse(clip(format="mov", tags={**APPLE_DENVER, "title": "roof walk"}))
    for derivative in facts.derivatives:
        image, data = poster(facts, derivative.name)
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        assert b"Exif" not in data and b"http://ns.adobe.com" not in data and b"roof walk" not in data
        assert b"39.7392" not in data


def test_a_key_frame_far_from_the_start_is_found_with_one_seek():
    facts = analyse(videos.late_key_frame())
    assert (facts.width, facts.height) == (64, 48)
    assert_upright(poster(facts)[0])


@pytest.mark.parametrize("data, reason", [
    (videos.truncated(clip()), "The video file is incomplete: its end is missing."),
    (videos.scrambled_index(clip()), "The video data is corrupt and cannot be read."),
    (videos.scrambled_pictures(clip()), "No picture near the start of the video could be decoded."),
    (clip()[:40], "The video has no index (its moov box is missing): the file is incomplete or damaged."),
    (videos.many_tracks(clip(), 3000), f"The video has 3000 tracks; at most {MAX_TRACKS} are read."),
    (videos.enormous(clip(baseline=True)),
     "The video's frames are 12288x12288 pixels (151.0 megapixels); the limit is 100 megapixels."),
], ids=["truncated", "scrambled-index", "scrambled-pictures", "header-only", "many-tracks", "enormous"])
def test_a_damaged_or_hostile_video_is_refused_quickly_with_a_clear_reason(data, reason):
    started = time.monotonic()
    with pytest.raises(MediaRefused) as refused:
        analyse(data)
    assert str(refused.value) == reason
    assert time.monotonic() - started < 2


def test_the_pixel_limit_applies_to_videos():
    with pytest.raises(MediaRefused, match="64x48 pixels .* the limit is 0.001 megapixels"):
        analyse(clip(), max_pixels=1000)


def test_a_file_with_no_video_track_is_refused():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate = 8000
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with pytest.raises(MediaRefused, match="no video track"):
        analyse(buffer.getvalue())
