"""A change the server refuses for the plan's limit is not lost: it waits in the outbox and the
cycle says why, until the plan allows it."""

from __future__ import annotations

import uuid

from dstudio_desktop.store.syncstate import SyncState

from ..backend.conftest import signup
from .conftest import PASSWORD, Desktop


def test_a_project_over_the_free_plan_waits_on_this_computer(server, tmp_path):
    user = signup(server, f"free-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    desktop = Desktop(tmp_path / "free", server, user)
    try:
        SyncState(desktop.ws).set(f"org:{desktop.session.user_id}", user.personal_org())
        made = [desktop.ws.create_project(f"part {i}") for i in range(4)]  # the free plan holds three
        report = desktop.sync()
        assert report.state == "error" and "wait on this computer" in report.message, report
        assert report.rejected == []
        waiting = {row["entity_id"] for row in SyncState(desktop.ws).pending(100)}
        assert made[3].id in waiting  # the fourth is still queued, not dropped
        rows = user.ok(user.get("design_studio_projects", select="id"))
        assert len(rows) == 3
    finally:
        desktop.close()
