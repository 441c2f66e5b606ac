"""One sync cycle: refresh the session if it is about to expire, push the outbox in order and
in batches through ``apply_mutations`` (each mutation keyed by its client id, so a retry
after a lost response applies nothing twice), then pull what changed on the server by an
``(updated_at, id)`` cursor with an overlap window, and the credit balance.

Network errors and 5xx end the cycle as *offline* with the outbox intact. A mutation the
server refuses (4xx) is recorded with its reason and the rest of the queue goes on. A
project whose working copy changed on the server since this client last saw it is never
overwritten: the local state is kept as a new version and the server's copy comes down.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from ..core.progress import CancelToken, check
from ..errors import DStudioError
from ..store.syncstate import SyncState
from . import mapping
from .client import BackendClient, Offline, Rejected
from .session import Session, save_session

log = logging.getLogger(__name__)

BATCH = 100
OVERLAP = timedelta(seconds=10)   # rows committed late carry an earlier now(): look back this far
PAGE = 500
RESUMABLE_FROM = 6 * 1024 * 1024  # Supabase's advice: files above 6 MB go up in resumable chunks
PULL_TABLES = ("design_studio_projects", "design_studio_versions", "design_studio_assets",
               "design_studio_annotations", "design_studio_annotation_replies", "print_jobs")
RETRYABLE_SQLSTATES = ("40001", "40P01", "55P03", "57014")  # serialization, deadlock, lock, cancel


@dataclass
class SyncReport:
    state: str = "up to date"             # up to date | offline | error
    message: str = ""
    pushed: int = 0
    duplicates: int = 0
    uploaded: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    pulled: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    credits: Optional[dict[str, Any]] = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [self.state + (f": {self.message}" if self.message else "")]
        parts.append(f"pushed {self.pushed}" + (f" ({self.duplicates} already there)" if self.duplicates else ""))
        if self.uploaded:
            parts.append(f"uploaded {self.uploaded} file(s)")
        pulled = sum(self.pulled.values())
        parts.append(f"pulled {pulled}")
        if self.waiting:
            parts.append(f"{self.waiting} change(s) waiting")
        lines = [", ".join(parts)]
        lines += [f"refused: {r['entity']} {r['entity_id'][:8]}: {r['message']}" for r in self.rejected]
        lines += [f"conflict: {c}" for c in self.conflicts]
        if self.credits:
            lines.append(f"credits: {self.credits['monthly_remaining']} monthly + {self.credits['purchased_balance']} "
                         f"purchased = {self.credits['balance']}")
        return "\n".join(lines)


class SyncEngine:
    def __init__(self, ws, client: BackendClient, session: Session,
                 persist_session: Callable[[Session], None] = save_session) -> None:
        self.ws = ws
        self.client = client
        self.session = session
        self.persist_session = persist_session
        self.state = SyncState(ws)
        self.client.token = session.access_token

    # -- the cycle ---------------------------------------------------------------

    def run(self, progress: Optional[Callable[[float, str], None]] = None,
            cancel: Optional[CancelToken] = None) -> SyncReport:
        report = SyncReport()
        progress = progress or (lambda *_: None)
        try:
            self.ensure_token()
            org = self.org_id()
            progress(0.05, "sending changes")
            self.push(org, report, progress, cancel)
            progress(0.6, "fetching changes")
            self.pull(report, cancel)
            report.credits = self.client.rpc("get_credit_balance", org_id=org)
            self.state.set("credits", json.dumps(report.credits))
            self.state.set("last_sync", datetime.now().astimezone().isoformat())
        except Offline as err:
            report.state, report.message = "offline", str(err)
        except Rejected as err:
            report.state, report.message = "error", str(err)
        report.waiting = self.state.pending_count()
        progress(1.0, report.state)
        return report

    def ensure_token(self) -> None:
        """Refresh a token about to expire. Offline, the session is kept as it is: it is refreshed
        when the server can be reached again, never dropped for want of a network."""
        if not self.session.expiring():
            return
        try:
            fresh = self.client.refresh(self.session.refresh_token)
        except Offline:
            raise
        except Rejected as err:
            raise DStudioError(f"the sign-in has ended ({err.reason}); sign in again with 'dstudio login'") from None
        fresh.anon_key = self.session.anon_key
        self.session = fresh
        self.persist_session(fresh)
        self.client.token = fresh.access_token

    def org_id(self) -> str:
        org = self.state.get(f"org:{self.session.user_id}")
        if org:
            return org
        rows = self.client.select("org_members", select="org_id,role", user_id=f"eq.{self.session.user_id}",
                                  role="in.(owner,editor)", order="created_at.asc")
        if not rows:
            raise DStudioError("this account cannot edit in any organisation")
        self.state.set(f"org:{self.session.user_id}", rows[0]["org_id"])
        return rows[0]["org_id"]

    # -- push ----------------------------------------------------------------------

    def push(self, org: str, report: SyncReport, progress, cancel: Optional[CancelToken]) -> None:
        total = max(self.state.pending_count(), 1)
        while rows := self.state.pending(BATCH):
            check(cancel, "sync")
            rows = self._coalesce(rows)
            mutations = [self._mutation(row, org, report) for row in rows]
            results = self.client.rpc("apply_mutations", batch=[m for m in mutations if m is not None])
            by_id = {r["id"]: r for r in results}
            done, retry_later, over_plan = [], False, None
            for row, mutation in zip(rows, mutations, strict=True):
                if mutation is None:
                    done.append(row["mutation_id"])
                    continue
                result = by_id.get(row["mutation_id"], {"status": "rejected", "code": "?", "message": "no result"})
                if result["status"] in ("applied", "duplicate"):
                    report.pushed += result["status"] == "applied"
                    report.duplicates += result["status"] == "duplicate"
                    self._applied(row, result.get("row") or {})
                    done.append(row["mutation_id"])
                elif result.get("code") in RETRYABLE_SQLSTATES:
                    retry_later = True
                elif result.get("code") == "PT402":  # over the plan: kept, sent again once the plan allows
                    over_plan = result.get("message") or "the organisation's plan does not allow more"
                elif result.get("code") == "PT409" and row["entity"] == "project":
                    self.state.done(done)
                    done = []
                    self._keep_as_version(row, report)
                    done.append(row["mutation_id"])
                else:
                    self.state.reject(row, result.get("code", ""), result.get("message", ""))
                    report.rejected.append({"entity": row["entity"], "entity_id": row["entity_id"],
                                            "code": result.get("code", ""), "message": result.get("message", "")})
            self.state.done(done)
            progress(0.05 + 0.5 * min(1.0, report.pushed / total), f"sent {report.pushed} of {total}")
            if over_plan is not None:
                raise Rejected(402, "PT402", f"{over_plan}; your changes wait on this computer until the plan "
                                             "allows them")
            if retry_later:
                raise Offline("the server was busy; the rest waits for the next sync")

    def _coalesce(self, rows: list[dict]) -> list[dict]:
        """Only the newest state of a project's working copy needs sending. It goes where the
        project first appears in the batch (before the assets and versions that need it to
        exist); the older states are done."""
        latest = {r["entity_id"]: r for r in rows if r["entity"] == "project"}
        out, placed, superseded = [], set(), []
        for row in rows:
            if row["entity"] != "project":
                out.append(row)
            elif row["entity_id"] not in placed:
                placed.add(row["entity_id"])
                out.append(latest[row["entity_id"]])
            if row["entity"] == "project" and row is not latest[row["entity_id"]]:
                superseded.append(row["mutation_id"])
        if superseded:
            self.state.done(superseded)
        return out

    def _mutation(self, row: dict[str, Any], org: str, report: SyncReport) -> Optional[dict[str, Any]]:
        entity, op, payload = row["entity"], row["op"], row["payload"]
        mutation: dict[str, Any] = {"id": row["mutation_id"]}
        if entity == "project":
            base = self.state.seen("project", row["entity_id"])
            self._adopt_org(row["entity_id"], payload, org)
            mutation.update(entity="project", op="upsert", payload=mapping.project_payload(payload, org),
                            base_updated_at=base)
        elif entity == "version":
            mutation.update(entity="version", op="insert", payload={
                "id": payload["id"], "project_id": payload["project_id"], "snapshot": payload["snapshot"],
                "notes": payload.get("notes", "")})
        elif entity == "annotation":
            kind, body = mapping.annotation_mutation(op, payload, self.session.user_id)
            mutation.update(entity=kind, op="update" if op == "update" else "upsert", payload=body)
        elif entity == "asset":
            from ..core import Asset

            asset = Asset.model_validate(payload)
            path = mapping.storage_path(org, asset)
            try:
                data = self.ws.asset_bytes(asset)
            except DStudioError:
                data = None  # pulled metadata whose bytes were never needed here: nothing to upload
            if data is not None and self._upload(path, data, asset.media_type):
                report.uploaded += 1
            mutation.update(entity="asset", op="upsert", payload={
                "id": asset.id, "project_id": asset.project_id, "asset_type": asset.asset_type, "name": asset.name,
                "url": path, "file_size": asset.file_size, "sha256": asset.sha256,
                "metadata": {**asset.metadata, "media_type": asset.media_type}, "created_at": asset.created_at})
        elif entity == "print_job":
            body = mapping.print_job_payload(payload, org)
            if payload.get("gcode_asset_id"):  # the server's gcode_url: where sync stored the G-code
                try:
                    body["gcode_url"] = mapping.storage_path(org, self.ws.get_asset(payload["gcode_asset_id"]))
                except DStudioError:
                    body.pop("gcode_url", None)
            mutation.update(entity="print_job", op="upsert", payload=body)
        elif entity == "export":  # a local export in the project's history (the server's row says 0 credits)
            mutation.update(entity="export", op="insert", payload=mapping.export_payload(payload))
        else:
            log.warning("outbox entity %s is not synced", entity)
            return None
        return mutation

    def _upload(self, path: str, data: bytes, content_type: str) -> bool:
        """Small files in one request; large ones resumably, remembering the upload so a later
        cycle (even after a crash) goes on from where the server got to."""
        if len(data) < RESUMABLE_FROM:
            return self.client.upload("assets", path, data, content_type)
        key = f"upload:{path}"
        sent = self.client.upload_resumable("assets", path, data, content_type, resume_url=self.state.get(key),
                                            on_url=lambda url: self.state.set(key, url))
        self.state.forget(key)
        return sent

    def _adopt_org(self, project_id: str, payload: dict, org: str) -> None:
        """A project made before sign-in joins the signed-in user's organisation."""
        if not payload.get("org_id"):
            with self.ws.transaction() as db:
                db.execute("UPDATE projects SET org_id = ?, revision = revision + 1 WHERE id = ? AND org_id IS NULL",
                           (org, project_id))

    def _applied(self, row: dict[str, Any], server_row: dict[str, Any]) -> None:
        if row["entity"] == "version" and "version_number" in server_row:
            self.state.set_server_number(row["entity_id"], server_row["version_number"])
        elif row["entity"] in ("project", "annotation", "asset") and "updated_at" in server_row:
            with self.ws.transaction() as db:
                self.state.mark_seen(db, row["entity"], row["entity_id"], server_row["updated_at"])

    def _keep_as_version(self, row: dict[str, Any], report: SyncReport) -> None:
        """Both this computer and the server changed the project: keep ours as a version (it is
        pushed next) and let the server's working copy come down with the pull."""
        project = self.ws.load_project(row["entity_id"])
        when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        version = self.ws.save_version(project.id, notes=f"Kept from this computer: the project was also "
                                                         f"changed elsewhere ({when})")
        with self.ws.transaction() as db:  # the server's copy must replace ours on the next pull
            db.execute("DELETE FROM remote_seen WHERE entity = 'project' AND id = ?", (project.id,))
        report.conflicts.append(f"{project.name}: changed here and elsewhere; your changes are kept as version "
                                f"{version.version_number} and the other copy is now current")

    # -- pull ----------------------------------------------------------------------

    def pull(self, report: SyncReport, cancel: Optional[CancelToken]) -> None:
        for table in PULL_TABLES:
            check(cancel, "sync")
            cursor = self.state.get(f"cursor:{table}")
            newest = cursor
            offset = 0
            while True:
                params = {"select": "*", "order": "updated_at.asc,id.asc", "limit": str(PAGE), "offset": str(offset)}
                if cursor:
                    since = datetime.fromisoformat(cursor) - OVERLAP
                    params["updated_at"] = f"gte.{since.isoformat()}"
                rows = self.client.select(table, **params)
                for row in rows:
                    if self._apply(table, row):
                        report.pulled[table] = report.pulled.get(table, 0) + 1
                    if newest is None or datetime.fromisoformat(row["updated_at"]) > datetime.fromisoformat(newest):
                        newest = row["updated_at"]
                if len(rows) < PAGE:
                    break
                offset += PAGE
            if newest and newest != cursor:
                self.state.set(f"cursor:{table}", newest)

    def _apply(self, table: str, row: dict[str, Any]) -> bool:
        """Apply one server row locally; False when there was nothing new in it."""
        try:
            if table == "design_studio_projects":
                if self.state.seen("project", row["id"]) == row["updated_at"] or \
                        self.state.has_pending("project", row["id"]):
                    return False  # unchanged, or ours is on its way up (and checked there)
                self.state.apply_project(row, row["updated_at"])
                return True
            if table == "design_studio_versions":
                if self.state.server_number(row["id"]) is not None or not self.state.project_exists(row["project_id"]):
                    return False
                self.state.apply_version(row["id"], row["project_id"], row["version_number"], row["snapshot"],
                                         row.get("notes") or "", row.get("created_by"), row["created_at"])
                return True
            if table == "design_studio_assets":
                if self.state.seen("asset", row["id"]) == row["updated_at"] or \
                        not self.state.project_exists(row["project_id"]):
                    return False
                self.state.apply_asset(mapping.asset_from_row(row), row["updated_at"])
                return True
            if table in ("design_studio_annotations", "design_studio_annotation_replies"):
                if self.state.seen("annotation", row["id"]) == row["updated_at"] or \
                        self.state.has_pending("annotation", row["id"]):
                    return False
                if table == "design_studio_annotations":
                    if not self.state.project_exists(row["project_id"]):
                        return False
                    annotation = mapping.annotation_from_row(row)
                else:
                    parent = self.state.local_annotation(row["annotation_id"])
                    if parent is None:
                        return False  # its annotation comes first (same cycle, earlier table)
                    annotation = mapping.annotation_from_row(row, parent_id=parent.id, project_id=parent.project_id)
                self.state.apply_annotation(annotation, row["updated_at"])
                return True
            if table == "print_jobs":
                # the print shop's jobs: another desktop's slices, and their progress on a printer
                if self.state.seen("print_job", row["id"]) == row["updated_at"] or \
                        self.state.has_pending("print_job", row["id"]) or \
                        (row.get("design_project_id") and not self.state.project_exists(row["design_project_id"])):
                    return False
                self.state.apply_print_job(row, row["updated_at"])
                return True
        except (DStudioError, ValueError) as err:
            log.warning("skipped %s %s from the server: %s", table, row.get("id"), err)
        return False
