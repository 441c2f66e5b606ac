"""Cloud jobs per minute on this machine: the same batch of small jobs run by one
``dstudio-worker`` process, then by three, against the real local backend; each job must
complete exactly once (one hold, one asset or export row, no retry). Prints both rates and their
ratio. ``--kind reconstruct`` (the default): draft reconstructions of the synthetic scene seen
by ``--views`` cameras; ``--kind export``: gltfpack exports of the sample project.

    python benchmarks/cloud_jobs_bench.py [--jobs 12] [--views 12] [--kind reconstruct|export]"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from dstudio_backend.process import start_server  # noqa: E402
from dstudio_desktop.services import cloud_jobs  # noqa: E402
from dstudio_desktop.services.sample import install_sample  # noqa: E402
from dstudio_desktop.store import Workspace  # noqa: E402
from dstudio_desktop.store.syncstate import SyncState  # noqa: E402
from dstudio_desktop.sync.client import BackendClient  # noqa: E402
from dstudio_desktop.sync.engine import SyncEngine  # noqa: E402
from gpu.synthetic import write_photo_set  # noqa: E402

PASSWORD = "correct horse"


def _service(server, method: str, path: str, **kwargs) -> httpx.Response:
    key = server.service_role_key
    response = httpx.request(method, server.url + path, headers={"apikey": key, "Authorization": f"Bearer {key}"},
                             timeout=60, **kwargs)
    response.raise_for_status()
    return response


def _batch(server, home: Path, photos: Path, jobs: int, kind: str) -> tuple[list[str], str]:
    """A fresh organisation on the pro plan with credits, its project on the server and ``jobs``
    queued reconstructions of ``photos``; returns the job ids and the project id."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    client = BackendClient(server.url, server.anon_key)
    session = client.sign_up(email, PASSWORD)
    client.token = session.access_token
    org = client.select("org_members", user_id=f"eq.{session.user_id}", select="org_id")[0]["org_id"]
    _service(server, "PATCH", "/rest/v1/organizations", params={"id": f"eq.{org}"}, json={"tier": "pro"})
    _service(server, "POST", "/rest/v1/rpc/add_purchased_credits", json={"org_id": org, "amount": 100 * jobs})
    ws = Workspace(home)
    SyncState(ws).set(f"org:{session.user_id}", org)
    cloud = cloud_jobs.connect(ws, client, session)
    if kind == "export":
        project = install_sample(ws).id
        SyncEngine(ws, client, session, persist_session=lambda s: None).run()
        ids = [cloud_jobs.submit_export(ws, cloud, project, "normal")["id"] for _ in range(jobs)]
    else:
        project = str(uuid.uuid4())
        client.request("POST", "/rest/v1/design_studio_projects", json={"id": project, "org_id": org, "name": "Bench"})
        photo_set = cloud_jobs.photo_set(photos)
        ids = [cloud_jobs.submit_reconstruction(cloud, photo_set, "draft", project_id=project)["id"]
               for _ in range(jobs)]
    cloud.close()
    ws.close()
    return ids, project


def _run(server, workers: int, ids: list[str], project: str, log: Path, kind: str) -> float:
    """Seconds ``workers`` worker processes take to finish the batch; checks exactly-once."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "DSTUDIO_WORKER_KEY": server.service_role_key}
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "dstudio_worker", "--url", server.url, "--queues", "export" if kind == "export" else "reconstruct",
                               "--device", "cpu", "--poll", "0.3", "--worker-id", f"bench-{i}"],
                              stdout=open(log.with_suffix(f".{i}.log"), "w"), stderr=subprocess.STDOUT, env=env,
                              cwd=REPO, start_new_session=True) for i in range(workers)]
    try:
        while True:
            rows = _service(server, "GET", "/rest/v1/model_processing_jobs",
                            params={"id": f"in.({','.join(ids)})", "select": "id,status,retry_count"}).json()
            if all(r["status"] in ("completed", "failed", "cancelled") for r in rows):
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    bad = [r for r in rows if r["status"] != "completed" or r["retry_count"] != 0]
    table = "design_studio_exports" if kind == "export" else "design_studio_assets"
    made = _service(server, "GET", f"/rest/v1/{table}", params={"project_id": f"eq.{project}", "select": "id"}).json()
    if bad or len(made) != len(ids):
        raise SystemExit(f"not exactly once: {bad or f'{len(made)} rows in {table} for {len(ids)} jobs'}")
    return seconds


def main(jobs: int = 12, views: int = 12, kind: str = "reconstruct") -> None:
    with tempfile.TemporaryDirectory(prefix="dstudio-cloud-bench-") as tmp:
        tmp = Path(tmp)
        photos = tmp / "scene"
        write_photo_set(photos, views)
        (photos / "ground_truth.json").unlink()
        server = start_server(tmp / "storage")
        try:
            rates = {}
            for workers in (1, 3):
                ids, project = _batch(server, tmp / f"home-{workers}", photos, jobs, kind)
                seconds = _run(server, workers, ids, project, tmp / f"workers-{workers}", kind)
                rates[workers] = jobs / (seconds / 60)
                what = "gltfpack exports of the sample" if kind == "export" else \
                    f"draft reconstructions of {views} photos"
                print(f"cloud jobs, {workers} worker(s): {jobs} {what} in {seconds:.1f} s = "
                      f"{rates[workers]:.2f} jobs/min (each completed once)")
            print(f"cloud jobs: 3 workers / 1 worker = {rates[3] / rates[1]:.2f}x on {os.cpu_count()} CPU(s)")
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--views", type=int, default=12)
    parser.add_argument("--kind", choices=("reconstruct", "export"), default="reconstruct")
    args = parser.parse_args()
    main(args.jobs, args.views, args.kind)
