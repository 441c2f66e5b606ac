"""Storage: per-bucket and per-format limits, org-scoped paths under RLS, signed URLs,
and no orphaned bytes once the asset row that used them is gone."""

from __future__ import annotations

import hashlib

import httpx

from .conftest import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _upload(api: Api, bucket: str, name: str, data: bytes, content_type: str, upsert: bool = False) -> httpx.Response:
    return api.http.post(f"/storage/v1/object/{bucket}/{name}", files={"file": (name.rsplit("/", 1)[-1], data, content_type)},
                         headers={"x-upsert": "true"} if upsert else {})


def _files_of(server, object_id: str) -> list:
    folder = server.storage_dir / object_id
    return list(folder.iterdir()) if folder.exists() else []


def test_upload_download_and_upsert(new_user, server):
    user = new_user()
    org = user.personal_org()
    name = f"{org}/part.stl"
    first = user.ok(_upload(user, "assets", name, b"solid a\nendsolid a\n", "model/stl"))
    assert first["Key"] == f"assets/{name}"
    assert user.http.get(f"/storage/v1/object/assets/{name}").content == b"solid a\nendsolid a\n"
    assert _upload(user, "assets", name, b"solid b\nendsolid b\n", "model/stl").status_code == 409
    second = user.ok(_upload(user, "assets", name, b"solid b\nendsolid b\n", "model/stl", upsert=True))
    assert second["Id"] == first["Id"]
    assert user.http.get(f"/storage/v1/object/assets/{name}").content == b"solid b\nendsolid b\n"
    assert len(_files_of(server, first["Id"])) == 1  # the replaced bytes are gone


def test_bucket_and_format_limits(new_user):
    user = new_user()
    org = user.personal_org()
    too_big = _upload(user, "thumbnails", f"{org}/big.png", PNG + b"\0" * (5 * 1024 * 1024), "image/png")
    assert too_big.status_code == 413 and "at most" in too_big.json()["message"]
    wrong_type = _upload(user, "thumbnails", f"{org}/notes.txt", b"hello", "text/plain")
    assert wrong_type.status_code == 415
    executable = _upload(user, "assets", f"{org}/tool.exe", b"MZ\0\0", "application/octet-stream")
    assert executable.status_code == 415 and ".exe" in executable.json()["message"]
    assert user.ok(_upload(user, "thumbnails", f"{org}/small.png", PNG, "image/png"))
    listed = user.ok(user.http.post("/storage/v1/object/list/thumbnails", json={"prefix": org}))
    assert [o["name"] for o in listed] == ["small.png"]


def test_other_orgs_objects_are_unreachable(new_user):
    alice, mallory = new_user(), new_user()
    org = alice.personal_org()
    name = f"{org}/secret.glb"
    alice.ok(_upload(alice, "assets", name, b"glTF-secret", "model/gltf-binary"))
    for path in (f"/storage/v1/object/assets/{name}", f"/storage/v1/object/authenticated/assets/{name}"):
        response = mallory.http.get(path)
        assert response.status_code == 404 and b"secret" not in response.content
    assert mallory.http.post(f"/storage/v1/object/sign/assets/{name}", json={"expiresIn": 60}).status_code == 404
    assert _upload(mallory, "assets", name, b"overwritten", "model/gltf-binary", upsert=True).status_code == 403
    assert mallory.ok(mallory.http.request("DELETE", "/storage/v1/object/assets", json={"prefixes": [name]})) == []
    anon = httpx.get(f"{alice.server.url}/storage/v1/object/assets/{name}", headers={"apikey": alice.server.anon_key})
    assert anon.status_code == 404
    assert alice.http.get(f"/storage/v1/object/assets/{name}").content == b"glTF-secret"


def test_signed_urls_work_without_a_token_and_expire(new_user, server):
    user = new_user()
    name = f"{user.personal_org()}/shot.png"
    user.ok(_upload(user, "thumbnails", name, PNG, "image/png"))
    signed = user.ok(user.http.post(f"/storage/v1/object/sign/thumbnails/{name}", json={"expiresIn": 60}))
    assert httpx.get(server.url + "/storage/v1" + signed["signedURL"]).content == PNG
    other = signed["signedURL"].replace("shot.png", "other.png")
    assert httpx.get(server.url + "/storage/v1" + other).status_code == 400


def test_deleting_an_asset_row_leaves_no_orphaned_object(new_user, server):
    user = new_user()
    org = user.personal_org()
    project = user.ok(user.insert("design_studio_projects", {"org_id": org, "name": "p"}))[0]
    data = b"solid part\nendsolid part\n"
    sha = hashlib.sha256(data).hexdigest()
    path = f"{org}/{sha}.stl"
    uploaded = user.ok(_upload(user, "assets", path, data, "model/stl"))
    rows = [user.ok(user.insert("design_studio_assets", {"project_id": project["id"], "asset_type": "mesh",
                                                         "name": f"part {i}", "url": path, "sha256": sha,
                                                         "file_size": len(data)}))[0] for i in range(2)]
    # the same bytes serve two asset rows: deleting one keeps them
    user.ok(user.delete("design_studio_assets", id=f"eq.{rows[0]['id']}"))
    assert user.http.get(f"/storage/v1/object/assets/{path}").content == data
    user.ok(user.delete("design_studio_assets", id=f"eq.{rows[1]['id']}"))
    assert user.http.get(f"/storage/v1/object/assets/{path}").status_code == 404
    service = Api(server, server.service_role_key)
    assert service.ok(service.http.post("/storage/v1/object/list/assets", json={"prefix": org})) == []
    assert _files_of(server, uploaded["Id"]) == []


def test_removing_objects_deletes_their_bytes(new_user, server):
    user = new_user()
    name = f"{user.personal_org()}/gone.png"
    uploaded = user.ok(_upload(user, "thumbnails", name, PNG, "image/png"))
    assert _files_of(server, uploaded["Id"])
    removed = user.ok(user.http.request("DELETE", "/storage/v1/object/thumbnails", json={"prefixes": [name]}))
    assert [r["name"] for r in removed] == [name]
    assert _files_of(server, uploaded["Id"]) == []


def _tus_create(api: Api, bucket: str, name: str, length: int, content_type: str) -> httpx.Response:
    import base64

    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("bucketName", bucket), ("objectName", name), ("contentType", content_type)))
    return api.http.post("/storage/v1/upload/resumable", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                                                                   "Upload-Metadata": meta})


def test_resumable_upload_continues_where_it_stopped(new_user, server):
    import os

    user, other = new_user(), new_user()
    org = user.personal_org()
    data = os.urandom(3 * 1024 * 1024 + 123)
    created = _tus_create(user, "assets", f"{org}/big.glb", len(data), "model/gltf-binary")
    assert created.status_code == 201
    location = created.headers["Location"]
    first = user.http.patch(location, content=data[:1_000_000], headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "1000000"
    # the connection dropped; a new one asks where it got to and goes on from there
    assert other.http.head(location, headers={"Tus-Resumable": "1.0.0"}).status_code == 404  # not theirs
    offset = int(user.http.head(location, headers={"Tus-Resumable": "1.0.0"}).headers["Upload-Offset"])
    assert offset == 1_000_000
    wrong = user.http.patch(location, content=data[:10], headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "5", "Content-Type": "application/offset+octet-stream"})
    assert wrong.status_code == 409
    rest = user.http.patch(location, content=data[offset:], headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    assert rest.status_code == 204
    assert user.http.get(f"/storage/v1/object/assets/{org}/big.glb").content == data
    # refused at creation, before a byte is sent: another org's path, a forbidden type
    assert _tus_create(other, "assets", f"{org}/theirs.glb", 10, "model/gltf-binary").status_code == 403
    assert _tus_create(user, "assets", f"{org}/tool.exe", 10, "application/octet-stream").status_code == 415
