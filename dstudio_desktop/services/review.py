"""Review: pins on the model, threads, resolve and reopen, and what changed between
versions. Shared by the CLI and the UI; no Qt here.

Annotations belong to the version they were made on (the project's latest saved version
then); each carries its author (the local profile until sign-in exists). The store checks
the role on every write (a reviewer annotates, a viewer does not), as the backend's RLS does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core import Annotation, CameraView, Project, SurfacePoint
from ..core.diff import Change, diff_snapshots
from ..core.picking import closest_point, face_normal
from ..errors import DStudioError, NotFoundError
from ..store import Workspace
from .models import load_mesh

# a typed point counts as on the surface within this fraction of the scene's size
SURFACE_TOLERANCE = 1e-3


@dataclass
class Thread:
    annotation: Annotation
    number: int                      # 1, 2, 3... in the order they were made
    replies: list[Annotation] = field(default_factory=list)


def threads(annotations: list[Annotation]) -> list[Thread]:
    top = [a for a in annotations if a.parent_id is None]
    by_id = {a.id: Thread(a, i + 1) for i, a in enumerate(top)}
    for a in annotations:
        if a.parent_id is not None and a.parent_id in by_id:
            by_id[a.parent_id].replies.append(a)
    return list(by_id.values())


def scene_bounds(ws: Workspace, project: Project) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for node, world in project.scene_graph.world_matrices():
        if node.kind != "mesh" or not node.asset_id:
            continue
        corners = load_mesh(ws, node.asset_id).bounds()
        pts = np.array([[x, y, z, 1.0] for x in corners[:, 0] for y in corners[:, 1] for z in corners[:, 2]])
        world_pts = (world @ pts.T).T[:, :3]
        lo, hi = np.minimum(lo, world_pts.min(axis=0)), np.maximum(hi, world_pts.max(axis=0))
    if not np.all(np.isfinite(lo)):
        raise DStudioError(f"project {project.name!r} has no geometry to annotate")
    return lo, hi


def surface_point(ws: Workspace, project: Project, point: np.ndarray, node_key: Optional[str] = None) -> SurfacePoint:
    """The surface point at ``point`` (world coordinates), with its normal and node; refuses a
    point that is not on a part's surface."""
    point = np.asarray(point, dtype=np.float64)
    candidates = []
    for node, world in project.scene_graph.world_matrices():
        if node.kind != "mesh" or not node.asset_id:
            continue
        if node_key is not None and node_key not in (node.id, node.name):
            continue
        candidates.append((node, world))
    if node_key is not None and not candidates:
        raise NotFoundError(f"project {project.name!r} has no part {node_key!r}")
    best = None
    for node, world in candidates:
        mesh = load_mesh(ws, node.asset_id)
        inv = np.linalg.inv(world)
        local = inv[:3, :3] @ point + inv[:3, 3]
        hit, face, _ = closest_point(mesh.positions, mesh.faces, local)
        world_hit = world[:3, :3] @ hit + world[:3, 3]
        dist = float(np.linalg.norm(world_hit - point))
        if best is None or dist < best[0]:
            normal = np.linalg.inv(world[:3, :3]).T @ face_normal(mesh.positions, mesh.faces, face)
            best = (dist, node, world_hit, normal / np.linalg.norm(normal))
    lo, hi = scene_bounds(ws, project)
    size = float(np.linalg.norm(hi - lo))
    if best is None or best[0] > SURFACE_TOLERANCE * size:
        where = ", ".join(f"{v:g}" for v in point)
        gap = f"{best[0]:.4g} m from the nearest surface" if best else "no part to pin it to"
        raise DStudioError(f"project {project.name!r}: the point ({where}) is not on a part's surface ({gap})")
    _, node, hit, normal = best
    return SurfacePoint(point=tuple(hit), normal=tuple(normal), node_id=node.id)


def _current_version_id(ws: Workspace, project: Project) -> Optional[str]:
    versions = ws.list_versions(project.id)
    return versions[-1].id if versions else None


def add(ws: Workspace, project: Project, text: str, position: Optional[SurfacePoint],
        camera: Optional[CameraView]) -> Annotation:
    profile = ws.local_profile()
    return ws.add_annotation(Annotation(project_id=project.id, version_id=_current_version_id(ws, project),
                                        author_id=profile["id"], content=_text(text), position=position,
                                        camera_state=camera))


def reply(ws: Workspace, project: Project, annotation_id: str, text: str) -> Annotation:
    parent = ws.get_annotation(project.id, annotation_id)
    if parent.parent_id is not None:  # replies thread under the annotation, not under each other
        parent = ws.get_annotation(project.id, parent.parent_id)
    return ws.add_annotation(Annotation(project_id=project.id, version_id=parent.version_id, parent_id=parent.id,
                                        author_id=ws.local_profile()["id"], content=_text(text)))


def set_resolved(ws: Workspace, project: Project, annotation_id: str, resolved: bool) -> Annotation:
    annotation = ws.get_annotation(project.id, annotation_id)
    if annotation.resolved == resolved:
        return annotation
    return ws.update_annotation(annotation, resolved=resolved)


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise DStudioError("an annotation needs some text")
    return text


def version_diff(ws: Workspace, key: str, a: int, b: int) -> list[Change]:
    return diff_snapshots(ws.get_version(key, a).snapshot, ws.get_version(key, b).snapshot)
