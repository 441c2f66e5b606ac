"""Three-way merge of JSON documents: what the editor started from (base), what it has now
(mine) and what was stored meanwhile by someone else (theirs: a CLI command, a sync pull, a
finished job).

A change made on only one side is taken. Lists of objects that carry an ``id`` (scene nodes,
materials, lights, camera presets) are merged item by item, so a part added elsewhere and a
part moved here both survive. Where both sides changed the same value differently, mine is
kept and the place is reported as a conflict; the caller keeps theirs as a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass
class MergeResult:
    value: Any
    conflicts: list[str] = field(default_factory=list)


def merge(base: Any, mine: Any, theirs: Any) -> MergeResult:
    """The merged document and the paths where both sides changed the same value."""
    conflicts: list[str] = []
    value = _merge(base, mine, theirs, "", conflicts)
    return MergeResult(value, conflicts)


def _merge(base: Any, mine: Any, theirs: Any, path: str, conflicts: list[str]) -> Any:
    if _same(mine, theirs):
        return mine
    if _same(mine, base):
        return theirs
    if _same(theirs, base):
        return mine
    if all(isinstance(v, dict) for v in (base, mine, theirs)):
        return _merge_dicts(base, mine, theirs, path, conflicts)
    if all(_identified(v) for v in (base, mine, theirs)):
        return _merge_identified(base, mine, theirs, path, conflicts)
    conflicts.append(path or "(document)")
    return mine


def _same(a: Any, b: Any) -> bool:
    return a is b or (a is not _MISSING and b is not _MISSING and a == b)


def _merge_dicts(base: dict, mine: dict, theirs: dict, path: str, conflicts: list[str]) -> Any:
    out = {}
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        value = _merge(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING),
                       f"{path}.{key}" if path else str(key), conflicts)
        if value is not _MISSING:
            out[key] = value
    return out


def _identified(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in value)


def _merge_identified(base: list, mine: list, theirs: list, path: str, conflicts: list[str]) -> list:
    """Item by item by id: mine's order, then what only theirs added, where theirs put it."""
    b, m, t = ({item["id"]: item for item in items} for items in (base, mine, theirs))
    order = [item["id"] for item in mine]
    for i, item in enumerate(theirs):
        if item["id"] in m or item["id"] in b:
            continue
        # after the nearest earlier item of theirs that is already placed, else at the front
        before = next((theirs[j]["id"] for j in range(i - 1, -1, -1) if theirs[j]["id"] in order), None)
        order.insert(order.index(before) + 1 if before is not None else 0, item["id"])
    out = []
    for item_id in order:
        value = _merge(b.get(item_id, _MISSING), m.get(item_id, _MISSING), t.get(item_id, _MISSING),
                       f"{path}[{item_id[:8]}]", conflicts)
        if value is not _MISSING:
            out.append(value)
    return out


#: Fields of a project's JSON that are bookkeeping, not anyone's edit: never merged.
_NOT_MERGED = ("updated_at", "created_at", "id")


def merge_project(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Merge three ``Project.to_json()`` states: the merged JSON, and the conflicting paths by
    document (or ``"project"`` for its metadata). The viewport's own state (canvas_state)
    is always mine: it is this window's camera and selection, not an edit."""
    merged: dict[str, Any] = {}
    conflicts: dict[str, list[str]] = {}
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        if key in _NOT_MERGED:
            merged[key] = theirs.get(key, mine.get(key))
            continue
        if key == "canvas_state":
            merged[key] = mine.get(key, theirs.get(key))
            continue
        result = merge(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING))
        if result.value is not _MISSING:
            merged[key] = result.value
        if result.conflicts:
            conflicts[key if isinstance(mine.get(key, theirs.get(key)), dict) else "project"] = result.conflicts
    return merged, conflicts
