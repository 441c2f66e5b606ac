"""The cloud runner: a ``Job`` whose work runs on the backend's workers. It submits (through a
function it is given: the upload and submission are a use case's), then follows the job's row,
relaying its progress; cancelling it cancels the row on the server (the hold comes back); it
ends with the completed row (or what ``finish`` makes of it), ``Cancelled`` when the row ended
cancelled, or a ``DStudioError`` carrying the row's message when it failed.

It knows no HTTP: ``submit``, ``fetch`` and ``cancel_remote`` are the caller's, so this layer
stays below sync and services."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ..core.progress import CancelToken, ProgressCallback
from ..errors import Cancelled, DStudioError
from .base import Job

ENDED = ("completed", "failed", "cancelled")
SUBMIT_SHARE = 0.1  # of the progress bar: the upload and submission


class CloudJob(Job):
    def __init__(self, submit: Callable[[ProgressCallback, CancelToken], dict[str, Any]],
                 fetch: Callable[[str], dict[str, Any]], cancel_remote: Callable[[str], Any],
                 finish: Optional[Callable[[dict[str, Any], ProgressCallback, CancelToken], Any]] = None,
                 name: str = "cloud job", poll: float = 1.0) -> None:
        super().__init__(name)
        self._submit, self._fetch, self._cancel_remote, self._finish = submit, fetch, cancel_remote, finish
        self.poll = poll
        self.row: Optional[dict[str, Any]] = None  # the job's row as last seen
        self._detached = False

    def detach(self) -> None:
        """Stop following the job here and leave it running on the server (a closed dialog, an
        app that quits: the Jobs panel picks it up again from the server)."""
        self._detached = True
        self.cancel()

    @property
    def job_id(self) -> Optional[str]:
        return self.row["id"] if self.row else None

    def _execute(self, progress: ProgressCallback, token: CancelToken) -> Any:
        self.row = self._submit(lambda f, m: progress(SUBMIT_SHARE * f, m), token)
        while self.row["status"] not in ENDED:
            self._sleep(token)
            self.row = self._fetch(self.row["id"])
            progress(SUBMIT_SHARE + (0.95 - SUBMIT_SHARE) * float(self.row.get("progress") or 0),
                     f"{self.row['status']} on the server")
        if self.row["status"] == "cancelled":
            raise Cancelled(self.name)
        if self.row["status"] == "failed":
            raise DStudioError(self.row.get("error_message") or f"the {self.name} failed on the server")
        if self._finish is None:
            progress(1.0, "done")
            return self.row
        return self._finish(self.row, lambda f, m: progress(0.95 + 0.05 * f, m), token)

    def _sleep(self, token: CancelToken) -> None:
        deadline = time.monotonic() + self.poll
        while time.monotonic() < deadline:
            if token.cancelled:
                if not self._detached:
                    self._cancel_remote(self.row["id"])
                raise Cancelled(self.name)
            time.sleep(0.05)
