"""Credits under concurrency: one source of truth, never negative, the ledger always
agreeing with the balance, idempotent by key, monthly spent before purchased."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from .conftest import Api


def _ledger(api: Api, org: str) -> list[dict]:
    return api.ok(api.get("credit_ledger", org_id=f"eq.{org}", order="id"))


def _balance(api: Api, org: str) -> dict:
    return api.ok(api.rpc("get_credit_balance", org_id=org))


def _check_ledger(api: Api, org: str) -> None:
    ledger = _ledger(api, org)
    balance = _balance(api, org)["balance"]
    assert sum(e["delta"] for e in ledger) == balance
    assert ledger[-1]["running_balance"] == balance
    running = 0
    for entry in ledger:
        running += entry["delta"]
        assert entry["running_balance"] == running


def test_new_account_gets_personal_org_and_free_allocation(new_user):
    user = new_user()
    org = user.personal_org()
    assert user.ok(user.get("profiles", id=f"eq.{user.id}"))[0]["email"] == user.user["email"]
    assert user.ok(user.get("organizations", id=f"eq.{org}"))[0]["is_personal"] is True
    balance = _balance(user, org)
    assert balance == {**balance, "balance": 100, "monthly_remaining": 100, "purchased_balance": 0}
    summary = user.ok(user.get("org_credit_summary", org_id=f"eq.{org}"))[0]
    assert (summary["monthly_remaining"], summary["purchased_balance"], summary["total_available"]) == (100, 0, 100)
    _check_ledger(user, org)


def test_fifty_concurrent_charges_of_ten_against_a_hundred(new_user):
    user = new_user()
    org = user.personal_org()

    def charge(i: int):
        with Api(user.server, user.token, user.user) as api:
            return api.rpc("consume_credits", org_id=org, amount=10, reason=f"render {i}")

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(charge, range(50)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10
    assert statuses.count(402) == 40
    refused = next(r.json() for r in responses if r.status_code == 402)
    assert refused["code"] == "PT402" and "insufficient credits" in refused["message"]
    assert sorted(r.json() for r in responses if r.status_code == 200) == list(range(0, 100, 10))
    assert _balance(user, org)["balance"] == 0
    _check_ledger(user, org)


def test_replayed_idempotency_key_charges_once(new_user):
    user = new_user()
    org = user.personal_org()
    key = str(uuid.uuid4())

    def charge(_):
        with Api(user.server, user.token, user.user) as api:
            return api.ok(api.rpc("consume_credits", org_id=org, amount=7, reason="export", idempotency_key=key))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(charge, range(8)))
    assert results == [93] * 8
    assert _balance(user, org)["balance"] == 93
    assert len([e for e in _ledger(user, org) if e["category"] == "usage"]) == 1


def test_monthly_spent_before_purchased_and_reset(new_user, service):
    user = new_user()
    org = user.personal_org()
    assert service.ok(service.rpc("add_purchased_credits", org_id=org, amount=50, idempotency_key="stripe-1")) == 150
    assert service.ok(service.rpc("add_purchased_credits", org_id=org, amount=50, idempotency_key="stripe-1")) == 150
    user.ok(user.rpc("consume_credits", org_id=org, amount=120, reason="big job"))
    balance = _balance(user, org)
    assert (balance["monthly_remaining"], balance["purchased_balance"], balance["balance"]) == (0, 30, 30)
    spent = [(e["credit_source"], e["delta"]) for e in _ledger(user, org) if e["category"] == "usage"]
    assert spent == [("monthly", -100), ("purchased", -20)]
    assert user.rpc("add_purchased_credits", org_id=org, amount=10).status_code in (403, 404)
    assert service.ok(service.rpc("reset_monthly_credits", org_id=org)) == 1
    balance = _balance(user, org)
    assert (balance["monthly_remaining"], balance["purchased_balance"], balance["balance"]) == (100, 30, 130)
    _check_ledger(user, org)


def test_bad_amounts_are_refused(new_user):
    user = new_user()
    org = user.personal_org()
    for amount in (0, -5):
        response = user.rpc("consume_credits", org_id=org, amount=amount, reason="x")
        assert response.status_code == 400 and "positive" in response.json()["message"]
    assert _balance(user, org)["balance"] == 100
