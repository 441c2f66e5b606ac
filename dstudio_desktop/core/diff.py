"""What changed between two versions: compares two snapshots (the JSON a Version stores).

Nodes are matched by id across the whole tree: added, removed, moved (local transform),
re-materialed, renamed, reparented, shown or hidden. Materials by id, field by field.
Lights, cameras and environment are compared as documents, with the fields that differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Change:
    kind: str            # node_added, node_removed, node_moved, node_rematerialed, node_renamed, ...
    target: str          # the node, material, light or camera id (or the document name)
    name: str            # what a person calls it
    fields: list[str] = field(default_factory=list)
    before: Any = None
    after: Any = None

    def describe(self) -> str:
        what = {
            "node_added": "added", "node_removed": "removed", "node_moved": "moved",
            "node_rematerialed": "material changed", "node_renamed": "renamed", "node_reparented": "moved in the tree",
            "node_visibility": "shown" if self.after else "hidden", "node_locked": "locked" if self.after else "unlocked",
            "material_added": "material added", "material_removed": "material removed",
            "material_changed": "material edited", "lighting_changed": "lighting changed",
            "camera_added": "camera added", "camera_removed": "camera removed", "camera_changed": "camera changed",
            "environment_changed": "environment changed",
        }[self.kind]
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.name}: {what}{detail}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _nodes(snapshot: dict[str, Any]) -> dict[str, tuple[dict, str | None]]:
    found: dict[str, tuple[dict, str | None]] = {}
    stack = [(n, None) for n in snapshot.get("scene_graph", {}).get("nodes", [])]
    while stack:
        node, parent = stack.pop()
        found[node["id"]] = (node, parent)
        stack.extend((c, node["id"]) for c in node.get("children", []))
    return found


def _by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


def _changed_fields(a: dict, b: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    return sorted(k for k in set(a) | set(b) if k not in ignore and a.get(k) != b.get(k))


def _close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= tol
    return a == b


def diff_snapshots(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    nodes_a, nodes_b = _nodes(a), _nodes(b)
    for node_id, (node, _) in nodes_b.items():
        if node_id not in nodes_a:
            changes.append(Change("node_added", node_id, node["name"], after=node.get("kind")))
    for node_id, (node, _) in nodes_a.items():
        if node_id not in nodes_b:
            changes.append(Change("node_removed", node_id, node["name"], before=node.get("kind")))
    for node_id, (old, old_parent) in nodes_a.items():
        if node_id not in nodes_b:
            continue
        new, new_parent = nodes_b[node_id]
        name = new["name"]
        if not _close(old.get("transform"), new.get("transform")):
            changes.append(Change("node_moved", node_id, name,
                                  _changed_fields(old.get("transform", {}), new.get("transform", {})),
                                  old.get("transform"), new.get("transform")))
        if old.get("material_id") != new.get("material_id"):
            changes.append(Change("node_rematerialed", node_id, name, before=old.get("material_id"),
                                  after=new.get("material_id")))
        if old["name"] != new["name"]:
            changes.append(Change("node_renamed", node_id, name, before=old["name"], after=new["name"]))
        if old_parent != new_parent:
            changes.append(Change("node_reparented", node_id, name, before=old_parent, after=new_parent))
        if old.get("visible", True) != new.get("visible", True):
            changes.append(Change("node_visibility", node_id, name, before=old.get("visible", True),
                                  after=new.get("visible", True)))
        if old.get("locked", False) != new.get("locked", False):
            changes.append(Change("node_locked", node_id, name, before=old.get("locked"), after=new.get("locked")))

    mats_a = _by_id(a.get("material_overrides", {}).get("materials", []))
    mats_b = _by_id(b.get("material_overrides", {}).get("materials", []))
    for mid in mats_b.keys() - mats_a.keys():
        changes.append(Change("material_added", mid, mats_b[mid]["name"]))
    for mid in mats_a.keys() - mats_b.keys():
        changes.append(Change("material_removed", mid, mats_a[mid]["name"]))
    for mid in mats_a.keys() & mats_b.keys():
        fields = [f for f in _changed_fields(mats_a[mid], mats_b[mid]) if not _close(mats_a[mid].get(f), mats_b[mid].get(f))]
        if fields:
            changes.append(Change("material_changed", mid, mats_b[mid]["name"], fields,
                                  {f: mats_a[mid].get(f) for f in fields}, {f: mats_b[mid].get(f) for f in fields}))

    light_a, light_b = a.get("lighting_config", {}), b.get("lighting_config", {})
    if not _close(light_a, light_b):
        changes.append(Change("lighting_changed", "lighting_config", "Lighting", _changed_fields(light_a, light_b)))
    env_a, env_b = a.get("environment_config", {}), b.get("environment_config", {})
    if not _close(env_a, env_b):
        changes.append(Change("environment_changed", "environment_config", "Environment", _changed_fields(env_a, env_b)))
    cams_a = _by_id(a.get("camera_presets", {}).get("presets", []))
    cams_b = _by_id(b.get("camera_presets", {}).get("presets", []))
    for cid in cams_b.keys() - cams_a.keys():
        changes.append(Change("camera_added", cid, cams_b[cid]["name"]))
    for cid in cams_a.keys() - cams_b.keys():
        changes.append(Change("camera_removed", cid, cams_a[cid]["name"]))
    for cid in cams_a.keys() & cams_b.keys():
        if not _close(cams_a[cid], cams_b[cid]):
            changes.append(Change("camera_changed", cid, cams_b[cid]["name"], _changed_fields(cams_a[cid], cams_b[cid])))
    if a.get("camera_presets", {}).get("default_id") != b.get("camera_presets", {}).get("default_id"):
        changes.append(Change("camera_changed", "default", "Default camera", ["default_id"]))
    order = {k: i for i, k in enumerate(["node_added", "node_removed", "node_moved", "node_rematerialed",
                                         "node_renamed", "node_reparented", "node_visibility", "node_locked",
                                         "material_added", "material_removed", "material_changed",
                                         "lighting_changed", "camera_added", "camera_removed", "camera_changed",
                                         "environment_changed"])}
    return sorted(changes, key=lambda c: (order[c.kind], c.name, c.target))


def changed_node_ids(changes: list[Change], snapshot: dict[str, Any]) -> set[str]:
    """The nodes a change touches, including those whose material was edited (for highlighting)."""
    ids = {c.target for c in changes if c.kind.startswith("node_")}
    edited = {c.target for c in changes if c.kind == "material_changed"}
    ids |= {nid for nid, (node, _) in _nodes(snapshot).items() if node.get("material_id") in edited}
    return ids
