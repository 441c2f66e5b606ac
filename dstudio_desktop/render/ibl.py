"""Image-based light from an equirectangular HDR environment, by the split-sum approach.

What the shader needs is made here with numpy alone (worker threads, headless code):

- the **radiance** map itself (at most 1024x512), for mirror-like reflections and for showing
  the environment as the background;
- the **prefiltered specular** levels: the environment convolved with the GGX lobe of the
  glTF BRDF for roughness 0.2, 0.4 ... 1.0 (filtered importance sampling, N = V = R as the
  split sum assumes), stacked into one atlas texture;
- the **diffuse irradiance** map: the cosine-weighted integral of the environment over each
  normal's hemisphere, divided by pi, so a white Lambertian under it shows exactly that;
- the **BRDF table**: the scale and bias (A, B) the split sum applies to F0 for each
  (N.V, roughness), integrated with height-correlated Smith visibility.

Directions map to the image as ``u = 0.5 + atan2(x, -z) / 2pi`` and ``v = acos(y) / pi`` (row 0
is straight up, the middle column looks down -Z); the shaders use the same mapping.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

BASE_WIDTH = 1024
ATLAS_SIZE = (256, 128)                     # width, height of each prefiltered level in the atlas
LEVEL_ROUGHNESS = (0.2, 0.4, 0.6, 0.8, 1.0)  # roughness 0 is the radiance map itself
_LEVEL_SIZES = ((192, 96), (128, 64), (64, 32), (64, 32), (64, 32))
_LEVEL_SAMPLES = (32, 48, 64, 64, 96)
IRRADIANCE_SIZE = (32, 16)
LUT_SIZE = 32


@dataclass
class IblData:
    """The prefiltered environment: float32 arrays ready for textures."""

    radiance: np.ndarray      # (H, W, 3), H = W / 2
    specular: np.ndarray      # (len(LEVEL_ROUGHNESS) * 128, 256, 3): the levels stacked top to bottom
    irradiance: np.ndarray    # (16, 32, 3): diffuse radiance a white Lambertian reflects, per normal
    mean: np.ndarray          # (3,) the mean radiance (for the shadow catcher's sky term)
    key: str = ""
    sh: np.ndarray = None     # (9, 3): the same diffuse radiance as order-2 spherical harmonics (see sh_basis)


# -- directions -----------------------------------------------------------------------------


def texel_directions(width: int, height: int) -> np.ndarray:
    """(H, W, 3) unit directions through the centres of an equirect image's texels."""
    u = (np.arange(width) + 0.5) / width
    v = (np.arange(height) + 0.5) / height
    phi = (u - 0.5) * 2 * math.pi
    theta = v * math.pi
    st = np.sin(theta)[:, None]
    return np.stack([st * np.sin(phi)[None, :], np.repeat(np.cos(theta)[:, None], width, 1),
                     -st * np.cos(phi)[None, :]], axis=-1)


def direction_uv(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = 0.5 + np.arctan2(d[..., 0], -d[..., 2]) / (2 * math.pi)
    v = np.arccos(np.clip(d[..., 1], -1.0, 1.0)) / math.pi
    return u, v


def texel_solid_angles(width: int, height: int) -> np.ndarray:
    """(H, 1) solid angle of one texel in each row."""
    theta0 = np.arange(height) / height * math.pi
    theta1 = (np.arange(height) + 1) / height * math.pi
    return ((np.cos(theta0) - np.cos(theta1)) * 2 * math.pi / width)[:, None]


def sample(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup, wrapping across the seam and clamping at the poles."""
    h, w = image.shape[:2]
    x = u * w - 0.5
    y = np.clip(v * h - 0.5, 0, h - 1)
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = (x - x0)[..., None].astype(image.dtype)
    fy = (y - y0)[..., None].astype(image.dtype)
    x0 %= w
    x1 = (x0 + 1) % w
    y1 = np.minimum(y0 + 1, h - 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def downsample(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    h2, w2 = max(h // 2, 1), max(w // 2, 1)
    return image[:h2 * 2, :w2 * 2].reshape(h2, 2, w2, 2, -1).mean(axis=(1, 3))


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Box-filtered down (by halves), then bilinear to the exact size."""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = downsample(image)
    if image.shape[:2] == (height, width):
        return image.astype(np.float32)
    u = ((np.arange(width) + 0.5) / width)[None, :].repeat(height, 0)
    v = ((np.arange(height) + 0.5) / height)[:, None].repeat(width, 1)
    return sample(image, u, v).astype(np.float32)


# -- prefiltering ---------------------------------------------------------------------------


def _hammersley(n: int) -> np.ndarray:
    i = np.arange(n, dtype=np.uint32)
    bits = i.copy()
    bits = ((bits << 16) | (bits >> 16)) & 0xFFFFFFFF
    bits = ((bits & 0x55555555) << 1) | ((bits & 0xAAAAAAAA) >> 1)
    bits = ((bits & 0x33333333) << 2) | ((bits & 0xCCCCCCCC) >> 2)
    bits = ((bits & 0x0F0F0F0F) << 4) | ((bits & 0xF0F0F0F0) >> 4)
    bits = ((bits & 0x00FF00FF) << 8) | ((bits & 0xFF00FF00) >> 8)
    return np.stack([(i + 0.5) / n, bits.astype(np.float64) / 2.0 ** 32], axis=1)


def _ggx_half_vectors(alpha: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-space half vectors importance-sampled from D(h) N.H, and their N.H."""
    xi = _hammersley(n)
    phi = 2 * math.pi * xi[:, 0]
    a2 = alpha * alpha
    cos_t = np.sqrt((1 - xi[:, 1]) / (1 + (a2 - 1) * xi[:, 1]))
    sin_t = np.sqrt(1 - cos_t ** 2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1), cos_t


def _ggx_d(n_dot_h: np.ndarray, alpha: float) -> np.ndarray:
    a2 = alpha * alpha
    return a2 / (math.pi * (n_dot_h ** 2 * (a2 - 1) + 1) ** 2)


def _frames(normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    up = np.where(np.abs(normals[..., 1:2]) < 0.999, np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    t = np.cross(up, normals)
    t /= np.linalg.norm(t, axis=-1, keepdims=True)
    return t, np.cross(normals, t)


def prefilter_specular(mips: list[np.ndarray], roughness: float, size: tuple[int, int], samples: int) -> np.ndarray:
    """The environment convolved with the GGX lobe of ``roughness`` (N = V = R), (h, w, 3)."""
    width, height = size
    normals = texel_directions(width, height).reshape(-1, 3).astype(np.float32)
    t, b = (f.astype(np.float32) for f in _frames(normals))
    alpha = max(roughness * roughness, 1e-4)
    halves, n_dot_h = _ggx_half_vectors(alpha, samples)
    base_w, base_h = mips[0].shape[1], mips[0].shape[0]
    texel = 4 * math.pi / (base_w * base_h)
    total = np.zeros((len(normals), 3), np.float32)
    weight = 0.0
    for (hx, hy, hz), nh in zip(halves, n_dot_h, strict=True):
        h = t * hx + b * hy + normals * hz
        n_dot_l = 2 * hz * hz - 1
        if n_dot_l <= 0:
            continue
        light = 2 * hz * h - normals
        pdf = _ggx_d(nh, alpha) / 4
        lod = min(max(0.5 * math.log2(1.0 / (samples * pdf * texel)) + 1.0, 0.0), len(mips) - 1)
        lo = int(math.floor(lod))
        hi = min(lo + 1, len(mips) - 1)
        f = lod - lo
        u, v = direction_uv(light)
        colour = sample(mips[lo], u, v)
        if f > 0 and hi != lo:
            colour = colour * (1 - f) + sample(mips[hi], u, v) * f
        total += colour * np.float32(n_dot_l)
        weight += n_dot_l   # the same for every texel: N.L depends only on the sample
    return (total / max(weight, 1e-12)).reshape(height, width, 3).astype(np.float32)


def sh_basis(d: np.ndarray) -> np.ndarray:
    """The nine real spherical harmonics (bands 0-2) of unit directions (..., 3) -> (..., 9)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack([np.full_like(x, 0.282095), 0.488603 * y, 0.488603 * z, 0.488603 * x,
                     1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1), 1.092548 * x * z,
                     0.546274 * (x * x - y * y)], axis=-1)


def diffuse_sh(image: np.ndarray) -> np.ndarray:
    """(9, 3) coefficients such that sh_basis(n) @ coefficients is the radiance a white
    Lambertian with normal n reflects (irradiance / pi, Ramamoorthi and Hanrahan's cosine
    convolution of the environment's order-2 projection)."""
    small = resize(image, 128, 64).astype(np.float64)
    dirs = texel_directions(128, 64)
    weights = texel_solid_angles(128, 64)[:, :, None]
    basis = sh_basis(dirs)                                       # (64, 128, 9)
    coefficients = np.einsum("hwk,hwc->kc", basis * weights, small)
    band = np.array([math.pi, *([2 * math.pi / 3] * 3), *([math.pi / 4] * 5)])
    return (coefficients * band[:, None] / math.pi).astype(np.float32)


def irradiance(image: np.ndarray, size: tuple[int, int] = IRRADIANCE_SIZE) -> np.ndarray:
    """Cosine-weighted hemisphere integral / pi for each normal: (h, w, 3)."""
    small = resize(image, 64, 32)
    dirs = texel_directions(64, 32).reshape(-1, 3)
    radiance = (small * texel_solid_angles(64, 32)[:, :, None]).reshape(-1, 3)
    width, height = size
    normals = texel_directions(width, height).reshape(-1, 3)
    cosines = np.maximum(normals @ dirs.T, 0.0)
    return ((cosines @ radiance) / math.pi).reshape(height, width, 3).astype(np.float32)


def prepare(image: np.ndarray, key: str = "") -> IblData:
    """Everything the shaders need from an equirect HDR image (float (H, W, 3) linear)."""
    image = np.nan_to_num(np.maximum(np.asarray(image, np.float32)[..., :3], 0.0), posinf=65504.0)
    width = min(BASE_WIDTH, 1 << int(math.floor(math.log2(max(image.shape[1], 8)))))
    base = resize(image, width, width // 2)
    mips = [base]
    while mips[-1].shape[1] > 8:
        mips.append(downsample(mips[-1]))
    aw, ah = ATLAS_SIZE
    levels = []
    for rough, size, n in zip(LEVEL_ROUGHNESS, _LEVEL_SIZES, _LEVEL_SAMPLES, strict=True):
        level = prefilter_specular(mips, rough, size, n)
        levels.append(resize(level, aw, ah) if level.shape[:2] != (ah, aw) else level)
    weights = texel_solid_angles(base.shape[1], base.shape[0])
    mean = (base * weights[:, :, None]).sum(axis=(0, 1)) / (4 * math.pi)
    return IblData(radiance=base, specular=np.concatenate(levels, axis=0).astype(np.float32),
                   irradiance=irradiance(base), mean=mean.astype(np.float32), key=key, sh=diffuse_sh(base))


def uniform(radiance: float = 1.0) -> IblData:
    """A uniform environment (the white furnace): every level is the same constant."""
    aw, ah = ATLAS_SIZE
    c = np.float32(radiance)
    return IblData(radiance=np.full((64, 128, 3), c, np.float32),
                   specular=np.full((ah * len(LEVEL_ROUGHNESS), aw, 3), c, np.float32),
                   irradiance=np.full((IRRADIANCE_SIZE[1], IRRADIANCE_SIZE[0], 3), c, np.float32),
                   mean=np.full(3, c, np.float32), key=f"uniform:{radiance}",
                   sh=np.vstack([np.full((1, 3), c / 0.282095), np.zeros((8, 3))]).astype(np.float32))


# -- the BRDF table -------------------------------------------------------------------------


def smith_ggx_correlated(n_dot_v, n_dot_l, alpha):
    """Height-correlated Smith visibility V = G / (4 N.L N.V), as the glTF appendix gives it."""
    a2 = alpha * alpha
    gv = n_dot_l * np.sqrt(n_dot_v * n_dot_v * (1 - a2) + a2)
    gl = n_dot_v * np.sqrt(n_dot_l * n_dot_l * (1 - a2) + a2)
    return np.where(gv + gl > 0, 0.5 / np.maximum(gv + gl, 1e-12), 0.0)


def brdf_lut() -> np.ndarray:
    """The BRDF table the shaders use (``make_brdf_lut``), made once per process (or adopted)."""
    global _BRDF_LUT
    if _BRDF_LUT is None:
        _BRDF_LUT = make_brdf_lut()
    return _BRDF_LUT


def make_brdf_lut(size: int = LUT_SIZE, samples: int = 512) -> np.ndarray:
    """(size, size, 2) float32: [roughness row, N.V column] -> (A, B), with the specular
    reflectance under a uniform white environment = F0 * A + B (texel centres at (i + 0.5) / size)."""
    n_dot_v = (np.arange(size) + 0.5) / size
    out = np.zeros((size, size, 2), np.float32)
    for row in range(size):
        rough = (row + 0.5) / size
        alpha = rough * rough
        halves, _ = _ggx_half_vectors(alpha, samples)
        view = np.stack([np.sqrt(1 - n_dot_v ** 2), np.zeros(size), n_dot_v], axis=1)   # (size, 3)
        v_dot_h = view @ halves.T                                                    # (size, samples)
        n_dot_h = halves[:, 2][None, :]
        n_dot_l = 2 * v_dot_h * n_dot_h - n_dot_v[:, None]
        ok = n_dot_l > 0
        nl = np.where(ok, n_dot_l, 0.0)
        vis = smith_ggx_correlated(n_dot_v[:, None], nl, alpha)
        g = np.where(ok, 4 * vis * nl * np.maximum(v_dot_h, 0) / np.maximum(n_dot_h, 1e-12), 0.0)
        fc = (1 - np.clip(v_dot_h, 0, 1)) ** 5
        out[row, :, 0] = ((1 - fc) * g).mean(axis=1)
        out[row, :, 1] = (fc * g).mean(axis=1)
    return out


def ggx_fresnel_ibl(n_dot_v: float, roughness: float, f0: np.ndarray) -> np.ndarray:
    """The split sum's reflectance with Fdez-Aguera's multiple scattering, as the shader
    computes it (the reference for tests)."""
    lut = brdf_lut()
    size = lut.shape[0]
    a, b = _lut_bilinear(lut, n_dot_v, roughness, size)
    f0 = np.asarray(f0, float)
    fr = np.maximum(1 - roughness, f0) - f0
    k_s = f0 + fr * (1 - n_dot_v) ** 5
    fss_ess = k_s * a + b
    ems = 1 - (a + b)
    f_avg = f0 + (1 - f0) / 21
    return fss_ess + fss_ess * ems * f_avg / (1 - f_avg * ems)


def _lut_bilinear(lut: np.ndarray, x: float, y: float, size: int) -> tuple[float, float]:
    fx = min(max(x * size - 0.5, 0), size - 1)
    fy = min(max(y * size - 0.5, 0), size - 1)
    x0, y0 = int(fx), int(fy)
    x1, y1 = min(x0 + 1, size - 1), min(y0 + 1, size - 1)
    tx, ty = fx - x0, fy - y0
    v = (lut[y0, x0] * (1 - tx) + lut[y0, x1] * tx) * (1 - ty) + (lut[y1, x0] * (1 - tx) + lut[y1, x1] * tx) * ty
    return float(v[0]), float(v[1])


# -- caches of prepared environments -------------------------------------------------------

_CACHE: dict[str, IblData] = {}
_BRDF_LUT: Optional[np.ndarray] = None
_LOCK = threading.Lock()
_CACHE_LIMIT = 6
IBL_VERSION = 2   # part of the disk cache's file names: bump when prepare() changes its output
DISK_CACHE_ENTRIES = 24


def cache_dir() -> Optional[Path]:
    """Where prepared environments are kept between runs (the user's cache folder), or None."""
    try:
        from .. import settings

        return settings.cache_home() / "ibl"
    except Exception:  # noqa: BLE001 - a cache is optional
        return None


def cached(key: str, make: Callable[[], np.ndarray]) -> IblData:
    """The prepared environment for ``key`` (a ``content_key`` of the image's bytes), made
    from ``make()``'s image the first time. In memory, several views (a comparison's two
    viewports, a render beside the viewport) share it; on disk, the next run skips the
    prefiltering (about a second)."""
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    data = _load(key)
    if data is None:
        data = prepare(make(), key)
        _save(data)
    adopt(data)
    return data


def adopt(environment: Optional[IblData] = None, brdf: Optional[np.ndarray] = None) -> None:
    """Hold a prepared environment and the BRDF table in memory as if made here: for what
    another process (the reader of a model being opened) prepared."""
    global _BRDF_LUT
    with _LOCK:
        if environment is not None:
            if len(_CACHE) >= _CACHE_LIMIT and environment.key not in _CACHE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[environment.key] = environment
        if brdf is not None and _BRDF_LUT is None:
            _BRDF_LUT = brdf


def _cache_file(key: str) -> Optional[Path]:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}-v{IBL_VERSION}.npz"


def _load(key: str) -> Optional[IblData]:
    path = _cache_file(key)
    if path is None or not path.exists():
        return None
    try:
        with np.load(path) as z:
            return IblData(radiance=z["radiance"].astype(np.float32), specular=z["specular"].astype(np.float32),
                           irradiance=z["irradiance"].astype(np.float32), mean=z["mean"].astype(np.float32), key=key,
                           sh=z["sh"].astype(np.float32))
    except (OSError, ValueError, KeyError):
        return None


def _save(data: IblData) -> None:
    path = _cache_file(data.key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, radiance=data.radiance.astype(np.float16), specular=data.specular.astype(np.float16),
                     irradiance=data.irradiance, mean=data.mean, sh=data.sh)
        os.replace(tmp, path)
        # keep the most recently made few: environments replaced or edited leave old entries
        entries = sorted(path.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[DISK_CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # no cache this time


def content_key(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def peek(key: str) -> Optional[IblData]:
    with _LOCK:
        return _CACHE.get(key)


__all__ = ["ATLAS_SIZE", "IblData", "LEVEL_ROUGHNESS", "adopt", "brdf_lut", "cached", "content_key", "direction_uv",
           "ggx_fresnel_ibl", "irradiance", "make_brdf_lut", "prepare", "texel_directions", "uniform"]
