"""Row-level security through the REST layer: org A's members never see or change org B's
rows, in every table; a reviewer annotates but cannot change the scene; anon sees nothing."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Api, job_type, set_tier, signup

SHA = "ab" * 32


@pytest.fixture(scope="module")
def world(server):
    a, b = signup(server), signup(server)
    reviewer, viewer = signup(server), signup(server)
    service = Api(server, server.service_role_key)
    org_a, org_b = a.personal_org(), b.personal_org()
    set_tier(server, org_a, "pro")  # a free organisation has one seat
    for member, role in ((reviewer, "reviewer"), (viewer, "viewer")):
        a.ok(a.insert("org_members", {"org_id": org_a, "user_id": member.id, "role": role}))
    project_a = a.ok(a.insert("design_studio_projects", {"org_id": org_a, "name": "A's lamp"}))[0]

    # one row of org B in every table
    rows: dict[str, dict] = {}
    rows["organizations"] = {"id": org_b}
    rows["org_members"] = {"org_id": org_b, "user_id": b.id}
    rows["profiles"] = {"id": b.id}
    project = b.ok(b.insert("design_studio_projects", {"org_id": org_b, "name": "B's secret"}))[0]
    rows["design_studio_projects"] = project
    rows["design_studio_versions"] = b.ok(b.rpc("create_version", project_id=project["id"], snapshot={"nodes": []}))
    rows["design_studio_assets"] = b.ok(b.insert("design_studio_assets", {
        "project_id": project["id"], "asset_type": "mesh", "name": "part.glb", "sha256": SHA}))[0]
    annotation = b.ok(b.insert("design_studio_annotations", {"project_id": project["id"], "content": "too thin"}))[0]
    rows["design_studio_annotations"] = annotation
    rows["design_studio_annotation_replies"] = b.ok(b.insert("design_studio_annotation_replies", {
        "annotation_id": annotation["id"], "content": "agreed"}))[0]
    rows["design_studio_exports"] = b.ok(b.insert("design_studio_exports", {"project_id": project["id"], "format": "glb"}))[0]
    rows["design_studio_sessions"] = b.ok(b.insert("design_studio_sessions", {"project_id": project["id"]}))[0]
    rows["credits"] = {"org_id": org_b}
    rows["credit_ledger"] = b.ok(b.get("credit_ledger", org_id=f"eq.{org_b}"))[0]
    rows["credit_purchases"] = service.ok(service.insert("credit_purchases", {
        "org_id": org_b, "pack_id": "small", "compute_units": 100, "amount_cents": 900}))[0]
    rows["model_processing_jobs"] = b.ok(b.rpc("submit_processing_job", org_id=org_b,
                                               job_type=job_type(server, base_credits=5)))
    rows["print_jobs"] = b.ok(b.insert("print_jobs", {"org_id": org_b, "design_project_id": project["id"]}))[0]
    mutation_id = str(uuid.uuid4())
    b.ok(b.rpc("apply_mutations", batch=[{"id": mutation_id, "entity": "annotation", "op": "insert", "payload": {
        "id": str(uuid.uuid4()), "project_id": project["id"], "content": "from the outbox", "author_id": b.id}}]))
    rows["applied_mutations"] = {"id": mutation_id}
    rows["org_credit_summary"] = {"org_id": org_b}
    return {"a": a, "b": b, "reviewer": reviewer, "viewer": viewer, "service": service, "org_a": org_a,
            "org_b": org_b, "project_a": project_a, "project_b": project, "annotation_b": annotation, "rows": rows}


# how to address org B's row, and a row A might try to slip into org B
def _key(table: str, row: dict) -> dict[str, str]:
    if table in ("organizations", "profiles", "applied_mutations") or "id" in row and table not in (
            "org_members", "credits", "org_credit_summary"):
        return {"id": f"eq.{row['id']}"}
    return {k: f"eq.{v}" for k, v in row.items()}


def _intrusion(table: str, w: dict) -> dict:
    project, org_b, a = w["project_b"]["id"], w["org_b"], w["a"]
    return {
        "organizations": {"name": "B's twin", "id": str(uuid.uuid4())},
        "org_members": {"org_id": org_b, "user_id": a.id, "role": "owner"},
        "profiles": {"id": w["b"].id, "display_name": "impostor"},
        "design_studio_projects": {"org_id": org_b, "name": "planted"},
        "design_studio_versions": {"project_id": project, "version_number": 99, "snapshot": {}},
        "design_studio_assets": {"project_id": project, "asset_type": "mesh", "name": "planted.glb"},
        "design_studio_annotations": {"project_id": project, "content": "planted", "author_id": a.id},
        "design_studio_annotation_replies": {"annotation_id": w["annotation_b"]["id"], "content": "x", "author_id": a.id},
        "design_studio_exports": {"project_id": project, "format": "stl"},
        "design_studio_sessions": {"project_id": project, "user_id": a.id},
        "credits": {"org_id": org_b, "balance": 1000000, "monthly_allocation": 1000000},
        "credit_ledger": {"org_id": org_b, "delta": 1000, "running_balance": 1000, "reason": "gift",
                          "category": "adjustment", "credit_source": "purchased"},
        "credit_purchases": {"org_id": org_b, "pack_id": "big", "compute_units": 9999, "amount_cents": 0},
        "model_processing_jobs": {"org_id": org_b, "job_type": "reconstruct"},
        "print_jobs": {"org_id": org_b, "design_project_id": project},
        "applied_mutations": {"id": str(uuid.uuid4()), "user_id": w["b"].id, "entity": "project", "op": "insert"},
    }[table]


# a harmless column to try to change on B's row
_CHANGE = {"organizations": {"name": "owned"}, "org_members": {"role": "viewer"}, "profiles": {"display_name": "x"},
           "design_studio_projects": {"name": "defaced"}, "design_studio_versions": {"notes": "rewritten"},
           "design_studio_assets": {"name": "renamed"}, "design_studio_annotations": {"resolved": True},
           "design_studio_annotation_replies": {"content": "edited"}, "design_studio_exports": {"format": "obj"},
           "design_studio_sessions": {"is_active": False}, "credits": {"purchased_balance": 5000},
           "credit_ledger": {"reason": "edited"}, "credit_purchases": {"status": "refunded"},
           "model_processing_jobs": {"priority": 100}, "print_jobs": {"material": "gold"},
           "applied_mutations": {"op": "delete"}}

ORG_TABLES = sorted(_CHANGE)


def _service_row(w: dict, table: str) -> list:
    return w["service"].ok(w["service"].get(table, **_key(table, w["rows"][table])))


@pytest.mark.parametrize("table", ORG_TABLES + ["org_credit_summary"])
def test_member_of_a_cannot_see_b_rows(world, table):
    a = world["a"]
    assert _service_row(world, table), "the row of org B exists"
    assert a.ok(a.get(table, **_key(table, world["rows"][table]))) == []


@pytest.mark.parametrize("table", ORG_TABLES)
def test_member_of_a_cannot_change_or_delete_b_rows(world, table):
    a, row = world["a"], world["rows"][table]
    before = _service_row(world, table)
    assert a.ok(a.update(table, _CHANGE[table], **_key(table, row))) == []
    assert a.ok(a.delete(table, **_key(table, row))) == []
    assert _service_row(world, table) == before


@pytest.mark.parametrize("table", ORG_TABLES)
def test_member_of_a_cannot_insert_into_b(world, table):
    a = world["a"]
    response = a.insert(table, _intrusion(table, world))
    assert response.status_code in (401, 403), f"{table}: {response.status_code} {response.text}"
    assert response.json()["code"] == "42501"


def test_functions_refuse_other_orgs(world):
    a, org_b = world["a"], world["org_b"]
    for fn, args in (("consume_credits", {"org_id": org_b, "amount": 1, "reason": "theft"}),
                     ("get_credit_balance", {"org_id": org_b}),
                     ("create_version", {"project_id": world["project_b"]["id"], "snapshot": {}}),
                     ("submit_processing_job", {"org_id": org_b, "job_type": "x"})):
        response = a.rpc(fn, **args)
        assert response.status_code == 403, f"{fn}: {response.text}"
    # worker and billing functions are the service role's alone
    for fn, args in (("add_purchased_credits", {"org_id": world["org_a"], "amount": 1000}),
                     ("claim_next_job", {"worker_id": "me"})):
        assert a.rpc(fn, **args).status_code in (403, 404)


def test_reviewer_annotates_but_cannot_change_the_scene(world):
    r, project = world["reviewer"], world["project_a"]
    assert r.ok(r.get("design_studio_projects", id=f"eq.{project['id']}"))[0]["name"] == "A's lamp"
    assert r.ok(r.update("design_studio_projects", {"name": "reviewed away"}, id=f"eq.{project['id']}")) == []
    assert r.insert("design_studio_projects", {"org_id": world["org_a"], "name": "new"}).status_code == 403
    assert r.insert("design_studio_assets", {"project_id": project["id"], "asset_type": "mesh",
                                             "name": "x.glb"}).status_code == 403
    assert r.rpc("create_version", project_id=project["id"], snapshot={}).status_code == 403
    note = r.ok(r.insert("design_studio_annotations", {"project_id": project["id"], "content": "fillet this edge"}))[0]
    assert note["author_id"] == r.id
    r.ok(r.insert("design_studio_annotation_replies", {"annotation_id": note["id"], "content": "and this one"}))
    assert r.ok(r.update("design_studio_annotations", {"resolved": True}, id=f"eq.{note['id']}"))[0]["resolved"]
    # an annotation is its author's: nobody writes one in another's name
    forged = r.insert("design_studio_annotations", {"project_id": project["id"], "content": "x",
                                                    "author_id": world["a"].id})
    assert forged.status_code == 403


def test_viewer_reads_only(world):
    v, project = world["viewer"], world["project_a"]
    assert v.ok(v.get("design_studio_projects", id=f"eq.{project['id']}"))
    assert v.insert("design_studio_annotations", {"project_id": project["id"], "content": "hi"}).status_code == 403
    assert v.ok(v.update("design_studio_projects", {"name": "x"}, id=f"eq.{project['id']}")) == []


@pytest.mark.parametrize("table", ORG_TABLES + ["supported_formats", "tier_limits", "org_credit_summary"])
def test_anon_sees_nothing(world, anon, table):
    assert anon.ok(anon.get(table)) == []


def test_anon_cannot_write_or_call(world, anon):
    assert anon.insert("design_studio_projects", {"org_id": world["org_a"], "name": "x"}).status_code == 401
    assert anon.rpc("consume_credits", org_id=world["org_a"], amount=1, reason="x").status_code == 401


def test_reference_tables_are_read_only(world):
    a = world["a"]
    assert {f["extension"] for f in a.ok(a.get("supported_formats"))} >= {"glb", "stl", "obj", "3mf"}
    assert a.ok(a.update("tier_limits", {"monthly_compute_units": 10**6}, tier_name="eq.free")) == []
    assert a.insert("supported_formats", {"extension": "exe", "mime_type": "x", "category": "x",
                                          "display_name": "x", "max_file_size_mb": 1}).status_code == 403


def test_service_role_bypasses_rls(world, service):
    names = {p["name"] for p in service.ok(service.get("design_studio_projects"))}
    assert {"A's lamp", "B's secret"} <= names
