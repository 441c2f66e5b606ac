"""A real local backend for the tests: ``dstudio-backend start`` with its own throwaway
PostgreSQL cluster, talked to over HTTP like any client would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dstudio_backend.process import RunningServer


class Api:
    """A thin HTTP client holding one token (a user's, the anon key or the service key)."""

    def __init__(self, server: RunningServer, token: str, user: dict[str, Any] | None = None):
        self.server = server
        self.token = token
        self.user = user or {}
        self.http = httpx.Client(base_url=server.url, timeout=60,
                                 headers={"apikey": server.anon_key, "Authorization": f"Bearer {token}"})

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    @property
    def id(self) -> str:
        return self.user["id"]

    def get(self, table: str, **params: str) -> httpx.Response:
        return self.http.get(f"/rest/v1/{table}", params=params)

    def insert(self, table: str, row: Any, **params: str) -> httpx.Response:
        return self.http.post(f"/rest/v1/{table}", params=params, json=row,
                              headers={"Prefer": "return=representation"})

    def update(self, table: str, values: dict, **params: str) -> httpx.Response:
        return self.http.patch(f"/rest/v1/{table}", params=params, json=values,
                               headers={"Prefer": "return=representation"})

    def delete(self, table: str, **params: str) -> httpx.Response:
        return self.http.delete(f"/rest/v1/{table}", params=params, headers={"Prefer": "return=representation"})

    def rpc(self, fn: str, **args: Any) -> httpx.Response:
        return self.http.post(f"/rest/v1/rpc/{fn}", json=args)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, f"{response.status_code}: {response.text}"
        return response.json() if response.content else None

    def personal_org(self) -> str:
        rows = self.ok(self.get("org_members", user_id=f"eq.{self.id}", role="eq.owner", select="org_id"))
        return rows[0]["org_id"]


def set_tier(server: RunningServer, org_id: str, tier: str) -> None:
    """Puts an organisation on a plan, as the billing service does (the service role's alone):
    a free organisation has one seat and three projects."""
    with Api(server, server.service_role_key) as service:
        service.ok(service.update("organizations", {"tier": tier}, id=f"eq.{org_id}"))


def job_type(server: RunningServer, base_credits: int, **fields: Any) -> str:
    """A job type of its own (on its own queue, no plan feature needed), as the service role
    defines job types, so that a test's jobs are priced as it chooses and its workers claim
    only its own jobs. Returns its name, which is also its queue's."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    row = {"job_type": name, "base_credits": base_credits, "queue_name": name, **fields}
    with Api(server, server.service_role_key) as service:
        service.ok(service.insert("processing_job_types", row))
    return name


def signup(server: RunningServer, email: str | None = None, password: str = "correct horse") -> Api:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(f"{server.url}/auth/v1/signup", json={"email": email, "password": password},
                          headers={"apikey": server.anon_key}, timeout=30)
    assert response.status_code == 200, response.text
    session = response.json()
    return Api(server, session["access_token"], {**session["user"], "session": session})


@pytest.fixture
def service(server) -> Api:
    return Api(server, server.service_role_key)


@pytest.fixture
def anon(server) -> Api:
    return Api(server, server.anon_key)


@pytest.fixture
def new_user(server):
    return lambda email=None: signup(server, email)
