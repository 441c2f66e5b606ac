"""The desktop's side of cloud jobs, without running a reconstruction: a short balance refused
before anything is uploaded (and the server's own 402 shown with price and balance), a
submission whose answer was lost retried into the same job and the same hold, photos sent once
by their sha256, and the CLI (reconstruct --cloud, jobs, credits, dstudio-backend credits grant)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from dstudio_desktop.services import cloud_jobs

from .conftest import PASSWORD, REPO, Desktop


def _objects(desktop: Desktop) -> list[str]:
    listed = desktop.service.http.post("/storage/v1/object/list/assets", json={"prefix": desktop.org})
    assert listed.status_code == 200, listed.text
    return [o["name"] for o in listed.json()]


def _jobs(desktop: Desktop) -> list[dict]:
    return desktop.service.ok(desktop.service.get("model_processing_jobs", org_id=f"eq.{desktop.org}"))


def test_a_short_balance_is_refused_before_anything_is_uploaded(desktop, small_photos):
    desktop.api.ok(desktop.api.rpc("consume_credits", org_id=desktop.org, amount=desktop.balance() - 3,
                                   reason="spent elsewhere"))
    cloud = desktop.cloud()
    photos = cloud_jobs.photo_set(small_photos)
    with pytest.raises(cloud_jobs.ShortBalance) as refused:
        cloud_jobs.submit_reconstruction(cloud, photos, "draft")
    assert (refused.value.credits, refused.value.balance) == (7, 3)
    assert "costs 7 credits" in str(refused.value) and "has 3" in str(refused.value)
    assert _objects(desktop) == [] and _jobs(desktop) == []
    # a quote that went stale (the balance fell after it was shown): the server's 402, said the same way
    stale = cloud_jobs.quote_reconstruction(cloud, photos, "draft")
    stale.sufficient = True
    with pytest.raises(cloud_jobs.ShortBalance) as refused:
        cloud_jobs.submit_reconstruction(cloud, photos, "draft", quote=stale)
    assert (refused.value.credits, refused.value.balance) == (7, 3)
    assert _jobs(desktop) == [] and desktop.balance() == 3
    cloud.close()


class LoseFirstAnswer(httpx.HTTPTransport):
    """The server gets the first submission and does it; its answer never reaches the client."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/rpc/submit_processing_job") and not self.lost:
            response.read()
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_retried_submission_is_one_job_with_one_hold_and_photos_go_up_once(desktop, small_photos):
    transport = LoseFirstAnswer()
    cloud = desktop.cloud(transport=transport)
    photos = cloud_jobs.photo_set(small_photos)
    before = desktop.balance()
    job = cloud_jobs.submit_reconstruction(cloud, photos, "draft", idempotency_key="scan-1")
    assert transport.lost == 1
    assert [j["id"] for j in _jobs(desktop)] == [job["id"]] and desktop.balance() == before - 7
    again = cloud_jobs.submit_reconstruction(cloud, photos, "draft", idempotency_key="scan-1")
    assert again["id"] == job["id"] and desktop.balance() == before - 7
    holds = [e for e in desktop.ledger() if e["category"] == "hold"]
    assert [h["delta"] for h in holds] == [-7]
    # every photo is in storage once, by its sha256; a second upload sends nothing
    assert sorted(_objects(desktop)) == sorted(f"{p.sha256}.png" for p in photos.photos)
    assert cloud_jobs.upload_photos(cloud, photos) == 0
    assert cloud_jobs.cancel_job(cloud, job["id"])["status"] == "cancelled"
    assert desktop.balance() == before
    cloud.close()


def test_the_cli_quotes_submits_lists_cancels_and_shows_the_ledger(cloud_server, tmp_path, small_photos):
    desktop = Desktop(cloud_server, tmp_path / "home", credits=0)
    env = {**os.environ, "DSTUDIO_HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "keyring"),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "PYTHONPATH": str(REPO)}

    def run(*args: str, stdin: str = "", program: str = "dstudio_desktop") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", program, *args], input=stdin, capture_output=True, text=True,
                              env=env, cwd=REPO, timeout=120)

    assert run("login", "--url", cloud_server.url, "--email", desktop.api.user["email"], "--anon-key",
               cloud_server.anon_key, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    out = str(tmp_path / "scan.glb")
    # no terminal to ask on and no --yes: the price is printed and nothing is submitted
    asked = run("reconstruct", str(small_photos), "-o", out, "--cloud", "--quality", "draft")
    assert asked.returncode == 2 and "7 credits" in asked.stderr and "--yes" in asked.stderr
    assert _jobs(desktop) == []
    submitted = run("reconstruct", str(small_photos), "-o", out, "--cloud", "--quality", "draft", "--yes",
                    "--no-wait")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    assert [j["id"] for j in _jobs(desktop)] == [job_id]
    listed = run("jobs", "list")
    assert job_id in listed.stdout and "reconstruct queued" in listed.stdout and "7 credits held" in listed.stdout
    cancelled = run("jobs", "cancel", job_id)
    assert cancelled.returncode == 0 and "7 credits refunded" in cancelled.stdout
    waited = run("jobs", "wait", job_id)  # an ended job: its end at once
    assert waited.returncode == 1 and "reconstruct cancelled" in waited.stdout
    ledger = run("credits")
    assert ledger.returncode == 0 and "balance 100 credits" in ledger.stdout
    assert "-7" in ledger.stdout and "+7" in ledger.stdout and "hold" in ledger.stdout and "refund" in ledger.stdout
    # a short balance: price and balance in one plain line, nothing sent
    desktop.api.ok(desktop.api.rpc("consume_credits", org_id=desktop.org, amount=98, reason="spent elsewhere"))
    short = run("reconstruct", str(small_photos), "-o", out, "--cloud", "--quality", "draft", "--yes")
    assert short.returncode == 1 and "costs 7 credits and the organisation has 2" in short.stderr
    assert "Traceback" not in short.stderr and len(_jobs(desktop)) == 1
    # the operator grants credits where a payment webhook would
    granted = run("credits", "grant", desktop.org, "50", "--url", cloud_server.url, "--service-role-key",
                  cloud_server.service_role_key, program="dstudio_backend")
    assert granted.returncode == 0, granted.stderr
    assert desktop.balance() == 52 and "balance 52" in granted.stdout
    bad = run("credits", "grant", "not-an-org", "5", "--service-role-key", "x", program="dstudio_backend")
    assert bad.returncode == 1 and "not an organisation id" in bad.stderr
    desktop.close()
