"""The local workspace: projects, versions, assets and annotations in SQLite (WAL).

Every change is one transaction that also appends its mutation to ``outbox`` for
sync, so the outbox can never disagree with the data. Two rules hold for every caller:
a project save names the revision it was based on (``Project.revision``, as loaded), and a
save based on an older revision is refused with ``ConflictError``, never applied; and the
user's role on the project is checked inside the write (a reviewer adds and changes
annotations, nothing else). Asset bytes go to the
content-addressed ``BlobStore`` before the transaction that references them
commits; a crash in between leaves at worst an unreferenced blob, never a row
pointing at missing bytes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from ..core import Annotation, Asset, Project, Version
from ..core.permissions import require
from ..core.project import ALL_DOCUMENTS, load_snapshot
from ..core.records import PrintJob, utc_now
from ..core.schema import new_id, validate_model
from ..errors import ConflictError, DStudioError, NotFoundError, WorkspaceError
from . import upgrade
from .blobs import BlobStore
from .paths import workspace_home

DB_SCHEMA_VERSION = 5
# steps after schema.sql's state (schema 4), each run once, in order
MIGRATIONS = {
    5: ("revision", "ALTER TABLE projects ADD COLUMN revision INTEGER NOT NULL DEFAULT 1"),
}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _use_wal(db: sqlite3.Connection, wait: float = 30.0) -> None:
    """Switch a new workspace to WAL (it stays so: later openings find it set). The switch needs
    the database to itself, and SQLite answers "locked" at once, without its busy wait, when
    another opening holds it that moment (the app's reading thread and its window, the CLI):
    so wait here, as the connection's own timeout would."""
    deadline = time.monotonic() + wait
    delay = 0.002
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class Workspace:
    """One user's local store. Thread-safe: calls are serialised by a lock."""

    def __init__(self, home: Optional[Path] = None, fetch_blob: Optional[Callable[[Asset], bytes]] = None) -> None:
        """``fetch_blob`` gets the bytes of an asset known here only by its metadata (pulled from
        the server): the sync layer passes it in, since the store itself has no network."""
        self.home = Path(home) if home is not None else workspace_home()
        self.fetch_blob = fetch_blob
        # set when this opening upgraded an older release's workspace (after backing it up there)
        self.upgraded_from: Optional[int] = None
        self.backup_path: Optional[Path] = None
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.home / "workspace.sqlite3", isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.row_factory = sqlite3.Row
            try:
                # before anything writes: a newer release's workspace is left exactly as it was
                schema = upgrade.refuse_newer(self._db, self.home, DB_SCHEMA_VERSION)
            except WorkspaceError:
                self._db.close()
                raise
            self.blobs = BlobStore(self.home / "blobs")
            self.blobs.clean_partial()
            _use_wal(self._db)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate(schema)
        except sqlite3.DatabaseError as err:
            raise WorkspaceError(f"{self.home}: cannot open the workspace database: {err}") from None
        except OSError as err:
            raise WorkspaceError(f"{self.home}: cannot use this folder as a workspace: {err.strerror}") from None
        self._lock = threading.RLock()

    def _migrate(self, current: int) -> None:
        if current < DB_SCHEMA_VERSION:
            if current > 0:  # an older release's workspace (0 is a new, empty one)
                self.backup_path = upgrade.back_up(self._db, self.home, current, DB_SCHEMA_VERSION)
                self.upgraded_from = current
            script = ""
            if current < 4:
                script += resources.files(__package__).joinpath("schema.sql").read_text()
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(projects)")}
            # a step is skipped when its column is there already (a workspace whose user_version was
            # set back by hand, as the upgrade tests do)
            script += "".join(f"{sql};" for n, (column, sql) in sorted(MIGRATIONS.items())
                              if n > max(current, 4) and column not in columns)
            try:
                self._db.executescript(f"BEGIN IMMEDIATE;{script}PRAGMA user_version={DB_SCHEMA_VERSION};COMMIT;")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if self._db.execute("PRAGMA user_version").fetchone()[0] == DB_SCHEMA_VERSION:
                    return  # another opening (a thread, the CLI) upgraded it while this one waited
                kept = f"; a copy from before is {self.backup_path}" if self.backup_path else ""
                raise WorkspaceError(f"{self.home}: upgrading the workspace from schema {current} failed, "
                                     f"nothing was changed: {err}{kept}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _enqueue(db: sqlite3.Connection, entity: str, entity_id: str, op: str, payload: Any) -> None:
        db.execute(
            "INSERT INTO outbox (mutation_id, entity, entity_id, op, payload, created_at) VALUES (?,?,?,?,?,?)",
            (new_id(), entity, entity_id, op, _dumps(payload), utc_now()),
        )

    # -- roles ----------------------------------------------------------------

    def require(self, key: str, right: str) -> None:
        """Refuse now what a write would refuse later (before an hour of reconstruction, say);
        the writes check the same rule themselves."""
        self._require(self._db, self.resolve_project(key), right)

    def _require(self, db: sqlite3.Connection, project_id: str, right: str) -> None:
        """Inside a write: refuse it unless the user's role on the project allows ``right``."""
        row = db.execute("SELECT p.name, r.role FROM projects p LEFT JOIN project_roles r ON r.project_id = p.id "
                         "WHERE p.id = ?", (project_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"project {project_id} does not exist")
        require(row["role"] or "owner", right, f"project {row['name']!r}")

    # -- projects -----------------------------------------------------------

    def create_project(self, project: Project | str) -> Project:
        if isinstance(project, str):
            if not project.strip():
                raise DStudioError("a project needs a non-empty name")
            project = Project(name=project.strip())
        with self.transaction() as db:
            self._write_project(db, project, insert=True)
            self._enqueue(db, "project", project.id, "insert", project.to_json())
        return project

    def _write_project(self, db: sqlite3.Connection, project: Project, insert: bool,
                       base_revision: Optional[int] = None) -> None:
        """Insert, or update the row; with ``base_revision`` only if the row is still at it.
        Either way the row's revision moves on and ``project.revision`` follows it."""
        row = project.metadata()
        row["is_template"] = int(row["is_template"])
        row.update({name: _dumps(getattr(project, name).to_json()) for name in ALL_DOCUMENTS})
        if insert:
            row["revision"] = 1
            cols = ", ".join(row)
            db.execute(f"INSERT INTO projects ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
            project.revision = 1
            return
        sets = ", ".join(f"{k} = ?" for k in row if k != "id")
        values = [v for k, v in row.items() if k != "id"]
        guard = "" if base_revision is None else " AND revision = ?"
        cur = db.execute(f"UPDATE projects SET {sets}, revision = revision + 1 WHERE id = ? AND deleted_at IS NULL"
                         f"{guard} RETURNING revision",
                         values + [project.id] + ([] if base_revision is None else [base_revision]))
        done = cur.fetchone()
        if done is None:
            stored = db.execute("SELECT revision FROM projects WHERE id = ? AND deleted_at IS NULL",
                                (project.id,)).fetchone()
            if stored is None:
                raise NotFoundError(f"project {project.id} does not exist")
            raise ConflictError(project.name, base_revision, stored["revision"])
        project.revision = done["revision"]

    def save_project(self, project: Project, new_assets: Iterable[tuple[Asset, bytes]] = ()) -> None:
        """Store the project's documents (and any new assets) in one transaction, if the stored
        project is still at the revision ``project`` was loaded (or last saved) at; otherwise
        ``ConflictError`` and nothing is written."""
        staged = [(asset, self._stage_blob(asset, data)) for asset, data in new_assets]
        base = project.revision
        previous = project.updated_at
        project.updated_at = utc_now()
        try:
            with self.transaction() as db:
                self._require(db, project.id, "edit")
                for asset, _ in staged:
                    self._insert_asset(db, asset)
                self._write_project(db, project, insert=False, base_revision=base)
                self._enqueue(db, "project", project.id, "update", project.to_json())
        except BaseException:
            project.updated_at, project.revision = previous, base
            raise

    def project_revision(self, project_id: str) -> Optional[int]:
        """The stored revision (cheap: an open window polls it to see changes made elsewhere)."""
        row = self._db.execute("SELECT revision FROM projects WHERE id = ? AND deleted_at IS NULL",
                               (project_id,)).fetchone()
        return row["revision"] if row else None

    def list_projects(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, name, status, version_count, updated_at FROM projects "
            "WHERE deleted_at IS NULL ORDER BY updated_at DESC"
        ).fetchall()
        return [dict(r) for r in rows]

    def resolve_project(self, key: str) -> str:
        """A project id from an id, a unique id prefix (6+ chars) or a unique name."""
        rows = self._db.execute(
            "SELECT id, name FROM projects WHERE deleted_at IS NULL AND (id = ? OR name = ? OR (length(?) >= 6 AND id LIKE ? || '%'))",
            (key, key, key, key),
        ).fetchall()
        exact = [r for r in rows if r["id"] == key]
        if exact:
            return key
        if len(rows) == 1:
            return rows[0]["id"]
        if not rows:
            raise NotFoundError(f"no project named or with id {key!r} (see 'dstudio list')")
        ids = ", ".join(r["id"][:8] for r in rows)
        raise DStudioError(f"{len(rows)} projects match {key!r} ({ids}); use the id")

    def load_project(self, key: str) -> Project:
        project_id = self.resolve_project(key)
        row = self._db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        data = dict(row)
        data["is_template"] = bool(data["is_template"])
        for name in ALL_DOCUMENTS:
            data[name] = json.loads(data[name])
        return Project.from_json(data)

    def project_row(self, key: str) -> dict[str, Any]:
        row = self._db.execute(
            "SELECT id, name, version_count, current_version_id, updated_at FROM projects WHERE id = ?",
            (self.resolve_project(key),),
        ).fetchone()
        return dict(row)

    # -- assets -------------------------------------------------------------

    def _stage_blob(self, asset: Asset, data: bytes) -> str:
        digest = self.blobs.put(data)
        if digest != asset.sha256:
            raise WorkspaceError(f"asset {asset.name!r}: its bytes do not match sha256 {asset.sha256}")
        return digest

    @staticmethod
    def _insert_asset(db: sqlite3.Connection, asset: Asset) -> None:
        # an id already here is a row pulled from the server that this asset takes over (a cloud
        # job's result adopting its worker's row): the same project's, replaced, never another's
        if db.execute(
            "INSERT INTO assets (id, project_id, asset_type, name, sha256, file_size, body, created_at) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT (id) DO UPDATE SET asset_type = excluded.asset_type, name = excluded.name, "
            "sha256 = excluded.sha256, file_size = excluded.file_size, body = excluded.body "
            "WHERE assets.project_id = excluded.project_id",
            (asset.id, asset.project_id, asset.asset_type, asset.name, asset.sha256, asset.file_size,
             _dumps(asset.to_json()), asset.created_at),
        ).rowcount == 0:
            raise DStudioError(f"asset {asset.id} belongs to another project")
        Workspace._enqueue(db, "asset", asset.id, "insert", asset.to_json())

    def add_asset(self, asset: Asset, data: bytes) -> Asset:
        self.add_assets([(asset, data)])
        return asset

    def add_assets(self, assets: Iterable[tuple[Asset, bytes]]) -> None:
        """Store several assets (bytes first, then all rows in one transaction)."""
        staged = [(asset, self._stage_blob(asset, data)) for asset, data in assets]
        with self.transaction() as db:
            for project_id in sorted({asset.project_id for asset, _ in staged}):
                self._require(db, project_id, "edit")
            for asset, _ in staged:
                self._insert_asset(db, asset)

    def get_asset(self, asset_id: str) -> Asset:
        row = self._db.execute("SELECT body FROM assets WHERE id = ? AND deleted_at IS NULL", (asset_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no asset {asset_id}")
        return validate_model(Asset, json.loads(row["body"]), "asset")

    def list_assets(self, project_id: str) -> list[Asset]:
        rows = self._db.execute(
            "SELECT body FROM assets WHERE project_id = ? AND deleted_at IS NULL ORDER BY created_at", (project_id,)
        ).fetchall()
        return [validate_model(Asset, json.loads(r["body"]), "asset") for r in rows]

    def assets_size(self, asset_ids: list[str]) -> int:
        """Total stored bytes of these assets (unknown ids count nothing)."""
        if not asset_ids:
            return 0
        marks = ",".join("?" * len(asset_ids))
        row = self._db.execute(f"SELECT COALESCE(SUM(file_size), 0) FROM assets WHERE id IN ({marks})",
                               list(asset_ids)).fetchone()
        return int(row[0])

    def asset_bytes(self, asset: Asset) -> bytes:
        path = self.blobs.path(asset.sha256)
        if not path.is_file() and self.fetch_blob is not None and asset.url:
            # pulled from the server as metadata only: fetch the bytes once, keep them by sha256
            self._stage_blob(asset, self.fetch_blob(asset))
        if not path.is_file():
            raise WorkspaceError(f"asset {asset.name!r}: its file {path} is missing from the workspace")
        return path.read_bytes()

    def asset_path(self, asset: Asset) -> Path:
        return self.blobs.path(asset.sha256)

    # -- versions -----------------------------------------------------------

    def save_version(self, key: str, notes: str = "", created_by: Optional[str] = None,
                     snapshot: Optional[dict[str, Any]] = None) -> Version:
        """Snapshot the project's stored documents (or ``snapshot``, e.g. a state kept aside in
        a conflict) as its next version."""
        project = self.load_project(key)
        if snapshot is not None:
            load_snapshot(snapshot)  # a version is immutable: refuse a bad one before it is made
        return self._insert_version(project.id, snapshot or project.snapshot(), notes, created_by)

    def _insert_version(self, project_id: str, snapshot: dict[str, Any], notes: str,
                        created_by: Optional[str], project: Optional[Project] = None) -> Version:
        with self.transaction() as db:
            self._require(db, project_id, "edit")
            if project is not None:
                self._write_project(db, project, insert=False, base_revision=project.revision)
                self._enqueue(db, "project", project.id, "update", project.to_json())
            number = db.execute(
                "SELECT COALESCE(MAX(version_number), 0) + 1 FROM versions WHERE project_id = ?", (project_id,)
            ).fetchone()[0]
            version = Version(project_id=project_id, version_number=number, snapshot=snapshot,
                              notes=notes, created_by=created_by)
            db.execute(
                "INSERT INTO versions (id, project_id, version_number, snapshot, notes, created_by, created_at) VALUES (?,?,?,?,?,?,?)",
                (version.id, project_id, number, _dumps(snapshot), notes, created_by, version.created_at),
            )
            db.execute(
                "UPDATE projects SET version_count = ?, current_version_id = ? WHERE id = ?",
                (number, version.id, project_id),
            )
            self._enqueue(db, "version", version.id, "insert", version.to_json())
        return version

    def list_versions(self, key: str) -> list[Version]:
        rows = self._db.execute(
            "SELECT * FROM versions WHERE project_id = ? ORDER BY version_number", (self.resolve_project(key),)
        ).fetchall()
        return [self._version(r) for r in rows]

    def get_version(self, key: str, number: int) -> Version:
        project_id = self.resolve_project(key)
        row = self._db.execute(
            "SELECT * FROM versions WHERE project_id = ? AND version_number = ?", (project_id, number)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"project {key!r} has no version {number}")
        return self._version(row)

    @staticmethod
    def _version(row: sqlite3.Row) -> Version:
        data = dict(row)
        data["snapshot"] = json.loads(data["snapshot"])
        return validate_model(Version, data, "version")

    def restore_version(self, key: str, number: int, created_by: Optional[str] = None) -> Version:
        """Make the project's documents those of version ``number`` and save that as a new version."""
        old = self.get_version(key, number)
        project = self.load_project(old.project_id)
        load_snapshot(old.snapshot)  # refuse a snapshot this app cannot read before changing anything
        project.apply_snapshot(old.snapshot)
        project.updated_at = utc_now()
        return self._insert_version(project.id, project.snapshot(), f"Restored version {number}", created_by, project)

    # -- annotations --------------------------------------------------------

    def add_annotation(self, annotation: Annotation) -> Annotation:
        with self.transaction() as db:
            self._require(db, annotation.project_id, "annotate")
            db.execute(
                "INSERT INTO annotations (id, project_id, version_id, parent_id, body, created_at) VALUES (?,?,?,?,?,?)",
                (annotation.id, annotation.project_id, annotation.version_id, annotation.parent_id,
                 _dumps(annotation.to_json()), annotation.created_at),
            )
            self._enqueue(db, "annotation", annotation.id, "insert", annotation.to_json())
        return annotation

    def list_annotations(self, project_id: str) -> list[Annotation]:
        rows = self._db.execute(
            "SELECT body FROM annotations WHERE project_id = ? ORDER BY created_at, rowid", (project_id,)
        ).fetchall()
        return [validate_model(Annotation, json.loads(r["body"]), "annotation") for r in rows]

    def get_annotation(self, project_id: str, annotation_id: str) -> Annotation:
        """By id, or by a unique prefix of it (as the CLI prints them)."""
        prefix = annotation_id.strip().lower()
        rows = [] if not prefix or not all(c in "0123456789abcdef-" for c in prefix) else self._db.execute(
            "SELECT body FROM annotations WHERE project_id = ? AND substr(id, 1, ?) = ?",
            (project_id, len(prefix), prefix)).fetchall()
        if len(rows) != 1:
            problem = "no annotation" if not rows else "more than one annotation starts with"
            raise NotFoundError(f"{problem} {annotation_id!r} in this project")
        return validate_model(Annotation, json.loads(rows[0]["body"]), "annotation")

    def update_annotation(self, annotation: Annotation, **changes: Any) -> Annotation:
        """Change fields of an annotation (resolve, reopen, edit text); queued for sync."""
        updated = validate_model(Annotation, {**annotation.to_json(), **changes, "updated_at": utc_now()}, "annotation")
        with self.transaction() as db:
            self._require(db, updated.project_id, "annotate")
            db.execute("UPDATE annotations SET body = ? WHERE id = ?", (_dumps(updated.to_json()), updated.id))
            self._enqueue(db, "annotation", updated.id, "update",
                          {"id": updated.id, **{k: updated.to_json()[k] for k in [*changes, "updated_at"]}})
        return updated

    # -- the local profile and roles ----------------------------------------

    def local_profile(self) -> dict[str, str]:
        """The person using this workspace: stands in for the signed-in user until sign-in exists."""
        row = self._db.execute("SELECT id, display_name FROM profile LIMIT 1").fetchone()
        if row is None:
            import getpass

            with self.transaction() as db:
                db.execute("INSERT INTO profile (id, display_name, created_at) VALUES (?,?,?)",
                           (new_id(), getpass.getuser() or "me", utc_now()))
            row = self._db.execute("SELECT id, display_name FROM profile LIMIT 1").fetchone()
        return {"id": row["id"], "display_name": row["display_name"]}

    def role(self, key: str) -> str:
        row = self._db.execute("SELECT role FROM project_roles WHERE project_id = ?",
                               (self.resolve_project(key),)).fetchone()
        return row["role"] if row else "owner"

    def set_role(self, key: str, role: str) -> None:
        project_id = self.resolve_project(key)
        with self.transaction() as db:
            db.execute("INSERT INTO project_roles (project_id, role) VALUES (?, ?) "
                       "ON CONFLICT (project_id) DO UPDATE SET role = excluded.role", (project_id, role))

    # -- exports ------------------------------------------------------------

    def record_export(self, key: str, fmt: str, file_size: int, started_at: Optional[str] = None) -> str:
        """A local export of the project in its export history: only queued here (offline first),
        sent by the next sync. The server fills what is its own (who asked, what it cost: a
        local export is free). Returns the record's id."""
        if not isinstance(fmt, str) or not 1 <= len(fmt) <= 16 or not isinstance(file_size, int) or file_size < 0:
            raise DStudioError(f"an export record needs a format and a size in bytes, not {fmt!r}, {file_size!r}")
        project_id = self.resolve_project(key)
        export_id = new_id()
        with self.transaction() as db:
            self._require(db, project_id, "edit")  # the server's history is its editors' (row-level security)
            newest = db.execute("SELECT id FROM versions WHERE project_id = ? ORDER BY version_number DESC LIMIT 1",
                                (project_id,)).fetchone()
            self._enqueue(db, "export", export_id, "insert", {
                "id": export_id, "project_id": project_id, "version_id": newest["id"] if newest else None,
                "format": fmt.lower(), "quality_preset": "local", "file_size": file_size,
                "started_at": started_at or utc_now(), "completed_at": utc_now()})
        return export_id

    # -- print jobs ---------------------------------------------------------

    def add_print_job(self, job: PrintJob, gcode: Optional[tuple[Asset, bytes]] = None) -> PrintJob:
        """Record a print job, and its G-code asset, in one transaction."""
        if gcode is not None:
            self._stage_blob(*gcode)
        with self.transaction() as db:
            if job.design_project_id is not None:
                self._require(db, job.design_project_id, "edit")
            if gcode is not None:
                self._insert_asset(db, gcode[0])
            db.execute(
                "INSERT INTO print_jobs (id, design_project_id, status, body, created_at) VALUES (?,?,?,?,?)",
                (job.id, job.design_project_id, job.status, _dumps(job.to_json()), job.created_at),
            )
            self._enqueue(db, "print_job", job.id, "insert", job.to_json())
        return job

    def update_print_job(self, job: PrintJob) -> PrintJob:
        """Record a print job's new state (sent to a printer, printing, done), queued for sync."""
        with self.transaction() as db:
            if db.execute("UPDATE print_jobs SET status = ?, body = ? WHERE id = ?",
                          (job.status, _dumps(job.to_json()), job.id)).rowcount == 0:
                raise NotFoundError(f"no print job {job.id}")
            self._enqueue(db, "print_job", job.id, "update", job.to_json())
        return job

    def get_print_job(self, job_id: str) -> PrintJob:
        """A print job by id or unique id prefix (6+ characters)."""
        rows = self._db.execute("SELECT body FROM print_jobs WHERE id LIKE ? ORDER BY created_at",
                                (job_id + "%",)).fetchall() if len(job_id) >= 6 else []
        if len(rows) != 1:
            raise NotFoundError(f"no print job {job_id!r}" if not rows else f"print job {job_id!r} is ambiguous")
        return validate_model(PrintJob, json.loads(rows[0]["body"]), "print job")

    def list_print_jobs(self, project_id: Optional[str] = None) -> list[PrintJob]:
        if project_id is None:
            rows = self._db.execute("SELECT body FROM print_jobs ORDER BY created_at").fetchall()
        else:
            rows = self._db.execute(
                "SELECT body FROM print_jobs WHERE design_project_id = ? ORDER BY created_at", (project_id,)
            ).fetchall()
        return [validate_model(PrintJob, json.loads(r["body"]), "print job") for r in rows]

    # -- sync outbox --------------------------------------------------------

    def outbox(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]
