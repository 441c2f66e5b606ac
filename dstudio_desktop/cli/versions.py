"""Handlers for ``dstudio version``: save, list, restore and diff."""

from __future__ import annotations

import argparse
from typing import Any

from .common import _workspace
from .output import Output


def _version_json(v: Any) -> dict[str, Any]:
    return {"id": v.id, "version_number": v.version_number, "notes": v.notes, "created_at": v.created_at}


def _picture(ws: Any, project: str) -> tuple[Any, str]:
    """A render of the stored project from its current view for the thumbnail (drawn without a
    window, as ``dstudio render`` does), or None and why not (an install without the editor's
    drawing libraries, or a machine that cannot draw)."""
    try:
        from ..render.headless import NoGraphicsError
        from ..services.images import render_project
    except ImportError as err:
        return None, f"drawing needs the editor's libraries ({err.name or err})"
    try:
        return render_project(ws, project, size=(512, 320)), ""
    except ImportError as err:   # vispy itself, imported when the first picture is drawn
        return None, f"drawing needs the editor's libraries ({err.name or err})"
    except NoGraphicsError as err:
        return None, str(err)


def cmd_version(args: argparse.Namespace, out: Output) -> int:
    from ..services import versions

    with _workspace() as ws:
        if args.version_cmd == "save":
            picture, why_not = (None, "--no-thumbnail") if args.no_thumbnail else _picture(ws, args.project)
            v = versions.save_version(ws, args.project, notes=args.message, picture=picture)
            out.result({**_version_json(v), "thumbnail": picture is not None},
                       f"saved version {v.version_number}" + ("" if picture is not None else f" (no thumbnail: {why_not})"))
        elif args.version_cmd == "list":
            from ..store.syncstate import SyncState

            versions = ws.list_versions(args.project)
            numbers = SyncState(ws)
            server = {v.id: numbers.server_number(v.id) for v in versions}
            synced = any(n is not None for n in server.values())  # this project has been synced
            text = "\n".join(f"{v.version_number:4d}  {v.created_at[:19]}  {v.notes}" + (
                f"  [server v{server[v.id]}]" if server[v.id] else "  [pending]" if synced else "") for v in versions)
            out.result([{**_version_json(v), "server_number": server[v.id]} for v in versions],
                       text or "no versions yet")
        else:
            v = versions.restore_version(ws, args.project, args.number)
            out.result({**_version_json(v), "restored_from": args.number},
                       f"restored version {args.number} as version {v.version_number}")
    return 0


def cmd_version_diff(args: argparse.Namespace, out: Output) -> int:
    from ..services.review import version_diff

    with _workspace() as ws:
        changes = version_diff(ws, args.project, args.a, args.b)
    text = "\n".join(c.describe() for c in changes) or f"versions {args.a} and {args.b} are the same"
    out.result({"from": args.a, "to": args.b, "changes": [c.to_json() for c in changes]}, text)
    return 0
