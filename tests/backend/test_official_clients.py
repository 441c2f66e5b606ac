"""The official Python clients (supabase-py: postgrest, storage3, supabase-auth) doing their
ordinary calls against the local server: the proof that it speaks the protocol."""

from __future__ import annotations

import uuid

import httpx
import pytest
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError
from supabase import ClientOptions, create_client
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from .conftest import set_tier


@pytest.fixture
def client(server):
    # no background refresh timer: the tests drive refreshes themselves
    options = ClientOptions(auto_refresh_token=False, persist_session=False)
    client = create_client(server.url, server.anon_key, options=options)
    email = f"client-{uuid.uuid4().hex[:8]}@example.com"
    client.auth.sign_up({"email": email, "password": "s3cret-pass"})
    client.email = email
    return client


def _org(client) -> str:
    return client.table("org_members").select("org_id").eq("role", "owner").single().execute().data["org_id"]


def test_auth_sign_in_refresh_user_and_sign_out(client, server):
    client.auth.sign_out()
    with pytest.raises(AuthApiError, match="Invalid login credentials"):
        client.auth.sign_in_with_password({"email": client.email, "password": "wrong"})
    signed_in = client.auth.sign_in_with_password({"email": client.email, "password": "s3cret-pass"})
    assert signed_in.user.email == client.email and signed_in.session.expires_in == 3600
    assert client.auth.get_user().user.id == signed_in.user.id
    old_refresh = signed_in.session.refresh_token
    refreshed = client.auth.refresh_session()
    assert refreshed.session.refresh_token != old_refresh
    # refresh tokens are single-use
    reused = httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "refresh_token"},
                        json={"refresh_token": old_refresh}, headers={"apikey": server.anon_key})
    assert reused.status_code == 400 and reused.json()["error_code"] == "refresh_token_already_used"
    token = refreshed.session.access_token
    client.auth.sign_out()
    after = httpx.get(f"{server.url}/auth/v1/user", headers={"apikey": server.anon_key,
                                                             "Authorization": f"Bearer {token}"})
    assert after.status_code == 403


def test_signup_refuses_duplicates_and_weak_passwords(client):
    with pytest.raises(AuthApiError, match="already registered"):
        client.auth.sign_up({"email": client.email, "password": "another-pass"})
    with pytest.raises(AuthWeakPasswordError, match="at least 6"):
        client.auth.sign_up({"email": f"x{uuid.uuid4().hex[:6]}@example.com", "password": "123"})


def test_postgrest_table_calls(client, server):
    org = _org(client)
    set_tier(server, org, "pro")  # six projects: more than the free plan's three
    rows = [{"org_id": org, "name": f"part {i}", "status": "draft" if i % 2 else "approved",
             "description": "lamp" if i < 3 else "chair"} for i in range(6)]
    inserted = client.table("design_studio_projects").insert(rows).execute().data
    assert len(inserted) == 6
    table = client.table("design_studio_projects")
    names = lambda q: sorted(r["name"] for r in q.execute().data)  # noqa: E731
    assert names(table.select("name").eq("status", "approved")) == ["part 0", "part 2", "part 4"]
    assert names(table.select("name").neq("status", "approved")) == ["part 1", "part 3", "part 5"]
    assert names(table.select("name").in_("name", ["part 1", "part 5", "nope"])) == ["part 1", "part 5"]
    assert names(table.select("name").like("description", "la*")) == ["part 0", "part 1", "part 2"]
    assert names(table.select("name").ilike("description", "%CHAIR%")) == ["part 3", "part 4", "part 5"]
    assert names(table.select("name").is_("template_category", "null").gte("name", "part 4")) == ["part 4", "part 5"]
    assert names(table.select("name").gt("name", "part 3").lt("name", "part 5")) == ["part 4"]
    assert names(table.select("name").lte("name", "part 0")) == ["part 0"]
    page = table.select("name", count="exact").order("name", desc=True).range(1, 2).execute()
    assert [r["name"] for r in page.data] == ["part 4", "part 3"] and page.count == 6
    assert table.select("name").order("name").limit(2).offset(2).execute().data == [{"name": "part 2"},
                                                                                      {"name": "part 3"}]
    one = table.select("id, name").eq("name", "part 0").single().execute().data
    assert one["name"] == "part 0"
    assert table.select("id").eq("name", "missing").maybe_single().execute() is None
    with pytest.raises(APIError) as error:
        table.select("id").single().execute()
    assert error.value.code == "PGRST116"

    updated = table.update({"status": "archived"}).eq("id", one["id"]).execute().data
    assert updated[0]["status"] == "archived"
    upserted = table.upsert({"id": one["id"], "org_id": org, "name": "part 0 renamed"}, on_conflict="id").execute()
    assert upserted.data[0]["name"] == "part 0 renamed" and upserted.data[0]["status"] == "archived"
    deleted = table.delete().eq("id", one["id"]).execute().data
    assert [r["id"] for r in deleted] == [one["id"]]
    assert table.select("id", count="exact").eq("id", one["id"]).execute().count == 0

    with pytest.raises(APIError) as error:
        table.insert({"org_id": org, "name": "x", "no_such_column": 1}).execute()
    assert error.value.code == "PGRST204"
    with pytest.raises(APIError) as error:
        client.table("no_such_table").select("*").execute()
    assert error.value.code == "PGRST205"


def test_rpc_calls_and_402(client):
    org = _org(client)
    assert client.rpc("consume_credits", {"org_id": org, "amount": 30, "reason": "render"}).execute().data == 70
    balance = client.rpc("get_credit_balance", {"org_id": org}).execute().data
    assert balance["monthly_remaining"] == 70
    with pytest.raises(APIError) as error:
        client.rpc("consume_credits", {"org_id": org, "amount": 71, "reason": "too much"}).execute()
    assert error.value.code == "PT402" and "insufficient" in error.value.message
    project = client.table("design_studio_projects").insert({"org_id": org, "name": "v"}).execute().data[0]
    version = client.rpc("create_version", {"project_id": project["id"], "snapshot": {"n": 1}}).execute().data
    assert version["version_number"] == 1


def test_storage_calls(client):
    org = _org(client)
    bucket = client.storage.from_("assets")
    path = f"{org}/model.glb"
    bucket.upload(path, b"glTF-bytes", {"content-type": "model/gltf-binary"})
    assert bucket.download(path) == b"glTF-bytes"
    bucket.upload(path, b"glTF-bytes-2", {"content-type": "model/gltf-binary", "upsert": "true"})
    assert bucket.download(path) == b"glTF-bytes-2"
    signed = bucket.create_signed_url(path, 60)
    assert httpx.get(signed["signedURL"]).content == b"glTF-bytes-2"
    assert [f["name"] for f in bucket.list(org)] == ["model.glb"]
    assert [r["name"] for r in bucket.remove([path])] == [path]
    with pytest.raises(StorageApiError):
        bucket.download(path)
    with pytest.raises(StorageApiError):
        client.storage.from_("thumbnails").upload(f"{org}/x.txt", b"text", {"content-type": "text/plain"})
