"""Records kept beside a project: versions, assets, annotations. Immutable once made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Optional

from pydantic import ConfigDict, Field

from .cameras import CameraView
from .schema import Direction, Id, Model, Name, Vec3, new_id

AssetType = Literal["mesh", "pointcloud", "texture", "image_set", "gcode", "thumbnail", "other"]
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Record(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Version(Record):
    """A saved snapshot of a project's documents; ``version_number`` counts from 1."""

    id: Id = Field(default_factory=new_id)
    project_id: Id
    version_number: int = Field(ge=1)
    snapshot: dict[str, Any]
    notes: str = ""
    created_by: Optional[str] = None
    created_at: str = Field(default_factory=utc_now)


class Asset(Record):
    """A file the project uses, content-addressed by the sha256 of its bytes."""

    id: Id = Field(default_factory=new_id)
    project_id: Id
    asset_type: AssetType
    name: Name
    sha256: str = Field(pattern=SHA256_PATTERN)
    file_size: int = Field(ge=0)
    media_type: str = "application/octet-stream"
    url: Optional[str] = None
    thumbnail_asset_id: Optional[Id] = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    uploaded_by: Optional[str] = None
    created_at: str = Field(default_factory=utc_now)


class SurfacePoint(Record):
    """A point on a node's surface with the surface normal there."""

    point: Vec3
    normal: Direction
    node_id: Id


class Annotation(Record):
    """A review comment pinned to the model; replies set ``parent_id``."""

    id: Id = Field(default_factory=new_id)
    project_id: Id
    version_id: Optional[Id] = None
    parent_id: Optional[Id] = None
    author_id: Optional[str] = None
    content: str = Field(min_length=1, max_length=20000)
    position: Optional[SurfacePoint] = None
    camera_state: Optional[CameraView] = None
    resolved: bool = False
    created_at: str = Field(default_factory=utc_now)


__all__ = ["Annotation", "Asset", "AssetType", "SurfacePoint", "Version", "utc_now", "Name"]
