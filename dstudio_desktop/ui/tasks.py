"""The one way the UI runs long work off the GUI thread: a ``jobs.Job`` (a ``ThreadJob`` for a
plain ``work(progress, token)`` function) whose psygnal events are relayed to the GUI thread by
queued Qt signals (``follow``), optionally behind a progress dialog with a working Cancel
button (``run_task``)."""

from __future__ import annotations

import traceback
from typing import Any, Callable, Optional, Union

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QProgressDialog, QPushButton, QWidget

from ..errors import DStudioError
from ..jobs import Job, JobState, ThreadJob, Work


class _Relay(QObject):
    """Lives on the GUI thread; the job's thread emits, Qt queues the calls to this thread."""

    progress = Signal(float, str)
    ended = Signal()


def error_message(error: BaseException) -> str:
    """The one line the user sees for a job's error: its own message, or, for a bug, what
    kind of bug (the traceback goes to stderr for us)."""
    if isinstance(error, DStudioError):  # Cancelled among them
        return str(error)
    traceback.print_exception(error)
    return f"internal error ({type(error).__name__}: {error})"


def follow(parent: QObject, job: Job, on_progress: Optional[Callable[[float, str], None]],
           on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> Job:
    """Start ``job`` (unless it was started) and call, on the GUI thread, ``on_progress`` with
    each progress report, then once ``on_done(result)`` or ``on_error(one-line message)``; the
    caller can read ``job.exception()`` in ``on_error`` for the error's type. Returns the job
    (``job.cancel()`` cancels it)."""
    relay = _Relay(parent)
    delivered = False

    def land() -> None:
        nonlocal delivered
        if delivered:  # the job may end between connecting and the check below: deliver once
            return
        delivered = True
        job.progressed.disconnect(relay_progress, missing_ok=True)
        job.ended.disconnect(relay_ended, missing_ok=True)
        relay.deleteLater()
        error = job.exception()
        if error is None and job.state is JobState.DONE:
            on_done(job.result())
        else:
            on_error(error_message(error) if error is not None else "the job ended without a result")

    def relay_progress(fraction: float, message: str) -> None:
        relay.progress.emit(fraction, message)

    def relay_ended(_job: Job) -> None:
        relay.ended.emit()

    if on_progress is not None:
        relay.progress.connect(on_progress, Qt.QueuedConnection)
    relay.ended.connect(land, Qt.QueuedConnection)
    job.progressed.connect(relay_progress)
    job.ended.connect(relay_ended)
    if job.state is JobState.PENDING:
        job.start()
    elif job.done:
        relay.ended.emit()
    return job


def run_task(parent: QWidget, title: str, work: Union[Job, Work], on_done: Callable[[Any], None],
             on_error: Callable[[str], None]) -> Job:
    """``follow`` behind a window-modal progress dialog whose Cancel cancels the job. ``work``
    is a ``Job`` or a ``work(progress, token)`` function (run as a ``ThreadJob``)."""
    job = work if isinstance(work, Job) else ThreadJob(work, name=f"task: {title}")
    dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle("Design Studio")
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(300)

    def report(fraction: float, message: str) -> None:
        dialog.setValue(int(fraction * 1000))
        dialog.setLabelText(f"{title}\n{message}")

    def finish(result: Any) -> None:
        dialog.reset()
        on_done(result)

    def fail(message: str) -> None:
        dialog.reset()
        on_error(message)

    dialog.canceled.connect(job.cancel)
    return follow(parent, job, report, finish, fail)


def run_buttons(dialog: QDialog, run_label: str) -> tuple[QDialogButtonBox, QPushButton, QPushButton]:
    """A dialog's Run, Cancel and Close buttons wired to its ``start()``, ``cancel()`` and
    ``reject()``; Cancel starts disabled (the dialog enables it while its run goes)."""
    buttons = QDialogButtonBox()
    run = QPushButton(run_label)
    cancel = QPushButton("Cancel")
    cancel.setEnabled(False)
    buttons.addButton(run, QDialogButtonBox.AcceptRole)
    buttons.addButton(cancel, QDialogButtonBox.ActionRole)
    buttons.addButton(QDialogButtonBox.Close)
    run.clicked.connect(dialog.start)
    cancel.clicked.connect(dialog.cancel)
    buttons.rejected.connect(dialog.reject)
    return buttons, run, cancel
