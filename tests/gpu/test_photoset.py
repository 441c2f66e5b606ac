"""Photo-set checks, on the synthetic set and on bad sets made from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from gpu.photoset import check_photos
from gpu.synthetic import cameras, render


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Ten views of the synthetic scene (enough for the checks; reconstruction uses 24)."""
    folder = tmp_path_factory.mktemp("photos")
    for cam in cameras(24)[::2][:10]:
        Image.fromarray(render(cam)).save(folder / f"{cam.name}.png")
    return folder


def test_a_good_set_passes_with_a_note_that_more_would_help(photos):
    report = check_photos(photos)
    assert report.ok and len(report.images) == 10
    assert [f.problem for f in report.findings if f.file != photos.name] == []
    # the whole set's note names the folder (a warning line reads "photos: only 10 ...")
    assert any("only 10 usable images" in f.problem for f in report.findings if f.file == photos.name)
    # a video's frames, checked in a folder of ours: the note names the video and says frames
    framed = check_photos(photos, label="turn.mp4", what="frame")
    assert [f.problem for f in framed.findings if f.file == "turn.mp4"] == \
        ["only 10 usable frames; 20 or more give a more complete model"]


def test_three_images_are_refused(photos, tmp_path):
    for name in sorted(p.name for p in photos.iterdir())[:3]:
        shutil.copy(photos / name, tmp_path / name)
    report = check_photos(tmp_path)
    assert not report.ok and "3 usable image(s)" in report.refused
    assert check_photos(tmp_path, what="frame").refused.startswith("3 usable frame(s)")   # a video's frames


def test_blurred_copies_duplicates_and_bad_exposure_are_named(photos, tmp_path):
    for path in photos.iterdir():
        shutil.copy(path, tmp_path / path.name)
    first = sorted(photos.iterdir())[0]
    Image.open(first).filter(ImageFilter.GaussianBlur(6)).save(tmp_path / "blurred.png")
    shutil.copy(first, tmp_path / "copy.png")
    dark = (np.asarray(Image.open(first)) * 0.08).astype(np.uint8)
    Image.fromarray(dark).save(tmp_path / "dark.png")
    report = check_photos(tmp_path)
    problems: dict[str, str] = {}
    for f in report.findings:
        problems[f.file] = problems.get(f.file, "") + f.problem + "; "
    assert problems["blurred.png"].startswith("blurred")
    assert "blurred.png" not in report.images
    duplicates = [(f.file, f.problem) for f in report.findings if "near-duplicate" in f.problem]
    assert len(duplicates) == 1 and {"copy.png", first.name} == {duplicates[0][0], duplicates[0][1].split()[-5]}
    assert problems["dark.png"].startswith("under-exposed")  # (and, at 8% contrast, too flat to be sharp)
    assert report.ok  # warnings, and the blurred one left out: the rest is still a set


def test_unreadable_and_foreign_files_and_empty_folders(photos, tmp_path):
    (tmp_path / "empty").mkdir()
    assert check_photos(tmp_path / "empty").refused.endswith("is empty")
    assert check_photos(tmp_path / "nope").refused == "not a folder"
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.jpg").write_text("this is a text file, not a photo")
    (mixed / "readme.txt").write_text("hello")
    Image.new("RGB", (200, 150), "white").save(mixed / "tiny.png")
    report = check_photos(mixed)
    problems = {f.file: f.problem for f in report.findings}
    assert problems["notes.jpg"].startswith("cannot be read as an image")
    assert problems["readme.txt"].startswith("not an image file")
    assert "too small" in problems["tiny.png"]
    assert not report.ok and "0 usable image(s)" in report.refused


PATHTRACED = Path(__file__).resolve().parents[1] / "data" / "pathtraced" / "images"


def test_a_ring_set_ten_degrees_apart_has_no_near_duplicates():
    """The path-traced set: 36 views 10 degrees apart round two rings. Neighbours look alike
    (their difference hashes are close), but parallax makes each a view of its own."""
    report = check_photos(PATHTRACED)
    assert report.ok and len(report.images) == 36
    assert [f for f in report.findings if "near-duplicate" in f.problem] == []


def _shaken_copy(image: Image.Image, dx: int, dy: int) -> Image.Image:
    """The same view again, the camera moved by a hand's shake: shifted a few pixels."""
    w, h = image.size
    return image.crop((dx, dy, w - 4 + dx, h - 4 + dy)).resize((w, h), Image.BILINEAR)


def test_a_set_of_true_duplicates_is_refused(tmp_path):
    first = Image.open(sorted(PATHTRACED.iterdir())[0]).convert("RGB")
    for i in range(10):
        _shaken_copy(first, i % 3, i % 4).save(tmp_path / f"shot_{i:02d}.jpg", quality=60 + 3 * i)
    report = check_photos(tmp_path)
    assert not report.ok and "1 distinct view(s) among 10 usable images" in report.refused
    duplicates = [f.file for f in report.findings if "near-duplicate of shot_00.jpg" in f.problem]
    assert duplicates == [f"shot_{i:02d}.jpg" for i in range(1, 10)]


def test_a_duplicate_in_a_good_set_is_a_warning(photos, tmp_path):
    for path in photos.iterdir():
        shutil.copy(path, tmp_path / path.name)
    first = sorted(photos.iterdir())[0]
    _shaken_copy(Image.open(first), 2, 1).save(tmp_path / "view_zz_again.jpg", quality=85)
    report = check_photos(tmp_path)
    assert report.ok and "view_zz_again.jpg" in report.images
    assert [(f.file, f.problem) for f in report.findings if "near-duplicate" in f.problem] == [
        ("view_zz_again.jpg", f"a near-duplicate of {first.name} (adds no new view)")]
