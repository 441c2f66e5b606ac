"""Checking a photo set before any reconstruction runs: unreadable or non-image files, too
few images, too low a resolution, blurred images (variance of the Laplacian, against the
set's own median as well as an absolute floor), near-duplicates, and over- or under-exposure.
Each finding names the file; fatal ones refuse the set.

A near-duplicate is nearly the same view: the same photo twice, or a second shot from where
the first was taken. A neighbouring view of a turntable or ring set (10 degrees round) looks
alike at a glance too (its difference hash can be a few bits away), but its parallax moves
the object against the floor. So a close hash only nominates a pair; the pair is a duplicate
when one small thumbnail, shifted by at most a few pixels as a whole (camera shake), matches
the other to within noise. Duplicates are warned about and kept (they do no harm to
structure from motion); the set is refused only when too few distinct views remain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
MIN_IMAGES = 8            # fewer cannot give a model worth having
FEW_IMAGES = 20           # fewer works on simple objects; warn
MIN_SIDE = 320            # pixels, the shorter side; below this SIFT finds too little
BLUR_ABSOLUTE = 12.0      # Laplacian variance (on 0..255 grey at a 640-pixel scale) below this is blurred
BLUR_RELATIVE = 0.2       # or below this fraction of the set's median sharpness
DUPLICATE_BITS = 12       # difference hashes this close (of 64 bits) nominate a pair for the finer check
THUMB_WIDTH = 64          # pixels, for the finer check (coarse: fine texture resamples differently)
MAX_SHIFT = 2             # thumbnail pixels (3% of the width): a hand's shake, not a step round the object
DUPLICATE_RESIDUAL = 0.17  # mean absolute difference of the contrast-normalised thumbnails at the best shift;
# measured: a shaken, re-saved copy 0.03-0.12; views 10 degrees apart 0.68-0.74, 20 degrees on one ring 0.23
DARK, BRIGHT, CLIPPED = 30.0, 225.0, 0.25


@dataclass
class Finding:
    file: str
    problem: str


@dataclass
class PhotoReport:
    folder: str
    images: list[str] = field(default_factory=list)        # usable images, sorted
    findings: list[Finding] = field(default_factory=list)
    refused: Optional[str] = None                         # why the set cannot be used, if it cannot

    @property
    def ok(self) -> bool:
        return self.refused is None

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        lines = [f"{len(self.images)} usable image(s) in {self.folder}"]
        lines += [f"  {f.file}: {f.problem}" for f in self.findings]
        if self.refused:
            lines.append(f"refused: {self.refused}")
        return "\n".join(lines)


def _grey(image) -> np.ndarray:
    """Grey levels at a 640-pixel longest side, so sharpness compares across resolutions."""
    from PIL import Image

    scale = 640 / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.BILINEAR)
    return np.asarray(image.convert("L"), dtype=np.float64)


def sharpness(grey: np.ndarray) -> float:
    lap = (grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1])
    return float(lap.var())


def difference_hash(grey: np.ndarray) -> int:
    from PIL import Image

    small = np.asarray(Image.fromarray(grey.astype(np.uint8)).resize((9, 8), Image.BILINEAR), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A small grey image with zero mean and unit contrast, so exposure differences do not count."""
    from PIL import Image

    height = max(1, round(grey.shape[0] * THUMB_WIDTH / grey.shape[1]))
    small = np.asarray(Image.fromarray(grey.astype(np.float32), mode="F").resize((THUMB_WIDTH, height),
                                                                                Image.BILINEAR), np.float64)
    return (small - small.mean()) / max(small.std(), 1e-6)


def view_difference(a: np.ndarray, b: np.ndarray) -> float:
    """How different two thumbnails are once the best whole-image shift of up to ``MAX_SHIFT``
    pixels is taken out: near 0 for the same view, large once parallax moves things apart."""
    if a.shape != b.shape:
        return float("inf")
    m = MAX_SHIFT
    core = a[m:-m, m:-m]
    best = float("inf")
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            other = b[m + dy:b.shape[0] - m + dy, m + dx:b.shape[1] - m + dx]
            best = min(best, float(np.abs(core - other).mean()))
    return best


def check_photos(folder: Path, label: str = "", what: str = "image") -> PhotoReport:
    """``label``: what a note about the whole set names (the folder's name when empty; a video's
    frames are checked in a folder of ours, and their notes name the video); ``what`` one of the
    set's pictures is called in those notes and in a refusal (a video's are its frames)."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    report = PhotoReport(str(folder))
    if not folder.is_dir():
        report.refused = "not a folder"
        return report
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    stats = {}
    for path in files:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.findings.append(Finding(path.name, "not an image file (skipped)"))
            continue
        try:
            with Image.open(path) as image:
                image.load()
                size = image.size
                grey = _grey(image)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            report.findings.append(Finding(path.name, f"cannot be read as an image ({type(err).__name__}: "
                                                      f"{str(err)[:80]}); skipped"))
            continue
        if min(size) < MIN_SIDE:
            report.findings.append(Finding(path.name, f"{size[0]}x{size[1]} is too small (the shorter side needs "
                                                      f"{MIN_SIDE} pixels); skipped"))
            continue
        mean = float(grey.mean())
        clipped = float(((grey < 3) | (grey > 252)).mean())
        if mean < DARK or mean > BRIGHT or clipped > CLIPPED:
            kind = "under-exposed" if mean < 128 else "over-exposed"
            report.findings.append(Finding(path.name, f"{kind} (mean level {mean:.0f}, {clipped:.0%} clipped)"))
        stats[path.name] = (sharpness(grey), difference_hash(grey), thumbnail(grey))
    if stats:
        median = float(np.median([s[0] for s in stats.values()]))
        for name, (sharp, _, _) in list(stats.items()):
            if sharp < BLUR_ABSOLUTE or sharp < BLUR_RELATIVE * median:
                report.findings.append(Finding(name, f"blurred (sharpness {sharp:.1f}, the set's median is "
                                                     f"{median:.1f}); skipped"))
                del stats[name]
        distinct: dict[str, tuple[int, np.ndarray]] = {}   # one photo per view seen so far
        duplicates = 0
        for name, (_, dhash, thumb) in stats.items():
            twin = next((other for other, (h, t) in distinct.items()
                         if bin(h ^ dhash).count("1") <= DUPLICATE_BITS
                         and view_difference(t, thumb) < DUPLICATE_RESIDUAL), None)
            if twin is not None:
                report.findings.append(Finding(name, f"a near-duplicate of {twin} (adds no new view)"))
                duplicates += 1
            else:
                distinct[name] = (dhash, thumb)
    else:
        duplicates = 0
    report.images = sorted(stats)
    if not files:
        report.refused = "the folder is empty"
    elif len(report.images) < MIN_IMAGES:
        report.refused = (f"{len(report.images)} usable {what}(s); a reconstruction needs at least {MIN_IMAGES} "
                          "sharp photos from different viewpoints")
    elif len(report.images) - duplicates < MIN_IMAGES:
        report.refused = (f"{len(report.images) - duplicates} distinct view(s) among {len(report.images)} usable "
                          f"{what}s (the rest are near-duplicates); a reconstruction needs at least {MIN_IMAGES} "
                          "photos from different viewpoints: walk round the object between shots")
    elif len(report.images) < FEW_IMAGES:
        report.findings.append(Finding(label or folder.name, f"only {len(report.images)} usable {what}s; {FEW_IMAGES} "
                                                            "or more give a more complete model"))
    return report
