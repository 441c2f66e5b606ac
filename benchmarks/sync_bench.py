"""Push and pull of a large project over loopback against the local backend: 100 versions,
1,000 annotations and 20 MB of assets. Push is one desktop's first sync of all of it; pull is
a second desktop's first sync (metadata), then fetching the asset bytes on demand."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from dstudio_backend.process import start_server
from dstudio_desktop.core import Asset
from dstudio_desktop.services import review
from dstudio_desktop.store import Workspace
from dstudio_desktop.store.syncstate import SyncState
from dstudio_desktop.sync.client import BackendClient
from dstudio_desktop.sync.engine import SyncEngine

VERSIONS, ANNOTATIONS, ASSETS, ASSET_MB = 100, 1000, 5, 4
PASSWORD = "benchmark"


def _engine(ws: Workspace, server, email: str) -> SyncEngine:
    client = BackendClient(server.url, server.anon_key)
    session = client.sign_in(email, PASSWORD)
    return SyncEngine(ws, client, session, persist_session=lambda s: None)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dstudio-sync-bench-"))
    server = start_server(tmp / "storage")
    try:
        email = "sync-bench@example.com"
        httpx.post(f"{server.url}/auth/v1/signup", json={"email": email, "password": PASSWORD},
                   headers={"apikey": server.anon_key}).raise_for_status()
        a = Workspace(tmp / "a")
        project = a.create_project("Benchmark")
        for i in range(VERSIONS):
            a.save_version(project.id, notes=f"version {i}")
        for i in range(ANNOTATIONS):
            review.add(a, project, f"annotation {i}", None, None)
        for i in range(ASSETS):
            data = os.urandom(ASSET_MB * 1024 * 1024)
            a.add_asset(Asset(project_id=project.id, asset_type="mesh", name=f"part {i}",
                              sha256=hashlib.sha256(data).hexdigest(), file_size=len(data),
                              media_type="model/gltf-binary"), data)
        pending = SyncState(a).pending_count()

        engine = _engine(a, server, email)
        t0 = time.perf_counter()
        pushed = engine.run()
        push_s = time.perf_counter() - t0
        assert pushed.state == "up to date", pushed.message

        engine_b = None
        b = Workspace(tmp / "b", fetch_blob=lambda asset: engine_b.client.download("assets", asset.url))
        engine_b = _engine(b, server, email)
        t0 = time.perf_counter()
        pulled = engine_b.run()
        pull_s = time.perf_counter() - t0
        assert pulled.state == "up to date", pulled.message
        t0 = time.perf_counter()
        fetched = sum(len(b.asset_bytes(asset)) for asset in b.list_assets(project.id))
        fetch_s = time.perf_counter() - t0
        engine.client.close()
        engine_b.client.close()
        a.close()
        b.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    mb = ASSETS * ASSET_MB
    print(f"Sync over loopback: {VERSIONS} versions, {ANNOTATIONS} annotations, {mb} MB of assets "
          f"({pending} outbox rows)")
    print(f"{'step':<44} {'time':>8} {'rate':>22}")
    print(f"{'push (first sync, everything)':<44} {push_s:>7.2f}s {pending / push_s:>14.0f} rows/s")
    print(f"{'pull (second desktop, metadata)':<44} {pull_s:>7.2f}s "
          f"{sum(pulled.pulled.values()) / pull_s:>14.0f} rows/s")
    print(f"{'fetch asset bytes on demand':<44} {fetch_s:>7.2f}s {fetched / fetch_s / 1e6:>17.1f} MB/s")


if __name__ == "__main__":
    main()
