"""The workspace's side of sync: what the server numbered, what it last showed us, what it
refused, and applying rows pulled from it. Writes here never go to the outbox: they are the
server's own state arriving, not local changes to send."""

from __future__ import annotations

import json
from typing import Any, Optional

from ..core import Annotation, Asset, Project
from ..core.records import PrintJob, utc_now
from ..core.schema import validate_model


class SyncState:
    def __init__(self, ws) -> None:
        self.ws = ws
        self._db = ws._db

    # -- key/value state (cursors, the signed-in org) ------------------------

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        row = self._db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set(self, key: str, value: str) -> None:
        with self.ws.transaction() as db:
            db.execute("INSERT INTO sync_state (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def forget(self, key: str) -> None:
        with self.ws.transaction() as db:
            db.execute("DELETE FROM sync_state WHERE key = ?", (key,))

    # -- the outbox ------------------------------------------------------------

    def pending(self, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    def pending_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def done(self, mutation_ids: list[str]) -> None:
        with self.ws.transaction() as db:
            db.executemany("DELETE FROM outbox WHERE mutation_id = ?", [(m,) for m in mutation_ids])

    def reject(self, row: dict[str, Any], code: str, message: str) -> None:
        """The server refused this change for good: keep its reason, stop sending it."""
        with self.ws.transaction() as db:
            db.execute("INSERT OR REPLACE INTO sync_rejections (mutation_id, entity, entity_id, op, code, message, "
                       "created_at) VALUES (?,?,?,?,?,?,?)", (row["mutation_id"], row["entity"], row["entity_id"],
                                                              row["op"], code, message, utc_now()))
            db.execute("DELETE FROM outbox WHERE mutation_id = ?", (row["mutation_id"],))

    def rejections(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute("SELECT * FROM sync_rejections ORDER BY created_at").fetchall()]

    # -- what the server last showed us -----------------------------------------

    def seen(self, entity: str, row_id: str) -> Optional[str]:
        row = self._db.execute("SELECT updated_at FROM remote_seen WHERE entity = ? AND id = ?",
                               (entity, row_id)).fetchone()
        return row["updated_at"] if row else None

    def mark_seen(self, db, entity: str, row_id: str, updated_at: str) -> None:
        db.execute("INSERT INTO remote_seen (entity, id, updated_at) VALUES (?,?,?) ON CONFLICT (entity, id) "
                   "DO UPDATE SET updated_at = excluded.updated_at", (entity, row_id, updated_at))

    def server_number(self, version_id: str) -> Optional[int]:
        row = self._db.execute("SELECT server_number FROM version_numbers WHERE version_id = ?",
                               (version_id,)).fetchone()
        return row["server_number"] if row else None

    def set_server_number(self, version_id: str, number: int) -> None:
        with self.ws.transaction() as db:
            db.execute("INSERT OR REPLACE INTO version_numbers (version_id, server_number) VALUES (?, ?)",
                       (version_id, number))

    def has_pending(self, entity: str, entity_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM outbox WHERE entity = ? AND entity_id = ? LIMIT 1",
                                (entity, entity_id)).fetchone() is not None

    # -- rows arriving from the server ----------------------------------------

    def apply_project(self, data: dict[str, Any], updated_at: str) -> Project:
        project = Project.from_json(data)
        exists = self._db.execute("SELECT 1 FROM projects WHERE id = ?", (project.id,)).fetchone() is not None
        with self.ws.transaction() as db:
            self.ws._write_project(db, project, insert=not exists)
            # version numbers and counts are this workspace's own (the server's are kept beside them)
            db.execute("UPDATE projects SET version_count = (SELECT COALESCE(MAX(version_number), 0) FROM versions "
                       "WHERE project_id = ?), current_version_id = (SELECT id FROM versions WHERE project_id = ? "
                       "ORDER BY version_number DESC LIMIT 1) WHERE id = ?", (project.id, project.id, project.id))
            self.mark_seen(db, "project", project.id, updated_at)
        return project

    def apply_version(self, version_id: str, project_id: str, server_number: int, snapshot: dict, notes: str,
                      created_by: Optional[str], created_at: str) -> None:
        with self.ws.transaction() as db:
            if db.execute("SELECT 1 FROM versions WHERE id = ?", (version_id,)).fetchone() is None:
                number = db.execute("SELECT COALESCE(MAX(version_number), 0) + 1 FROM versions WHERE project_id = ?",
                                    (project_id,)).fetchone()[0]
                db.execute("INSERT INTO versions (id, project_id, version_number, snapshot, notes, created_by, "
                           "created_at) VALUES (?,?,?,?,?,?,?)", (version_id, project_id, number, json.dumps(snapshot),
                                                                  notes, created_by, created_at))
                db.execute("UPDATE projects SET version_count = MAX(version_count, ?) WHERE id = ?",
                           (number, project_id))
            db.execute("INSERT OR REPLACE INTO version_numbers (version_id, server_number) VALUES (?, ?)",
                       (version_id, server_number))

    def apply_annotation(self, annotation: Annotation, updated_at: str) -> None:
        with self.ws.transaction() as db:
            db.execute("INSERT INTO annotations (id, project_id, version_id, parent_id, body, created_at) "
                       "VALUES (?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                       (annotation.id, annotation.project_id, annotation.version_id, annotation.parent_id,
                        json.dumps(annotation.to_json()), annotation.created_at))
            self.mark_seen(db, "annotation", annotation.id, updated_at)

    def apply_asset(self, asset: Asset, updated_at: str) -> None:
        """Metadata only: the bytes are fetched when something needs them."""
        with self.ws.transaction() as db:
            if db.execute("SELECT 1 FROM assets WHERE id = ?", (asset.id,)).fetchone() is None:
                db.execute("INSERT INTO assets (id, project_id, asset_type, name, sha256, file_size, body, created_at) "
                           "VALUES (?,?,?,?,?,?,?,?)", (asset.id, asset.project_id, asset.asset_type, asset.name,
                                                        asset.sha256, asset.file_size, json.dumps(asset.to_json()),
                                                        asset.created_at))
            self.mark_seen(db, "asset", asset.id, updated_at)

    def apply_print_job(self, row: dict[str, Any], updated_at: str) -> None:
        """A print job from the server (another desktop's, or the print shop's progress on ours):
        its server columns over what is kept here (the G-code asset, the slicer stay)."""
        with self.ws.transaction() as db:
            local = db.execute("SELECT body FROM print_jobs WHERE id = ?", (row["id"],)).fetchone()
            body = json.loads(local["body"]) if local else {}
            body.update({k: v for k, v in row.items() if k in PrintJob.model_fields and v is not None})
            job = validate_model(PrintJob, body, "print job")
            db.execute("INSERT INTO print_jobs (id, design_project_id, status, body, created_at) VALUES (?,?,?,?,?) "
                       "ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
                       (job.id, job.design_project_id, job.status, json.dumps(job.to_json()), job.created_at))
            self.mark_seen(db, "print_job", job.id, updated_at)

    def local_annotation(self, annotation_id: str) -> Optional[Annotation]:
        row = self._db.execute("SELECT body FROM annotations WHERE id = ?", (annotation_id,)).fetchone()
        return validate_model(Annotation, json.loads(row["body"]), "annotation") if row else None

    def project_exists(self, project_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone() is not None

