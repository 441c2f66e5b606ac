"""A project: its metadata plus the JSON documents that describe the scene."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from psygnal import Signal

from ..errors import DocumentError
from .cameras import CameraPresets, CanvasState
from .environment import EnvironmentConfig
from .lighting import LightingConfig
from .materials import MaterialSet
from .records import utc_now
from .scene import SceneGraph
from .schema import Document, load_document, new_id

ProjectStatus = Literal["draft", "in_review", "approved", "archived"]

#: The documents a version snapshot holds, in a fixed order. canvas_state is not versioned.
SNAPSHOT_DOCUMENTS: dict[str, type[Document]] = {
    "scene_graph": SceneGraph,
    "material_overrides": MaterialSet,
    "lighting_config": LightingConfig,
    "environment_config": EnvironmentConfig,
    "camera_presets": CameraPresets,
}
ALL_DOCUMENTS: dict[str, type[Document]] = {**SNAPSHOT_DOCUMENTS, "canvas_state": CanvasState}


@dataclass
class Project:
    """A design project. Documents are evented models; metadata is plain data."""

    name: str
    id: str = field(default_factory=new_id)
    org_id: Optional[str] = None
    description: str = ""
    status: ProjectStatus = "draft"
    is_template: bool = False
    template_category: Optional[str] = None
    source_project_id: Optional[str] = None
    thumbnail_asset_id: Optional[str] = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    scene_graph: SceneGraph = field(default_factory=SceneGraph)
    material_overrides: MaterialSet = field(default_factory=MaterialSet)
    lighting_config: LightingConfig = field(default_factory=LightingConfig)
    environment_config: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    camera_presets: CameraPresets = field(default_factory=CameraPresets)
    canvas_state: CanvasState = field(default_factory=CanvasState)
    #: The workspace's revision this copy was loaded or last saved at (bookkeeping of the store,
    #: not part of the project's JSON): a save based on an older one is refused as a conflict.
    revision: int = field(default=0, compare=False)

    #: Emitted with a document's name when a whole document was replaced (views rebuild it).
    changed = Signal(str)

    def snapshot(self) -> dict[str, Any]:
        """The versioned documents as JSON (what a Version stores)."""
        return {name: getattr(self, name).to_json() for name in SNAPSHOT_DOCUMENTS}

    def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Replace the versioned documents with those of ``snapshot`` (validated first)."""
        docs = load_snapshot(snapshot)
        for name, doc in docs.items():
            setattr(self, name, doc)
        check_references(self)
        for name in docs:
            self.changed.emit(name)

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": self.org_id,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "is_template": self.is_template,
            "template_category": self.template_category,
            "source_project_id": self.source_project_id,
            "thumbnail_asset_id": self.thumbnail_asset_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def to_json(self) -> dict[str, Any]:
        """The whole project as one JSON object (the project file's body)."""
        out = self.metadata()
        out.update({name: getattr(self, name).to_json() for name in ALL_DOCUMENTS})
        return out

    @classmethod
    def from_json(cls, data: Any) -> Project:
        if not isinstance(data, dict):
            raise DocumentError("project", "", "must be a JSON object")
        meta = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k not in ALL_DOCUMENTS}
        if not isinstance(meta.get("name"), str) or not meta["name"].strip():
            raise DocumentError("project", "name", "must be a non-empty string")
        docs = {
            name: load_document(doc_cls, data[name])
            for name, doc_cls in ALL_DOCUMENTS.items()
            if name in data
        }
        project = cls(**meta, **docs)
        check_references(project)
        return project


def load_snapshot(snapshot: Any) -> dict[str, Document]:
    if not isinstance(snapshot, dict):
        raise DocumentError("snapshot", "", "must be a JSON object")
    missing = [n for n in SNAPSHOT_DOCUMENTS if n not in snapshot]
    if missing:
        raise DocumentError("snapshot", missing[0], "is missing")
    return {name: load_document(cls, snapshot[name]) for name, cls in SNAPSHOT_DOCUMENTS.items()}


def check_references(project: Project) -> None:
    """Cross-document checks: every node's material exists; the selection names nodes."""
    materials = {m.id for m in project.material_overrides.materials}
    for node, _ in project.scene_graph.walk():
        if node.material_id is not None and node.material_id not in materials:
            raise DocumentError(
                "scene_graph", f"node {node.name!r}.material_id", f"{node.material_id} is not a material of the project"
            )
