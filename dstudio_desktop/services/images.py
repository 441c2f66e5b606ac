"""Pictures of a project without a window (``dstudio render``, the review report's views), and
images entering a project (texture maps, HDR environments) as assets.

Renders go through ``render.headless``: with no display at all it draws through EGL (Mesa's
surfaceless platform) or OSMesa, and says which it used.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import numpy as np

from ..core import Asset
from ..core.schema import new_id
from ..errors import DStudioError
from ..store import Workspace
from .models import load_mesh

MAX_IMAGE_BYTES = 512 * 1024 * 1024
MAX_IMAGE_PIXELS = 16384 * 16384
HDR_MEDIA = {".hdr": "image/vnd.radiance", ".exr": "image/x-exr"}


def workspace_assets(ws: Workspace):
    """The asset source a viewport or render of a stored project draws from: meshes and the
    bytes of its image assets (textures, environments)."""
    from ..render.prepare import AssetSource

    return AssetSource(lambda asset_id: load_mesh(ws, asset_id), lambda asset_id: ws.asset_bytes(ws.get_asset(asset_id)))


def render_project(ws: Workspace, key: str, size: tuple[int, int] = (960, 640), camera: Optional[str] = None,
                   view=None, pins=None, selected_pin: Optional[str] = None, **options) -> np.ndarray:
    """The stored project rendered from a camera preset (by name), ``view``, or its default view.
    ``options`` are those of ``render.headless.render_scene`` (supersample, transparent, progress,
    cancel, info)."""
    from ..render.headless import render_scene

    project = ws.load_project(key)
    return render_scene(project, workspace_assets(ws), size, camera, view, pins, selected_pin, **options)


def read_image_file(path: str | Path, hdr: bool = False) -> tuple[bytes, str]:
    """A picture file's bytes and media type, checked to be an image this app can draw
    (``hdr``: a Radiance .hdr or OpenEXR environment; else PNG, JPEG, WebP, ...)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise DStudioError(f"{path.name}: {size / 2**20:.0f} MB is too large for an image")
        data = path.read_bytes()
    except OSError as err:
        raise DStudioError(f"{path}: cannot be read ({err.strerror or err})") from None
    if hdr:
        from ..render.hdr import read_hdr_image

        read_hdr_image(data, path.name)   # raises HdrError (a DStudioError) naming the problem
        return data, HDR_MEDIA.get(path.suffix.lower(), "image/vnd.radiance")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise DStudioError(f"{path.name}: {img.width}x{img.height} is too large for a texture")
            img.verify()
            media = Image.MIME.get(img.format or "", "application/octet-stream")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise DStudioError(f"{path.name}: not an image this app can read ({err})") from None
    return data, media


def add_image(ws: Workspace, project_id: str, path: str | Path, hdr: bool = False) -> Asset:
    """Store a picture file as a texture asset of the project (the same bytes are kept once)
    and return it; a material or the environment then refers to it by id."""
    from ..meshio.scenedata import Texture
    from .geometry import texture_asset

    data, media = read_image_file(path, hdr)
    asset, blob = texture_asset(project_id, new_id(), Texture(name=Path(path).name, data=data, media_type=media))
    return ws.add_asset(asset, blob)


__all__ = ["add_image", "read_image_file", "render_project", "workspace_assets"]
