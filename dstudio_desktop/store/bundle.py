"""A project on disk outside the workspace: ``project.json`` plus its asset files.

The layout is a folder::

    project.json        {"format": "dstudio-project", "schema_version": 1, "project": {...}, "assets": [...]}
    assets/<sha256>     the bytes of each asset, named by their hash

It is how the sample project ships and how a project travels between machines.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..core import Asset, Project
from ..core.schema import upgrade, validate_model
from ..errors import DocumentError, DStudioError
from .blobs import sha256_bytes
from .workspace import Workspace

BUNDLE_FORMAT = "dstudio-project"
BUNDLE_SCHEMA_VERSION = 1


def write_bundle(project: Project, assets: list[tuple[Asset, bytes]], folder: Path) -> None:
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    for asset, data in assets:
        atomic_write(folder / "assets" / asset.sha256, data)
    doc = {
        "format": BUNDLE_FORMAT,
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "project": project.to_json(),
        "assets": [a.to_json() for a, _ in assets],
    }
    atomic_write(folder / "project.json", (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def read_bundle(folder: Path) -> tuple[Project, list[tuple[Asset, bytes]]]:
    manifest = folder / "project.json"
    try:
        doc: Any = json.loads(manifest.read_text())
    except FileNotFoundError:
        raise DStudioError(f"{manifest}: no such file (not a Design Studio project folder)") from None
    except (OSError, ValueError) as err:
        raise DStudioError(f"{manifest}: not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise DStudioError(f"{manifest}: not a Design Studio project file")
    try:
        doc = upgrade("project_bundle", doc, BUNDLE_SCHEMA_VERSION)
        project = Project.from_json(doc.get("project"))
        assets = []
        for i, raw in enumerate(doc.get("assets", [])):
            asset = validate_model(Asset, {**raw, "project_id": project.id}, f"assets[{i}]")
            path = folder / "assets" / asset.sha256
            if not path.is_file():
                raise DStudioError(f"{path}: asset {asset.name!r} is missing from the project folder")
            data = path.read_bytes()
            if sha256_bytes(data) != asset.sha256:
                raise DStudioError(f"{path}: asset {asset.name!r} is damaged (its sha256 does not match)")
            assets.append((asset, data))
    except DocumentError as err:
        raise DStudioError(f"{manifest}: {err}") from None
    return project, assets


def install_bundle(ws: Workspace, folder: Path) -> Project:
    """Add the bundled project to the workspace, or return it if it is already there.

    Its project and asset ids are made this workspace's own (derived from the local profile),
    so two people who both sync the sample never collide on the server."""
    project, assets = read_bundle(folder)
    namespace = uuid.UUID(ws.local_profile()["id"])
    own = {old: str(uuid.uuid5(namespace, old)) for old in [project.id, *(a.id for a, _ in assets)]}
    project.id = own[project.id]
    if any(row["id"] == project.id for row in ws.list_projects()):
        return ws.load_project(project.id)
    assets = [(a.model_copy(update={"id": own[a.id], "project_id": project.id}), data) for a, data in assets]
    for node, _ in project.scene_graph.walk():
        if node.asset_id in own:
            node.asset_id = own[node.asset_id]
    ws.create_project(project)
    ws.save_project(project, assets)
    ws.save_version(project.id, notes="Sample project as shipped")
    return ws.load_project(project.id)
