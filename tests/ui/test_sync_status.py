"""The window signed in: background sync, its status and the credit balance in the status bar."""

from __future__ import annotations

import uuid

import keyring
import pytest

from ..backend.conftest import signup

pytestmark = pytest.mark.gui




def test_signing_in_syncs_in_the_background_and_shows_the_balance(window, qtbot, server, test_keyring):
    api = signup(server, f"ui-{uuid.uuid4().hex[:6]}@example.com")
    assert window.sync_label.text() == "Offline · local workspace"
    window.sync_status.sign_in(server.url, api.user["email"], "correct horse", server.anon_key)
    qtbot.waitUntil(lambda: window.sync_label.text().startswith("Up to date"), timeout=30000)
    assert "100 credits (100 monthly + 0 purchased)" in window.sync_label.text()
    pushed = api.ok(api.get("design_studio_projects", id=f"eq.{window.project.id}"))
    assert [p["name"] for p in pushed] == ["Sample: desk lamp"]

    window.versions_dock.save("from the window")
    assert window.versions_dock.list.topLevelItem(0).text(0) == "2 (pending)"  # not numbered by the server yet
    window.sync_status.sync_now()
    qtbot.waitUntil(lambda: not window.sync_status.running, timeout=30000)
    versions = api.ok(api.get("design_studio_versions", project_id=f"eq.{window.project.id}"))
    assert sorted(v["notes"] for v in versions) == ["Sample project as shipped", "from the window"]
    assert window.versions_dock.list.topLevelItem(0).text(0) == "2"

    window.sync_status.sign_out()
    assert window.sync_label.text() == "Offline · local workspace"
    assert keyring.get_password("dstudio-desktop", "session") is None
