"""A video as a photo set: frames decoded by ffmpeg (imageio-ffmpeg's bundled binary), and a
few of them kept, chosen by sharpness and motion.

Every frame is looked at small (a grey thumbnail and its sharpness, the variance of the
Laplacian, as the photo check measures it). A frame is worth keeping once the view has moved
on from the last kept one: its thumbnail differs from the last kept one's by at least the
motion threshold after the best whole-image shift of a few pixels is taken out (the photo
check's near-duplicate measure, so a hand's shake does not count as motion). Of the frames in
a short window from there, the sharpest is kept (motion blur is the usual fault of a video
frame). The threshold is searched so that between ``MIN_FRAMES`` and ``max_frames`` frames
are kept. The chosen frames are decoded again and written as JPEGs for the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dstudio_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from dstudio_desktop.errors import DStudioError

from . import photoset

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg"}
MIN_FRAMES = 12          # fewer is no set to reconstruct from
MAX_FRAMES = 120         # more adds time faster than it adds views
WINDOW = 5               # frames after the view moved on, of which the sharpest is kept
MOTION = 0.6             # the starting motion threshold: measured on a turn round the synthetic scene, 0.46 at
# 4 degrees between frames, 0.64 at 8, 0.70 at 12, 0.77 at 20 (the photo check calls under 0.17 a duplicate)


def is_video(path: Path) -> bool:
    path = Path(path)
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


@dataclass
class FrameChoice:
    folder: Path          # where the kept frames were written
    frames: list[int]     # the kept frames' indices in the video
    total: int            # frames in the video
    fps: float
    motion: float         # the motion threshold the choice settled on


def _frames(video: Path):
    """(metadata, generator of RGB frames as arrays); a file ffmpeg cannot read raises one clear line."""
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(video))
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise DStudioError(f"{video}: cannot be read as a video ({reason[:160]})") from None
    width, height = meta["size"]

    def frames():
        try:
            for raw in reader:
                yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
        except (OSError, RuntimeError) as err:
            raise DStudioError(f"{video}: the video breaks off ({str(err).strip()[:160]})") from None
        finally:
            reader.close()

    return meta, frames()


def probe(video: Path) -> str:
    """One line about a video for the photo check (frames, size, length); raises one clear
    line naming the file when ffmpeg cannot read it."""
    meta, frames = _frames(Path(video))
    frames.close()
    width, height = meta["size"]
    fps, seconds = float(meta.get("fps") or 0), float(meta.get("duration") or 0)
    return (f"a video, {width}x{height}, {seconds:.1f} s at {fps:.0f} frames/s: the sharp frames with motion "
            f"between them (at most {MAX_FRAMES}) are the photos")


def video_report(path: Path) -> photoset.PhotoReport:
    """The photo check's report for a video: one line about it, or why it cannot be used."""
    report = photoset.PhotoReport(str(path))
    try:
        report.findings.append(photoset.Finding(Path(path).name, probe(path)))
    except DStudioError as err:
        report.refused = str(err)
    return report


def choose(thumbs: list[np.ndarray], sharp: np.ndarray, motion: float) -> list[int]:
    """The frames kept at a motion threshold (see the module's note)."""
    floor = max(photoset.BLUR_ABSOLUTE, photoset.BLUR_RELATIVE * float(np.median(sharp)))
    usable = [i for i in range(len(thumbs)) if sharp[i] >= floor]
    if not usable:
        return []
    kept = [max(usable[:WINDOW], key=lambda i: sharp[i])]
    i = kept[0] + 1
    while i < len(thumbs):
        if sharp[i] >= floor and photoset.view_difference(thumbs[kept[-1]], thumbs[i]) >= motion:
            window = [j for j in range(i, min(i + WINDOW, len(thumbs))) if sharp[j] >= floor]
            best = max(window, key=lambda j: sharp[j])
            kept.append(best)
            i = best + 1
        else:
            i += 1
    return kept


def sample_frames(video: Path, out: Path, *, max_frames: int = MAX_FRAMES, progress: ProgressCallback = no_progress,
                  cancel: CancelToken | None = None) -> FrameChoice:
    """Frames of ``video`` chosen by sharpness and motion, written into ``out`` as JPEGs."""
    from PIL import Image

    video = Path(video)
    if not video.is_file():
        raise DStudioError(f"{video}: no such video file")
    meta, frames = _frames(video)
    expected = max(1, int(meta.get("duration", 0) * meta.get("fps", 0)))
    thumbs, sharp = [], []
    for index, frame in enumerate(frames):
        if cancel is not None:
            cancel.check("reading the video")
        grey = photoset._grey(Image.fromarray(frame))
        thumbs.append(photoset.thumbnail(grey))
        sharp.append(photoset.sharpness(grey))
        if index % 10 == 0:
            progress(0.8 * min(index / expected, 1.0), f"looked at {index + 1} frames of {video.name}")
    if not thumbs:
        raise DStudioError(f"{video}: the video has no frames")
    sharp_a = np.array(sharp)
    # the threshold that keeps between MIN_FRAMES and max_frames frames: more motion, fewer frames
    lo, hi, motion = 0.02, 4.0, MOTION
    kept = choose(thumbs, sharp_a, motion)
    for _ in range(12):
        if len(kept) > max_frames:
            lo = motion
        elif len(kept) < MIN_FRAMES and motion > lo + 1e-3:
            hi = motion
        else:
            break
        motion = (lo + hi) / 2
        kept = choose(thumbs, sharp_a, motion)
    if len(kept) > max_frames:   # still too many: every n-th of them
        kept = kept[:: -(-len(kept) // max_frames)]
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(kept)
    _, frames = _frames(video)
    for index, frame in enumerate(frames):
        if index in wanted:
            Image.fromarray(frame).save(out / f"frame_{index:05d}.jpg", quality=95)
            progress(0.8 + 0.2 * len(list(out.iterdir())) / len(wanted), f"kept frame {index}")
        if cancel is not None:
            cancel.check("reading the video")
        if index >= kept[-1]:
            frames.close()
            break
    return FrameChoice(out, kept, len(thumbs), float(meta.get("fps", 0.0)), motion)
