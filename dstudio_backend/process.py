"""Starting the server as a child process (tests, benchmarks, the desktop's own sync tests):
it prints its connection details as one JSON line once it is ready."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class RunningServer:
    process: subprocess.Popen
    url: str
    anon_key: str
    service_role_key: str
    db_url: str
    storage_dir: Path
    jwt_secret: str
    log: IO[str] | None = None

    def log_text(self) -> str:
        """What the server has written to its log so far."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(storage_dir: Path, *extra_args: str, workers: int = 1) -> RunningServer:
    """Starts ``dstudio-backend start`` with a throwaway cluster and waits until it serves
    (every worker of it). ``workers`` server processes: one unless asked, as a worker costs
    its start time (seconds on a loaded machine) and tests start many servers; realtime runs
    through the database either way, and tests/backend/test_workers.py runs two.
    Its log (stderr) goes to a file, never a pipe nobody reads: a full pipe would stop the
    server in the middle of a request the first time it logs a lot (a database outage)."""
    if "--workers" not in extra_args:
        extra_args = (*extra_args, "--workers", str(workers))
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dstudio_backend", "start", "--port", "0", "--json",
         "--storage-dir", str(storage_dir), *extra_args],
        stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        log.seek(0)
        raise RuntimeError(f"the backend did not start: {log.read()[-3000:]}")
    info = json.loads(line)
    return RunningServer(proc, info["api_url"], info["anon_key"], info["service_role_key"], info["db_url"],
                         Path(info["storage_dir"]), info["jwt_secret"], log)
