"""The one interface for long work (reconstruction, slicing, exports, a sync): a ``Job`` is
started, reports progress as psygnal events, can be cancelled from any thread, and ends with a
result or an error, which ``result()`` returns or raises.

Runners implement ``Job._execute``: ``ThreadJob`` (a function in a thread, here),
``ProcessJob`` (a child process, ``jobs.process``) and, next, the cloud runner. That last one
is the seam this interface was shaped for: its ``_execute`` will submit the work to the
backend's job queue, follow the job's row (relaying the row's fraction and message through
``progress``), ask the backend to cancel the row when ``token`` is set, and return the row's
result or raise its error as a ``DStudioError`` (``Cancelled`` when the row ends cancelled) —
so the CLI's ``run()`` and the UI's relay work with it unchanged.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import traceback
from typing import Any, Callable, Optional

from psygnal import Signal

from ..core.progress import CancelToken, ProgressCallback, no_progress
from ..errors import Cancelled

#: ``work(progress, token)``: the shape of every long function here (see ``core.progress``).
Work = Callable[[ProgressCallback, CancelToken], Any]


class JobState(enum.StrEnum):
    """Where a job is: pending until started, running, then one of the three ends."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job:
    """One piece of long work behind the common interface.

    ``progressed(fraction, message)`` fires on the job's own thread (fraction in 0..1), in the
    order the work reported it; ``ended(job)`` fires once, after the state is final. Qt code
    must not touch widgets from these handlers: ``ui.tasks`` relays them to the GUI thread.
    """

    progressed = Signal(float, str)
    ended = Signal(object)

    def __init__(self, name: str) -> None:
        self.name = name
        self._token = CancelToken()
        self._state = JobState.PENDING
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._result: Any = None
        self._error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None

    # -- what a runner implements ----------------------------------------------------

    def _execute(self, progress: ProgressCallback, token: CancelToken) -> Any:
        """The work itself, on the job's thread: report through ``progress``, stop soon after
        ``token`` is set (raising ``Cancelled``), return the result or raise a ``DStudioError``."""
        raise NotImplementedError

    # -- the interface -----------------------------------------------------------------

    @property
    def state(self) -> JobState:
        return self._state

    @property
    def done(self) -> bool:
        """True once the job has ended, whichever way."""
        return self._finished.is_set()

    @property
    def cancelled(self) -> bool:
        """True once cancel was asked for (the job may still be stopping)."""
        return self._token.cancelled

    def start(self) -> Job:
        with self._lock:
            if self._state is not JobState.PENDING:
                raise RuntimeError(f"job {self.name!r} was already started")
            self._state = JobState.RUNNING
        self._thread = threading.Thread(target=self._body, name=f"job: {self.name}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop; safe from any thread, at any time, more than once."""
        self._token.cancel()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the job has ended or ``timeout`` seconds passed; True if it ended."""
        return self._finished.wait(timeout)

    def result(self, timeout: Optional[float] = None) -> Any:
        """Wait for the job and return its result, or raise its error (``Cancelled`` if it was
        cancelled); ``TimeoutError`` if it has not ended within ``timeout`` seconds."""
        if self._state is JobState.PENDING:
            raise RuntimeError(f"job {self.name!r} was not started")
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.name!r} still running")
        if self._error is not None:
            raise self._error
        return self._result

    def exception(self) -> Optional[BaseException]:
        """The error the job ended with; None while it runs or when it succeeded."""
        return self._error if self._finished.is_set() else None

    def _body(self) -> None:
        try:
            self._result = self._execute(self.progressed.emit, self._token)
            state = JobState.DONE
        except Cancelled as err:
            self._error, state = err, JobState.CANCELLED
        except BaseException as err:  # noqa: BLE001 - kept for result(); the caller decides what it means
            self._error, state = err, JobState.FAILED
        self._state = state
        self._finished.set()
        try:
            self.ended.emit(self)
        except Exception:  # noqa: BLE001 - a broken listener must not leave the job unfinished
            traceback.print_exc()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self._state.value}>"


class ThreadJob(Job):
    """``work(progress, token)`` in a thread of its own: the in-process runner, for work that
    checks its token between steps (imports, exports, a sync, printability checks).

    ``yielding`` work runs at the lowest scheduling priority (its thread, and the threads it
    starts, niced to ``YIELD_NICENESS`` where the system schedules threads one by one): work
    beside a program the user waits for, such as the printability checks beside the slicer
    (a child of ours, at our priority), then takes only the cores that program leaves idle
    instead of a share of each."""

    def __init__(self, work: Work, name: str = "work", yielding: bool = False) -> None:
        super().__init__(name)
        self._work = work
        self._yielding = yielding

    def _execute(self, progress: ProgressCallback, token: CancelToken) -> Any:
        if self._yielding:
            lower_thread_priority()
        return self._work(progress, token)


YIELD_NICENESS = 19


def lower_thread_priority(niceness: int = YIELD_NICENESS) -> bool:
    """Nice the calling thread (Linux: a thread id is a schedulable task of its own, and the
    threads it starts inherit its niceness); True if it was lowered. Elsewhere ``setpriority``
    would nice the whole process, so nothing is done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError:
        return False
    return True


def run(job: Job, progress: ProgressCallback = no_progress, cancel: Optional[CancelToken] = None,
        poll: float = 0.05) -> Any:
    """Run ``job`` to its end as a plain long function would: its progress goes to ``progress``
    (on the job's thread), setting ``cancel`` cancels it, and its result is returned or its
    error raised. This is how functions with the ``(progress, cancel)`` idiom and the CLI use
    jobs. An interrupt while waiting (KeyboardInterrupt) cancels the job and waits for it to
    stop, so no child outlives its caller."""
    job.progressed.connect(progress)
    try:
        if job.state is JobState.PENDING:
            job.start()
        try:
            while not job.wait(poll):
                if cancel is not None and cancel.cancelled:
                    job.cancel()
        except BaseException:
            job.cancel()
            job.wait()
            raise
        return job.result()
    finally:
        job.progressed.disconnect(progress, missing_ok=True)
