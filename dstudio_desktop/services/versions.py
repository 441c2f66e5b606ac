"""Versions: saving the project's stored state as the next version, with a thumbnail of how
it looks when there is a picture of it, and restoring an old one (as a new version)."""

from __future__ import annotations

import io
from typing import Optional

import numpy as np

from ..core import Asset, Version
from ..store import Workspace, sha256_bytes

THUMBNAIL_SIZE = (256, 160)


def thumbnail_png(pixels: np.ndarray) -> bytes:
    """A rendered view (H x W x 3 or 4, uint8) padded and scaled to the thumbnail size: the
    whole view, never a crop of it."""
    from PIL import Image, ImageOps

    rgb = np.ascontiguousarray(pixels[..., :3])
    buf = io.BytesIO()
    ImageOps.pad(Image.fromarray(rgb), THUMBNAIL_SIZE, Image.LANCZOS,
                 color=tuple(int(c) for c in rgb[0].mean(axis=0))).save(buf, format="PNG")
    return buf.getvalue()


def thumbnail_asset(version: Version, png: bytes) -> tuple[Asset, bytes]:
    return Asset(project_id=version.project_id, asset_type="thumbnail", name=f"version {version.version_number}.png",
                 sha256=sha256_bytes(png), file_size=len(png), media_type="image/png",
                 metadata={"version_id": version.id, "version_number": version.version_number}), png


def save_version(ws: Workspace, project_key: str, notes: str = "", picture: Optional[np.ndarray] = None) -> Version:
    """The project's stored state as its next version; ``picture`` (a render of it) becomes the
    version's thumbnail."""
    version = ws.save_version(project_key, notes=notes)
    if picture is not None:
        ws.add_asset(*thumbnail_asset(version, thumbnail_png(picture)))
    return version


def restore_version(ws: Workspace, project_key: str, number: int) -> Version:
    """Version ``number``'s documents become current, saved as a new version."""
    return ws.restore_version(project_key, number)


def thumbnails(ws: Workspace, project_id: str) -> dict[str, Asset]:
    """Each version's thumbnail asset, by version id."""
    return {a.metadata["version_id"]: a for a in ws.list_assets(project_id)
            if a.asset_type == "thumbnail" and isinstance(a.metadata.get("version_id"), str)}
