"""A hostile client against the database's rules: every finding of the audit, driven through
plain HTTP as an ordinary signed-up user, refused with the protocol's error shape.

PostgREST errors are ``{code, message, details, hint}`` with the HTTP status PostgREST gives
the SQLSTATE (42501 -> 403, PTxyz -> xyz); storage errors are ``{statusCode, error, message}``;
a mutation in ``apply_mutations`` is reported ``rejected`` with its code and message.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import psycopg
import pytest

from .conftest import Api, job_type, set_tier, signup

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 600


def refused(response: httpx.Response, status: int, code: str, *words: str) -> dict:
    """The PostgREST error shape, with the status and code PostgREST gives."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}, body
    assert body["code"] == code, body
    for word in words:
        assert word in body["message"], body
    return body


def storage_refused(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"} and body["statusCode"] == str(status), body
    for word in words:
        assert word in body["message"], body
    return body


def rejected(api: Api, mutation: dict, code: str, *words: str) -> dict:
    results = api.ok(api.rpc("apply_mutations", batch=[{"id": str(uuid.uuid4()), **mutation}]))
    assert results[0]["status"] == "rejected" and results[0]["code"] == code, results
    for word in words:
        assert word in results[0]["message"], results
    return results[0]


def _balance(api: Api, org: str) -> dict:
    return api.ok(api.rpc("get_credit_balance", org_id=org))


def _upload(api: Api, bucket: str, name: str, data: bytes, content_type: str, upsert: bool = False) -> httpx.Response:
    return api.http.post(f"/storage/v1/object/{bucket}/{name}", files={"file": (name.rsplit("/", 1)[-1], data, content_type)},
                         headers={"x-upsert": "true"} if upsert else {})


@pytest.fixture
def user(server) -> Api:
    return signup(server)


# ---------------------------------------------------------------------------------------
# self-upgrade


def test_an_owner_cannot_upgrade_their_own_plan(user, service):
    org = user.personal_org()
    user.ok(user.rpc("consume_credits", org_id=org, amount=15, reason="render"))
    refused(user.update("organizations", {"tier": "studio"}, id=f"eq.{org}"), 403, "42501", "tier")
    upsert = user.http.post("/rest/v1/organizations", json={"id": org, "name": "mine", "tier": "studio"},
                            headers={"Prefer": "resolution=merge-duplicates,return=representation"})
    refused(upsert, 403, "42501", "tier")
    refused(user.update("organizations", {"is_personal": False}, id=f"eq.{org}"), 403, "42501", "is_personal")
    # the credit account is the credit functions' alone: a member's write reaches no row
    assert user.ok(user.update("credits", {"monthly_allocation": 5000, "purchased_balance": 5000},
                               org_id=f"eq.{org}")) == []
    refused(user.insert("credit_ledger", {"org_id": org, "delta": 5000, "running_balance": 5085, "reason": "gift",
                                          "category": "purchase", "credit_source": "purchased"}), 403, "42501")
    refused(user.rpc("add_purchased_credits", org_id=org, amount=5000), 403, "42501")
    # the monthly reset gives the plan's allocation: free is 100
    assert service.ok(service.rpc("reset_monthly_credits", org_id=org)) == 1
    assert _balance(user, org)["balance"] == 100
    assert user.ok(user.get("organizations", id=f"eq.{org}"))[0]["tier"] == "free"
    # billing may: the service role changes the plan, and the next reset follows it
    set_tier(user.server, org, "pro")
    service.ok(service.rpc("reset_monthly_credits", org_id=org))
    assert _balance(user, org)["balance"] == 1000


def test_creating_organisations_mints_no_credits(user, service):
    personal = user.personal_org()
    for _ in range(3):
        body = refused(user.rpc("create_organization", name="free money"), 402, "PT402", "one free organisation")
        assert json.loads(body["details"])["limit"] == "organizations"
    refused(user.rpc("create_organization", name="big", tier="studio"), 403, "42501", "billing")
    refused(user.rpc("create_organization", name="theirs", owner_id=str(uuid.uuid4())), 403, "42501")
    assert [m["org_id"] for m in user.ok(user.get("org_members", user_id=f"eq.{user.id}"))] == [personal]
    # the billing service makes a team organisation on a paid plan for its owner
    team = service.ok(service.rpc("create_organization", name="Team", tier="pro", owner_id=user.id))
    assert (team["tier"], team["created_by"]) == ("pro", user.id)
    assert _balance(user, team["id"])["balance"] == 1000
    # a paid personal organisation leaves room for one free one, once
    set_tier(user.server, personal, "pro")
    free = user.ok(user.rpc("create_organization", name="side project"))
    assert _balance(user, free["id"])["balance"] == 100
    refused(user.rpc("create_organization", name="another"), 402, "PT402")


# ---------------------------------------------------------------------------------------
# the plan's limits


def test_a_free_organisation_has_three_projects(user):
    org = user.personal_org()
    projects = [user.ok(user.insert("design_studio_projects", {"org_id": org, "name": f"p{i}"}))[0] for i in range(3)]
    body = refused(user.insert("design_studio_projects", {"org_id": org, "name": "fourth"}), 402, "PT402", "3 projects")
    assert json.loads(body["details"]) == {"limit": "projects", "tier": "free", "allowed": 3, "used": 3}
    rejected(user, {"entity": "project", "op": "insert",
                    "payload": {"id": str(uuid.uuid4()), "org_id": org, "name": "outbox fourth"}}, "PT402")
    # at the limit, the existing projects still save (an upsert that updates takes no place)
    rows = user.ok(user.rpc("apply_mutations", batch=[{"id": str(uuid.uuid4()), "entity": "project", "op": "upsert",
                                                      "payload": {"id": projects[0]["id"], "org_id": org, "name": "p0+"}}]))
    assert rows[0]["status"] == "applied"
    # a project in the trash frees its place; restoring it needs one
    user.ok(user.update("design_studio_projects", {"deleted_at": "now"}, id=f"eq.{projects[2]['id']}"))
    user.ok(user.insert("design_studio_projects", {"org_id": org, "name": "replacement"}))
    refused(user.update("design_studio_projects", {"deleted_at": None}, id=f"eq.{projects[2]['id']}"), 402, "PT402")


def test_a_free_organisation_has_one_seat(server, user):
    org = user.personal_org()
    friend = signup(server)
    body = refused(user.insert("org_members", {"org_id": org, "user_id": friend.id, "role": "editor"}),
                   402, "PT402", "seat")
    assert json.loads(body["details"])["allowed"] == 1
    set_tier(server, org, "pro")  # five seats
    for _ in range(4):
        user.ok(user.insert("org_members", {"org_id": org, "user_id": signup(server).id, "role": "viewer"}))
    refused(user.insert("org_members", {"org_id": org, "user_id": friend.id, "role": "viewer"}), 402, "PT402")


def test_storage_is_bounded_by_the_plan(server, user, service):
    org = user.personal_org()
    tiny = f"tiny-{uuid.uuid4().hex[:8]}"
    service.ok(service.insert("tier_limits", {"tier_name": tiny, "storage_limit_bytes": 1500,
                                              "monthly_compute_units": 0}))
    set_tier(server, org, tiny)
    user.ok(_upload(user, "thumbnails", f"{org}/a.png", PNG, "image/png"))
    user.ok(_upload(user, "thumbnails", f"{org}/b.png", PNG, "image/png"))
    storage_refused(_upload(user, "thumbnails", f"{org}/c.png", PNG, "image/png"), 402, "plan")
    assert user.ok(user.get("org_storage_usage", org_id=f"eq.{org}"))[0]["bytes"] == 2 * len(PNG)
    # resumable uploads are refused before a byte is sent
    import base64

    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("bucketName", "assets"), ("objectName", f"{org}/big.glb"), ("contentType", "model/gltf-binary")))
    tus = user.http.post("/storage/v1/upload/resumable", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5000",
                                                                   "Upload-Metadata": meta})
    assert tus.status_code == 402, tus.text
    # deleting frees the space; replacing a file counts only the difference
    user.ok(user.http.request("DELETE", "/storage/v1/object/thumbnails", json={"prefixes": [f"{org}/a.png"]}))
    user.ok(_upload(user, "thumbnails", f"{org}/c.png", PNG, "image/png"))
    user.ok(_upload(user, "thumbnails", f"{org}/c.png", PNG[:100], "image/png", upsert=True))
    assert user.ok(user.get("org_storage_usage", org_id=f"eq.{org}"))[0]["bytes"] == len(PNG) + 100


# ---------------------------------------------------------------------------------------
# another organisation's files, and who owns an id


def test_an_asset_row_cannot_delete_another_organisations_file(server, user):
    alice, mallory = user, signup(server)
    data = b"glTF-alice's part"
    path = f"{alice.personal_org()}/{hashlib.sha256(data).hexdigest()}.glb"
    alice.ok(_upload(alice, "assets", path, data, "model/gltf-binary"))
    m_org = mallory.personal_org()
    project = mallory.ok(mallory.insert("design_studio_projects", {"org_id": m_org, "name": "bait"}))[0]
    bait = {"project_id": project["id"], "asset_type": "mesh", "name": "bait", "url": path}
    refused(mallory.insert("design_studio_assets", bait), 403, "42501", "url")
    rejected(mallory, {"entity": "asset", "op": "upsert", "payload": {"id": str(uuid.uuid4()), **bait}}, "42501", "url")
    own = mallory.ok(mallory.insert("design_studio_assets", {**bait, "url": f"{m_org}/x.glb"}))[0]
    refused(mallory.update("design_studio_assets", {"url": path}, id=f"eq.{own['id']}"), 403, "42501", "url")
    refused(mallory.update("design_studio_assets", {"thumbnail_url": path}, id=f"eq.{own['id']}"), 403, "42501")
    # rows written before these rules (planted here past the triggers) delete nothing of Alice's,
    # whether deleted themselves or with their project
    planted = [str(uuid.uuid4()), str(uuid.uuid4())]
    with psycopg.connect(server.db_url, autocommit=True) as db, db.transaction():
        db.execute("set local session_replication_role = replica")
        for asset_id in planted:
            db.execute("insert into public.design_studio_assets (id, project_id, asset_type, name, url) "
                       "values (%s, %s, 'mesh', 'planted', %s)", (asset_id, project["id"], path))
    assert [r["id"] for r in mallory.ok(mallory.delete("design_studio_assets", id=f"eq.{planted[0]}"))] == planted[:1]
    assert alice.http.get(f"/storage/v1/object/assets/{path}").content == data
    mallory.ok(mallory.delete("design_studio_projects", id=f"eq.{project['id']}"))
    assert alice.http.get(f"/storage/v1/object/assets/{path}").content == data
    # while Alice's own row still takes its object with it, with its project too
    a_project = alice.ok(alice.insert("design_studio_projects", {"org_id": alice.personal_org(), "name": "mine"}))[0]
    alice.ok(alice.insert("design_studio_assets", {"project_id": a_project["id"], "asset_type": "mesh",
                                                   "name": "part", "url": path}))
    alice.ok(alice.delete("design_studio_projects", id=f"eq.{a_project['id']}"))
    assert alice.http.get(f"/storage/v1/object/assets/{path}").status_code == 404


def test_nobody_learns_which_organisation_owns_an_id(server, user, anon):
    alice, mallory = user, signup(server)
    project = alice.ok(alice.insert("design_studio_projects", {"org_id": alice.personal_org(), "name": "secret"}))[0]
    note = alice.ok(alice.insert("design_studio_annotations", {"project_id": project["id"], "content": "x"}))[0]
    for fn, args in (("project_org", {"p_project_id": project["id"]}), ("annotation_org", {"p_annotation_id": note["id"]})):
        refused(mallory.rpc(fn, **args), 403, "42501")
        refused(anon.rpc(fn, **args), 401, "42501")
    assert mallory.ok(mallory.rpc("has_project_role", p_project_id=project["id"])) is False
    # a project one cannot see gets the same answer whether it exists or not, and names no organisation
    nowhere = str(uuid.uuid4())
    theirs = refused(mallory.rpc("create_version", project_id=project["id"], snapshot={}), 403, "42501")
    missing = refused(mallory.rpc("create_version", project_id=nowhere, snapshot={}), 403, "42501")
    assert alice.personal_org() not in json.dumps(theirs)
    assert theirs["message"].replace(project["id"], "?") == missing["message"].replace(nowhere, "?")
    # nor does a permission error of a function
    refused(mallory.rpc("get_credit_balance", org_id=alice.personal_org()), 403, "42501")
    refused(anon.rpc("has_org_role", p_org_id=alice.personal_org()), 401, "42501")


# ---------------------------------------------------------------------------------------
# columns a client may not set


@pytest.fixture
def team(server):
    """An owner's organisation (on pro) with an editor and a reviewer, and an outsider with an
    organisation of their own, each with a project and a version."""
    owner, editor, reviewer, outsider = (signup(server) for _ in range(4))
    org = owner.personal_org()
    set_tier(server, org, "pro")
    for member, role in ((editor, "editor"), (reviewer, "reviewer")):
        owner.ok(owner.insert("org_members", {"org_id": org, "user_id": member.id, "role": role}))
    project = owner.ok(owner.insert("design_studio_projects", {"org_id": org, "name": "lamp"}))[0]
    version = owner.ok(owner.rpc("create_version", project_id=project["id"], snapshot={"n": 1}))
    theirs = outsider.ok(outsider.insert("design_studio_projects", {"org_id": outsider.personal_org(), "name": "x"}))[0]
    their_version = outsider.ok(outsider.rpc("create_version", project_id=theirs["id"], snapshot={}))
    return {"owner": owner, "editor": editor, "reviewer": reviewer, "outsider": outsider, "org": org,
            "project": project, "version": version, "theirs": theirs, "their_version": their_version}


def test_version_count_and_current_version_are_the_databases(team, service):
    editor, project = team["editor"], team["project"]["id"]
    refused(editor.update("design_studio_projects", {"version_count": 0}, id=f"eq.{project}"), 403, "42501",
            "version_count")
    rejected(editor, {"entity": "project", "op": "upsert", "payload": {
        "id": project, "org_id": team["org"], "name": "lamp", "version_count": 0}}, "42501", "version_count")
    refused(editor.update("design_studio_projects", {"current_version_id": team["their_version"]["id"]},
                          id=f"eq.{project}"), 403, "42501", "current_version_id")
    refused(service.update("design_studio_projects", {"version_count": 0}, id=f"eq.{project}"), 403, "42501")
    refused(editor.insert("design_studio_projects", {"org_id": team["org"], "name": "n", "version_count": 7}),
            403, "42501", "version_count")
    # the project still saves versions, numbered on
    assert editor.ok(editor.rpc("create_version", project_id=project, snapshot={"n": 2}))["version_number"] == 2


def test_an_annotation_is_its_authors(team):
    owner, editor, reviewer, outsider = team["owner"], team["editor"], team["reviewer"], team["outsider"]
    note = reviewer.ok(reviewer.insert("design_studio_annotations", {"project_id": team["project"]["id"],
                                                                     "content": "fillet this"}))[0]
    where = {"id": f"eq.{note['id']}"}
    refused(editor.update("design_studio_annotations", {"content": "looks great"}, **where), 403, "42501", "content")
    refused(owner.update("design_studio_annotations", {"author_id": owner.id}, **where), 403, "42501", "author_id")
    refused(editor.update("design_studio_annotations", {"author_id": outsider.id}, **where), 403, "42501", "author_id")
    rejected(editor, {"entity": "annotation", "op": "update", "payload": {"id": note["id"], "content": "rewritten"}},
             "42501", "content")
    refused(owner.insert("design_studio_annotations", {"project_id": team["project"]["id"], "content": "in your name",
                                                       "author_id": outsider.id}), 403, "42501", "author_id")
    # its author edits it; anyone who reviews resolves it; an owner may delete it
    assert reviewer.ok(reviewer.update("design_studio_annotations", {"content": "fillet this, 2 mm"}, **where))
    assert editor.ok(editor.update("design_studio_annotations", {"resolved": True}, **where))[0]["resolved"] is True
    stored = owner.ok(owner.get("design_studio_annotations", **where))[0]
    assert (stored["content"], stored["author_id"]) == ("fillet this, 2 mm", reviewer.id)
    reply = reviewer.ok(reviewer.insert("design_studio_annotation_replies", {"annotation_id": note["id"],
                                                                             "content": "done"}))[0]
    assert editor.ok(editor.update("design_studio_annotation_replies", {"content": "not done"},
                                   id=f"eq.{reply['id']}")) == []


def test_authorship_is_never_taken_as_given(team):
    editor, owner, project = team["editor"], team["owner"], team["project"]["id"]
    refused(editor.insert("design_studio_projects", {"org_id": team["org"], "name": "x", "created_by": owner.id}),
            403, "42501", "created_by")
    refused(editor.update("design_studio_projects", {"created_by": editor.id}, id=f"eq.{project}"), 403, "42501",
            "created_by")
    refused(editor.insert("design_studio_assets", {"project_id": project, "asset_type": "mesh", "name": "a",
                                                   "uploaded_by": owner.id}), 403, "42501", "uploaded_by")
    asset = editor.ok(editor.insert("design_studio_assets", {"project_id": project, "asset_type": "mesh",
                                                             "name": "a"}))[0]
    refused(editor.update("design_studio_assets", {"uploaded_by": owner.id}, id=f"eq.{asset['id']}"), 403, "42501")
    refused(editor.insert("design_studio_exports", {"project_id": project, "format": "glb", "requested_by": owner.id}),
            403, "42501", "requested_by")
    refused(editor.insert("design_studio_sessions", {"project_id": project, "user_id": owner.id}), 403, "42501")
    rejected(editor, {"entity": "annotation_reply", "op": "upsert", "payload": {
        "id": str(uuid.uuid4()), "annotation_id": str(uuid.uuid4()), "content": "x", "author_id": owner.id}},
        "42501", "author_id")


def test_a_print_job_cannot_be_pointed_at_another_organisations_project(team):
    editor, theirs = team["editor"], team["theirs"]["id"]
    refused(editor.insert("print_jobs", {"org_id": team["org"], "design_project_id": theirs}), 403, "42501",
            "design_project_id")
    job = editor.ok(editor.insert("print_jobs", {"org_id": team["org"], "design_project_id": team["project"]["id"],
                                                 "material": "PLA"}))[0]
    refused(editor.update("print_jobs", {"design_project_id": theirs}, id=f"eq.{job['id']}"), 403, "42501",
            "design_project_id")
    rejected(editor, {"entity": "print_job", "op": "upsert", "payload": {
        "id": job["id"], "org_id": team["org"], "design_project_id": theirs}}, "42501", "design_project_id")
    refused(editor.update("print_jobs", {"credits_used": 50}, id=f"eq.{job['id']}"), 403, "42501", "credits_used")
    refused(editor.update("print_jobs", {"org_id": team["outsider"].personal_org()}, id=f"eq.{job['id']}"),
            403, "42501", "org_id")


def test_no_row_points_into_another_organisation(team):
    editor, reviewer, project = team["editor"], team["reviewer"], team["project"]["id"]
    theirs, their_version = team["theirs"]["id"], team["their_version"]["id"]
    refused(reviewer.insert("design_studio_annotations", {"project_id": project, "content": "x",
                                                          "version_id": their_version}), 403, "42501", "version_id")
    note = reviewer.ok(reviewer.insert("design_studio_annotations", {"project_id": project, "content": "x",
                                                                     "version_id": team["version"]["id"]}))[0]
    refused(reviewer.update("design_studio_annotations", {"version_id": their_version}, id=f"eq.{note['id']}"),
            403, "42501", "version_id")
    refused(editor.insert("design_studio_projects", {"org_id": team["org"], "name": "copy", "source_project_id": theirs}),
            403, "42501", "source_project_id")
    refused(editor.update("design_studio_projects", {"source_project_id": theirs}, id=f"eq.{project}"), 403, "42501",
            "source_project_id")
    refused(editor.insert("design_studio_exports", {"project_id": project, "format": "glb", "version_id": their_version}),
            403, "42501", "version_id")
    # nor does a row move into another organisation or project
    refused(editor.update("design_studio_projects", {"org_id": team["outsider"].personal_org()}, id=f"eq.{project}"),
            403, "42501", "org_id")
    refused(editor.update("design_studio_annotations", {"project_id": theirs}, id=f"eq.{note['id']}"), 403, "42501")


# ---------------------------------------------------------------------------------------
# jobs priced and ranked by the client


def test_a_job_is_priced_and_ranked_by_the_database(server, user, service):
    org = user.personal_org()
    source = {"org_id": org, "job_type": "reconstruct", "source_format": "zip", "source_url": f"{org}/photos.zip"}
    # what a client may no longer say: the function takes no such argument (credits_estimated,
    # which old clients send, it takes and ignores: tests/backend/test_cloud_jobs.py)
    for extra in ({"priority": 2**31 - 1}, {"max_retries": 1000}, {"queue_name": "express"}):
        refused(user.rpc("submit_processing_job", **source, **extra), 404, "PGRST202")
    # the free plan has no cloud reconstruction
    body = refused(user.rpc("submit_processing_job", **source), 402, "PT402", "cloud_reconstruction")
    assert json.loads(body["details"])["feature"] == "cloud_reconstruction"
    set_tier(server, org, "pro")
    quote = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="zip",
                             parameters={"quality": "high"}))
    assert (quote["credits"], quote["priority"], quote["queue_name"], quote["max_retries"]) == (30, 10, "reconstruct", 2)
    refused(user.rpc("submit_processing_job", **source, parameters={"quality": "high"}, expected_credits=0),
            409, "PT409", "30 credits")
    refused(user.rpc("submit_processing_job", **source, parameters={"quality": "insane"}), 400, "22023", "quality")
    refused(user.rpc("submit_processing_job", **{**source, "source_format": "glb"}), 400, "22023", "image_set")
    refused(user.rpc("submit_processing_job", **{**source, "source_url": "someone-else/photos.zip"}), 403, "42501",
            "source_url")
    before = _balance(user, org)["balance"]
    job = user.ok(user.rpc("submit_processing_job", **source, parameters={"quality": "high"}, expected_credits=30))
    assert (job["credits_estimated"], job["priority"], job["queue_name"], job["max_retries"]) == (30, 10, "reconstruct", 2)
    assert _balance(user, org)["balance"] == before - 30
    # a member cannot re-price or re-rank it afterwards
    assert user.ok(user.update("model_processing_jobs", {"credits_estimated": 0, "priority": 2**31 - 1},
                               id=f"eq.{job['id']}")) == []
    refused(user.insert("model_processing_jobs", {"org_id": org, "job_type": "reconstruct", "priority": 2**31 - 1}),
            403, "42501")
    # the worker settles at most the quote
    claimed = service.ok(service.rpc("claim_next_job", worker_id="w", queues=["reconstruct"]))
    assert claimed["id"] == job["id"]
    done = service.ok(service.rpc("complete_job", job_id=job["id"], worker_id="w", outputs={}, credits_used=50))
    assert done["credits_used"] == 30 and _balance(user, org)["balance"] == before - 30


def test_a_cheap_quote_is_still_a_charge(server, user):
    """Even a job type priced at nothing holds a credit: no cloud job runs for free."""
    org = user.personal_org()
    kind = job_type(server, base_credits=0)
    quote = user.ok(user.rpc("quote_processing_job", org_id=org, job_type=kind))
    assert quote["credits"] == 1
    job = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind))
    assert job["credits_estimated"] == 1 and _balance(user, org)["balance"] == 99
