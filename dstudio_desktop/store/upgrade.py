"""Opening a workspace written by another release of Design Studio.

The database's ``PRAGMA user_version`` is its schema. A workspace from a newer release is
refused before anything is written to it (no journal-mode change, no migration, no clean-up), so
the newer app still finds it as it left it. A workspace from an older release is copied to
``backups/`` first (SQLite's online backup, so a write-ahead log still holding changes is
included) and then upgraded in place in one transaction. The JSON documents inside carry
their own schema versions and are upgraded as they are read (``core.schema.load_document``).
Blobs are content-addressed and never rewritten by an upgrade, so the database is all there is
to keep.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from ..errors import WorkspaceError


def schema_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(db: sqlite3.Connection, home: Path, supported: int) -> int:
    """The workspace's schema; a ``WorkspaceError`` (one line) when it is newer than ``supported``."""
    current = schema_of(db)
    if current > supported:
        raise WorkspaceError(
            f"{home}: this workspace was written by a newer Design Studio (workspace schema {current}; "
            f"this version reads up to {supported}); install the newer version to open it — nothing was changed"
        )
    return current


def back_up(db: sqlite3.Connection, home: Path, current: int, target: int) -> Path:
    """Copy the whole database to ``home/backups`` before upgrading it from ``current`` to ``target``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    dest = home / "backups" / f"workspace-schema{current}-before-{target}-{stamp}.sqlite3"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(dest)
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
    except (OSError, sqlite3.Error) as err:
        if dest.is_file():
            dest.unlink()
        raise WorkspaceError(
            f"{home}: cannot back up the workspace before upgrading it (schema {current} to {target}): {err}; "
            "nothing was changed"
        ) from None
    return dest
