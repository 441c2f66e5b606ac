"""Child processes the app runs in their own process group (the slicer, the reconstruction
worker), so that Cancel stops them and everything they started."""

from __future__ import annotations

import os
import signal
import subprocess


def terminate_group(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """SIGTERM the process group of ``proc`` (started with ``start_new_session=True``), and
    SIGKILL it if it has not ended after ``grace`` seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    except ProcessLookupError:
        pass
