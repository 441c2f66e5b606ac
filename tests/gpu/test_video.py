"""A video as input, through the real ffmpeg (imageio-ffmpeg's binary) and pycolmap: a short
clip rendered from the synthetic scene, with motion-blurred frames among sharp ones, gives
sharp frames spaced by motion that structure from motion places; a file that is no video is
one clear line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gpu import photoset, sfm, synthetic, video

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
FRAMES = 60   # one turn round the scene at 6 degrees a frame


def _clip(path: Path) -> set[int]:
    """The clip, written with ffmpeg; the frame indices made blurred (a smear along the motion)."""
    import imageio_ffmpeg
    from PIL import Image, ImageFilter

    K = synthetic.cameras(1, 0.5)[0].K
    target = np.array([0.0, 0.3, 0.0])
    blurred = set(range(1, FRAMES, 3))
    writer = imageio_ffmpeg.write_frames(str(path), (320, 240), fps=15, quality=9, macro_block_size=16)
    writer.send(None)
    for i in range(FRAMES):
        angle = 2 * np.pi * i / FRAMES
        centre = target + 2.6 * np.array([np.cos(0.55) * np.cos(angle), np.sin(0.55), np.cos(0.55) * np.sin(angle)])
        frame = Image.fromarray(synthetic.render(synthetic.Camera(f"f{i}", K, synthetic.look_at(centre, target),
                                                                  centre)))
        if i in blurred:
            frame = frame.filter(ImageFilter.BoxBlur(4))
        writer.send(np.ascontiguousarray(np.asarray(frame)))
    writer.close()
    return blurred


def test_frames_are_chosen_by_sharpness_and_motion_and_placed(tmp_path):
    from PIL import Image

    clip = tmp_path / "turn.mp4"
    blurred = _clip(clip)
    assert video.is_video(clip) and "320x240" in video.probe(clip)
    chosen = video.sample_frames(clip, tmp_path / "frames")
    assert chosen.total == FRAMES
    assert video.MIN_FRAMES <= len(chosen.frames) <= 40     # motion between them, not every frame
    assert not blurred & set(chosen.frames)                 # no smeared frame kept
    # spaced by motion: fewer than the sharp frames, each moved on from the one before
    assert len(chosen.frames) < 0.6 * (FRAMES - len(blurred))
    thumbs = {}
    for i, path in zip(chosen.frames, sorted(chosen.folder.iterdir()), strict=True):
        with Image.open(path) as im:
            thumbs[i] = photoset.thumbnail(photoset._grey(im))
    for a, b in zip(chosen.frames, chosen.frames[1:], strict=False):
        assert photoset.view_difference(thumbs[a], thumbs[b]) >= 0.9 * chosen.motion
    names = sorted(p.name for p in chosen.folder.iterdir())
    assert len(names) == len(chosen.frames)
    model = sfm.run(chosen.folder, names, tmp_path / "work", max_image_size=320, max_features=1024, use_cuda=False,
                    progress=lambda f, m: None, cancel=None, domain_size_pooling=False)
    assert len(model.views) >= len(names) - 1


def test_a_bad_video_is_one_clear_line_naming_it(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not really a video" * 20)
    proc = subprocess.run([sys.executable, "-m", "dstudio_desktop", "reconstruct", str(bad), "-o",
                           str(tmp_path / "o.glb"), "--quality", "draft"], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env={**os.environ, "DSTUDIO_HOME": str(tmp_path / "home")})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(bad) in lines[0] and "cannot be read as a video" in lines[0], proc.stderr
    assert not (tmp_path / "o.glb").exists()
