"""Two desktop clients (separate workspaces) against the real local backend."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Optional

import httpx
import pytest

from dstudio_desktop.store import Workspace
from dstudio_desktop.sync.client import BackendClient
from dstudio_desktop.sync.engine import SyncEngine, SyncReport

from ..backend.conftest import Api, set_tier, signup

PASSWORD = "correct horse"


class Desktop:
    """One desktop client: its own workspace and session, synced in-process."""

    def __init__(self, home: Path, server, api: Api) -> None:
        self.server = server
        self.api = api
        self.ws = Workspace(home, fetch_blob=self._fetch)
        client = BackendClient(server.url, server.anon_key)
        self.session = client.sign_in(api.user["email"], PASSWORD)
        client.close()

    def _fetch(self, asset) -> bytes:
        client = BackendClient(self.server.url, self.server.anon_key)
        client.token = self.session.access_token
        try:
            return client.download("assets", asset.url)
        finally:
            client.close()

    def sync(self, transport: Optional[httpx.BaseTransport] = None) -> SyncReport:
        client = BackendClient(self.server.url, self.server.anon_key, transport=transport)
        engine = SyncEngine(self.ws, client, self.session, persist_session=lambda s: setattr(self, "session", s))
        try:
            return engine.run()
        finally:
            self.session = engine.session
            client.close()

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def team(server, tmp_path):
    """Two people in one organisation (the first one's), each with a desktop."""
    owner = signup(server, f"owner-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    editor = signup(server, f"editor-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    org = owner.personal_org()
    set_tier(server, org, "pro")  # two people: more seats than the free plan's one
    owner.ok(owner.insert("org_members", {"org_id": org, "user_id": editor.id, "role": "editor"}))
    a = Desktop(tmp_path / "a", server, owner)
    b = Desktop(tmp_path / "b", server, editor)
    # both work in the owner's organisation
    for desktop in (a, b):
        from dstudio_desktop.store.syncstate import SyncState

        SyncState(desktop.ws).set(f"org:{desktop.session.user_id}", org)
    yield a, b, org
    a.close()
    b.close()

