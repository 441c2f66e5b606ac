"""Cloud jobs priced by the server: the quote's breakdown and balance, what a client says a
job costs ignored, settlement never above the quote, and cancel refunding the hold (a
worker's next heartbeat is told the job is gone)."""

from __future__ import annotations

import pytest

from .conftest import Api, set_tier


def _balance(api: Api, org: str) -> int:
    return api.ok(api.rpc("get_credit_balance", org_id=org))["balance"]


def _claim(service: Api, job_id: str, queue: str) -> dict:
    """Claims ``job_id`` as worker w from the shared queue, failing past other tests' leftovers."""
    while (claimed := service.ok(service.rpc("claim_next_job", worker_id="w", queues=[queue]))) is not None:
        if claimed["id"] == job_id:
            return claimed
        service.ok(service.rpc("fail_job", job_id=claimed["id"], worker_id="w", error="not this test's"))
    raise AssertionError(f"job {job_id} was not claimable")


def _photos(org: str, count: int) -> list[dict]:
    return [{"name": f"p{i:02d}.png", "path": f"{org}/{i:064x}.png", "sha256": f"{i:064x}"} for i in range(count)]


@pytest.fixture
def pro(server, new_user):
    user = new_user()
    org = user.personal_org()
    set_tier(server, org, "pro")
    return user, org


def test_the_quote_breaks_a_reconstruction_down_and_shows_the_balance(pro):
    user, org = pro
    quote = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                             parameters={"quality": "draft", "images": _photos(org, 24)}))
    assert quote["breakdown"] == {"base_credits": 2, "format_credits": 0, "per_image_credits": 1, "images": 24,
                                  "target_credits": 0, "quality_percent": 50}
    assert quote["credits"] == 13  # ceil((2 + 24) * 50%)
    assert (quote["balance"], quote["monthly_remaining"], quote["purchased_balance"], quote["sufficient"]) == \
        (100, 100, 0, True)
    high = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                            parameters={"quality": "high", "images": _photos(org, 60)}))
    assert high["credits"] == 155 and high["sufficient"] is False
    # photos one by one must be named, and in the organisation's folder
    assert user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="png").status_code == 400
    stray = [{"name": "x.png", "path": "someone-else/x.png", "sha256": "0" * 64}]
    assert user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                    parameters={"images": stray}).status_code == 403


def test_an_export_is_priced_per_target_format_and_preset(pro):
    user, org = pro
    glb = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="export", source_format="glb",
                           target_formats=["glb"]))
    both = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="export", source_format="glb",
                            target_formats=["glb", "stl"], parameters={"preset": "lod"}))
    assert (glb["credits"], glb["breakdown"]["target_credits"]) == (3, 2)
    assert (both["credits"], both["quality"], both["breakdown"]["target_credits"]) == (10, "lod", 3)
    assert user.rpc("quote_processing_job", org_id=org, job_type="export", source_format="glb").status_code == 400
    assert user.rpc("quote_processing_job", org_id=org, job_type="export", source_format="glb",
                    target_formats=["gcode2"]).status_code == 400


@pytest.mark.parametrize("claimed", [0, None, 1, 10**6])
def test_what_a_client_says_a_job_costs_is_ignored(pro, service, claimed):
    user, org = pro
    photos = {"quality": "draft", "images": _photos(org, 10)}
    quote = user.ok(user.rpc("quote_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                             parameters=photos))["credits"]
    job = user.ok(user.rpc("submit_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                           parameters=photos, credits_estimated=claimed))
    assert job["credits_estimated"] == quote == 6
    assert _balance(user, org) == 100 - quote
    holds = user.ok(user.get("credit_ledger", org_id=f"eq.{org}", category="eq.hold"))
    assert [h["delta"] for h in holds] == [-quote]
    # the worker settles what it used, never more than the quote; the rest comes back
    _claim(service, job["id"], "reconstruct")
    done = service.ok(service.rpc("complete_job", job_id=job["id"], worker_id="w", outputs={}, credits_used=10**6))
    assert done["credits_used"] == quote and _balance(user, org) == 100 - quote


def test_settling_less_than_the_quote_returns_the_rest(pro, service):
    user, org = pro
    kind = "export"
    job = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind, source_format="glb",
                           target_formats=["glb", "obj"], idempotency_key="exp-1"))
    assert job["credits_estimated"] == 4
    # a retry with the same key is the same job and the same hold
    again = user.ok(user.rpc("submit_processing_job", org_id=org, job_type=kind, source_format="glb",
                             target_formats=["glb", "obj"], idempotency_key="exp-1"))
    assert again["id"] == job["id"] and _balance(user, org) == 96
    _claim(service, job["id"], "export")
    done = service.ok(service.rpc("complete_job", job_id=job["id"], worker_id="w", outputs={}, credits_used=1))
    assert done["credits_used"] == 1 and _balance(user, org) == 99
    ledger = user.ok(user.get("credit_ledger", org_id=f"eq.{org}", order="id"))
    assert [(e["category"], e["delta"]) for e in ledger][-2:] == [("hold", -4), ("refund", 3)]
    assert ledger[-1]["running_balance"] == _balance(user, org)


def test_cancel_refunds_a_queued_or_running_job_and_the_worker_is_told(pro, service, new_user):
    user, org = pro
    photos = {"quality": "normal", "images": _photos(org, 8)}
    queued = user.ok(user.rpc("submit_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                              parameters=photos))
    assert _balance(user, org) == 90
    cancelled = user.ok(user.rpc("cancel_job", job_id=queued["id"]))
    assert (cancelled["status"], cancelled["credits_used"]) == ("cancelled", 0)
    assert _balance(user, org) == 100
    assert user.ok(user.rpc("cancel_job", job_id=queued["id"]))["status"] == "cancelled"  # twice is once
    assert _balance(user, org) == 100

    running = user.ok(user.rpc("submit_processing_job", org_id=org, job_type="reconstruct", source_format="png",
                               parameters=photos))
    _claim(service, running["id"], "reconstruct")
    # someone outside the organisation learns nothing and cancels nothing
    stranger = new_user()
    assert stranger.rpc("cancel_job", job_id=running["id"]).status_code == 404
    user.ok(user.rpc("cancel_job", job_id=running["id"]))
    assert _balance(user, org) == 100
    beat = service.rpc("heartbeat_job", job_id=running["id"], worker_id="w")
    assert beat.status_code == 410 and "cancelled" in beat.json()["message"]
    late = service.rpc("complete_job", job_id=running["id"], worker_id="w", outputs={}, credits_used=5)
    assert late.status_code == 410 and _balance(user, org) == 100
    # an ended job has nothing to cancel
    assert user.rpc("cancel_job", job_id=running["id"]).status_code == 200
    ledger = user.ok(user.get("credit_ledger", org_id=f"eq.{org}", order="id"))
    assert sum(e["delta"] for e in ledger) == 100 and ledger[-1]["running_balance"] == 100
