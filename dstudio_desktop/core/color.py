"""Colour conversions: the one place where display (sRGB) and model (linear) colours meet.

The model holds colours linear, as glTF does (``base_color_factor``, emissive, light and
background colours). A person sees and types sRGB: the colour picker, swatches, hex fields
and the material library file. Every widget and reader converts through these functions;
the renderer encodes to sRGB once, at the very end of its shaders, after tone mapping.

``pbr_neutral`` is the Khronos PBR Neutral tone mapper in numpy, the reference the shader's
copy is tested against.
"""

from __future__ import annotations

import re
from typing import Sequence, Union

import numpy as np

ArrayLike = Union[float, Sequence[float], np.ndarray]
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def srgb_to_linear(value: ArrayLike):
    """The IEC 61966-2-1 sRGB decoding (0..1 in, 0..1 out); a float, tuple or array in kind."""
    arr = np.clip(np.asarray(value, dtype=np.float64), 0.0, 1.0)
    out = np.where(arr <= 0.04045, arr / 12.92, ((arr + 0.055) / 1.055) ** 2.4)
    return _like(value, out)


def linear_to_srgb(value: ArrayLike):
    """The sRGB encoding of linear values (clipped to 0..1 first)."""
    arr = np.clip(np.asarray(value, dtype=np.float64), 0.0, 1.0)
    out = np.where(arr <= 0.0031308, arr * 12.92, 1.055 * arr ** (1 / 2.4) - 0.055)
    return _like(value, out)


def _like(value: ArrayLike, out: np.ndarray):
    if isinstance(value, np.ndarray):
        return out
    if np.ndim(out) == 0:
        return float(out)
    return tuple(float(v) for v in out)


class ColorError(ValueError):
    """A colour a person typed that is not one."""


def parse_hex(text: str) -> tuple[float, ...]:
    """``#rgb``, ``#rrggbb`` or ``#rrggbbaa`` (the ``#`` optional) as sRGB floats 0..1
    (three, or four with alpha)."""
    match = _HEX.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ColorError(f"{text!r} is not a colour: write it as #rrggbb")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) / 255.0 for i in range(0, len(digits), 2))


def to_hex(srgb: Sequence[float]) -> str:
    """``#rrggbb`` of an sRGB colour (extra components, such as alpha, are ignored)."""
    return "#" + "".join(f"{int(round(min(max(c, 0.0), 1.0) * 255)):02x}" for c in list(srgb)[:3])


def hex_to_linear(text: str) -> tuple[float, float, float]:
    """What the model stores for a colour typed as hex (linear RGB)."""
    r, g, b = parse_hex(text)[:3]
    return srgb_to_linear((r, g, b))


def linear_to_hex(rgb: Sequence[float]) -> str:
    """How a person sees a model colour, as hex."""
    return to_hex(linear_to_srgb(tuple(rgb)[:3]))


def srgb8(rgb: Sequence[float]) -> tuple[int, int, int]:
    """A linear model colour as the 0..255 sRGB triple a swatch or picker shows."""
    r, g, b = linear_to_srgb(tuple(rgb)[:3])
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def from_srgb8(rgb: Sequence[int]) -> tuple[float, float, float]:
    """The linear model colour of an 0..255 sRGB triple (what a picker returns)."""
    return srgb_to_linear(tuple(min(max(int(c), 0), 255) / 255.0 for c in list(rgb)[:3]))


def luminance(rgb: Sequence[float]) -> float:
    """Relative luminance of a linear Rec. 709 colour (to pick black or white text on a swatch)."""
    r, g, b = tuple(rgb)[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# Khronos PBR Neutral (https://github.com/KhronosGroup/ToneMapping/tree/main/PBR_Neutral)
NEUTRAL_START_COMPRESSION = 0.8 - 0.04
NEUTRAL_DESATURATION = 0.15


def pbr_neutral(color: ArrayLike) -> np.ndarray:
    """Khronos PBR Neutral of linear colours (..., 3): linear out, in 0..1."""
    c = np.maximum(np.asarray(color, dtype=np.float64), 0.0)
    x = c.min(axis=-1, keepdims=True)
    offset = np.where(x < 0.08, x - 6.25 * x * x, 0.04)
    c = c - offset
    peak = c.max(axis=-1, keepdims=True)
    d = 1.0 - NEUTRAL_START_COMPRESSION
    new_peak = 1.0 - d * d / (peak + d - NEUTRAL_START_COMPRESSION)
    scaled = c * new_peak / np.maximum(peak, 1e-12)
    g = 1.0 - 1.0 / (NEUTRAL_DESATURATION * (peak - new_peak) + 1.0)
    compressed = scaled * (1.0 - g) + new_peak * g
    return np.where(peak < NEUTRAL_START_COMPRESSION, c, compressed)


__all__ = ["ColorError", "from_srgb8", "hex_to_linear", "linear_to_hex", "linear_to_srgb", "luminance",
           "parse_hex", "pbr_neutral", "srgb8", "srgb_to_linear", "to_hex"]
