"""A cloud result is one asset row: the desktop's landed mesh adopts the row the worker made on
the server (its id and creation time) instead of adding a second one when it syncs.

The worker here is the real ``dstudio_worker`` code (claim, upload, asset row, thumbnail,
complete) run in this process with the pipeline's entry point standing in by a small coloured
box: the real pipeline runs in test_cloud_worker.py, which this test does not repeat."""

from __future__ import annotations

import json

import numpy as np
import trimesh

from dstudio_desktop.services import cloud_jobs
from dstudio_desktop.sync.client import BackendClient
from dstudio_desktop.sync.engine import SyncEngine
from dstudio_worker import tasks
from dstudio_worker.fleet import Fleet, Options


def _box_run(images, output, quality="normal", device="auto", report_path=None, progress=None, cancel=None):
    """What the pipeline's entry point returns, for a box: the GLB and its report."""
    names = sorted(p.name for p in images.iterdir())
    box = trimesh.creation.box((0.4, 0.3, 0.2))
    box.visual.vertex_colors = np.tile([180, 90, 40, 255], (len(box.vertices), 1)).astype(np.uint8)
    box.export(output, file_type="glb")
    report = {"num_images": len(names), "num_registered": len(names), "quality": quality, "device": "cpu",
              "dense_method": "stand-in", "faces": len(box.faces), "vertices": len(box.vertices), "seconds": 0.1,
              "images_folder": str(images), "images": [{"name": n, "registered": True} for n in names]}
    report_path.write_text(json.dumps(report))
    return report


def test_the_landed_result_adopts_the_worker_s_asset_row(desktop, cloud_server, small_photos, monkeypatch):
    project = desktop.ws.create_project("Adopted scan")
    cloud = desktop.cloud()
    engine = SyncEngine(desktop.ws, cloud.client, desktop.session, persist_session=lambda s: None)
    assert engine.run().state != "error"
    job = cloud_jobs.submit_reconstruction(cloud, cloud_jobs.photo_set(small_photos), "draft", project_id=project.id)

    monkeypatch.setattr(tasks, "run_worker", _box_run)
    options = Options(url=cloud_server.url, key=cloud_server.service_role_key, queues=["reconstruct"],
                      worker_id="in-process", heartbeat=0.5, lease_seconds=10)
    worker = BackendClient(cloud_server.url, cloud_server.service_role_key)
    worker.token = cloud_server.service_role_key
    claimed = worker.rpc("claim_next_job", worker_id="in-process", queues=["reconstruct"], lease_seconds=10)
    assert claimed["id"] == job["id"]
    Fleet(options).run_job(worker, claimed, "in-process")
    worker.close()
    done = desktop.job(job["id"])
    assert done["status"] == "completed", done
    asset_id = tasks.job_asset_id(job["id"])
    server = desktop.service.ok(desktop.service.get("design_studio_assets", project_id=f"eq.{project.id}"))
    assert [r["id"] for r in server] == [asset_id] and server[0]["thumbnail_url"].endswith(".png")

    # a sync before landing brings the worker's row down (metadata only); landing takes it over
    assert engine.run().state != "error"
    assert desktop.ws.get_asset(asset_id).url == server[0]["url"]
    result, _ = cloud_jobs.land_job(desktop.ws, cloud, done, project.id)
    assert [a.id for a in result.assets] == [asset_id]
    landed = desktop.ws.load_project(project.id)
    assert [n.asset_id for n, _ in landed.scene_graph.walk()] == [asset_id]
    report = engine.run()
    assert report.state != "error" and not report.rejected, report.summary()
    after = desktop.service.ok(desktop.service.get("design_studio_assets", project_id=f"eq.{project.id}"))
    assert [r["id"] for r in after] == [asset_id]                     # one row, not two
    row = after[0]
    assert row["created_at"] == server[0]["created_at"] and row["sha256"] == desktop.ws.get_asset(asset_id).sha256
    assert row["metadata"]["job_id"] == job["id"] and row["thumbnail_url"] == server[0]["thumbnail_url"]
    assert desktop.ws.asset_bytes(desktop.ws.get_asset(asset_id))[:4] == b"glTF"
    cloud.close()
