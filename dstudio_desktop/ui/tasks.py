"""Long work off the GUI thread, with a progress dialog and a working Cancel button."""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..core.progress import CancelToken
from ..errors import Cancelled, DStudioError


class _Relay(QObject):
    """Carries a worker thread's reports to the GUI thread (queued signal delivery)."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)


def run_task(parent: QWidget, title: str, work: Callable[[Callable[[float, str], None], CancelToken], Any],
             on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> CancelToken:
    """Run ``work(progress, token)`` in a thread; show progress; Cancel sets the token."""
    token = CancelToken()
    relay = _Relay(parent)
    dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle("Design Studio")
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.canceled.connect(token.cancel)

    def report(fraction: float, message: str) -> None:
        dialog.setValue(int(fraction * 1000))
        dialog.setLabelText(f"{title}\n{message}")

    def finish(result: Any) -> None:
        dialog.reset()
        relay.deleteLater()
        on_done(result)

    def fail(message: str) -> None:
        dialog.reset()
        relay.deleteLater()
        on_error(message)

    relay.progress.connect(report)
    relay.finished.connect(finish)
    relay.failed.connect(fail)

    def body() -> None:
        try:
            result = work(relay.progress.emit, token)
        except Cancelled as err:
            relay.failed.emit(str(err))
        except DStudioError as err:
            relay.failed.emit(str(err))
        except Exception as err:  # noqa: BLE001 - a bug; the user still gets one line, not a crash
            traceback.print_exc()
            relay.failed.emit(f"internal error ({type(err).__name__}: {err})")
        else:
            relay.finished.emit(result)

    threading.Thread(target=body, name=f"task: {title}", daemon=True).start()
    return token
