"""Progress reporting and cancellation for long operations (import, reconstruct, slice)."""

from __future__ import annotations

import threading
from typing import Callable, Optional

from ..errors import Cancelled

#: Called with a fraction in 0..1 and a short description of the current step.
ProgressCallback = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The progress callback for callers that do not show progress."""


class CancelToken:
    """Set from any thread (a Cancel button, Ctrl+C); checked by the worker between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self, what: str = "operation") -> None:
        if self._event.is_set():
            raise Cancelled(what)


def check(token: Optional[CancelToken], what: str = "operation") -> None:
    if token is not None:
        token.check(what)
