"""The HTTP server under misuse and failure, each finding driven through HTTP: spent and
stolen tokens, bodies too large to read, inputs that used to answer a bare 500, a database
that restarts or is down, and storage that trusted the client's content type and lifetimes.
Every refusal is asserted in its protocol's own JSON shape (PostgREST ``{code, message,
details, hint}``, GoTrue ``{code, error_code, msg}``, Storage ``{statusCode, error,
message}``)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from dstudio_backend.cluster import Cluster
from dstudio_backend.process import start_server

from .conftest import Api, signup

MiB = 1024 * 1024


# -- the shapes -------------------------------------------------------------------------

def postgrest_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


def gotrue_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert {"code", "error_code", "msg"} <= set(body) and body["code"] == body["error_code"], body
    if code is not None:
        assert body["error_code"] == code, body
    return body


def storage_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"} and body["statusCode"] == str(status), body
    return body


def raw_request(server, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                timeout: float = 5) -> tuple[int, dict, float]:
    """One request over a plain socket, so a Content-Length can be declared and not sent.
    Returns (status, JSON body, seconds until the answer)."""
    host, port = server.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        started = time.perf_counter()
        sock.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection without answering"
            data += chunk
        elapsed = time.perf_counter() - started
        head_bytes, _, rest = data.partition(b"\r\n\r\n")
        lines = head_bytes.decode().split("\r\n")
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(rest) < int(fields.get("content-length", 0)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return int(lines[0].split()[1]), json.loads(rest), elapsed


def _incoming(server) -> list[Path]:
    folder = server.storage_dir / ".incoming"
    return list(folder.iterdir()) if folder.exists() else []


# -- 5. tokens --------------------------------------------------------------------------

def _refresh(server, token: str) -> httpx.Response:
    return httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "refresh_token"},
                      json={"refresh_token": token}, headers={"apikey": server.anon_key})


def test_reusing_a_spent_refresh_token_revokes_its_whole_family(server):
    user = signup(server)
    first = user.user["session"]
    second = _refresh(server, first["refresh_token"]).json()
    third = _refresh(server, second["refresh_token"]).json()
    assert user.ok(user.get("org_members", select="org_id"))

    # the spent token comes back (stolen, say): refused, and the family dies with it
    reused = _refresh(server, first["refresh_token"])
    gotrue_error(reused, 400, "refresh_token_already_used")
    # the tokens issued from it no longer work: the live refresh token, nor any access token
    gotrue_error(_refresh(server, third["refresh_token"]), 400, "session_expired")
    for session in (second, third):
        with Api(server, session["access_token"]) as api:
            postgrest_error(api.get("org_members"), 401, "PGRST303")
            gotrue_error(api.http.get("/auth/v1/user"), 403, "session_not_found")
    # a new sign-in starts a new family
    signed_in = httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "password"},
                           json={"email": user.user["email"], "password": "correct horse"},
                           headers={"apikey": server.anon_key})
    assert signed_in.status_code == 200 and _refresh(server, signed_in.json()["refresh_token"]).status_code == 200


def test_unknown_and_missing_refresh_tokens_are_refused_in_gotrues_shape(server):
    gotrue_error(_refresh(server, "not-a-token"), 400, "refresh_token_not_found")
    gotrue_error(_refresh(server, ""), 400, "validation_failed")


def test_a_deleted_users_access_token_reads_nothing(server, new_user):
    user = new_user()
    org = user.personal_org()
    assert user.ok(user.get("design_studio_projects")) == []
    with psycopg.connect(server.db_url, autocommit=True) as conn:
        conn.execute("update auth.users set deleted_at = now() where id = %s", (user.id,))
    # the JWT has not expired, and yet
    postgrest_error(user.get("design_studio_projects"), 401, "PGRST303")
    postgrest_error(user.rpc("get_credit_balance", org_id=org), 401, "PGRST303")
    storage_error(user.http.get(f"/storage/v1/object/assets/{org}/x.glb"), 401)
    storage_error(user.http.post(f"/storage/v1/object/assets/{org}/x.glb", content=b"glTF"), 401)
    gotrue_error(user.http.get("/auth/v1/user"), 403, "session_not_found")
    gotrue_error(_refresh(server, user.user["session"]["refresh_token"]), 400, "user_not_found")


def test_signed_out_sessions_tokens_read_nothing(server, new_user):
    user = new_user()
    assert user.http.post("/auth/v1/logout", params={"scope": "local"}).status_code == 204
    postgrest_error(user.get("org_members"), 401, "PGRST303")


# -- 6. request sizes -------------------------------------------------------------------

def test_a_declared_length_over_the_limit_is_refused_before_the_body(server, new_user):
    user = new_user()
    auth = {"apikey": server.anon_key, "Authorization": f"Bearer {user.token}"}
    status, body, seconds = raw_request(server, "POST", "/rest/v1/design_studio_projects",
                                        {**auth, "Content-Type": "application/json",
                                         "Content-Length": str(500 * MiB)})
    assert status == 413 and body["code"] == "PGRST413" and set(body) == {"code", "message", "details", "hint"}
    assert seconds < 1  # answered at once: the 500 MB were never sent
    status, body, _ = raw_request(server, "POST", "/rest/v1/rpc/apply_mutations",
                                  {**auth, "Content-Type": "application/json", "Content-Length": str(17 * MiB)})
    assert status == 413
    status, body, _ = raw_request(server, "POST", "/auth/v1/signup",
                                  {"apikey": server.anon_key, "Content-Type": "application/json",
                                   "Content-Length": str(MiB)})
    assert status == 413 and body["error_code"] == "request_too_large"
    status, body, _ = raw_request(server, "POST", "/storage/v1/object/list/assets",
                                  {**auth, "Content-Type": "application/json", "Content-Length": str(10 * MiB)})
    assert status == 413 and body["statusCode"] == "413"


def _stream_until_answered(server, path: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """Sends a chunked body of up to ``total`` bytes, stopping when the server answers.
    Returns (status, bytes sent)."""
    host, port = server.url.split("//")[1].split(":")
    chunk = b"[" * MiB
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
        sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = b""
        while b"\r\n" not in response:
            response += sock.recv(4096)
    return int(response.split()[1]), sent


def test_a_streamed_body_stops_at_the_limit_and_the_server_stays_small(server, new_user):
    user = new_user()
    process = psutil.Process(server.process.pid)
    before = process.memory_info().rss
    status, sent = _stream_until_answered(
        server, "/rest/v1/design_studio_projects",
        {"apikey": server.anon_key, "Authorization": f"Bearer {user.token}", "Content-Type": "application/json"},
        200 * MiB)
    assert status == 413
    assert sent < 100 * MiB  # refused once past 16 MiB, long before the 200 MB were sent
    assert process.memory_info().rss - before < 150 * MiB  # not the 653 MB peak of reading it whole


def test_uploads_are_refused_by_the_buckets_limit_before_any_byte_is_written(server, new_user):
    user = new_user()
    org = user.personal_org()
    anon = {"apikey": server.anon_key}
    auth = {**anon, "Authorization": f"Bearer {user.token}"}
    path = f"/storage/v1/object/thumbnails/{org}/big.png"
    for headers in (anon, auth):
        status, body, seconds = raw_request(server, "POST", path, {**headers, "Content-Type": "image/png",
                                                                   "Content-Length": str(200 * MiB)})
        assert status == 413 and body["statusCode"] == "413" and "5242880" in body["message"]
        assert seconds < 1
    # a small declared upload with the public key is refused for its rights, also before its body
    status, body, _ = raw_request(server, "POST", path, {**anon, "Content-Type": "image/png",
                                                         "Content-Length": "1000"})
    assert status == 401 and body["error"] == "unauthorized"
    # multipart (the body is more than the file): refused past the limit and some framing
    status, _, _ = raw_request(server, "POST", path, {**auth, "Content-Type": "multipart/form-data; boundary=x",
                                                      "Content-Length": str(6 * MiB)})
    assert status == 413
    # the format's own limit in assets (.mtl: 10 MB), before the bucket's 2 GB
    status, body, _ = raw_request(server, "POST", f"/storage/v1/object/assets/{org}/big.mtl",
                                  {**auth, "Content-Type": "model/mtl", "Content-Length": str(11 * MiB)})
    assert status == 413 and "10485760" in body["message"]
    # no length declared: the stream is cut off at the limit and nothing stays on disk
    status, sent = _stream_until_answered(server, path, {**auth, "Content-Type": "image/png"}, 200 * MiB)
    assert status == 413 and sent < 100 * MiB
    assert _incoming(server) == []
    assert user.http.get(path).status_code == 404


def test_apply_mutations_refuses_more_than_its_documented_batch(new_user):
    user = new_user()
    batch = [{"id": str(uuid.uuid4()), "entity": "annotation", "op": "insert", "payload": {}}] * 5001
    body = postgrest_error(user.rpc("apply_mutations", batch=batch), 413, "PT413")
    assert "at most 5000" in body["message"]


@pytest.mark.slow
def test_apply_mutations_costs_the_same_per_mutation_in_large_batches(new_user):
    user = new_user()
    project = user.ok(user.insert("design_studio_projects", {"org_id": user.personal_org(), "name": "p"}))[0]

    def per_mutation(n: int) -> float:
        batch = [{"id": str(uuid.uuid4()), "entity": "annotation", "op": "insert",
                  "payload": {"id": str(uuid.uuid4()), "project_id": project["id"], "content": f"note {i}",
                              "author_id": user.id}} for i in range(n)]
        started = time.perf_counter()
        results = user.ok(user.rpc("apply_mutations", batch=batch))
        assert [r["status"] for r in results] == ["applied"] * n
        return (time.perf_counter() - started) / n

    small = min(per_mutation(200) for _ in range(2))
    large = per_mutation(4000)
    # before: 4,000 mutations cost about 8 times as much each as 200 did (a quadratic loop)
    assert large < 3 * small, f"{large * 1000:.2f} ms per mutation at 4,000 vs {small * 1000:.2f} ms at 200"


# -- 7. errors in the protocol's shape ----------------------------------------------------

def test_deeply_nested_json_is_a_400_in_every_protocol(new_user):
    user = new_user()
    org = user.personal_org()
    deep = b"[" * 100_000 + b"]" * 100_000
    postgrest_error(user.http.post("/rest/v1/design_studio_projects", content=deep,
                                   headers={"Content-Type": "application/json"}), 400, "PGRST102")
    postgrest_error(user.http.post("/rest/v1/rpc/get_credit_balance", content=deep,
                                   headers={"Content-Type": "application/json"}), 400, "PGRST102")
    nested = {"org_id": org, "name": "deep", "scene_graph": json.loads("[" * 500 + "]" * 500)}
    postgrest_error(user.http.post("/rest/v1/design_studio_projects", json=nested), 400, "PGRST102")
    gotrue_error(user.http.post("/auth/v1/signup", content=b"[" * 20_000 + b"]" * 20_000), 400, "bad_json")
    storage_error(user.http.post(f"/storage/v1/object/sign/assets/{org}/x.glb", content=b"{\"a\":" * 20_000), 400)


def test_sign_up_refuses_over_long_values_with_gotrues_400(server):
    def sign_up(**body) -> httpx.Response:
        return httpx.post(f"{server.url}/auth/v1/signup", json={"password": "correct horse", **body},
                          headers={"apikey": server.anon_key})

    gotrue_error(sign_up(email="a" * 300 + "@example.com"), 400, "validation_failed")
    gotrue_error(sign_up(email=f"{uuid.uuid4().hex}@example.com", data={"display_name": "n" * 5000}),
                 400, "validation_failed")
    gotrue_error(sign_up(email=f"{uuid.uuid4().hex}@example.com", password="p" * 100), 422, "validation_failed")
    gotrue_error(sign_up(email="not an email"), 400, "validation_failed")


def test_bad_paging_parameters_are_postgrest_400s(new_user):
    user = new_user()
    org = user.personal_org()
    count = {"Prefer": "count=exact"}
    postgrest_error(user.http.get("/rest/v1/design_studio_projects", params={"offset": "abc"}, headers=count),
                    400, "PGRST100")
    postgrest_error(user.http.post("/rest/v1/design_studio_projects", params={"offset": "abc"},
                                   json={"org_id": org, "name": "x"}, headers=count), 400, "PGRST100")
    postgrest_error(user.http.get("/rest/v1/design_studio_projects", params={"limit": "-1"}), 400, "PGRST100")
    head = user.http.head("/rest/v1/design_studio_projects", params={"offset": "abc"}, headers=count)
    assert head.status_code == 400


def test_unknown_routes_and_methods_answer_json(server):
    postgrest_error(httpx.get(f"{server.url}/nothing-here"), 404)
    storage_error(httpx.get(f"{server.url}/storage/v1/nothing", headers={"apikey": server.anon_key}), 404)
    gotrue_error(httpx.delete(f"{server.url}/auth/v1/user", headers={"apikey": server.anon_key}), 405)


@pytest.fixture(scope="module")
def own_database(tmp_path_factory):
    """A server over a cluster this test module may stop and start (the session's server is
    shared with every other test), with GoTrue's refresh-token reuse interval."""
    cluster = Cluster.create()
    try:
        cluster.start()
        running = start_server(tmp_path_factory.mktemp("own-storage"), "--dsn", cluster.dsn,
                               "--refresh-token-reuse-interval", "30")
        try:
            yield running, cluster
        finally:
            running.stop()
    finally:
        cluster.stop()


def test_a_database_restart_costs_no_request_and_down_is_a_quick_503(own_database):
    server, cluster = own_database
    user = signup(server)
    log: list[tuple[float, float, int]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=60, headers={
                "apikey": server.anon_key, "Authorization": f"Bearer {user.token}"}) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status = http.get("/rest/v1/org_members", params={"select": "org_id"}).status_code
                except httpx.HTTPError:
                    status = -1
                log.append((started, time.monotonic(), status))
                time.sleep(0.005)

    threads = [threading.Thread(target=load) for _ in range(12)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # every thread has a pooled connection by now
        stopping = time.monotonic()
        cluster.stop_server()
        down = time.monotonic()
        # while it is down: 503 in each protocol's shape, answered quickly
        for request, check in (
                (lambda: user.get("design_studio_projects"), lambda r: postgrest_error(r, 503)),
                (lambda: user.http.get("/storage/v1/bucket"), lambda r: storage_error(r, 503)),
                (lambda: httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "password"},
                                    json={"email": "a@b.cd", "password": "whatever"},
                                    headers={"apikey": server.anon_key}), lambda r: gotrue_error(r, 503))):
            started = time.monotonic()
            response = request()
            assert time.monotonic() - started < 2
            check(response)
            assert response.headers.get("retry-after")
        time.sleep(1)
        restarting = time.monotonic()
        cluster.start()
        back = time.monotonic()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    before = [s for _, ended, s in log if ended < stopping]  # (one in flight as it stopped may get 503)
    during = [(ended - started, s) for started, ended, s in log if down <= started < restarting]
    starting = {s for started, _, s in log if restarting <= started < back}
    after = [s for started, _, s in log if started >= back]
    assert before and set(before) == {200}
    assert during and {s for _, s in during} == {503} and max(t for t, _ in during) < 2
    assert starting <= {200, 503}
    assert len(after) > 50 and set(after) == {200}, f"failed after the database was back: {after}"


def test_within_the_reuse_interval_the_parent_gets_the_live_token_back(own_database):
    server, _ = own_database
    user = signup(server)
    first = user.user["session"]
    second = _refresh(server, first["refresh_token"]).json()
    # the answer was lost and the client tries again: it gets the same live token, no fork
    again = _refresh(server, first["refresh_token"])
    assert again.status_code == 200 and again.json()["refresh_token"] == second["refresh_token"]
    third = _refresh(server, second["refresh_token"]).json()
    # a grandparent is no lost answer: reuse, even inside the interval
    gotrue_error(_refresh(server, first["refresh_token"]), 400, "refresh_token_already_used")
    gotrue_error(_refresh(server, third["refresh_token"]), 400, "session_expired")


# -- 8. storage ---------------------------------------------------------------------------

def test_the_content_type_comes_from_the_extension_not_the_client(new_user):
    user = new_user()
    org = user.personal_org()
    html = b"<html><script>alert(document.cookie)</script></html>"
    user.ok(user.http.post(f"/storage/v1/object/assets/{org}/model.glb", content=html,
                           headers={"Content-Type": "text/html"}))
    user.ok(user.http.post(f"/storage/v1/object/assets/{org}/part.glb",
                           files={"file": ("part.glb", html, "text/html")}))
    for name in ("model.glb", "part.glb"):
        served = user.http.get(f"/storage/v1/object/assets/{org}/{name}")
        assert served.headers["content-type"] == "model/gltf-binary"
        assert served.headers["x-content-type-options"] == "nosniff"
    user.ok(user.http.post(f"/storage/v1/object/thumbnails/{org}/shot.png", content=b"\x89PNG\r\n\x1a\n",
                           headers={"Content-Type": "text/html"}))
    assert user.http.get(f"/storage/v1/object/thumbnails/{org}/shot.png").headers["content-type"] == "image/png"
    # a name whose type the bucket does not take is refused whatever the header claims
    body = storage_error(user.http.post(f"/storage/v1/object/thumbnails/{org}/page.html", content=html,
                                        headers={"Content-Type": "image/png"}), 415)
    assert "image/png" in body["message"]


def test_signed_url_lifetime_is_capped_at_a_week(new_user):
    user = new_user()
    org = user.personal_org()
    name = f"{org}/part.stl"
    user.ok(user.http.post(f"/storage/v1/object/assets/{name}", content=b"solid a\nendsolid a\n"))
    for expires in (1e9, 7 * 86400 + 1, 0, -5, "soon", None, True):
        storage_error(user.http.post(f"/storage/v1/object/sign/assets/{name}", json={"expiresIn": expires}), 400)
    storage_error(user.http.post("/storage/v1/object/sign/assets", json={"expiresIn": 1e9, "paths": [name]}), 400)
    assert user.ok(user.http.post(f"/storage/v1/object/sign/assets/{name}", json={"expiresIn": 7 * 86400}))
    assert user.ok(user.http.post(f"/storage/v1/object/sign/assets/{name}", json={"expiresIn": 60.5}))


def test_a_multipart_upload_takes_the_file_whatever_its_part_is_called(server, new_user):
    user = new_user()
    org = user.personal_org()
    for part in ("", "file", "upload"):
        name = f"{org}/part-{part or 'empty'}.stl"
        body = f"solid {part}\nendsolid\n".encode()
        user.ok(user.http.post(f"/storage/v1/object/assets/{name}", files={part: ("blob", body, "application/octet-stream")},
                               data={"cacheControl": "60"}))
        served = user.http.get(f"/storage/v1/object/assets/{name}")
        assert served.content == body and served.headers["cache-control"] == "max-age=60"
    no_file = user.http.post(f"/storage/v1/object/assets/{org}/none.stl", content=b"--b\r\nContent-Disposition: "
                             b"form-data; name=\"cacheControl\"\r\n\r\n60\r\n--b--\r\n",
                             headers={"Content-Type": "multipart/form-data; boundary=b"})
    storage_error(no_file, 400)
    assert _incoming(server) == []


def test_buckets_signed_urls_copy_and_move_as_supabase_js_calls_them(server, new_user):
    user, other = new_user(), new_user()
    org = user.personal_org()
    data = b"solid a\nendsolid a\n"
    user.ok(user.http.post(f"/storage/v1/object/assets/{org}/a.stl", content=data))

    bucket = user.ok(user.http.get("/storage/v1/bucket/thumbnails"))
    assert bucket["id"] == "thumbnails" and bucket["file_size_limit"] == 5242880
    storage_error(user.http.get("/storage/v1/bucket/nope"), 404)

    many = user.ok(user.http.post("/storage/v1/object/sign/assets",
                                  json={"expiresIn": 60, "paths": [f"{org}/a.stl", f"{org}/missing.stl"]}))
    assert [m["path"] for m in many] == [f"{org}/a.stl", f"{org}/missing.stl"]
    assert httpx.get(server.url + "/storage/v1" + many[0]["signedURL"]).content == data
    assert many[1]["signedURL"] is None and many[1]["error"]
    theirs = other.ok(other.http.post("/storage/v1/object/sign/assets", json={"expiresIn": 60,
                                                                               "paths": [f"{org}/a.stl"]}))
    assert theirs[0]["signedURL"] is None

    upload = user.ok(user.http.post(f"/storage/v1/object/upload/sign/assets/{org}/up.stl"))
    assert upload["url"].startswith(f"/object/upload/sign/assets/{org}/up.stl?token=")
    put = httpx.put(server.url + "/storage/v1" + upload["url"], content=data, headers={"Content-Type": "text/html"})
    assert put.status_code == 200 and put.json()["Key"] == f"assets/{org}/up.stl"
    served = user.http.get(f"/storage/v1/object/assets/{org}/up.stl")
    assert served.content == data and served.headers["content-type"] == "model/stl"
    storage_error(httpx.put(server.url + "/storage/v1" + upload["url"], content=data), 409)  # once, no upsert
    # a download token is no upload token, nor the other way round
    download_token = many[0]["signedURL"].split("token=")[1]
    storage_error(httpx.put(f"{server.url}/storage/v1/object/upload/sign/assets/{org}/a.stl?token={download_token}",
                            content=b"x"), 400)
    upload_token = upload["url"].split("token=")[1]
    storage_error(httpx.get(f"{server.url}/storage/v1/object/sign/assets/{org}/up.stl?token={upload_token}"), 400)
    # signing an upload checks the signer's rights first
    storage_error(other.http.post(f"/storage/v1/object/upload/sign/assets/{org}/theirs.stl"), 403)

    copied = user.ok(user.http.post("/storage/v1/object/copy", json={"bucketId": "assets", "sourceKey": f"{org}/a.stl",
                                                                     "destinationKey": f"{org}/b.stl"}))
    assert copied["Key"] == f"assets/{org}/b.stl"
    assert user.http.get(f"/storage/v1/object/assets/{org}/b.stl").content == data
    moved = user.ok(user.http.post("/storage/v1/object/move", json={"bucketId": "assets", "sourceKey": f"{org}/b.stl",
                                                                    "destinationKey": f"{org}/dir/c.stl"}))
    assert moved["message"]
    assert user.http.get(f"/storage/v1/object/assets/{org}/dir/c.stl").content == data
    storage_error(user.http.get(f"/storage/v1/object/assets/{org}/b.stl"), 404)
    # removing the copy leaves the original's bytes alone
    user.ok(user.http.request("DELETE", "/storage/v1/object/assets", json={"prefixes": [f"{org}/dir/c.stl"]}))
    assert user.http.get(f"/storage/v1/object/assets/{org}/a.stl").content == data
    # what the caller may not read or write stays out of reach
    storage_error(other.http.post("/storage/v1/object/copy", json={"bucketId": "assets", "sourceKey": f"{org}/a.stl",
                                                                   "destinationKey": f"{org}/x.stl"}), 404)
    storage_error(user.http.post("/storage/v1/object/move", json={"bucketId": "assets", "sourceKey": f"{org}/a.stl",
                                                                  "destinationKey": f"{uuid.uuid4()}/a.stl"}), 403)
    storage_error(user.http.post("/storage/v1/object/copy", json={"bucketId": "assets", "sourceKey": f"{org}/a.stl",
                                                                  "destinationKey": f"{org}/a.exe"}), 415)


def test_update_user(server, new_user):
    user = new_user()
    other_device = httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "password"},
                              json={"email": user.user["email"], "password": "correct horse"},
                              headers={"apikey": server.anon_key}).json()
    updated = user.ok(user.http.put("/auth/v1/user", json={"data": {"display_name": "Ada", "theme": "dark"}}))
    assert updated["user_metadata"] == {"display_name": "Ada", "theme": "dark"}
    updated = user.ok(user.http.put("/auth/v1/user", json={"data": {"theme": None}}))
    assert updated["user_metadata"] == {"display_name": "Ada"}
    gotrue_error(user.http.put("/auth/v1/user", json={"password": "correct horse"}), 422, "same_password")
    gotrue_error(user.http.put("/auth/v1/user", json={"password": "123"}), 422, "weak_password")
    gotrue_error(user.http.put("/auth/v1/user", json={"email": "a" * 300 + "@example.com"}), 400, "validation_failed")
    taken = new_user()
    gotrue_error(user.http.put("/auth/v1/user", json={"email": taken.user["email"]}), 422, "email_exists")
    user.ok(user.http.put("/auth/v1/user", json={"password": "new horse battery"}))
    # a new password ends the other sessions, as GoTrue does; this one goes on
    with Api(server, other_device["access_token"]) as device:
        postgrest_error(device.get("org_members"), 401, "PGRST303")
    assert user.ok(user.get("org_members"))
    new_email = f"renamed-{uuid.uuid4().hex[:8]}@example.com"
    assert user.ok(user.http.put("/auth/v1/user", json={"email": new_email}))["email"] == new_email
    signed_in = httpx.post(f"{server.url}/auth/v1/token", params={"grant_type": "password"},
                           json={"email": new_email, "password": "new horse battery"},
                           headers={"apikey": server.anon_key})
    assert signed_in.status_code == 200


def test_the_throwaway_clusters_storage_goes_when_the_server_stops(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "dstudio_backend", "start", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        info = json.loads(proc.stdout.readline())
        storage = Path(info["storage_dir"])
        assert storage.is_dir()
        session = httpx.post(f"{info['api_url']}/auth/v1/signup", headers={"apikey": info["anon_key"]},
                             json={"email": "keep@example.com", "password": "correct horse"}).json()
        org = httpx.get(f"{info['api_url']}/rest/v1/org_members", params={"select": "org_id"},
                        headers={"apikey": info["anon_key"], "Authorization": f"Bearer {session['access_token']}"})
        httpx.post(f"{info['api_url']}/storage/v1/object/assets/{org.json()[0]['org_id']}/a.stl", content=b"solid",
                   headers={"apikey": info["anon_key"], "Authorization": f"Bearer {session['access_token']}"})
        assert any(storage.iterdir())
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    assert not storage.exists()
    assert not Path(str(storage).removesuffix("-storage")).exists()


def test_concurrent_requests_after_a_burst_keep_working(server, new_user):
    """The pool hands connections back and forth under more requests than it has connections."""
    user = new_user()

    def one(_):
        with Api(server, user.token) as api:
            return api.get("org_members", select="org_id").status_code

    with ThreadPoolExecutor(40) as pool:
        assert set(pool.map(one, range(120))) == {200}
