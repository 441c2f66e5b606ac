"""Who may write which column, decided for every column of every relation the REST API serves.

MATRIX is the decision: for each column, the roles whose insert and whose update of it take
effect. The catalog test fails for a column that is not in MATRIX (a new column is decided,
not forgotten) and for one that no longer exists. The attempt tests then write every column
as every role, through HTTP, in an organisation where each role has a member, and compare
what was stored with MATRIX: a write "takes effect" when the stored value is the one sent.
A refused write and an ignored one (a timestamp the server sets, a row RLS hides) both count
as "may not write".

Roles: anon; authenticated as owner, editor, reviewer or viewer of the row's organisation;
service (the service role). ``own`` in an update rule means "on a row that is the writer's"
(their annotation, reply, session, profile, outbox record); such tables are written as each
role on its own row and on someone else's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import psycopg
import pytest
from psycopg import sql

from .conftest import Api, set_tier, signup

MEMBERS = ("owner", "editor", "reviewer", "viewer")
ROLES = ("anon", *MEMBERS, "service")


def r(ins: str = "", upd: str = "") -> tuple[frozenset, frozenset]:
    return frozenset(ins.split()), frozenset(upd.split())


S = "service"
OE = "owner editor service"
OER = "owner editor reviewer service"
EVERY = "owner editor reviewer viewer service"
NOBODY = r()
SERVICE = r(S, S)
CREATED = r(S)      # created_at: the server's clock for clients; the service may backfill it
UPDATED = NOBODY    # updated_at: always the server's clock

MATRIX: dict[str, dict[str, tuple[frozenset, frozenset]]] = {
    "tier_limits": {  # billing's: the service role's alone
        "tier_name": SERVICE, "storage_limit_bytes": SERVICE, "monthly_compute_units": SERVICE,
        "seats_limit": SERVICE, "projects_limit": SERVICE, "features": SERVICE, "job_priority": SERVICE,
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "supported_formats": {
        "extension": SERVICE, "mime_type": SERVICE, "category": SERVICE, "display_name": SERVICE,
        "can_import": SERVICE, "can_export": SERVICE, "requires_processing": SERVICE,
        "max_file_size_mb": SERVICE, "processing_credit_cost": SERVICE, "is_active": SERVICE,
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "processing_job_types": {
        "job_type": SERVICE, "description": SERVICE, "base_credits": SERVICE, "source_categories": SERVICE,
        "quality_percent": SERVICE, "required_feature": SERVICE, "queue_name": SERVICE, "priority": SERVICE,
        "max_retries": SERVICE, "is_active": SERVICE, "per_image_credits": SERVICE, "takes_targets": SERVICE,
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "profiles": {  # made at signup; the user edits their name and avatar
        "id": r(S), "email": SERVICE, "display_name": r(S, "own service"), "avatar_url": r(S, "own service"),
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "organizations": {  # made by create_organization; the plan is billing's
        "id": r(S), "name": r(S, "owner service"), "tier": SERVICE, "is_personal": SERVICE, "created_by": SERVICE,
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "org_members": {
        "org_id": r("owner service"), "user_id": r("owner service"), "role": r("owner service", "owner service"),
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_projects": {
        "id": r(OE), "org_id": r(OE),
        **{c: r(OE, OE) for c in ("name", "description", "model_url", "thumbnail_url", "canvas_state", "scene_graph",
                                  "material_overrides", "lighting_config", "camera_presets", "environment_config",
                                  "status", "is_template", "template_category", "source_project_id", "deleted_at")},
        "version_count": NOBODY, "current_version_id": NOBODY,  # create_version's alone
        "created_by": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_versions": {  # made by create_version, immutable
        c: NOBODY for c in ("id", "project_id", "version_number", "snapshot", "notes", "idempotency_key",
                            "created_by", "created_at", "updated_at")
    },
    "design_studio_assets": {
        "id": r(OE), "project_id": r(OE),
        **{c: r(OE, OE) for c in ("asset_type", "name", "url", "thumbnail_url", "file_size", "sha256", "metadata",
                                  "deleted_at")},
        "uploaded_by": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_annotations": {
        "id": r(OER), "project_id": r(OER),
        **{c: r(OER, "own service") for c in ("version_id", "content", "position", "camera_state")},
        "resolved": r(OER, "owner editor reviewer service"),
        "deleted_at": r(OER, "own owner service"),
        "author_id": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_annotation_replies": {
        "id": r(OER), "annotation_id": r(OER), "content": r(OER, "own service"), "deleted_at": r(OER, "own service"),
        "author_id": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_exports": {
        "id": r(OE), "project_id": r(OE),
        **{c: r(OE, OE) for c in ("version_id", "format", "quality_preset", "output_url", "file_size", "started_at",
                                  "completed_at")},
        "credits_used": SERVICE, "requested_by": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "design_studio_sessions": {
        "id": r(EVERY), "project_id": r(EVERY), "user_id": r(S),
        "cursor_state": r(EVERY, "own service"), "selection_state": r(EVERY, "own service"),
        "is_active": r(EVERY, "own service"),
        "role": SERVICE, "joined_at": SERVICE, "last_heartbeat_at": SERVICE,  # the server's for clients
        "updated_at": UPDATED,
    },
    "credits": {  # one source of truth, changed only by the credit functions
        c: NOBODY for c in ("org_id", "balance", "monthly_allocation", "monthly_credits_used", "monthly_reset_at",
                            "purchased_balance", "last_reset_at", "created_at", "updated_at")
    },
    "credit_ledger": {
        c: NOBODY for c in ("id", "org_id", "delta", "running_balance", "reason", "category", "reference_type",
                            "reference_id", "credit_source", "performed_by", "metadata", "created_at", "updated_at")
    },
    "credit_purchases": {
        "id": r(S), "org_id": r(S),
        **{c: SERVICE for c in ("stripe_session_id", "pack_id", "compute_units", "amount_cents", "currency", "status",
                                "purchased_by")},
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "model_processing_jobs": {  # submit_processing_job and the worker functions; the service role
        "id": r(S), "org_id": r(S),
        **{c: SERVICE for c in ("project_id", "job_type", "source_url", "source_format", "target_formats", "parameters",
                                "status", "progress", "outputs", "thumbnail_url", "error_message", "credits_estimated",
                                "credits_used", "worker_id", "priority", "queue_name", "lease_expires_at",
                                "heartbeat_at", "available_at", "started_at", "completed_at", "retry_count",
                                "max_retries", "idempotency_key", "submitted_by")},
        "created_at": CREATED, "updated_at": UPDATED,
    },
    "print_jobs": {
        "id": r(OE), "org_id": r(OE),
        **{c: r(OE, OE) for c in ("design_project_id", "status", "material", "color", "infill_percent",
                                  "support_material", "layer_height", "print_orientation", "gcode_url",
                                  "estimated_time_minutes", "actual_time_minutes", "estimated_material_grams",
                                  "actual_material_grams", "printer_id", "started_at", "completed_at")},
        "credits_used": SERVICE, "created_at": CREATED, "updated_at": UPDATED,
    },
    "applied_mutations": {  # the outbox record apply_mutations keeps, as its user
        "id": r("owner editor reviewer viewer"), "entity": r("owner editor reviewer viewer"),
        "op": r("owner editor reviewer viewer"), "result": r("owner editor reviewer viewer"),
        "user_id": NOBODY, "created_at": NOBODY,
    },
    "idempotency_keys": {c: NOBODY for c in ("scope", "key", "result", "created_at")},
    "org_storage_usage": {c: NOBODY for c in ("org_id", "bytes", "objects", "created_at", "updated_at")},
    "org_credit_summary": {  # a view of credits
        c: NOBODY for c in ("org_id", "monthly_remaining", "purchased_balance", "total_available",
                            "monthly_allocation", "monthly_reset_at")
    },
}

# tables whose rows belong to one user: (column naming that user)
OWNED_BY = {"profiles": "id", "design_studio_annotations": "author_id",
            "design_studio_annotation_replies": "author_id", "design_studio_sessions": "user_id",
            "applied_mutations": "user_id"}
# deleted_at is a flag a client sets; the time in it is the server's
FLAGS = {"deleted_at"}
WHEN = "2001-02-03T04:05:06+00:00"


def _new(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------
# the world: one organisation with a member in every role, a row of every table in it


@dataclass
class World:
    server: Any
    db: psycopg.Connection
    apis: dict[str, Api]
    users: dict[str, str]                 # role -> user id (and "spare", "newcomer")
    org: str                              # the organisation everything is in
    other_org: str                        # an organisation of no one here (no credit account)
    ids: dict[str, Any] = field(default_factory=dict)
    targets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (table, owner role) -> pk
    columns: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)  # type, default
    keys: dict[str, list[str]] = field(default_factory=dict)


def _db_row(db: psycopg.Connection, query: str, *args: Any) -> Any:
    row = db.execute(query, args).fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def world(server) -> World:
    people = {role: signup(server) for role in (*MEMBERS, "spare", "newcomer")}
    apis = {role: people[role] for role in MEMBERS}
    apis["anon"] = Api(server, server.anon_key)
    apis["service"] = service = Api(server, server.service_role_key)
    owner = people["owner"]
    org = owner.personal_org()
    set_tier(server, org, "studio")
    for role in ("editor", "reviewer", "viewer"):
        owner.ok(owner.insert("org_members", {"org_id": org, "user_id": people[role].id, "role": role}))
    owner.ok(owner.insert("org_members", {"org_id": org, "user_id": people["spare"].id, "role": "viewer"}))
    db = psycopg.connect(server.db_url, autocommit=True)
    other_org = _db_row(db, "insert into public.organizations (name) values ('nobody''s') returning id::text")
    w = World(server, db, apis, {role: p.id for role, p in people.items()}, org, other_org)

    for rel, col, typ, default in db.execute(
            """select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                 left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
                where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')""").fetchall():
        w.columns.setdefault(rel, {})[col] = (typ, default)
    for rel, col in db.execute(
            """select c.relname, a.attname from pg_index i join pg_class c on c.oid = i.indrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = any (i.indkey)
                where n.nspname = 'public' and i.indisprimary order by c.relname, a.attnum""").fetchall():
        w.keys.setdefault(rel, []).append(col)
    w.keys["org_credit_summary"] = ["org_id"]

    # rows to change
    project = owner.ok(owner.insert("design_studio_projects", {"org_id": org, "name": "matrix"}))[0]
    project2 = owner.ok(owner.insert("design_studio_projects", {"org_id": org, "name": "matrix 2"}))[0]
    v1 = owner.ok(owner.rpc("create_version", project_id=project["id"], snapshot={"v": 1}))
    v2 = owner.ok(owner.rpc("create_version", project_id=project["id"], snapshot={"v": 2}))
    w.ids.update(project=project["id"], project2=project2["id"], v1=v1["id"], v2=v2["id"])

    def target(table: str, row: dict, who: str = "*") -> None:
        w.targets[(table, who)] = {k: row[k] for k in w.keys[table]}

    target("design_studio_projects", project)
    target("design_studio_versions", v1)
    target("design_studio_assets", owner.ok(owner.insert("design_studio_assets", {
        "project_id": project["id"], "asset_type": "mesh", "name": "part", "url": f"{org}/matrix.glb"}))[0])
    for role in ("owner", "editor", "reviewer"):
        api = apis[role]
        note = api.ok(api.insert("design_studio_annotations", {"project_id": project["id"], "content": f"by {role}"}))[0]
        target("design_studio_annotations", note, role)
        w.ids[f"note:{role}"] = note["id"]
    for role in ("owner", "editor", "reviewer"):
        api = apis[role]
        target("design_studio_annotation_replies", api.ok(api.insert("design_studio_annotation_replies", {
            "annotation_id": w.ids["note:owner"], "content": f"reply by {role}"}))[0], role)
    target("design_studio_exports", owner.ok(owner.insert("design_studio_exports", {
        "project_id": project["id"], "format": "glb"}))[0])
    for role in MEMBERS:
        api = apis[role]
        target("design_studio_sessions", api.ok(api.insert("design_studio_sessions", {"project_id": project["id"]}))[0],
               role)
        target("profiles", {"id": api.id}, role)
        target("applied_mutations", api.ok(api.insert("applied_mutations", {
            "id": str(uuid.uuid4()), "entity": "project", "op": "upsert", "result": {}}))[0], role)
    target("profiles", {"id": people["spare"].id}, "spare")
    target("organizations", {"id": org})
    target("org_members", {"org_id": org, "user_id": people["spare"].id})
    target("print_jobs", owner.ok(owner.insert("print_jobs", {"org_id": org, "design_project_id": project["id"]}))[0])
    target("credits", {"org_id": org})
    target("org_credit_summary", {"org_id": org})
    target("credit_ledger", owner.ok(owner.get("credit_ledger", org_id=f"eq.{org}"))[0])
    target("credit_purchases", service.ok(service.insert("credit_purchases", {
        "org_id": org, "pack_id": "small", "compute_units": 100, "amount_cents": 900}))[0])
    target("model_processing_jobs", service.ok(service.insert("model_processing_jobs", {
        "org_id": org, "job_type": "matrix"}))[0])
    target("supported_formats", service.ok(service.insert("supported_formats", {
        "extension": _new("mx"), "mime_type": "x/y", "category": "mesh", "display_name": "x",
        "max_file_size_mb": 1}))[0])
    target("processing_job_types", service.ok(service.insert("processing_job_types", {"job_type": _new("mx-")}))[0])
    target("tier_limits", service.ok(service.insert("tier_limits", {
        "tier_name": _new("matrix-"), "storage_limit_bytes": 1, "monthly_compute_units": 1}))[0])
    db.execute("insert into public.idempotency_keys (scope, key, result) values ('matrix', 'k', '{}')")
    target("idempotency_keys", {"scope": "matrix", "key": "k"})
    db.execute("insert into public.org_storage_usage (org_id) values (%s) on conflict do nothing", (org,))
    target("org_storage_usage", {"org_id": org})
    yield w
    db.close()
    for api in apis.values():
        api.http.close()


# ---------------------------------------------------------------------------------------
# what to write


def _base(w: World, table: str, role: str) -> dict[str, Any]:
    """A valid new row of the table, as the role would send it (the service role, writing for
    someone, names them)."""
    row = _new_row(w, table)
    if role == "service" and table in OWNED_BY and OWNED_BY[table] not in row:
        row[OWNED_BY[table]] = w.users["owner"]
    return row


def _new_row(w: World, table: str) -> dict[str, Any]:
    org, project = w.org, w.ids["project"]
    return {
        "tier_limits": lambda: {"tier_name": _new("matrix-"), "storage_limit_bytes": 1, "monthly_compute_units": 1},
        "supported_formats": lambda: {"extension": _new("mx"), "mime_type": "x/y", "category": "mesh",
                                      "display_name": "x", "max_file_size_mb": 1},
        "processing_job_types": lambda: {"job_type": _new("mx-")},
        "profiles": lambda: {"id": w.users["newcomer"], "email": "newcomer@example.com"},
        "organizations": lambda: {"id": str(uuid.uuid4()), "name": "matrix org"},
        "org_members": lambda: {"org_id": org, "user_id": w.users["newcomer"], "role": "viewer"},
        "design_studio_projects": lambda: {"id": str(uuid.uuid4()), "org_id": org, "name": "new"},
        "design_studio_versions": lambda: {"id": str(uuid.uuid4()), "project_id": project, "version_number": 1000,
                                           "snapshot": {}},
        "design_studio_assets": lambda: {"id": str(uuid.uuid4()), "project_id": project, "asset_type": "mesh",
                                         "name": "new"},
        "design_studio_annotations": lambda: {"id": str(uuid.uuid4()), "project_id": project, "content": "new"},
        "design_studio_annotation_replies": lambda: {"id": str(uuid.uuid4()), "annotation_id": w.ids["note:owner"],
                                                     "content": "new"},
        "design_studio_exports": lambda: {"id": str(uuid.uuid4()), "project_id": project, "format": "glb"},
        "design_studio_sessions": lambda: {"id": str(uuid.uuid4()), "project_id": project},
        "credits": lambda: {"org_id": w.other_org, "balance": 0, "monthly_allocation": 0},
        "credit_ledger": lambda: {"org_id": org, "delta": 1, "running_balance": 1, "reason": "x",
                                  "category": "adjustment", "credit_source": "purchased"},
        "credit_purchases": lambda: {"id": str(uuid.uuid4()), "org_id": org, "pack_id": "p", "compute_units": 1,
                                     "amount_cents": 1},
        "model_processing_jobs": lambda: {"id": str(uuid.uuid4()), "org_id": org, "job_type": "matrix"},
        "print_jobs": lambda: {"id": str(uuid.uuid4()), "org_id": org},
        "applied_mutations": lambda: {"id": str(uuid.uuid4()), "entity": "project", "op": "insert"},
        "idempotency_keys": lambda: {"scope": "matrix", "key": _new("k"), "result": {}},
        "org_storage_usage": lambda: {"org_id": w.other_org},
        "org_credit_summary": lambda: {"org_id": w.other_org},
    }[table]()


def _someone_else(w: World, current: Any) -> str:
    """A user who is not the writer and not the one the row names now."""
    return w.users["newcomer"] if current == w.users["spare"] else w.users["spare"]


# values that must satisfy a constraint or name the right row; the rest come from the type
SAMPLES: dict[tuple[str, str], Callable[[World, str, Any], Any]] = {
    ("organizations", "tier"): lambda w, role, cur: "pro",
    ("org_members", "role"): lambda w, role, cur: "reviewer",
    ("design_studio_projects", "status"): lambda w, role, cur: "in_review",
    ("design_studio_projects", "source_project_id"): lambda w, role, cur: w.ids["project2"],
    ("design_studio_projects", "current_version_id"): lambda w, role, cur: w.ids["v1"],
    ("design_studio_projects", "model_url"): lambda w, role, cur: f"{w.org}/model-{uuid.uuid4().hex[:6]}.glb",
    ("design_studio_projects", "thumbnail_url"): lambda w, role, cur: f"{w.org}/thumb-{uuid.uuid4().hex[:6]}.png",
    ("design_studio_assets", "asset_type"): lambda w, role, cur: "texture",
    ("design_studio_assets", "url"): lambda w, role, cur: f"{w.org}/part-{uuid.uuid4().hex[:6]}.glb",
    ("design_studio_assets", "thumbnail_url"): lambda w, role, cur: f"{w.org}/thumb-{uuid.uuid4().hex[:6]}.png",
    ("design_studio_assets", "sha256"): lambda w, role, cur: "cd" * 32,
    ("design_studio_annotations", "version_id"): lambda w, role, cur: w.ids["v1"],
    ("design_studio_exports", "version_id"): lambda w, role, cur: w.ids["v1"],
    ("design_studio_exports", "output_url"): lambda w, role, cur: f"{w.org}/export-{uuid.uuid4().hex[:6]}.glb",
    ("design_studio_sessions", "role"): lambda w, role, cur: next(x for x in ("reviewer", "editor", "owner")
                                                                  if x not in (cur, role)),
    ("credit_ledger", "id"): lambda w, role, cur: 10**15 + uuid.uuid4().int % 10**9,
    ("credit_ledger", "category"): lambda w, role, cur: "usage" if cur != "usage" else "refund",
    ("credit_ledger", "credit_source"): lambda w, role, cur: "monthly" if cur != "monthly" else "purchased",
    ("credit_purchases", "status"): lambda w, role, cur: "completed",
    ("credit_purchases", "stripe_session_id"): lambda w, role, cur: _new("cs_"),
    ("model_processing_jobs", "project_id"): lambda w, role, cur: w.ids["project"],
    ("model_processing_jobs", "source_url"): lambda w, role, cur: f"{w.org}/photos.zip",
    ("model_processing_jobs", "thumbnail_url"): lambda w, role, cur: f"{w.org}/job.png",
    ("model_processing_jobs", "status"): lambda w, role, cur: "cancelled",
    ("model_processing_jobs", "progress"): lambda w, role, cur: 0.5,
    ("model_processing_jobs", "idempotency_key"): lambda w, role, cur: _new("k"),
    ("print_jobs", "design_project_id"): lambda w, role, cur: w.ids["project2"],
    ("print_jobs", "status"): lambda w, role, cur: "printing",
    ("print_jobs", "gcode_url"): lambda w, role, cur: f"{w.org}/part-{uuid.uuid4().hex[:6]}.gcode",
    ("supported_formats", "extension"): lambda w, role, cur: _new("mx"),
    ("processing_job_types", "job_type"): lambda w, role, cur: _new("mx-"),
    ("processing_job_types", "quality_percent"): lambda w, role, cur: {"normal": 120, "draft": 10},
    ("processing_job_types", "max_retries"): lambda w, role, cur: 5,
    ("tier_limits", "tier_name"): lambda w, role, cur: _new("matrix-"),
}
# columns naming a user: someone who is not the writer
PEOPLE = {"created_by", "uploaded_by", "author_id", "requested_by", "user_id", "performed_by", "purchased_by",
          "submitted_by"}
# columns naming the row's organisation or parent: another one, for an update (they never change)
PARENTS = {"org_id": lambda w: w.other_org, "project_id": lambda w: w.ids["project2"],
           "annotation_id": lambda w: w.ids["note:editor"]}


def _sample(w: World, table: str, column: str, role: str, current: Any, inserting: bool) -> Any:
    typ, default = w.columns[table][column]
    if (table, column) in SAMPLES:
        return SAMPLES[(table, column)](w, role, current)
    if column in PEOPLE:
        return _someone_else(w, current)
    if not inserting and column in PARENTS:
        return PARENTS[column](w)
    if typ == "uuid":
        return str(uuid.uuid4())
    if typ == "boolean":
        return (default != "true") if inserting or current is None else not current
    if typ in ("integer", "bigint", "smallint"):
        return 3 if inserting or current is None else current + 1
    if typ in ("real", "double precision", "numeric"):
        return 3.5 if inserting or current is None else current + 1
    if typ in ("jsonb", "json"):
        return {"matrix": "changed"} if current == {"matrix": "sample"} else {"matrix": "sample"}
    if typ.startswith("timestamp"):
        return WHEN
    if typ == "text[]":
        return ["stl"] if current == ["glb"] else ["glb"]
    if typ == "text":
        return "matrix sample" if current != "matrix sample" else "matrix sample 2"
    raise AssertionError(f"no sample for {table}.{column} of type {typ}")


# ---------------------------------------------------------------------------------------
# writing and looking


def _where(keys: dict[str, Any]) -> tuple[sql.Composable, list[Any]]:
    return (sql.SQL(" and ").join(sql.SQL("r.{}::text = %s").format(sql.Identifier(k)) for k in keys),
            [str(v) for v in keys.values()])


def _stored(w: World, table: str, keys: dict[str, Any]) -> dict[str, Any] | None:
    where, args = _where(keys)
    return _db_row(w.db, sql.SQL("select to_jsonb(r) from public.{} r where {}").format(sql.Identifier(table), where),
                   *args)


def _holds(w: World, table: str, keys: dict[str, Any], column: str, value: Any) -> bool:
    """Whether the stored row has ``value`` in ``column`` (compared as the column's type)."""
    where, args = _where(keys)
    col = sql.Identifier(column)
    test = (sql.SQL("(r.{0} is null) = (x.{0} is null)") if column in FLAGS
            else sql.SQL("r.{0} is not distinct from x.{0}")).format(col)
    query = sql.SQL("select {} from public.{} r, jsonb_populate_record(null::public.{}, %s::jsonb) x where {}").format(
        test, sql.Identifier(table), sql.Identifier(table), where)
    return bool(_db_row(w.db, query, json.dumps({column: value}), *args))


def _restore(w: World, table: str, keys: dict[str, Any], snapshot: dict[str, Any]) -> None:
    if _stored(w, table, keys) == snapshot:
        return
    cols = [c for c in w.columns[table]]
    where, args = _where(keys)
    with w.db.transaction():
        w.db.execute("set local session_replication_role = replica")
        w.db.execute(sql.SQL("update public.{t} r set ({c}) = (select {c} from jsonb_populate_record(null::public.{t}, "
                             "%s::jsonb)) where {w}").format(t=sql.Identifier(table), w=where,
                                                             c=sql.SQL(", ").join(map(sql.Identifier, cols))),
                     [json.dumps(snapshot), *args])


def _delete(w: World, table: str, keys: dict[str, Any]) -> None:
    where, args = _where(keys)
    w.db.execute(sql.SQL("delete from public.{} r where {}").format(sql.Identifier(table), where), args)


def _prepare_insert(w: World, table: str) -> None:
    if table == "profiles":
        w.db.execute("delete from public.profiles where id = %s", (w.users["newcomer"],))
    elif table == "org_members":
        w.db.execute("delete from public.org_members where user_id = %s", (w.users["newcomer"],))


def _inserts(w: World, table: str, role: str) -> set[str]:
    """The columns whose value the role's insert stores as sent."""
    written = set()
    for column in MATRIX[table]:
        base = _base(w, table, role)
        row = {**base, column: base[column] if column in base and (table, column) not in SAMPLES
               else _sample(w, table, column, role, None, inserting=True)}
        keys = {k: row[k] for k in w.keys[table] if k in row}
        _prepare_insert(w, table)
        w.apis[role].insert(table, row)
        try:
            if len(keys) == len(w.keys[table]) and _stored(w, table, keys) is not None \
                    and _holds(w, table, keys, column, row[column]):
                written.add(column)
        finally:
            if len(keys) == len(w.keys[table]) and table != "org_credit_summary":
                _delete(w, table, keys)
    return written


def _updates(w: World, table: str, role: str, owner: str) -> set[str]:
    """The columns the role's update of ``owner``'s row (or the table's one row) changes to what it sent."""
    keys = w.targets[(table, owner)]
    snapshot = _stored(w, table, keys)
    assert snapshot is not None, f"no {table} row {keys}"
    written = set()
    for column in MATRIX[table]:
        value = _sample(w, table, column, role, snapshot.get(column), inserting=False)
        assert not _holds(w, table, keys, column, value) or column in FLAGS and snapshot[column] is not None, \
            f"the sample for {table}.{column} is what is stored already"
        w.apis[role].update(table, {column: value}, **{k: f"eq.{v}" for k, v in keys.items()})
        moved = {**keys, column: value} if column in keys else keys
        try:
            if _stored(w, table, moved) is not None and _holds(w, table, moved, column, value):
                written.add(column)
        finally:
            if moved is not keys and _stored(w, table, moved) is not None:
                _delete(w, table, moved)
                w.db.execute(sql.SQL("insert into public.{t} select * from jsonb_populate_record(null::public.{t}, "
                                     "%s::jsonb)").format(t=sql.Identifier(table)), [json.dumps(snapshot)])
            _restore(w, table, keys, snapshot)
    return written


def _expected_inserts(table: str, role: str) -> set[str]:
    return {c for c, (ins, _) in MATRIX[table].items() if role in ins}


def _expected_updates(table: str, role: str, own: bool) -> set[str]:
    return {c for c, (_, upd) in MATRIX[table].items() if role in upd or own and "own" in upd}


# ---------------------------------------------------------------------------------------
# the tests


def _relations(db: psycopg.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rel, col in db.execute(
            """select c.relname, a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')""").fetchall():
        found.setdefault(rel, set()).add(col)
    return found


def test_every_column_of_every_relation_is_decided(world):
    """From the catalog: a column nobody decided about fails here until MATRIX says who writes it."""
    found = _relations(world.db)
    undecided = sorted(f"{t}.{c}" for t, cols in found.items() for c in cols - set(MATRIX.get(t, {})))
    gone = sorted(f"{t}.{c}" for t, cols in MATRIX.items() for c in set(cols) - found.get(t, set()))
    assert undecided == [], f"decide who may write: {undecided}"
    assert gone == [], f"no longer in the schema: {gone}"


def test_privileges_agree_with_the_matrix(world):
    """From the catalog: anon holds no write privilege anywhere; where nobody but the database may
    write a relation, not even the service role holds one; a relation a client may write has its
    guard trigger; outside public, clients write only storage objects (under their policies)."""
    db = world.db
    anon = db.execute("""select table_schema || '.' || table_name || ' ' || privilege_type
                           from information_schema.role_table_grants
                          where grantee in ('anon', 'public') and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
                          order by 1""").fetchall()
    assert anon == []
    anon_columns = db.execute("""select table_schema || '.' || table_name || '.' || column_name || ' ' || privilege_type
                                   from information_schema.column_privileges
                                  where grantee in ('anon', 'public') and privilege_type in ('INSERT', 'UPDATE')
                                  order by 1""").fetchall()
    assert anon_columns == []
    for table, columns in MATRIX.items():
        service_writes = any("service" in ins or "service" in upd for ins, upd in columns.values())
        client_writes = any((ins | upd) - {"service"} for ins, upd in columns.values())
        for privilege in ("INSERT", "UPDATE"):
            held = _db_row(db, "select has_table_privilege('service_role', %s, %s)", f"public.{table}", privilege)
            assert held or not service_writes, f"service_role lacks {privilege} on {table}"
            if not service_writes:
                assert not held, f"service_role may {privilege} {table}, which only the database writes"
        guarded = _db_row(db, """select count(*) from pg_trigger where tgrelid = %s::regclass and not tgisinternal
                                    and tgname = 'guard_columns'""", f"public.{table}")
        if client_writes:
            assert guarded == 1, f"{table} takes client writes but has no guard_columns trigger"
    outside = db.execute("""select table_schema || '.' || table_name || ' ' || privilege_type
                              from information_schema.role_table_grants
                             where grantee = 'authenticated' and table_schema <> 'public'
                               and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') order by 1""").fetchall()
    assert {row[0].split()[0] for row in outside} <= {"storage.objects"}


@pytest.mark.parametrize("table", sorted(MATRIX))
def test_inserts_take_effect_only_for_the_roles_allowed(world, table):
    wrong = []
    for role in ROLES:
        got, want = _inserts(world, table, role), _expected_inserts(table, role)
        if got != want:
            wrong.append(f"{role} inserting: writes {sorted(got - want)} it may not, cannot write {sorted(want - got)}")
    assert wrong == [], f"{table}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("table", sorted(MATRIX))
def test_updates_take_effect_only_for_the_roles_allowed(world, table):
    wrong = []
    for role in ROLES:
        rows = [(o, o == role) for o in (role, "spare" if table == "profiles" else "owner" if role != "owner"
                                         else "editor") if (table, o) in world.targets]
        if not rows:
            rows = [("*", False)]
        for owner, own in rows:
            got, want = _updates(world, table, role, owner), _expected_updates(table, role, own)
            if got != want:
                whose = "own row" if own else f"{owner}'s row" if owner != "*" else "the row"
                wrong.append(f"{role} updating {whose}: writes {sorted(got - want)} it may not, "
                             f"cannot write {sorted(want - got)}")
    assert wrong == [], f"{table}:\n" + "\n".join(wrong)


# ---------------------------------------------------------------------------------------
# one attempt per kind of rule, through HTTP, with what a client sees


def _refusal(response, column: str, table: str, status: int = 403) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"} and body["code"] == "42501", body
    assert column in body["message"], body
    assert json.loads(body["details"]) == {"table": table, "column": column}
    return body


def test_a_refused_column_is_named_in_a_postgrest_error(world):
    editor, project = world.apis["editor"], world.ids["project"]
    body = _refusal(editor.update("design_studio_projects", {"version_count": 0}, id=f"eq.{project}"),
                    "version_count", "design_studio_projects")
    assert "create_version" in body["message"]
    # the same through the outbox: the mutation is rejected with the same code and message
    results = editor.ok(editor.rpc("apply_mutations", batch=[{"id": str(uuid.uuid4()), "entity": "project",
                                                             "op": "update", "payload": {"id": project, "version_count": 0}}]))
    assert (results[0]["status"], results[0]["code"]) == ("rejected", "42501") and "version_count" in results[0]["message"]
    assert _stored(world, "design_studio_projects", {"id": project})["version_count"] == 2


def test_timestamps_are_the_servers_clock(world):
    owner, project = world.apis["owner"], world.ids["project"]
    future = "2099-01-01T00:00:00+00:00"
    note = owner.ok(owner.insert("design_studio_annotations", {"project_id": project, "content": "clock",
                                                               "created_at": WHEN, "updated_at": future}))[0]
    assert note["created_at"][:4] != "2001" and note["updated_at"][:4] != "2099"
    again = owner.ok(owner.update("design_studio_annotations", {"resolved": True, "updated_at": future,
                                                                "created_at": WHEN}, id=f"eq.{note['id']}"))[0]
    assert again["updated_at"][:4] != "2099" and again["created_at"] == note["created_at"]
    # a project's updated_at moves with its content only, never to what a client says
    before = _stored(world, "design_studio_projects", {"id": project})["updated_at"]
    owner.ok(owner.update("design_studio_projects", {"updated_at": future}, id=f"eq.{project}"))
    assert _stored(world, "design_studio_projects", {"id": project})["updated_at"] == before
    # deleted_at: the client says deleted or not, the server says when
    asset = owner.ok(owner.insert("design_studio_assets", {"project_id": project, "asset_type": "mesh",
                                                           "name": "bin", "deleted_at": WHEN}))[0]
    assert asset["deleted_at"] is not None and asset["deleted_at"][:4] != "2001"
    kept = owner.ok(owner.update("design_studio_assets", {"deleted_at": future}, id=f"eq.{asset['id']}"))[0]
    assert kept["deleted_at"] == asset["deleted_at"]
    assert owner.ok(owner.update("design_studio_assets", {"deleted_at": None}, id=f"eq.{asset['id']}"))[0][
        "deleted_at"] is None


def test_authorship_and_presence_are_filled_in_by_the_server(world):
    reviewer, owner, project = world.apis["reviewer"], world.apis["owner"], world.ids["project"]
    note = reviewer.ok(reviewer.insert("design_studio_annotations", {"project_id": project, "content": "mine"}))[0]
    reply = reviewer.ok(reviewer.insert("design_studio_annotation_replies", {"annotation_id": note["id"],
                                                                             "content": "also mine"}))[0]
    session = reviewer.ok(reviewer.insert("design_studio_sessions", {"project_id": project, "role": "owner",
                                                                     "joined_at": WHEN, "last_heartbeat_at": WHEN}))[0]
    assert note["author_id"] == reply["author_id"] == session["user_id"] == reviewer.id
    assert session["role"] == "reviewer" and session["joined_at"][:4] != "2001"
    assert session["last_heartbeat_at"][:4] != "2001"
    made = owner.ok(owner.insert("design_studio_projects", {"org_id": world.org, "name": "authored"}))[0]
    asset = owner.ok(owner.insert("design_studio_assets", {"project_id": made["id"], "asset_type": "mesh",
                                                           "name": "a"}))[0]
    export = owner.ok(owner.insert("design_studio_exports", {"project_id": made["id"], "format": "stl"}))[0]
    assert made["created_by"] == asset["uploaded_by"] == export["requested_by"] == owner.id
    # naming yourself is fine; naming someone else is not
    assert owner.ok(owner.insert("design_studio_projects", {"org_id": world.org, "name": "me",
                                                            "created_by": owner.id}))[0]["created_by"] == owner.id
    _refusal(owner.insert("design_studio_projects", {"org_id": world.org, "name": "forged",
                                                     "created_by": world.users["spare"]}),
             "created_by", "design_studio_projects")


def test_the_desktops_outbox_writes_still_apply(world):
    """What dstudio_desktop/sync sends (mapping.py): upserts that resend org_id, author_id and
    created_at, and an annotation update that resends unchanged content."""
    owner, editor = world.apis["owner"], world.apis["editor"]
    project_id, note_id, asset_id, job_id = (str(uuid.uuid4()) for _ in range(4))
    project = {"id": project_id, "org_id": world.org, "name": "synced", "description": "", "status": "draft",
               "is_template": False, "scene_graph": {"nodes": []}, "canvas_state": {}}
    sha = "ef" * 32
    batch = [
        {"id": str(uuid.uuid4()), "entity": "project", "op": "upsert", "payload": project},
        {"id": str(uuid.uuid4()), "entity": "version", "op": "insert",
         "payload": {"id": str(uuid.uuid4()), "project_id": project_id, "snapshot": {"nodes": []}, "notes": ""}},
        {"id": str(uuid.uuid4()), "entity": "asset", "op": "upsert", "payload": {
            "id": asset_id, "project_id": project_id, "asset_type": "mesh", "name": "base", "url": f"{world.org}/{sha}.stl",
            "file_size": 10, "sha256": sha, "metadata": {"media_type": "model/stl"}, "created_at": WHEN}},
        {"id": str(uuid.uuid4()), "entity": "annotation", "op": "upsert", "payload": {
            "id": note_id, "project_id": project_id, "version_id": None, "content": "check", "position": None,
            "camera_state": None, "resolved": False, "created_at": WHEN, "author_id": owner.id}},
        {"id": str(uuid.uuid4()), "entity": "print_job", "op": "upsert", "payload": {
            "id": job_id, "org_id": world.org, "design_project_id": project_id, "status": "sliced", "material": "PLA",
            "infill_percent": 20.0, "support_material": False, "layer_height": 0.2, "print_orientation": {},
            "estimated_time_minutes": 12.5, "estimated_material_grams": 3.0, "printer_id": "mk3", "credits_used": 0,
            "created_at": WHEN}},
        {"id": str(uuid.uuid4()), "entity": "project", "op": "upsert", "payload": {**project, "name": "synced again"}},
    ]
    results = owner.ok(owner.rpc("apply_mutations", batch=batch))
    assert [r["status"] for r in results] == ["applied"] * len(batch), results
    # another member resolves the note: the desktop resends its content unchanged
    resolved = editor.ok(editor.rpc("apply_mutations", batch=[{"id": str(uuid.uuid4()), "entity": "annotation",
                                                              "op": "update", "payload": {"id": note_id, "content": "check",
                                                                                          "resolved": True}}]))
    assert resolved[0]["status"] == "applied" and resolved[0]["row"]["resolved"] is True
    rewritten = editor.ok(editor.rpc("apply_mutations", batch=[{"id": str(uuid.uuid4()), "entity": "annotation",
                                                               "op": "update", "payload": {"id": note_id, "content": "mine now"}}]))
    assert rewritten[0]["status"] == "rejected" and rewritten[0]["code"] == "42501"
