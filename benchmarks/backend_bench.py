"""Requests per second of the local backend on this machine: a simple authenticated
select and ``consume_credits``, driven by wrk over loopback. The peer is the database
alone: pgbench running the same statements (session check, role and claims, query) that the
REST layer sends, prepared and pipelined as the server sends them, with the same
concurrency, in the same run. The ratio is our HTTP and Python overhead on top of PostgreSQL.
Measured with one server process and with one per core (``--workers``); the load average is
printed beside each table (the machine may be shared).

Then the desktop outbox's ``apply_mutations`` over HTTP, one call per batch of 100, 1,000
and 5,000 mutations (5,000 is the most one call takes): the time per mutation should stay
about the same whatever the batch (it grew with the batch before: 1,000 took 1.8 s,
8,000 took 103 s)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt

from dstudio_backend.process import start_server
from dstudio_backend.workers import default_workers

SECONDS = 8
REPEAT = int(os.environ.get("BACKEND_BENCH_REPEAT", "3"))
CONNECTIONS = 16
BATCHES = (100, 1000, 5000)
PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"


def _wrk(url: str, headers: dict[str, str], body: str | None = None) -> tuple[float, int]:
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n"
                         "wrk.headers['Content-Type'] = 'application/json'\n")
    out = subprocess.run(args + ["-s", script.name, url], capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def _pgbench(db_url: str, statements: list[str], pipelined: bool = False) -> float:
    """The statements as one transaction: by default as psql would send them (begin, each
    statement, commit: a round trip each, parsed each time); ``pipelined`` as the server sends
    them (prepared, all in one round trip)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        if pipelined:
            script.write("\\startpipeline\n" + "".join(statements) + "\\endpipeline\n")
        else:
            script.write("begin;\n" + "".join(statements) + "commit;\n")
    out = subprocess.run([PGBENCH, "-n", "-M", "prepared" if pipelined else "simple", "-c", str(CONNECTIONS),
                          "-j", "1", "-T", str(SECONDS), "-f", script.name,
                          db_url], capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def _mutation_batches(rest: str, auth: dict[str, str], org: str, user_id: str) -> list[tuple[int, float]]:
    """Seconds for one apply_mutations call per batch size (annotations on one project, as an
    outbox full of review notes would send them)."""
    project = httpx.post(f"{rest}/design_studio_projects", headers={**auth, "Prefer": "return=representation"},
                         json={"org_id": org, "name": "outbox"}).json()[0]
    timings = []
    for n in BATCHES:
        batch = [{"id": str(uuid.uuid4()), "entity": "annotation", "op": "insert",
                  "payload": {"id": str(uuid.uuid4()), "project_id": project["id"], "content": f"note {i}",
                              "author_id": user_id}} for i in range(n)]
        started = time.perf_counter()
        response = httpx.post(f"{rest}/rpc/apply_mutations", headers=auth, json={"batch": batch}, timeout=900)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        statuses = {r["status"] for r in response.json()}
        if statuses != {"applied"}:
            raise SystemExit(f"apply_mutations did not apply a batch of {n}: {statuses}")
        timings.append((n, elapsed))
    return timings


def _setup(server) -> tuple[dict, str, str, str, str]:
    anon = {"apikey": server.anon_key}
    session = httpx.post(f"{server.url}/auth/v1/signup", headers=anon,
                         json={"email": "bench@example.com", "password": "benchmark"}).json()
    token, user_id = session["access_token"], session["user"]["id"]
    auth = {**anon, "Authorization": f"Bearer {token}"}
    rest = f"{server.url}/rest/v1"
    org = httpx.get(f"{rest}/org_members", headers=auth, params={"select": "org_id"}).json()[0]["org_id"]
    service = {"apikey": server.anon_key, "Authorization": f"Bearer {server.service_role_key}"}
    httpx.post(f"{rest}/rpc/add_purchased_credits", headers=service, json={"org_id": org, "amount": 10**9})
    # a plan without a project limit for the 50 projects (the free plan allows three)
    httpx.patch(f"{rest}/organizations", headers=service, params={"id": f"eq.{org}"},
                json={"tier": "pro"}).raise_for_status()
    httpx.post(f"{rest}/design_studio_projects", headers=auth,
               json=[{"org_id": org, "name": f"project {i:03d}"} for i in range(50)]).raise_for_status()
    return auth, rest, org, token, user_id


def _pairs(server, auth: dict, rest: str, org: str, token: str, user_id: str) -> list[tuple]:
    select_url = f"{rest}/design_studio_projects?select=id,name,updated_at&org_id=eq.{org}&order=name&limit=10"
    consume_body = json.dumps({"org_id": org, "amount": 1, "reason": "bench"})
    # what the server sends for a user's request (dstudio_backend/db.py): the session check and
    # the claims, the query, and for a write whether it queued object bytes, in one transaction
    token_claims = jwt.decode(token, options={"verify_signature": False})
    claims = json.dumps(token_claims).replace("'", "''")
    set_claims = (f"select private.require_live_session('{user_id}'::uuid, '{token_claims['session_id']}'::uuid), "
                  f"set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{claims}', true);\n")
    select_sql = [set_claims, "select coalesce(json_agg(_r), '[]')::text, count(*) from (select id, name, "
                  f"updated_at from public.design_studio_projects where org_id = '{org}'::uuid order by name "
                  "limit 10) _r;\n"]
    consume_sql = [set_claims, f"select to_json(public.consume_credits(org_id => '{org}'::uuid, amount => 1, "
                   "reason => 'bench'))::text;\n", "select current_setting('dstudio.objects_deleted', true) = 'yes';\n"]
    rows = []
    for label, url, body, sql in (("authenticated select (10 rows, RLS)", select_url, None, select_sql),
                                  ("consume_credits (RPC, 1 credit)", f"{rest}/rpc/consume_credits",
                                   consume_body, consume_sql)):
        # the two alternate, REPEAT times each: on a shared machine the ratio of each pair is
        # what means something, and the median pair is reported
        runs = []
        for _ in range(REPEAT):
            rps, bad = _wrk(url, auth, body)
            runs.append((rps, bad, _pgbench(server.db_url, sql), _pgbench(server.db_url, sql, pipelined=True)))
        rows.append((label, *sorted(runs, key=lambda r: r[0] / r[2])[len(runs) // 2]))
    return rows


def _table(workers: int, rows: list[tuple], load: tuple[float, float]) -> None:
    print(f"{workers} server process{'es' if workers > 1 else ''} "
          f"(1-minute load average before / after: {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores)")
    print(f"{'request':<40} {'HTTP req/s':>11} {'errors':>7} {'SQL alone tx/s':>15} {'ratio':>7} "
          f"{'pipelined tx/s':>15} {'ratio':>7}")
    for label, rps, bad, tps, piped in rows:
        print(f"{label:<40} {rps:>11.0f} {bad:>7} {tps:>15.0f} {rps / tps:>6.2f}× {piped:>15.0f} {rps / piped:>6.2f}×")


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("backend_bench needs wrk (Debian: apt-get install wrk); ./dev bench installs it")
    counts = sorted({1, default_workers()})
    tables = []
    for workers in counts:
        storage = Path(tempfile.mkdtemp(prefix="dstudio-bench-storage-"))
        server = start_server(storage, workers=workers)
        try:
            auth, rest, org, token, user_id = _setup(server)
            load = os.getloadavg()
            rows = _pairs(server, auth, rest, org, token, user_id)
            tables.append((workers, rows, (load[0], os.getloadavg()[0])))
            if workers == counts[-1]:
                batches = _mutation_batches(rest, auth, org, user_id)
                balance = httpx.post(f"{rest}/rpc/get_credit_balance", headers=auth, json={"org_id": org}).json()
                ledger = httpx.get(f"{rest}/credit_ledger", headers=auth,
                                   params={"select": "delta", "org_id": f"eq.{org}"}).json()
        finally:
            server.stop()
            shutil.rmtree(storage, ignore_errors=True)

    print(f"Backend: {CONNECTIONS} concurrent connections for {SECONDS} s each over loopback "
          f"(wrk for HTTP, pgbench for the database alone; the median ratio of {REPEAT} alternating pairs)")
    for workers, rows, load in tables:
        _table(workers, rows, load)
    print("(SQL alone: pgbench sends the same statements one round trip each, as the issue's peer did; "
          "pipelined: prepared and in one round trip, as the server now sends them)")
    consistent = sum(e["delta"] for e in ledger) == balance["balance"]
    print(f"after the run: balance {balance['balance']}, ledger sums to it: {consistent}")
    print()
    print(f"apply_mutations over HTTP, one call per batch (annotation inserts), {counts[-1]} server process(es):")
    print(f"{'batch':>7} {'seconds':>9} {'ms per mutation':>16}")
    for n, seconds in batches:
        print(f"{n:>7} {seconds:>9.2f} {seconds / n * 1000:>16.2f}")


if __name__ == "__main__":
    main()
