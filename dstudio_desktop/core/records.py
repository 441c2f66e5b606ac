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
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)


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
    updated_at: Optional[str] = None


class PrintJob(Record):
    """A part sent to a printer: the settings, the G-code asset and the slicer's estimates."""

    id: Id = Field(default_factory=new_id)
    org_id: Optional[str] = None
    design_project_id: Optional[Id] = None
    status: Literal["sliced", "queued", "printing", "completed", "failed", "cancelled"] = "sliced"
    material: str
    color: Optional[str] = None
    infill_percent: float = Field(ge=0, le=100)
    support_material: bool = False
    layer_height: float = Field(gt=0)
    print_orientation: dict[str, Any] = Field(default_factory=dict)
    gcode_asset_id: Optional[Id] = None
    gcode_url: Optional[str] = None   # on the server: the G-code's storage path (sync fills it in)
    # where the G-code was sent: its address on the print server (kept here; the server's
    # gcode_url column takes only a storage path in the organisation's folder)
    sent_to: Optional[str] = None
    estimated_time_minutes: float = Field(ge=0)
    actual_time_minutes: Optional[float] = None
    estimated_material_grams: float = Field(ge=0)
    actual_material_grams: Optional[float] = None
    printer_id: str
    slicer: str = ""
    credits_used: float = 0.0
    started_at: Optional[str] = None
    completed_at: Optional[str] = None
    created_at: str = Field(default_factory=utc_now)


__all__ = ["Annotation", "Asset", "PrintJob", "AssetType", "SurfacePoint", "Version", "utc_now"]
