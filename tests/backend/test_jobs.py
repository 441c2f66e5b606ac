"""The cloud job queue: exactly-once claiming by concurrent workers, leases that expire
when a worker dies, retries up to max_retries, and credit holds settled or refunded. Each
test prices its jobs with a job type of its own (the database quotes them; its queue is the
test's own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import Api, job_type


def _org_with_credits(new_user, service: Api, purchased: int) -> tuple[Api, str]:
    user = new_user()
    org = user.personal_org()
    if purchased:
        service.ok(service.rpc("add_purchased_credits", org_id=org, amount=purchased))
    return user, org


def _balance(api: Api, org: str) -> int:
    return api.ok(api.rpc("get_credit_balance", org_id=org))["balance"]


def _ledger_sum(api: Api, org: str) -> int:
    return sum(e["delta"] for e in api.ok(api.get("credit_ledger", org_id=f"eq.{org}")))


def test_eight_workers_complete_two_hundred_jobs_exactly_once(new_user, service):
    user, org = _org_with_credits(new_user, service, purchased=2000)
    queue = kind = job_type(service.server, base_credits=5)
    jobs = []
    for i in range(200):
        jobs.append(user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind, idempotency_key=f"job-{i}")))
    assert {j["credits_estimated"] for j in jobs} == {5}
    assert _balance(user, org) == 2100 - 1000  # the holds
    # resubmitting with the same key queues nothing new
    again = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind, idempotency_key="job-0"))
    assert again["id"] == jobs[0]["id"]

    def work(worker: int) -> list[str]:
        done = []
        with Api(service.server, service.token) as api:
            while True:
                job = api.ok(api.rpc("claim_next_job", worker_id=f"w{worker}", queues=[queue]))
                if job is None:
                    return done
                api.ok(api.rpc("update_job_progress", job_id=job["id"], worker_id=f"w{worker}", progress=0.5))
                api.ok(api.rpc("complete_job", job_id=job["id"], worker_id=f"w{worker}",
                               outputs={"glb": f"{job['id']}.glb"}, credits_used=3))
                done.append(job["id"])

    with ThreadPoolExecutor(8) as pool:
        finished = [job for batch in pool.map(work, range(8)) for job in batch]
    assert len(finished) == 200 and len(set(finished)) == 200
    assert set(finished) == {j["id"] for j in jobs}
    stored = service.ok(service.get("model_processing_jobs", queue_name=f"eq.{queue}"))
    assert {j["status"] for j in stored} == {"completed"}
    assert all(j["credits_used"] == 3 and j["progress"] == 1 for j in stored)
    assert _balance(user, org) == 2100 - 200 * 3
    assert _ledger_sum(user, org) == _balance(user, org)


WORKER = textwrap.dedent("""
    import sys, time, httpx
    url, key, queue = sys.argv[1:4]
    h = {"apikey": key, "Authorization": "Bearer " + key}
    job = httpx.post(url + "/rest/v1/rpc/claim_next_job", headers=h,
                     json={"worker_id": "doomed", "queues": [queue], "lease_seconds": 2}).json()
    print(job["id"], flush=True)
    time.sleep(3600)  # "working"; killed before it heartbeats or finishes
""")


def test_killed_worker_job_is_reclaimed_after_its_lease(new_user, service):
    user, org = _org_with_credits(new_user, service, purchased=0)
    queue = kind = job_type(service.server, base_credits=10)
    job = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind))
    worker = subprocess.Popen([sys.executable, "-c", WORKER, service.server.url, service.token, queue],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert worker.stdout.readline().strip() == job["id"]
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    # within the lease nobody else gets it
    assert service.ok(service.rpc("claim_next_job", worker_id="rescuer", queues=[queue])) is None
    deadline = time.monotonic() + 10
    claimed = None
    while claimed is None and time.monotonic() < deadline:
        time.sleep(0.25)
        claimed = service.ok(service.rpc("claim_next_job", worker_id="rescuer", queues=[queue]))
    assert claimed is not None and claimed["id"] == job["id"] and claimed["retry_count"] == 1
    # the dead worker's late completion is refused; the rescuer's is taken
    late = service.rpc("complete_job", job_id=job["id"], worker_id="doomed", outputs={}, credits_used=10)
    assert late.status_code == 409
    done = service.ok(service.rpc("complete_job", job_id=job["id"], worker_id="rescuer", outputs={"ok": True},
                                  credits_used=4))
    assert (done["status"], done["worker_id"], done["credits_used"]) == ("completed", "rescuer", 4)
    assert _balance(user, org) == 100 - 4
    assert _ledger_sum(user, org) == 96


def test_always_failing_job_is_retried_then_failed_and_refunded(new_user, service):
    user, org = _org_with_credits(new_user, service, purchased=30)
    queue = kind = job_type(service.server, base_credits=120, max_retries=3)
    job = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind))
    assert (job["credits_estimated"], job["max_retries"], job["queue_name"]) == (120, 3, queue)
    assert _balance(user, org) == 10
    attempts = 0
    while (claimed := service.ok(service.rpc("claim_next_job", worker_id="w", queues=[queue]))) is not None:
        attempts += 1
        last = service.ok(service.rpc("fail_job", job_id=claimed["id"], worker_id="w", error="out of memory"))
    assert attempts == 4  # the first run and 3 retries
    assert (last["status"], last["retry_count"], last["error_message"]) == ("failed", 3, "out of memory")
    balance = user.ok(user.rpc("get_credit_balance", org_id=org))
    assert (balance["balance"], balance["monthly_remaining"], balance["purchased_balance"]) == (130, 100, 30)
    assert _ledger_sum(user, org) == 130
    assert job["id"] == last["id"]


def test_a_short_balance_refuses_the_job(new_user, service):
    user, org = _org_with_credits(new_user, service, purchased=0)
    response = user.rpc("submit_processing_job", org_id=org, job_type=job_type(service.server, base_credits=101))
    assert response.status_code == 402
    assert service.ok(service.get("model_processing_jobs", org_id=f"eq.{org}")) == []
