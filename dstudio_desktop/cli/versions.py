"""Handlers for ``dstudio version``: save, list, restore and diff."""

from __future__ import annotations

import argparse
from typing import Any

from .common import _workspace
from .output import Output


def _version_json(v: Any) -> dict[str, Any]:
    return {"id": v.id, "version_number": v.version_number, "notes": v.notes, "created_at": v.created_at}


def cmd_version(args: argparse.Namespace, out: Output) -> int:
    from ..services import versions

    with _workspace() as ws:
        if args.version_cmd == "save":
            # no thumbnail from the command line: a picture needs a GL context
            v = versions.save_version(ws, args.project, notes=args.message)
            out.result(_version_json(v), f"saved version {v.version_number}")
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
