"""Version numbers under concurrent saves, and the outbox's apply_mutations: once per
client mutation id, one rejection not blocking the rest."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from .conftest import Api


def _project(user: Api) -> dict:
    return user.ok(user.insert("design_studio_projects", {"org_id": user.personal_org(), "name": "lamp"}))[0]


def test_twenty_concurrent_saves_are_numbered_1_to_20(new_user):
    user = new_user()
    project = _project(user)

    def save(i: int) -> int:
        with Api(user.server, user.token, user.user) as api:
            return api.ok(api.rpc("create_version", project_id=project["id"], snapshot={"i": i}, notes=f"save {i}"))

    with ThreadPoolExecutor(20) as pool:
        versions = list(pool.map(save, range(20)))
    assert sorted(v["version_number"] for v in versions) == list(range(1, 21))
    stored = user.ok(user.get("design_studio_versions", project_id=f"eq.{project['id']}", order="version_number"))
    assert [v["version_number"] for v in stored] == list(range(1, 21))
    after = user.ok(user.get("design_studio_projects", id=f"eq.{project['id']}"))[0]
    assert after["version_count"] == 20
    assert after["current_version_id"] == stored[-1]["id"]


def test_create_version_is_idempotent_by_key(new_user):
    user = new_user()
    project = _project(user)
    first = user.ok(user.rpc("create_version", project_id=project["id"], snapshot={"a": 1}, idempotency_key="v-1"))
    again = user.ok(user.rpc("create_version", project_id=project["id"], snapshot={"a": 1}, idempotency_key="v-1"))
    assert first == again and first["version_number"] == 1
    assert user.ok(user.rpc("create_version", project_id=project["id"], snapshot={"a": 2}))["version_number"] == 2


def test_versions_are_immutable(new_user):
    user = new_user()
    project = _project(user)
    version = user.ok(user.rpc("create_version", project_id=project["id"], snapshot={"a": 1}))
    assert user.ok(user.update("design_studio_versions", {"notes": "rewritten"}, id=f"eq.{version['id']}")) == []
    assert user.ok(user.delete("design_studio_versions", id=f"eq.{version['id']}")) == []


def test_apply_mutations_applies_each_once_and_reports_rejections(new_user):
    user = new_user()
    org = user.personal_org()
    project_id, annotation_id = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        {"id": str(uuid.uuid4()), "entity": "project", "op": "insert",
         "payload": {"id": project_id, "org_id": org, "name": "from the outbox"}},
        {"id": str(uuid.uuid4()), "entity": "version", "op": "insert",
         "payload": {"id": str(uuid.uuid4()), "project_id": project_id, "snapshot": {"nodes": []}, "notes": "v1"}},
        {"id": str(uuid.uuid4()), "entity": "project", "op": "insert",   # someone else's org: refused
         "payload": {"id": str(uuid.uuid4()), "org_id": str(uuid.uuid4()), "name": "nope"}},
        {"id": str(uuid.uuid4()), "entity": "annotation", "op": "insert",
         "payload": {"id": annotation_id, "project_id": project_id, "content": "check the hinge", "author_id": user.id}},
        {"id": str(uuid.uuid4()), "entity": "annotation", "op": "update",
         "payload": {"id": annotation_id, "resolved": True}},
        {"id": str(uuid.uuid4()), "entity": "spaceship", "op": "insert", "payload": {"id": "x"}},
    ]
    results = user.ok(user.rpc("apply_mutations", batch=batch))
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied", "applied", "rejected"]
    assert results[1]["row"]["version_number"] == 1
    assert results[2]["code"] == "42501"
    assert "unknown entity" in results[5]["message"]

    # the response was lost; the client sends the same batch again: nothing applies twice
    again = user.ok(user.rpc("apply_mutations", batch=batch))
    assert [r["status"] for r in again] == ["duplicate", "duplicate", "rejected", "duplicate", "duplicate", "rejected"]
    assert again[1]["row"] == results[1]["row"]
    versions = user.ok(user.get("design_studio_versions", project_id=f"eq.{project_id}"))
    assert len(versions) == 1
    annotation = user.ok(user.get("design_studio_annotations", id=f"eq.{annotation_id}"))[0]
    assert annotation["resolved"] is True


def test_concurrent_retries_of_one_batch_apply_once(new_user):
    user = new_user()
    org = user.personal_org()
    project_id = str(uuid.uuid4())
    batch = [{"id": str(uuid.uuid4()), "entity": "project", "op": "insert",
              "payload": {"id": project_id, "org_id": org, "name": "p"}},
             {"id": str(uuid.uuid4()), "entity": "version", "op": "insert",
              "payload": {"project_id": project_id, "snapshot": {}}}]

    def send(_):
        with Api(user.server, user.token, user.user) as api:
            return [r["status"] for r in api.ok(api.rpc("apply_mutations", batch=batch))]

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(send, range(6)))
    assert outcomes.count(["applied", "applied"]) == 1
    assert outcomes.count(["duplicate", "duplicate"]) == 5
    assert len(user.ok(user.get("design_studio_versions", project_id=f"eq.{project_id}"))) == 1
