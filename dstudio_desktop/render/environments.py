"""The built-in studio environments, made by code: softboxes on a dark or light dome, a sky.

``python -m dstudio_desktop.render.environments`` writes them to ``resources/environments``
as Radiance .hdr files (deterministic, so a test checks the shipped copies match this code);
the app reads the shipped files. Each softbox of a lighting preset sits where that preset's
lights come from, so glossy parts reflect the light that shades them.

numpy only (no GL, no Qt).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from ..resources import resource
from . import ibl
from .hdr import HdrError, read_hdr_image, read_radiance, write_radiance
from .ibl import texel_directions

if TYPE_CHECKING:
    from ..core import EnvironmentConfig

log = logging.getLogger(__name__)

SIZE = (1024, 512)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _smooth(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def softbox(dirs: np.ndarray, towards, width_deg: float, height_deg: float, radiance, soft_deg: float = 3.0,
            hot: float = 0.25) -> np.ndarray:
    """A rectangular light of ``radiance`` seen in direction ``towards`` (angular size in
    degrees, edges softened over ``soft_deg``, a little brighter in the middle by ``hot``)."""
    c = _unit(towards)
    up_hint = np.array([0.0, 1.0, 0.0]) if abs(c[1]) < 0.95 else np.array([0.0, 0.0, -1.0])
    right = _unit(np.cross(up_hint, c))
    up = np.cross(c, right)
    forward = dirs @ c
    ax = np.degrees(np.arctan2(dirs @ right, forward))
    ay = np.degrees(np.arctan2(dirs @ up, forward))
    half_w, half_h = width_deg / 2, height_deg / 2
    mask = (1 - _smooth(half_w - soft_deg, half_w + soft_deg, np.abs(ax))) * \
           (1 - _smooth(half_h - soft_deg, half_h + soft_deg, np.abs(ay)))
    mask = np.where(forward > 0, mask, 0.0)
    falloff = 1 + hot * (1 - np.clip((ax / half_w) ** 2 + (ay / half_h) ** 2, 0, 1))
    return (mask * falloff)[..., None] * np.asarray(radiance, float)


def dome(dirs: np.ndarray, zenith, horizon, floor, horizon_soft: float = 0.04) -> np.ndarray:
    """A sky-to-floor gradient: ``zenith`` overhead, ``horizon`` at the horizon, ``floor`` below."""
    y = dirs[..., 1:2]
    sky = np.asarray(horizon, float) + (np.asarray(zenith, float) - np.asarray(horizon, float)) * np.sqrt(np.clip(y, 0, 1))
    below = _smooth(-horizon_soft, horizon_soft, y)
    return sky * below + np.asarray(floor, float) * (1 - below)


def _studio(dirs):
    return (dome(dirs, (0.12, 0.12, 0.125), (0.09, 0.09, 0.095), (0.08, 0.08, 0.08), horizon_soft=0.08)
            + softbox(dirs, (0.5, 0.8, 0.6), 55, 40, (3.6, 3.55, 3.4))        # key, where the Key light comes from
            + softbox(dirs, (-0.7, 0.3, 0.4), 40, 55, (0.8, 0.82, 0.9))      # fill
            + softbox(dirs, (0.1, 0.2, 1.0), 70, 18, (0.7, 0.7, 0.7))        # a low front strip for metals
            + softbox(dirs, (0.0, 1.0, 0.12), 80, 12, (1.4, 1.4, 1.4))       # top strip
            + softbox(dirs, (-0.1, 0.35, -0.95), 14, 60, (1.8, 1.8, 1.8)))   # rim strip behind


def _three_point(dirs):
    return (dome(dirs, (0.006, 0.006, 0.007), (0.004, 0.004, 0.005), (0.002, 0.002, 0.002))
            + softbox(dirs, (0.6, 0.5, 0.6), 30, 45, (4.0, 3.7, 3.3))
            + softbox(dirs, (-0.7, 0.2, 0.5), 30, 45, (0.6, 0.68, 0.8))
            + softbox(dirs, (-0.1, 0.4, -0.9), 12, 60, (6.0, 6.0, 6.0), soft_deg=1.5))


def _outdoor(dirs):
    sky = dome(dirs, (0.16, 0.30, 0.78), (0.85, 0.92, 1.05), (0.16, 0.13, 0.10), horizon_soft=0.02)
    sun = _unit((0.3, 0.9, 0.25))
    angle = np.arccos(np.clip(dirs @ sun, -1, 1))
    glow = (6.0 * np.exp(-(angle / 0.09) ** 2) + 0.6 * np.exp(-(angle / 0.5) ** 2))[..., None]
    above = _smooth(-0.02, 0.02, dirs[..., 1:2])
    return sky + glow * np.array([1.0, 0.9, 0.75]) * above


def _studio_light(dirs):
    return (dome(dirs, (0.62, 0.62, 0.64), (0.5, 0.5, 0.52), (0.32, 0.32, 0.32), horizon_soft=0.25)
            + softbox(dirs, (0.0, 1.0, -0.2), 95, 75, (1.6, 1.6, 1.6), soft_deg=12)
            + softbox(dirs, (1.0, 0.25, 0.2), 45, 65, (0.9, 0.9, 0.9), soft_deg=10)
            + softbox(dirs, (-1.0, 0.25, 0.2), 45, 65, (0.9, 0.9, 0.9), soft_deg=10))


def _product(dirs):
    return (dome(dirs, (0.95, 0.95, 0.96), (0.9, 0.9, 0.91), (0.72, 0.72, 0.72), horizon_soft=0.35)
            + softbox(dirs, (0.9, 0.15, 0.35), 12, 75, (3.0, 3.0, 3.0), soft_deg=2)
            + softbox(dirs, (-0.9, 0.15, 0.35), 12, 75, (3.0, 3.0, 3.0), soft_deg=2)
            + softbox(dirs, (0.0, 1.0, 0.3), 60, 60, (1.6, 1.6, 1.6), soft_deg=8))


# Each environment is scaled so that, with its preset's lights, the brightest point of a matte
# part is about 1.1 - 1.5 times its base colour at exposure 0 (a product's colour reads true
# under PBR Neutral, which starts compressing at 0.76): see tests/render/test_presets.py.
SCALE = {"studio": 0.6, "three-point": 0.52, "outdoor": 0.74, "studio-light": 0.53, "product": 0.53}

GENERATORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "studio": _studio, "three-point": _three_point, "outdoor": _outdoor, "studio-light": _studio_light,
    "product": _product,
}


def generate(name: str, size: tuple[int, int] = SIZE) -> np.ndarray:
    """The built-in environment ``name`` as (H, W, 3) float32 radiance."""
    dirs = texel_directions(*size)
    return (GENERATORS[name](dirs) * SCALE[name]).astype(np.float32)


def builtin_bytes(name: str) -> Optional[bytes]:
    """The shipped .hdr file's bytes (None when the install lacks it)."""
    try:
        return resource("environments", f"{name}.hdr").read_bytes()
    except (FileNotFoundError, OSError):
        return None


def builtin_image(name: str) -> np.ndarray:
    """The shipped environment (resources/environments/<name>.hdr), or made now if missing."""
    if name not in GENERATORS:
        raise KeyError(f"no built-in environment {name!r}; choose one of {', '.join(sorted(GENERATORS))}")
    try:
        path = resource("environments", f"{name}.hdr")
        return read_radiance(path.read_bytes(), path.name)
    except (FileNotFoundError, OSError):
        return generate(name)


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in GENERATORS:
        path = folder / f"{name}.hdr"
        path.write_bytes(write_radiance(generate(name)))
        written.append(path)
    return written


def environment_data(env: EnvironmentConfig, image_lookup: Optional[Callable[[str], Optional[bytes]]]
                     ) -> Optional[ibl.IblData]:
    """The prepared environment ``env`` lights with (None when it is off or cannot be read)."""
    light = env.lighting
    if not light.enabled:
        return None
    if light.asset_id is not None:
        data = image_lookup(light.asset_id) if image_lookup is not None else None
        if data:
            try:
                return ibl.cached(ibl.content_key(data), lambda: read_hdr_image(data, "environment"))
            except HdrError as err:
                log.warning("environment %s cannot be read: %s", light.asset_id, err)
        # a missing or broken image: the built-in one still lights the scene
    raw = builtin_bytes(light.builtin)
    return ibl.cached(ibl.content_key(raw) if raw else f"builtin:{light.builtin}", lambda: builtin_image(light.builtin))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "resources" / "environments"
    for p in write_all(target):
        print(f"wrote {p}")

