"""``dstudio-worker --url URL --queues reconstruct,export [--concurrency N] [--once]``.

The key (the backend's service role key, or a worker key with that role) comes from
``--key`` or ``DSTUDIO_WORKER_KEY``. SIGTERM or SIGINT releases the jobs in hand back to the
queue and exits; a worker killed outright leaves its leases to expire, and another worker takes
its jobs then."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys

from .fleet import Fleet, Options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dstudio-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DSTUDIO_WORKER_URL"), help="the backend's URL")
    parser.add_argument("--key", default=os.environ.get("DSTUDIO_WORKER_KEY"),
                        help="the service role (or worker) key; default $DSTUDIO_WORKER_KEY")
    parser.add_argument("--queues", default="reconstruct,export", help="comma-separated queue names")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    parser.add_argument("--once", action="store_true", help="run one job (waiting for one if none is queued), then exit")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--lease-seconds", type=int, default=60, help="how long a claim holds without a heartbeat")
    parser.add_argument("--heartbeat", type=float, default=None,
                        help="seconds between heartbeats (default a fifth of the lease, at most 5)")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks at an empty queue")
    parser.add_argument("--worker-id", default=f"{socket.gethostname()}-{os.getpid()}")
    parser.add_argument("--retry-delay", type=int, default=5, help="seconds before a failed job is tried again")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if not args.url or not args.key:
        print("dstudio-worker: give the backend's --url and --key (or DSTUDIO_WORKER_URL and DSTUDIO_WORKER_KEY)",
              file=sys.stderr)
        return 2
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if not queues or args.concurrency < 1 or args.lease_seconds < 2:
        print("dstudio-worker: --queues names at least one queue, --concurrency is at least 1, "
              "--lease-seconds at least 2", file=sys.stderr)
        return 2
    heartbeat = args.heartbeat if args.heartbeat is not None else min(5.0, args.lease_seconds / 5)
    fleet = Fleet(Options(url=args.url, key=args.key, queues=queues, concurrency=args.concurrency, once=args.once,
                          device=args.device, lease_seconds=args.lease_seconds, heartbeat=heartbeat, poll=args.poll,
                          worker_id=args.worker_id, retry_delay=args.retry_delay))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: fleet.stop())
    return fleet.run()


if __name__ == "__main__":
    sys.exit(main())
