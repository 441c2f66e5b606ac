"""Exports in the cloud: the sample project's GLB optimised by a real ``dstudio-worker`` running
Debian's gltfpack at the "lod" preset (three levels of detail), recorded in
design_studio_exports with the credits it cost; a local export is recorded with 0 credits
through the sync outbox."""

from __future__ import annotations

from dstudio_desktop.services import cloud_jobs
from dstudio_desktop.services.models import export_local
from dstudio_desktop.services.sample import install_sample
from dstudio_desktop.sync.engine import SyncEngine

from .conftest import until


def test_a_cloud_export_is_optimised_by_gltfpack_and_recorded_with_its_credits(desktop, workers, tmp_path):
    project = install_sample(desktop.ws)
    cloud = desktop.cloud()
    report = SyncEngine(desktop.ws, cloud.client, desktop.session, persist_session=lambda s: None).run()
    assert report.state != "error", report.summary()
    quote = cloud_jobs.quote_export(cloud, "lod")
    assert quote.credits == 8 and quote.breakdown["target_credits"] == 2  # ceil((1 + 2) × 250%)
    before = desktop.balance()
    job = cloud_jobs.submit_export(desktop.ws, cloud, project.id, "lod", quote=quote)
    assert desktop.balance() == before - 8
    worker = workers("--queues", "export", "--once")
    assert worker.wait(120) == 0, worker.text()
    done = until(lambda: (r := desktop.job(job["id"]))["status"] == "completed" and r, 10, "the export")
    files = done["outputs"]["files"]
    assert [f["level"] for f in files] == ["lod0", "lod1", "lod2"]
    source = done["outputs"]["source_size"]
    assert files[2]["size"] < files[1]["size"] < files[0]["size"] < source  # compressed, then simplified
    for f in files:
        data = cloud.client.download("assets", f["path"])
        assert data[:4] == b"glTF" and b"EXT_meshopt_compression" in data[:4096]
    rows = desktop.api.ok(desktop.api.get("design_studio_exports", project_id=f"eq.{project.id}"))
    assert [(r["format"], r["quality_preset"], r["credits_used"]) for r in rows] == [("glb", "lod", 8)]
    assert done["credits_used"] == 8 and desktop.balance() == before - 8

    # a local export stays free, and is in the history too: queued in the outbox (nothing sent
    # yet, offline first), sent by the next sync; the server owns who asked and what it cost
    local = tmp_path / "lamp.stl"
    export_local(desktop.ws, project.id, local)
    assert [m["entity"] for m in desktop.ws.outbox()] == ["export"]
    assert len(desktop.api.ok(desktop.api.get("design_studio_exports", project_id=f"eq.{project.id}"))) == 1
    report = SyncEngine(desktop.ws, cloud.client, desktop.session, persist_session=lambda s: None).run()
    assert report.state != "error" and report.pushed == 1 and not report.rejected, report.summary()
    rows = desktop.api.ok(desktop.api.get("design_studio_exports", project_id=f"eq.{project.id}",
                                          quality_preset="eq.local"))
    assert [(r["format"], r["credits_used"], r["file_size"], r["requested_by"]) for r in rows] == [
        ("stl", 0, local.stat().st_size, desktop.session.user_id)]
    assert rows[0]["version_id"] == desktop.ws.list_versions(project.id)[-1].id
    assert desktop.ws.outbox() == [] and desktop.balance() == before - 8
    cloud.close()


def test_three_workers_complete_twelve_small_jobs_each_exactly_once(desktop, workers):
    project = install_sample(desktop.ws)
    cloud = desktop.cloud()
    SyncEngine(desktop.ws, cloud.client, desktop.session, persist_session=lambda s: None).run()
    before = desktop.balance()
    ids = [cloud_jobs.submit_export(desktop.ws, cloud, project.id, "normal")["id"] for _ in range(12)]
    assert len(set(ids)) == 12 and desktop.balance() == before - 12 * 3
    for i in range(3):
        workers("--queues", "export", "--worker-id", f"fleet-{i}")
    rows = until(lambda: (r := [desktop.job(i) for i in ids]) and all(j["status"] == "completed" for j in r) and r,
                 120, "twelve jobs to complete", every=0.5)
    assert all(j["retry_count"] == 0 and j["credits_used"] == 3 for j in rows)
    assert {j["worker_id"] for j in rows} <= {"fleet-0", "fleet-1", "fleet-2"}
    exports = desktop.api.ok(desktop.api.get("design_studio_exports", project_id=f"eq.{project.id}"))
    assert len(exports) == 12 and sum(e["credits_used"] for e in exports) == 36
    holds = [e for e in desktop.ledger() if e["category"] == "hold" and e["reference_id"] in ids]
    assert sorted(e["reference_id"] for e in holds) == sorted(ids)  # one hold each, none twice
    assert desktop.balance() == before - 36
    cloud.close()


def test_the_cli_exports_in_the_cloud_after_showing_the_price(cloud_server, desktop, workers, tmp_path):
    """``dstudio export P -o OUT.glb --cloud web --yes``: the quote printed first, the job run by a
    real worker, the optimised GLB written to OUT; without --yes and a terminal nothing is sent."""
    import os
    import subprocess
    import sys

    from dstudio_desktop.cli import main as cli_main

    from .conftest import PASSWORD, REPO

    install_sample(desktop.ws)
    env = {**os.environ, "DSTUDIO_HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "keyring"),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "PYTHONPATH": str(REPO)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dstudio_desktop", *args], input=stdin, capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=180)

    assert run("login", "--url", cloud_server.url, "--email", desktop.api.user["email"], "--anon-key",
               cloud_server.anon_key, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert run("sync").returncode == 0
    out = tmp_path / "lamp-web.glb"
    before = desktop.balance()
    asked = run("export", "Sample: desk lamp", "-o", str(out), "--cloud", "web")
    assert asked.returncode == 2 and "credits" in asked.stderr and "--yes" in asked.stderr and not out.exists()
    refused = run("export", "Sample: desk lamp", "-o", str(tmp_path / "lamp.stl"), "--cloud", "web", "--yes")
    assert refused.returncode == 2 and "lamp.stl: a cloud export writes .glb files" in refused.stderr
    worker = workers("--queues", "export", "--once")
    done = run("export", "Sample: desk lamp", "-o", str(out), "--cloud", "web", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert worker.wait(120) == 0, worker.text()
    result = __import__("json").loads(done.stdout)
    assert result["files"] == [str(out)] and out.read_bytes()[:4] == b"glTF"
    assert b"EXT_meshopt_compression" in out.read_bytes()[:4096]
    assert desktop.balance() == before - result["job"]["credits_used"] > before - 100
    # the presets offered are the server's
    parser = cli_main.build_parser()
    export = next(a for a in parser._subparsers._group_actions[0].choices["export"]._actions if a.dest == "cloud")
    assert list(export.choices) == list(cloud_jobs.EXPORT_PRESETS)
