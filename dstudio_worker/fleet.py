"""The worker's loop: ``concurrency`` slots, each claiming a job, running it under a lease kept
by a heartbeat thread, and settling it with the backend.

How a job ends, and what the backend is told:
- done: the outputs are uploaded, the asset row made, then ``complete_job`` with the credits
  used (the server never settles more than its quote);
- a ``DStudioError`` (a message for a person) or a bug: ``fail_job``, which retries the job
  later or, after its last retry, fails it and refunds the hold;
- cancelled by its user: the heartbeat (or a progress report) is answered 410; the run is
  cancelled at once and nothing more is written (a row made in the meantime is removed);
- the worker is stopped (SIGTERM): the run is cancelled and ``release_job`` gives the job
  back to the queue as it was."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from dstudio_desktop.core.progress import CancelToken
from dstudio_desktop.errors import Cancelled, DStudioError
from dstudio_desktop.sync.client import BackendClient, Offline, Rejected

from .tasks import HANDLERS, Context, Outcome

log = logging.getLogger("dstudio-worker")


@dataclass(frozen=True)
class Options:
    url: str
    key: str
    queues: list[str]
    concurrency: int = 1
    once: bool = False
    device: str = "auto"
    lease_seconds: int = 60
    heartbeat: float = 5.0
    poll: float = 2.0
    worker_id: str = "worker"
    retry_delay: int = 5


def connect(options: Options) -> BackendClient:
    client = BackendClient(options.url, options.key, timeout=120)
    client.token = options.key
    return client


class Lease:
    """Keeps one claimed job's lease alive from a thread of its own, and relays progress. When the
    server says the job is gone (cancelled: 410) or no longer ours (409: the lease ran out and
    another worker took it), the run's token is cancelled and ``lost`` says why."""

    def __init__(self, client: BackendClient, job: dict[str, Any], options: Options, token: CancelToken) -> None:
        self.client, self.job, self.options, self.token = client, job, options, token
        self.lost: Optional[str] = None
        self._lock = threading.Lock()  # one request at a time on the shared client
        self._stop = threading.Event()
        self._last_progress = 0.0
        self._thread = threading.Thread(target=self._beat, name=f"lease {job['id']}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def call(self, fn: str, **args: Any) -> Any:
        """An RPC about this job; a 410 or 409 marks the lease lost and cancels the run."""
        with self._lock:
            try:
                return self.client.rpc(fn, job_id=self.job["id"], worker_id=self.options.worker_id, **args)
            except Rejected as err:
                if err.status in (409, 410):
                    self.lost = "cancelled" if err.status == 410 else "taken"
                    self.token.cancel()
                raise

    def _beat(self) -> None:
        while not self._stop.wait(self.options.heartbeat):
            try:
                self.call("heartbeat_job", lease_seconds=self.options.lease_seconds)
            except Rejected:
                if self.lost:
                    return
            except Offline as err:  # the lease lasts a while yet: try again at the next beat
                log.warning("heartbeat for job %s failed: %s", self.job["id"], err)

    def progress(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self._last_progress < 1.0 and fraction < 1.0:
            return
        self._last_progress = now
        try:
            self.call("update_job_progress", progress=round(fraction, 4), lease_seconds=self.options.lease_seconds)
        except (Rejected, Offline):
            pass  # lost: the token is cancelled already; offline: the next beat tries again


class Fleet:
    def __init__(self, options: Options) -> None:
        self.options = options
        self._stopping = threading.Event()
        self._tokens: set[CancelToken] = set()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """Stop claiming and hand the jobs in progress back (safe from a signal handler)."""
        self._stopping.set()
        with self._lock:
            for token in self._tokens:
                token.cancel()

    def run(self) -> int:
        slots = [threading.Thread(target=self._slot, args=(i,), name=f"slot {i}", daemon=True)
                 for i in range(self.options.concurrency)]
        for slot in slots:
            slot.start()
        while any(s.is_alive() for s in slots):
            for slot in slots:
                slot.join(0.2)  # short joins, so the main thread stays free for signals
        return 0

    def _slot(self, index: int) -> None:
        options = self.options
        worker_id = options.worker_id if options.concurrency == 1 else f"{options.worker_id}/{index}"
        client = connect(options)
        try:
            while not self._stopping.is_set():
                try:
                    job = client.rpc("claim_next_job", worker_id=worker_id, queues=options.queues,
                                     lease_seconds=options.lease_seconds)
                except Offline as err:
                    log.warning("cannot reach the backend: %s", err)
                    job = None
                if not job:
                    self._stopping.wait(options.poll)
                    continue
                self.run_job(client, job, worker_id)
                if options.once:
                    return
        finally:
            client.close()

    def run_job(self, client: BackendClient, job: dict[str, Any], worker_id: str) -> None:
        options = Options(**{**self.options.__dict__, "worker_id": worker_id})
        token = CancelToken()
        with self._lock:
            self._tokens.add(token)
        if self._stopping.is_set():
            token.cancel()
        log.info("job %s (%s, try %s) claimed", job["id"], job["job_type"], job["retry_count"] + 1)
        try:
            with Lease(client, job, options, token) as lease, \
                    tempfile.TemporaryDirectory(prefix="dstudio-worker-") as work:
                self._settle(client, job, lease, Path(work), token, options)
        finally:
            with self._lock:
                self._tokens.discard(token)

    def _settle(self, client: BackendClient, job: dict[str, Any], lease: Lease, work: Path, token: CancelToken,
                options: Options) -> None:
        handler = HANDLERS.get(job["job_type"])
        context = Context(client=client, job=job, work=work, progress=lease.progress, cancel=token,
                          device=options.device, check_lease=lambda: lease.call(
                              "heartbeat_job", lease_seconds=options.lease_seconds))
        outcome: Optional[Outcome] = None
        try:
            if handler is None:
                raise DStudioError(f"this worker does not run {job['job_type']} jobs")
            outcome = handler(context)
            lease.call("complete_job", outputs=outcome.outputs, credits_used=outcome.credits_used)
            log.info("job %s completed (%s credits)", job["id"], outcome.credits_used)
        except (Cancelled, Rejected, Offline) as err:
            if lease.lost == "cancelled":
                log.info("job %s was cancelled by its user: stopped", job["id"])
                if outcome is not None:
                    outcome.undo(client)
            elif lease.lost == "taken":
                log.warning("job %s is no longer this worker's (its lease ran out): dropped", job["id"])
            elif isinstance(err, Cancelled) and self._stopping.is_set():
                self._quietly(lease, "release_job")
                log.info("job %s released: the worker is stopping", job["id"])
            else:
                self._fail(lease, job, f"the worker could not talk to the backend: {err}")
        except DStudioError as err:
            self._fail(lease, job, str(err))
        except Exception as err:  # noqa: BLE001 - a bug: the job fails readably, the traceback goes to the log
            traceback.print_exc()
            self._fail(lease, job, f"internal error in the worker ({type(err).__name__}: {err})")

    def _fail(self, lease: Lease, job: dict[str, Any], message: str) -> None:
        row = self._quietly(lease, "fail_job", error=message[:2000], retry_delay_seconds=self.options.retry_delay)
        log.info("job %s failed (%s): %s", job["id"], (row or {}).get("status", "?"), message)

    @staticmethod
    def _quietly(lease: Lease, fn: str, **args: Any) -> Any:
        try:
            return lease.call(fn, **args)
        except (Rejected, Offline) as err:
            log.warning("%s for job %s: %s", fn, lease.job["id"], err)
            return None
