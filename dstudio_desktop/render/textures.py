"""GPU resources one scene view's visuals share: material textures (each image uploaded once,
however many materials use it, with mipmaps), the environment's textures, the BRDF table and
the shadow maps.

GL objects belong to one context, so the resources are kept per scene view (a comparison's
second viewport has its own), found through ``resources_for``; the CPU side of an
environment (``ibl.IblData``) is shared process-wide.
"""

from __future__ import annotations

import io
import weakref
from typing import Any, Callable, Optional

import numpy as np
from vispy import gloo
from vispy.gloo import gl

from . import ibl

MAX_TEXTURE = 8192   # larger images are scaled down to this on upload
GL_SRGB8_ALPHA8 = 0x8C43


def decode_image(data: bytes) -> Optional[np.ndarray]:
    """(H, W, 4) uint8 of a PNG/JPEG/... image's bytes, or None when it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (MAX_TEXTURE, MAX_TEXTURE))
            if max(img.size) > MAX_TEXTURE:
                img.thumbnail((MAX_TEXTURE, MAX_TEXTURE))
            return np.asarray(img.convert("RGBA"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


class SceneResources:
    """Textures and shadow maps of one scene view (see the module's docstring)."""

    def __init__(self, image_lookup: Optional[Callable[[str], Optional[bytes]]] = None) -> None:
        self.image_lookup = image_lookup
        self._textures: dict[tuple[str, bool], Optional[gloo.Texture2D]] = {}
        self._pending_mipmaps: list[tuple[gloo.Texture2D, Optional[np.ndarray]]] = []
        self._blank: Optional[gloo.Texture2D] = None
        self._lut: Optional[gloo.Texture2D] = None
        self._env: Optional[tuple[gloo.Texture2D, gloo.Texture2D, None]] = None
        self.environment: Optional[ibl.IblData] = None
        self.environment_light = None      # the EnvironmentLight the textures are of
        self.shadow = None                 # shadows.ShadowMaps when the catcher is on
        self.uploads = 0                   # material images uploaded so far (a test counts them)

    # -- material textures ------------------------------------------------------------------

    def texture(self, asset_id: str, srgb: bool = False) -> Optional[gloo.Texture2D]:
        """The image asset as a texture, uploaded the first time any material asks for it.
        ``srgb`` (base colour and emissive maps): stored as GL_SRGB8_ALPHA8, so the GPU decodes
        to linear before it filters and the mipmaps average light, not its encoding."""
        key = (asset_id, srgb)
        if key in self._textures:
            return self._textures[key]
        texture = None
        data = self.image_lookup(asset_id) if self.image_lookup is not None else None
        pixels = decode_image(data) if data else None
        if pixels is not None:
            texture = uploaded(pixels, interpolation="linear", wrapping="repeat")
            self._pending_mipmaps.append((texture, pixels if srgb else None))
            self.uploads += 1
        self._textures[key] = texture
        return texture

    def forget_texture(self, asset_id: str) -> None:
        """Drop a texture (its asset was replaced) so the next use uploads it again."""
        for srgb in (False, True):
            self._textures.pop((asset_id, srgb), None)

    def make_mipmaps(self, canvas) -> None:
        """Generate mipmaps of newly uploaded textures (gloo has no call for it): the canvas's
        context must be current, as it is while a visual draws."""
        if not self._pending_mipmaps or canvas is None:
            return
        for texture, _ in self._pending_mipmaps:
            # a texture's upload waits in its own queue until a program draws with it: send it now
            canvas.context.glir.associate(texture.glir)
        canvas.context.flush_commands()
        parser = canvas.context.shared.parser
        waiting = []
        for texture, srgb_pixels in self._pending_mipmaps:
            obj = parser.get_object(texture.id)
            if obj is None or not hasattr(obj, "activate"):
                waiting.append((texture, srgb_pixels))
                continue
            obj.activate()
            if srgb_pixels is not None:   # gloo knows no sRGB format: the same pixels, specified again as sRGB
                gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, GL_SRGB8_ALPHA8, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, srgb_pixels)
            gl.glGenerateMipmap(gl.GL_TEXTURE_2D)
            gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_LINEAR_MIPMAP_LINEAR)
            obj.deactivate()
        self._pending_mipmaps = waiting

    def blank_texture(self) -> gloo.Texture2D:
        if self._blank is None:
            self._blank = gloo.Texture2D(np.full((1, 1, 4), 255, np.uint8))
        return self._blank

    def brdf_lut_texture(self) -> gloo.Texture2D:
        if self._lut is None:
            lut = ibl.brdf_lut()
            rgb = np.concatenate([lut, np.zeros(lut.shape[:2] + (1,), np.float32)], axis=-1)
            self._lut = uploaded(rgb, interpolation="linear", wrapping="clamp_to_edge", internalformat="rgb32f")
        return self._lut

    # -- the environment --------------------------------------------------------------------

    def set_environment(self, data: Optional[ibl.IblData], light: Any) -> None:
        """Upload a prepared environment (kept when it is the one already there)."""
        self.environment_light = light
        if data is None:
            self.environment, self._env = None, None
            return
        if self.environment is not None and self.environment.key == data.key and self._env is not None:
            return
        self.environment = data
        radiance, specular = (uploaded(np.ascontiguousarray(a, np.float32), interpolation="linear",
                                       wrapping="repeat", internalformat="rgb16f")
                              for a in (data.radiance, data.specular))
        self._env = (radiance, specular, None)   # diffuse light goes to the shaders as SH coefficients

    def environment_textures(self) -> Optional[tuple[gloo.Texture2D, gloo.Texture2D, None]]:
        return self._env


def uploaded(pixels: np.ndarray, **kwargs: Any) -> gloo.Texture2D:
    """A texture of ``pixels`` that uploads them as they are: ``gloo.Texture2D(pixels)`` first
    copies them (``np.array``), which for a prepared environment's float maps was 85 ms of a
    large part's first frame."""
    texture = gloo.Texture2D(shape=pixels.shape, **kwargs)
    texture.set_data(pixels)
    return texture


_RESOURCES: weakref.WeakKeyDictionary[Any, SceneResources] = weakref.WeakKeyDictionary()


def resources_for(context: Any) -> SceneResources:
    """The resources of a scene view (made on first use, with the view's image lookup)."""
    res = _RESOURCES.get(context)
    if res is None:
        from .prepare import image_source

        res = SceneResources(image_source(getattr(context, "_load_mesh", None)))
        _RESOURCES[context] = res
    return res


__all__ = ["SceneResources", "decode_image", "resources_for", "uploaded"]
