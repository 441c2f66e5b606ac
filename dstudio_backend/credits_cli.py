"""``dstudio-backend credits grant ORG N``: purchased credits for an organisation, given by the
service role, where a payment provider's webhook would call ``add_purchased_credits`` on a
hosted deployment (self-hosters have no such webhook)."""

from __future__ import annotations

import argparse
import os
import uuid

import httpx


def add_parser(sub) -> None:
    credits = sub.add_parser("credits", help="credits of an organisation (service role)")
    csub = credits.add_subparsers(dest="credits_command", required=True)
    grant = csub.add_parser("grant", help="add N purchased credits to organisation ORG")
    grant.add_argument("org", metavar="ORG", help="the organisation's id")
    grant.add_argument("amount", metavar="N", type=int)
    grant.add_argument("--url", default=os.environ.get("DSTUDIO_BACKEND_URL", "http://127.0.0.1:54321"))
    grant.add_argument("--service-role-key", default=os.environ.get("DSTUDIO_SERVICE_ROLE_KEY"),
                       help="default $DSTUDIO_SERVICE_ROLE_KEY (printed by 'dstudio-backend start')")
    grant.add_argument("--reason", default="granted by the operator")


def run(args: argparse.Namespace) -> int:
    """Prints the new balance; one line and exit 1 when refused."""
    if not args.service_role_key:
        raise RuntimeError("give --service-role-key (or set DSTUDIO_SERVICE_ROLE_KEY)")
    if not 0 < args.amount <= 1_000_000:
        raise RuntimeError(f"N must be 1 to 1000000 credits, not {args.amount}")
    try:
        uuid.UUID(args.org)
    except ValueError:
        raise RuntimeError(f"{args.org!r} is not an organisation id") from None
    key = args.service_role_key
    try:
        response = httpx.post(f"{args.url.rstrip('/')}/rest/v1/rpc/add_purchased_credits", timeout=30,
                              headers={"apikey": key, "Authorization": f"Bearer {key}"},
                              json={"org_id": args.org, "amount": args.amount, "reason": args.reason,
                                    "idempotency_key": f"grant:{uuid.uuid4()}"})
    except httpx.HTTPError as err:
        raise RuntimeError(f"{args.url}: {err}") from None
    if response.status_code >= 300:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise RuntimeError(f"refused ({response.status_code}): {message}")
    balance = response.json()
    print(f"granted {args.amount} credits to {args.org}; balance {balance}")
    return 0
