"""A print shop's jobs reach a second desktop: print_jobs rows are pushed and pulled, with the
state and the actual time a printer reported (real backend over real PostgreSQL)."""

from __future__ import annotations

import pytest

from dstudio_desktop.core import Asset
from dstudio_desktop.core.records import PrintJob
from dstudio_desktop.store import sha256_bytes
from dstudio_desktop.store.syncstate import SyncState

from ..sync.conftest import team  # noqa: F401 - the fixture: two desktops in one organisation

pytestmark = pytest.mark.slow


def _sliced_job(desktop) -> tuple:
    """A project with a sliced print job and its G-code asset, on ``desktop``."""
    project = desktop.ws.create_project("bracket")
    gcode = b";FLAVOR:Marlin\nG28\n"
    asset = Asset(project_id=project.id, asset_type="gcode", name="bracket.gcode", sha256=sha256_bytes(gcode),
                  file_size=len(gcode), media_type="text/x-gcode")
    job = desktop.ws.add_print_job(PrintJob(design_project_id=project.id, material="PLA", infill_percent=20,
                                            layer_height=0.2, estimated_time_minutes=17.2,
                                            estimated_material_grams=3.8, printer_id="ender3",
                                            gcode_asset_id=asset.id), (asset, gcode))
    return project, asset, job


def test_a_second_desktop_sees_the_print_job_and_its_actual_time(team):  # noqa: F811
    a, b, org = team
    project, asset, job = _sliced_job(a)
    assert a.sync().state == "up to date"
    first = b.sync()
    assert first.pulled.get("print_jobs") == 1, first
    seen = b.ws.get_print_job(job.id)
    assert (seen.status, seen.estimated_time_minutes, seen.design_project_id) == ("sliced", 17.2, project.id)
    # the print shop prints it: the row's progress goes up from a, and down to b
    a.ws.update_print_job(job.model_copy(update={"status": "completed", "actual_time_minutes": 19.5,
                                                 "started_at": "2026-12-02T00:00:00+00:00",
                                                 "completed_at": "2026-12-02T00:19:30+00:00"}))
    assert a.sync().state == "up to date"
    assert b.sync().pulled.get("print_jobs") == 1
    done = b.ws.get_print_job(job.id)
    assert (done.status, done.actual_time_minutes) == ("completed", 19.5)
    assert SyncState(b.ws).seen("print_job", job.id) is not None
    assert b.sync().pulled.get("print_jobs", 0) == 0  # nothing new: nothing applied again


def test_a_job_sent_to_a_print_server_syncs_with_its_g_code_s_storage_path(team):  # noqa: F811
    """A job sent to OctoPrint keeps that address here (``sent_to``); the server's gcode_url
    is the G-code's storage path in the organisation's folder (its column rule refuses any
    other), so the sent job and its progress sync instead of being refused."""
    a, b, org = team
    _, asset, job = _sliced_job(a)
    a.ws.update_print_job(job.model_copy(update={
        "status": "printing", "sent_to": "http://127.0.0.1:5000/downloads/files/local/bracket-1.gcode"}))
    report = a.sync()
    assert report.state == "up to date", report.message
    assert report.rejected == []
    row = a.api.ok(a.api.get("print_jobs", id=f"eq.{job.id}"))[0]
    assert row["status"] == "printing" and row["gcode_url"] == f"{org}/{asset.sha256}.gcode"
    assert a.ws.get_print_job(job.id).sent_to.endswith("bracket-1.gcode")  # kept here
    assert b.sync().state == "up to date"
    theirs = b.ws.get_print_job(job.id)
    assert theirs.status == "printing" and theirs.gcode_url == row["gcode_url"]
