"""Starting the server as a child process (tests, benchmarks, the desktop's own sync tests):
it prints its connection details as one JSON line once it is ready."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RunningServer:
    process: subprocess.Popen
    url: str
    anon_key: str
    service_role_key: str
    db_url: str
    storage_dir: Path
    jwt_secret: str

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(storage_dir: Path, *extra_args: str) -> RunningServer:
    """Starts ``dstudio-backend start`` with a throwaway cluster and waits until it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dstudio_backend", "start", "--port", "0", "--json",
         "--storage-dir", str(storage_dir), *extra_args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"the backend did not start: {proc.stderr.read()[-3000:]}")
    info = json.loads(line)
    return RunningServer(proc, info["api_url"], info["anon_key"], info["service_role_key"], info["db_url"],
                         Path(info["storage_dir"]), info["jwt_secret"])
