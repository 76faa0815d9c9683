"""Hostile metadata: files whose tags claim huge, many or looping structures are still
analysed, at a small cost, and say what was ignored (ImageFacts.warnings)."""
import io
import json
import subprocess
import sys
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from photoservice.derivatives import DERIVATIVES
from photoservice.media.containers import MAX_JPEG_SEGMENTS, MAX_PARTS
from photoservice.media.images import MediaRefused, analyse_image
from photoservice.media.metadata import XMP_TOO_LARGE
from tests.media.hostile import (HOSTILE, hostile, jpeg_with, phone_exif, png_with)
from tests.media.images import DENVER, jpeg

ROOT = Path(__file__).resolve().parents[2]
MAX_PIXELS = 100_000_000


def analyse(data):
    return analyse_image(io.BytesIO(data), MAX_PIXELS)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_analysed_with_its_metadata_ignored(name):
    _type, _build, warnings = HOSTILE[name]
    started = time.process_time()
    facts = analyse(hostile(name))
    assert time.process_time() - started < 0.5
    assert [d.name for d in facts.derivatives] == list(DERIVATIVES)
    assert list(facts.warnings) == warnings
    assert (facts.latitude, facts.longitude) == (None, None)


def test_a_self_referencing_ifd0_still_gives_its_orientation():
    facts = analyse(hostile("jpeg-self-referencing"))  # 64 x 48 stored, orientation 6
    assert (facts.width, facts.height) == (48, 64)


def test_a_directory_named_twice_is_read_once():
    facts = analyse(hostile("jpeg-shared-sub-directory"))
    assert facts.captured_at == datetime(2024, 5, 1, 14, 30, tzinfo=timezone.utc)


# Measured in a process of its own: CPU time and peak RSS growth per file --------------

# Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so each
# file's peak is its own, not the peak of what ran before it.
CHILD = """
import json, sys, time
from photoservice.media.images import analyse_image

def status_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

analyse_image(sys.argv[1], 100_000_000)  # Pillow and its plugins loaded
report = {}
for path in sys.argv[2:]:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    rss, started = status_kb("VmRSS"), time.process_time()
    facts = analyse_image(path, 100_000_000)
    report[path] = {"cpu_s": time.process_time() - started, "growth_kb": status_kb("VmHWM") - rss,
                    "warnings": list(facts.warnings)}
print(json.dumps(report))
"""


def test_hostile_files_cost_a_process_little_time_and_memory(tmp_path):
    (tmp_path / "warm").write_bytes(jpeg(640, 480))
    for name in HOSTILE:
        (tmp_path / name).write_bytes(hostile(name))
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "warm"),
                             *(str(tmp_path / name) for name in HOSTILE)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = {Path(path).name: costs for path, costs in json.loads(result.stdout).items()}
    for name, (_type, _build, warnings) in HOSTILE.items():
        costs = report[name]
        assert costs["warnings"] == warnings
        assert costs["cpu_s"] < 1.0, (name, costs)  # Pillow's own reader: 20 s on the first
        # The 4 MB files are read whole by libwebp and pillow-heif; nothing is multiplied.
        assert costs["growth_kb"] < 32 * 1024, (name, costs)


# What Pillow's EXIF reader also gave, kept at a bounded cost ---------------------------

def _itxt(keyword, text, compressed=False):
    body = zlib.compress(text) if compressed else text
    return keyword + b"\x00" + bytes([compressed, 0]) + b"\x00\x00" + body


XMP = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'


@pytest.mark.parametrize("compressed", [False, True])
def test_a_png_xmp_orientation_counts_when_exif_has_none(compressed):
    facts = analyse(png_with((b"iTXt", _itxt(b"XML:com.adobe.xmp", XMP, compressed)), width=64, height=48))
    assert (facts.width, facts.height, facts.warnings) == (48, 64, ())


def test_a_png_xmp_too_large_is_ignored_and_said():
    padding = b" " * (128 * 1024)
    facts = analyse(png_with((b"iTXt", _itxt(b"XML:com.adobe.xmp", XMP + padding, True))))
    assert (facts.width, facts.height, facts.warnings) == (64, 48, (XMP_TOO_LARGE,))


def test_imagemagicks_hex_exif_in_a_png_is_read():
    block = phone_exif(taken="2024:05:01 14:30:00", gps=DENVER)
    hex_lines = "\n".join(block.hex()[i:i + 72] for i in range(0, 2 * len(block), 72))
    text = f"\nexif\n{len(block):8d}\n{hex_lines}\n".encode()
    facts = analyse(png_with((b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(text))))
    assert facts.captured_at.isoformat() == "2024-05-01T14:30:00-06:00"
    assert (facts.latitude, facts.longitude) == pytest.approx(DENVER, abs=1e-6)


# Containers too absurd to walk are refused, quickly ------------------------------------

def test_a_jpeg_of_endless_segments_is_refused_quickly():
    data = jpeg_with(*[(0xFE, b"")] * (MAX_JPEG_SEGMENTS + 1))
    started = time.process_time()
    with pytest.raises(MediaRefused, match="^The JPEG file has too many segments before its image data.$"):
        analyse(data)
    assert time.process_time() - started < 1.0


def test_a_png_of_endless_chunks_is_refused_quickly():
    data = png_with(*[(b"prVt", b"")] * (MAX_PARTS + 1))
    started = time.process_time()
    with pytest.raises(MediaRefused, match="^The PNG file has too many chunks.$"):
        analyse(data)
    assert time.process_time() - started < 1.0
