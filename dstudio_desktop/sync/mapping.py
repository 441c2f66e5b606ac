"""Local records to the server's columns (push) and back (pull)."""

from __future__ import annotations

from typing import Any, Optional

from ..core import Annotation, Asset

PROJECT_COLUMNS = ("id", "org_id", "name", "description", "status", "is_template", "template_category",
                   "source_project_id", "scene_graph", "material_overrides", "lighting_config", "camera_presets",
                   "environment_config", "canvas_state")
PRINT_JOB_COLUMNS = ("id", "org_id", "design_project_id", "status", "material", "color", "infill_percent",
                     "support_material", "layer_height", "print_orientation", "gcode_url", "estimated_time_minutes",
                     "actual_time_minutes", "estimated_material_grams", "actual_material_grams", "printer_id",
                     "credits_used", "started_at", "completed_at", "created_at")
# what a desktop writes of an export record; requested_by, credits_used and output_url are the server's
EXPORT_COLUMNS = ("id", "project_id", "version_id", "format", "quality_preset", "file_size", "started_at",
                  "completed_at")
EXTENSIONS = {"model/gltf-binary": "glb", "image/png": "png", "image/jpeg": "jpg", "text/x-gcode": "gcode",
              "model/stl": "stl", "model/obj": "obj", "model/3mf": "3mf", "application/ply": "ply"}


def storage_path(org_id: str, asset: Asset) -> str:
    return f"{org_id}/{asset.sha256}.{EXTENSIONS.get(asset.media_type, 'bin')}"


def project_payload(project_json: dict[str, Any], org_id: str) -> dict[str, Any]:
    payload = {k: project_json[k] for k in PROJECT_COLUMNS if k in project_json}
    payload["org_id"] = project_json.get("org_id") or org_id
    return payload


def annotation_mutation(op: str, payload: dict[str, Any], user_id: str) -> tuple[str, dict[str, Any]]:
    """(entity, payload): a reply goes to the replies table, under its annotation."""
    is_reply = payload.get("parent_id") is not None
    if op == "update":
        fields = {k: v for k, v in payload.items() if k in ("id", "content", "resolved")}
        return ("annotation_reply" if is_reply else "annotation"), fields
    if is_reply:
        return "annotation_reply", {"id": payload["id"], "annotation_id": payload["parent_id"],
                                    "content": payload["content"], "author_id": user_id,
                                    "created_at": payload["created_at"]}
    out = {k: payload.get(k) for k in ("id", "project_id", "version_id", "content", "position", "camera_state",
                                       "resolved", "created_at")}
    out["author_id"] = user_id  # the local profile stood in for the signed-in user
    return "annotation", out


def export_payload(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in EXPORT_COLUMNS if k in record}


def print_job_payload(job: dict[str, Any], org_id: str) -> dict[str, Any]:
    payload = {k: job[k] for k in PRINT_JOB_COLUMNS if k in job}
    payload["org_id"] = job.get("org_id") or org_id
    payload["credits_used"] = int(round(job.get("credits_used") or 0))
    return payload


def annotation_from_row(row: dict[str, Any], parent_id: Optional[str] = None,
                        project_id: Optional[str] = None) -> Annotation:
    return Annotation(id=row["id"], project_id=project_id or row["project_id"], version_id=row.get("version_id"),
                      parent_id=parent_id, author_id=row.get("author_id"), content=row["content"],
                      position=row.get("position"), camera_state=row.get("camera_state"),
                      resolved=bool(row.get("resolved", False)), created_at=row["created_at"],
                      updated_at=row.get("updated_at"))


def asset_from_row(row: dict[str, Any]) -> Asset:
    meta = dict(row.get("metadata") or {})
    return Asset(id=row["id"], project_id=row["project_id"], asset_type=row["asset_type"], name=row["name"],
                 sha256=row["sha256"], file_size=row["file_size"], media_type=meta.pop("media_type", "application/octet-stream"),
                 url=row.get("url"), metadata=meta, uploaded_by=row.get("uploaded_by"), created_at=row["created_at"])
