"""Sending a print job to a real OctoPrint (started here, its virtual printer on): upload, start,
follow to the end, the actual time recorded in the print job row; an unreachable server or a
refused key gives one clear line and leaves the job and its G-code as they were."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trimesh

from dstudio_desktop.errors import DStudioError
from dstudio_desktop.store import Workspace

from ..conftest import REPO, CliResult

OCTOPRINT = Path(os.environ.get("DSTUDIO_OCTOPRINT", REPO / ".venv-octoprint" / "bin" / "octoprint"))
API_KEY = "DSTUDIOTESTKEY0123456789ABCDEF"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not OCTOPRINT.is_file(), reason="OctoPrint is not set up (run ./dev setup)")]

# OctoPrint's own settings for a quick, quiet test server: no first-run wizard, no online
# checks, the plugins a print does not need switched off, and the virtual printer without its
# default simulated transmission errors (one of which waits 30 s for a resend timeout).
CONFIG = """\
server:
  firstRun: false
  onlineCheck: {enabled: false}
  pluginBlacklist: {enabled: false}
devel:
  virtualPrinter:
    enabled: true
    throttle: 0.0
    sendWait: false
    simulateReset: false
    simulated_errors: []
    rxBuffer: 4096
    commandBuffer: 32
serial:
  port: VIRTUAL
  autoconnect: true
plugins:
  _disabled: [softwareupdate, announcements, tracking, pluginmanager, backup, achievements, firmware_check,
              file_check, pi_support, gcodeviewer, errortracking, eventmanager, logging, health_check,
              action_command_notification, action_command_prompt, discovery]
"""
# User profiles, as a print shop adds its own, that keep the virtual printer quick: a filament
# at room temperature (it heats at 10 °C a second: real heating would cost half a minute), and
# a 30 mm bed, since it sleeps in proportion to the coordinates of each move (a part in the
# middle of a 220 mm bed takes 40 s to print, here 3 s).
VIRTUAL_MATERIAL = ('{"schema_version": 1, "materials": [{"id": "ROOMTEMP", "name": "Room-temperature test filament", '
                    '"density_g_cm3": 1.24, "nozzle_temp_c": 21, "bed_temp_c": 21}]}')
VIRTUAL_PRINTER = ('{"schema_version": 1, "printers": [{"id": "virtual", "name": "OctoPrint virtual printer", '
                   '"cura_definition": "fdmprinter", "build_volume_mm": [30, 30, 30]}]}')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def octoprint(tmp_path_factory):
    """A real OctoPrint with its virtual printer, connected, and an application key for admin."""
    base = tmp_path_factory.mktemp("octoprint")
    (base / "config.yaml").write_text(CONFIG)
    subprocess.run([str(OCTOPRINT), "--basedir", str(base), "user", "add", "admin", "--password", "not-used-here",
                    "--admin"], check=True, capture_output=True, timeout=120)
    (base / "data" / "appkeys").mkdir(parents=True)
    (base / "data" / "appkeys" / "keys.yaml").write_text(f"admin:\n- app_id: dstudio\n  api_key: {API_KEY}\n")
    port = _free_port()
    log = open(base / "serve.log", "wb")
    proc = subprocess.Popen([str(OCTOPRINT), "--basedir", str(base), "serve", "--iknowwhatimdoing", "--host",
                             "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                state = httpx.get(f"{url}/api/connection", headers={"X-Api-Key": API_KEY}, timeout=2).json()
                if state["current"]["state"] == "Operational":
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (base / "serve.log").read_text()[-3000:]
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def shop(home: Path, tmp_path: Path, monkeypatch):
    """A workspace with the room-temperature filament, and a file keyring standing in for the desktop's."""
    (home / "printing").mkdir(parents=True)
    (home / "printing" / "materials.json").write_text(VIRTUAL_MATERIAL)
    (home / "printing" / "printers.json").write_text(VIRTUAL_PRINTER)
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "XDG_DATA_HOME": str(tmp_path / "keyring")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def _typed(home: Path, env: dict, text: str, *args: str) -> CliResult:
    """``dstudio ARGS`` with ``text`` typed on its standard input (an API key)."""
    proc = subprocess.run([sys.executable, "-m", "dstudio_desktop", *args], input=text, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DSTUDIO_HOME": str(home), **env}, cwd=REPO)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def _sliced_job(cli, tmp_path: Path, height: float = 0.6) -> str:
    """A 12 mm square tile sliced at 0.3 mm: two layers by default, a tiny G-code for the virtual printer."""
    tile = tmp_path / "tile.stl"
    trimesh.creation.box((12, 12, height)).export(tile)
    assert cli("new", "shop").returncode == 0
    assert cli("import", "shop", str(tile), "--units", "mm").returncode == 0
    res = cli("slice", "shop", "-o", str(tmp_path / "tile.gcode"), "--material", "ROOMTEMP", "--printer", "virtual",
              "--layer-height", "0.3",
              "--adhesion", "none", "--json", timeout=120)
    assert res.returncode == 0, res.stderr
    return res.json()["print_job_id"]


def test_a_job_prints_to_completion_on_octoprint_and_records_the_actual_time(cli, home, shop, octoprint, tmp_path):
    job_id = _sliced_job(cli, tmp_path)
    added = _typed(home, shop, API_KEY + "\n", "print-server", "add", "bench", "--url", octoprint, "--api-key-stdin")
    assert added.returncode == 0, added.stderr
    assert "OctoPrint 1." in added.stdout and API_KEY not in (home / "printing" / "servers.json").read_text()
    sent = cli("send", job_id[:8], "--printer", "bench", "--json", env=shop, timeout=240)
    assert sent.returncode == 0, sent.stderr
    row = sent.json()
    assert row["status"] == "completed" and row["actual_time_minutes"] > 0 and row["completed_at"]
    with Workspace(home) as ws:
        job = ws.get_print_job(job_id)
        assert job.status == "completed" and job.actual_time_minutes == pytest.approx(row["actual_time_minutes"])
        assert job.sent_to.startswith(octoprint)
        updates = [r for r in ws.outbox() if r["entity"] == "print_job" and r["op"] == "update"]
        assert [u["payload"]["status"] for u in updates] == ["printing", "completed"]  # both go up to sync
    # OctoPrint itself says the file printed once, successfully
    name = row["sent_to"].rsplit("/", 1)[1]
    info = httpx.get(f"{octoprint}/api/files/local/{name}", headers={"X-Api-Key": API_KEY}).json()
    assert info["prints"]["success"] == 1 and info["prints"]["last"]["printTime"] == \
        pytest.approx(row["actual_time_minutes"] * 60)


def test_unreachable_server_and_refused_key_say_so_and_keep_the_job(cli, home, shop, octoprint, tmp_path):
    from dstudio_desktop.printing.print_servers import add_server, send_print_job

    job_id = _sliced_job(cli, tmp_path)
    wrong = _typed(home, shop, "WRONGKEY\n", "print-server", "add", "bad", "--url", octoprint, "--api-key-stdin")
    assert wrong.returncode == 1 and "refused the API key" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1 and "Traceback" not in wrong.stderr
    add_server("revoked", octoprint, "WRONGKEY", verify=False)     # a key revoked after it was added
    add_server("gone", f"http://127.0.0.1:{_free_port()}", API_KEY, verify=False)
    with Workspace(home) as ws:
        gcode_before = ws.asset_bytes(ws.get_asset(ws.get_print_job(job_id).gcode_asset_id))
        with pytest.raises(DStudioError, match="refused the API key"):
            send_print_job(ws, job_id, "revoked")
        with pytest.raises(DStudioError, match=r"printer 'gone' at http://127.0.0.1:\d+ cannot be reached"):
            send_print_job(ws, job_id, "gone")
        job = ws.get_print_job(job_id)
        assert job.status == "sliced" and job.started_at is None
        assert ws.asset_bytes(ws.get_asset(job.gcode_asset_id)) == gcode_before
    res = cli("send", job_id, "--printer", "gone", env=shop)
    assert res.returncode == 1 and "cannot be reached" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert cli("role", "shop", "reviewer").returncode == 0
    res = cli("send", job_id, "--printer", "gone", env=shop)    # a reviewer sends nothing, reachable or not
    assert res.returncode == 1 and "a reviewer may not" in res.stderr, res.stderr


def test_cancel_print_in_the_cli_stops_the_print_on_octoprint_and_keeps_the_g_code(cli, home, shop, octoprint,
                                                                                   tmp_path):
    job_id = _sliced_job(cli, tmp_path, height=3)   # ten layers: a print that lasts while it is cancelled
    early = cli("cancel-print", job_id[:8], env=shop)     # not sent yet: nothing to cancel, one line
    assert early.returncode == 1 and "sliced, not printing" in early.stderr
    assert len(early.stderr.strip().splitlines()) == 1
    added = _typed(home, shop, API_KEY + "\n", "print-server", "add", "shop", "--url", octoprint, "--api-key-stdin")
    assert added.returncode == 0, added.stderr
    sent = cli("send", job_id[:8], "--printer", "shop", "--no-follow", "--json", env=shop, timeout=120)
    assert sent.returncode == 0 and sent.json()["status"] == "printing", sent.stderr

    assert cli("role", "shop", "reviewer").returncode == 0
    refused = cli("cancel-print", job_id[:8], env=shop, timeout=120)   # a reviewer stops no one's print
    assert refused.returncode == 1 and "a reviewer may not" in refused.stderr, refused.stderr
    assert "Printing" in httpx.get(f"{octoprint}/api/job", headers={"X-Api-Key": API_KEY}).json()["state"]
    assert cli("role", "shop", "owner").returncode == 0

    cancelled = cli("cancel-print", job_id[:8], "--json", env=shop, timeout=120)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.json()["status"] == "cancelled"
    state = httpx.get(f"{octoprint}/api/job", headers={"X-Api-Key": API_KEY}).json()["state"]
    assert "Printing" not in state, state
    with Workspace(home) as ws:
        job = ws.get_print_job(job_id)
        assert job.status == "cancelled" and job.completed_at and job.gcode_asset_id
        assert ws.asset_bytes(ws.get_asset(job.gcode_asset_id)).startswith(b";")
