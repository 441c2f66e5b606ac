"""``dstudio-backend start``: like ``supabase start``, brings up a database (a throwaway
cluster, a kept data folder, or a given DSN), applies the migrations, and serves the API,
printing its URL and keys."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from . import credits_cli, workers
from .cluster import Cluster, ClusterError, free_port
from .limits import Limits
from .migrations import apply_migrations
from .tokens import Tokens


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dstudio-backend", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start the database and the API server")
    where = start.add_mutually_exclusive_group()
    where.add_argument("--dsn", help="use this PostgreSQL database instead of starting one")
    where.add_argument("--data-dir", type=Path, help="keep the database cluster in this folder")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=54321, help="0 picks a free port")
    start.add_argument("--storage-dir", type=Path, help="where object bytes live (default: a folder next to the data)")
    start.add_argument("--jwt-secret", help="the HS256 secret (default: a new random one)")
    start.add_argument("--jwt-expiry", type=int, default=3600, help="access token lifetime in seconds")
    start.add_argument("--refresh-token-reuse-interval", type=int, default=0, metavar="SECONDS",
                       help="how long a spent refresh token may be presented again and get the live one back "
                            "(GoTrue's default is 10; 0, the default here, allows no reuse)")
    start.add_argument("--signed-url-max-age", type=int, default=Limits.signed_url_max_age, metavar="SECONDS",
                       help="the longest expiresIn a signed URL may have (default: a week)")
    start.add_argument("--max-rest-body", type=int, default=Limits.rest_body, metavar="BYTES",
                       help="the largest /rest/v1 request body (default 16 MiB; uploads are limited per bucket)")
    start.add_argument("--realtime-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="close a realtime socket silent this long (default 60, as Phoenix)")
    start.add_argument("--session-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="mark a presence session inactive when its heartbeats stop this long (default 60)")
    start.add_argument("--workers", type=int, default=None, metavar="N",
                       help="server processes sharing the port (default: one per core)")
    start.add_argument("--json", action="store_true", help="print the connection details as one JSON line")
    migrate = sub.add_parser("migrate", help="apply the migrations to a database")
    migrate.add_argument("--dsn", required=True)
    credits_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "credits":
            return credits_cli.run(args)
        if args.command == "migrate":
            applied = apply_migrations(args.dsn)
            print(f"applied {len(applied)} migration(s)")
            return 0
        return _start(args)
    except (ClusterError, RuntimeError) as exc:
        print(f"dstudio-backend: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _start(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import Config, create_app

    cluster = None
    throwaway_storage: Path | None = None
    if args.dsn:
        dsn = args.dsn
    else:
        cluster = Cluster.create(args.data_dir)
        cluster.start()
        dsn = cluster.dsn
    try:
        apply_migrations(dsn)
        port = args.port or free_port()
        url = f"http://{args.host}:{port}"
        tokens = Tokens(args.jwt_secret)
        storage_dir = args.storage_dir or (
            (cluster.data_dir.parent / (cluster.data_dir.name + "-storage")) if cluster
            else Path(tempfile.mkdtemp(prefix="dstudio-storage-")))
        if cluster is not None and cluster.throwaway and args.storage_dir is None:
            throwaway_storage = storage_dir  # the bytes of a throwaway database go with it
        limits = Limits(rest_body=args.max_rest_body, signed_url_max_age=args.signed_url_max_age)
        config = Config(dsn=dsn, storage_dir=storage_dir, tokens=tokens, jwt_expiry=args.jwt_expiry,
                        limits=limits, refresh_token_reuse_interval=args.refresh_token_reuse_interval,
                        realtime_timeout=args.realtime_timeout, session_timeout=args.session_timeout)
        details = {"api_url": url, "db_url": dsn, "anon_key": tokens.api_key("anon"),
                   "service_role_key": tokens.api_key("service_role"), "jwt_secret": tokens.secret,
                   "storage_dir": str(storage_dir)}
        count = args.workers or workers.default_workers()
        if count > 1:
            return workers.serve(config, args.host, port, count, lambda: _print_details(details, args.json))
        server = uvicorn.Server(workers.uvicorn_config(create_app(config), host=args.host, port=port))
        # uvicorn raises the signal it caught again once it has shut down: SIGTERM's default
        # action would end the process here and leave the throwaway cluster running
        signal.signal(signal.SIGTERM, workers.raise_interrupt)
        # uvicorn's own loop choice (uvloop when installed), as server.run() would make it
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            return runner.run(_serve(server, details, args.json))
    finally:
        if cluster is not None:
            cluster.stop()
        if throwaway_storage is not None:
            shutil.rmtree(throwaway_storage, ignore_errors=True)


async def _serve(server, details: dict, as_json: bool) -> int:
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            return 1
        await asyncio.sleep(0.05)
    workers.settle_memory()
    _print_details(details, as_json)
    await task
    return 0


def _print_details(details: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(details), flush=True)
    else:
        print("dstudio-backend is running.\n", flush=True)
        for label, key in (("API URL", "api_url"), ("DB URL", "db_url"), ("anon key", "anon_key"),
                           ("service_role key", "service_role_key"), ("JWT secret", "jwt_secret")):
            print(f"{label:>17}: {details[key]}", flush=True)
