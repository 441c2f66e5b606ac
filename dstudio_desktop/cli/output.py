"""Terminal output for the CLI: JSON or human text, errors as one line, a progress bar."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._last_draw = 0.0
        self._drawn = False

    def result(self, data: Any, text: str) -> None:
        if self.as_json:
            json.dump(data, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        else:
            print(text)

    def error(self, message: str) -> None:
        self.end_progress()
        line = " ".join(message.split())  # one line, whatever the message held
        if self.as_json:
            json.dump({"error": line}, sys.stdout)
            sys.stdout.write("\n")
        print(f"dstudio: error: {line}", file=sys.stderr)

    def progress(self, fraction: float, message: str) -> None:
        """A bar on stderr when it is a terminal; silent otherwise (pipes, --json, CI logs)."""
        if self.as_json or not sys.stderr.isatty():
            return
        now = time.monotonic()
        if now - self._last_draw < 0.05 and fraction < 1.0:
            return
        self._last_draw = now
        width = 30
        filled = int(round(width * max(0.0, min(1.0, fraction))))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {message[:40]:40s}")
        sys.stderr.flush()
        self._drawn = True

    def end_progress(self) -> None:
        if self._drawn:
            sys.stderr.write("\n")
            self._drawn = False
