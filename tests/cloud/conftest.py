"""Cloud jobs end to end: a backend of their own (so the `reconstruct` queue holds only these
tests' jobs), real ``dstudio-worker`` processes running the real pipeline at draft quality on a
small synthetic photo set, and a desktop (workspace + session) driving the use case."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from dstudio_desktop.services import cloud_jobs
from dstudio_desktop.store import Workspace
from dstudio_desktop.sync.client import BackendClient

from ..backend.conftest import Api, set_tier, signup

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"
VIEWS = 12  # fewer views than the 24 of the full scene: each run is short; still every view placed


@pytest.fixture(scope="session")
def small_photos(tmp_path_factory) -> Path:
    """The synthetic scene seen by VIEWS cameras (photos only in the folder)."""
    from gpu.synthetic import write_photo_set

    folder = tmp_path_factory.mktemp("cloud-photos") / "scene"
    write_photo_set(folder, VIEWS)
    (folder / "ground_truth.json").unlink()
    return folder


def f_score(glb: Path, report: dict[str, Any], photos: Path) -> float:
    """The reconstruction's F-score against the synthetic scene's true surface (gpu.evaluate: 3%
    of the object's size, after aligning the reported camera centres of the placed photos to the
    true ones in ground_truth.json beside the photos folder; recall over what two cameras see)."""
    import json

    import trimesh

    from gpu import evaluate, synthetic

    truth_cams = {c["name"]: np.array(c["centre"]) for c in
                  json.loads((photos.parent / "ground_truth.json").read_text())["cameras"]}
    placed = [i for i in report["images"] if i.get("registered")]
    centres = np.array([i["center"] for i in placed])
    true_centres = np.array([truth_cams[Path(i["name"]).stem] for i in placed])
    mesh = trimesh.load(glb, file_type="glb", force="mesh")
    samples, _ = trimesh.sample.sample_surface(mesh, 40000, seed=1)
    truth = synthetic.surface_samples(60000)
    seen = synthetic.views_seeing(truth, synthetic.cameras(len(truth_cams))) >= 2
    return evaluate.score(np.asarray(samples), truth, centres, true_centres, 0.03 * synthetic.object_size(),
                          seen).f_score


@pytest.fixture(scope="session")
def blurred_photos(tmp_path_factory) -> Path:
    """Eight photos that upload fine and cannot be reconstructed: smooth gradients, no detail."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("cloud-blurred") / "fog"
    folder.mkdir()
    y, x = np.mgrid[0:480, 0:640]
    for i in range(8):
        angle = i * np.pi / 8
        grey = 60 + 120 * (0.5 + 0.5 * np.sin((x * np.cos(angle) + y * np.sin(angle)) / 300 + i))
        Image.fromarray(np.stack([grey] * 3, axis=-1).astype(np.uint8)).save(folder / f"fog_{i}.png")
    return folder


class Desktop:
    """A signed-in desktop: its workspace and the use case's connection to the server."""

    def __init__(self, server, home: Path, credits: int = 500) -> None:
        email = f"cloud-{uuid.uuid4().hex[:10]}@example.com"
        self.api = signup(server, email, PASSWORD)
        self.org = self.api.personal_org()
        set_tier(server, self.org, "pro")  # cloud reconstruction is a paid plan's
        self.service = Api(server, server.service_role_key)
        if credits:
            self.service.ok(self.service.rpc("add_purchased_credits", org_id=self.org, amount=credits))
        client = BackendClient(server.url, server.anon_key)
        self.session = client.sign_in(email, PASSWORD)
        client.close()
        self.ws = Workspace(home)
        from dstudio_desktop.store.syncstate import SyncState

        SyncState(self.ws).set(f"org:{self.session.user_id}", self.org)

    def cloud(self, transport=None) -> cloud_jobs.Cloud:
        client = BackendClient(self.session.url, self.session.anon_key, transport=transport)
        return cloud_jobs.connect(self.ws, client, self.session)

    def balance(self) -> int:
        return self.api.ok(self.api.rpc("get_credit_balance", org_id=self.org))["balance"]

    def ledger(self) -> list[dict[str, Any]]:
        return self.api.ok(self.api.get("credit_ledger", org_id=f"eq.{self.org}", order="id"))

    def job(self, job_id: str) -> dict[str, Any]:
        return self.service.ok(self.service.get("model_processing_jobs", id=f"eq.{job_id}"))[0]

    def assets(self) -> list[dict[str, Any]]:
        return self.service.ok(self.service.get("design_studio_assets", select="id,url,metadata",
                                                **{"metadata->>job_id": "not.is.null"}))

    def close(self) -> None:
        self.ws.close()
        self.api.http.close()
        self.service.http.close()


@pytest.fixture
def desktop(cloud_server, tmp_path):
    d = Desktop(cloud_server, tmp_path / "home")
    yield d
    d.close()


class Worker:
    """A real ``python -m dstudio_worker`` process (what the ``dstudio-worker`` script runs)."""

    def __init__(self, server, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = log
        self.log = open(log, "w")
        command = [sys.executable, "-m", "dstudio_worker", "--url", server.url, "--queues", "reconstruct",
                   "--device", "cpu", "--lease-seconds", "4", "--heartbeat", "0.5", "--poll", "0.3",
                   "--retry-delay", "0", *args]
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(REPO), "DSTUDIO_WORKER_KEY":
                                          server.service_role_key, **(env or {})},
                                     start_new_session=True)

    def text(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not exit in {timeout} s:\n{self.text()[-3000:]}") from None

    def children(self) -> list:
        import psutil

        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        import psutil

        kids = self.children()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for kid in kids:  # a pipeline child its killed worker left behind
            try:
                kid.kill()
            except psutil.NoSuchProcess:
                pass
        self.log.close()


@pytest.fixture
def workers(cloud_server, tmp_path):
    started: list[Worker] = []

    def start(*args: str, **kwargs) -> Worker:
        worker = Worker(cloud_server, tmp_path / f"worker-{len(started)}.log", *args, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
