"""Helpers the command handlers share: opening the workspace, permission checks, Ctrl+C handling,
and the argument types the parser validates with."""

from __future__ import annotations

import argparse
import math
import signal
from typing import Any, Callable

from .output import Output


def _workspace():
    from ..sync.runner import open_workspace

    return open_workspace()  # assets pulled as metadata are fetched when first needed


def _run_cancellable(out: Output, work: Callable[[Any], Any]) -> Any:
    """Run ``work(token)``; Ctrl+C sets the token so the work stops at its next check."""
    from ..core.progress import CancelToken

    token = CancelToken()

    def on_sigint(signum: int, frame: Any) -> None:
        token.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return work(token)
    finally:
        signal.signal(signal.SIGINT, previous)
        out.end_progress()


def _point(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(map(math.isfinite, values)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected X,Y,Z (three numbers, metres)")
    return values


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"{text}: each side must be 16..8192 pixels")
    return w, h


def open_app(target) -> int:
    """The desktop app, or a one-line refusal naming the extra when it is not installed."""
    from importlib.util import find_spec

    from ..errors import DStudioError

    missing = [name for name in ("PySide6", "vispy") if find_spec(name) is None]
    if missing:
        raise DStudioError(f"the desktop app needs {' and '.join(missing)}, which this installation lacks: "
                           "pip install \"dstudio-desktop[desktop]\" (or [app] for photo reconstruction too)")
    from ..ui.app import run_app

    return run_app(target)
