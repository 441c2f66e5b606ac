"""Long work off the GUI thread, with a progress dialog and a working Cancel button."""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..core.progress import CancelToken
from ..errors import DStudioError


class _Relay(QObject):
    """Carries a worker thread's reports to the GUI thread (queued signal delivery)."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)


def run_in_thread(parent: QWidget, name: str, work: Callable[[Callable[[float, str], None], CancelToken], Any],
                  on_progress: Callable[[float, str], None], on_done: Callable[[Any], None],
                  on_error: Callable[[str], None]) -> tuple[CancelToken, threading.Thread]:
    """Run ``work(progress, token)`` in a thread; its progress, result or one-line error come
    back on the GUI thread. The returned token cancels it."""
    token = CancelToken()
    relay = _Relay(parent)

    def finish(result: Any) -> None:
        relay.deleteLater()
        on_done(result)

    def fail(message: str) -> None:
        relay.deleteLater()
        on_error(message)

    relay.progress.connect(on_progress)
    relay.finished.connect(finish)
    relay.failed.connect(fail)

    def body() -> None:
        try:
            result = work(relay.progress.emit, token)
        except DStudioError as err:  # Cancelled among them
            relay.failed.emit(str(err))
        except Exception as err:  # noqa: BLE001 - a bug; the user still gets one line, not a crash
            traceback.print_exc()
            relay.failed.emit(f"internal error ({type(err).__name__}: {err})")
        else:
            relay.finished.emit(result)

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return token, thread


def run_task(parent: QWidget, title: str, work: Callable[[Callable[[float, str], None], CancelToken], Any],
             on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> CancelToken:
    """Run ``work(progress, token)`` in a thread; show progress; Cancel sets the token."""
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

    token, _ = run_in_thread(parent, f"task: {title}", work, report, finish, fail)
    dialog.canceled.connect(token.cancel)
    return token
