"""The print servers a user added (OctoPrint now; Moonraker can follow ``octoprint.PrintServer``),
and sending a print job to one: upload, start, follow, record the actual time.

The list of servers (name, kind, URL) is ``servers.json`` in the user's printing folder; each
API key is in the system keyring, never in a file. A job that cannot be sent (server
unreachable, key refused) stays as it was, its G-code asset untouched.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from .. import keychain
from ..atomic import atomic_write
from ..core.progress import CancelToken, ProgressCallback, no_progress
from ..core.records import PrintJob, utc_now
from ..errors import DStudioError
from ..settings import user_printing_dir
from ..store import Workspace
from .octoprint import OctoPrint

KEYRING_SERVICE = "dstudio-print-server"
KINDS = ("octoprint",)


@dataclass(frozen=True)
class ServerEntry:
    name: str
    url: str
    kind: str = "octoprint"


def _servers_file() -> Path:
    return user_printing_dir() / "servers.json"


def list_servers() -> list[ServerEntry]:
    path = _servers_file()
    if not path.is_file():
        return []
    try:
        return [ServerEntry(**item) for item in json.loads(path.read_text())["servers"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DStudioError(f"{path}: not a valid list of print servers ({err})") from None


def _save(servers: list[ServerEntry]) -> None:
    atomic_write(_servers_file(), json.dumps({"servers": [asdict(s) for s in servers]}, indent=2).encode())


def add_server(name: str, url: str, api_key: str, kind: str = "octoprint", verify: bool = True) -> str:
    """Add (or replace) a server; with ``verify``, only once it answers and accepts the key.
    Returns what the server says it is."""
    if kind not in KINDS:
        raise DStudioError(f"unknown print server kind {kind!r}: choose {', '.join(KINDS)}")
    if not url.startswith(("http://", "https://")):
        raise DStudioError(f"{url}: a print server's URL starts with http:// or https://")
    if not api_key.strip():
        raise DStudioError("the API key is empty")
    about = "not checked"
    if verify:
        with OctoPrint(name, url, api_key.strip()) as server:
            about = server.check()
    keychain.keep(KEYRING_SERVICE, name, api_key.strip(), f"the API key of {name!r}")
    _save([s for s in list_servers() if s.name != name] + [ServerEntry(name, url.rstrip("/"), kind)])
    return about


def remove_server(name: str) -> None:
    servers = list_servers()
    if not any(s.name == name for s in servers):
        raise DStudioError(f"no print server {name!r}")
    _save([s for s in servers if s.name != name])
    keychain.forget(KEYRING_SERVICE, name)


def stored_key(name: str) -> str:
    """The API key of print server ``name`` from the keyring (a clear error when it is not there)."""
    key = keychain.read(KEYRING_SERVICE, name, f"the API key of {name!r}")
    if not key:
        raise DStudioError(f"the API key of print server {name!r} is not in the keyring; add the printer again")
    return key


def open_server(name: str) -> OctoPrint:
    entry = next((s for s in list_servers() if s.name == name), None)
    if entry is None:
        known = ", ".join(s.name for s in list_servers()) or "none added yet"
        raise DStudioError(f"no print server {name!r} (known: {known})")
    return OctoPrint(name, entry.url, stored_key(name))


def check_server(name: str, url: str, api_key: str) -> str:
    """What the server at ``url`` says it is, once it answers and accepts ``api_key`` (nothing saved)."""
    if not url.startswith(("http://", "https://")):
        raise DStudioError(f"{url}: a print server's URL starts with http:// or https://")
    if not api_key.strip():
        raise DStudioError("the API key is empty")
    with OctoPrint(name or "printer", url, api_key.strip()) as server:
        return server.check()


def server_of(job: PrintJob) -> Optional[ServerEntry]:
    """The added print server a job was sent to (by the G-code's address there), if any."""
    url = job.sent_to or ""
    return next((s for s in list_servers() if url.startswith(f"{s.url}/downloads/files/local/")), None)


def _remote_name(job: PrintJob) -> str:
    return (job.sent_to or "").rsplit("/downloads/files/local/", 1)[-1]


def cancel_print_job(ws: Workspace, job_id: str, server_name: Optional[str] = None,
                     progress: ProgressCallback = no_progress, settle_s: float = 30.0) -> PrintJob:
    """Cancel a job printing on its print server (the one it was sent to, unless named), and
    record it as cancelled once the server stopped it. The G-code asset stays as it is.

    Refused, with one line, when the job is not printing, or the server prints another file
    (a print shop's printer may have moved on): nothing is cancelled then."""
    job = ws.get_print_job(job_id)
    if job.design_project_id is not None:
        ws.require(job.design_project_id, "edit")
    if job.status != "printing":
        raise DStudioError(f"print job {job.id[:8]} is {job.status}, not printing: there is nothing to cancel")
    if server_name is None:
        entry = server_of(job)
        if entry is None:
            raise DStudioError(f"print job {job.id[:8]} was sent to {job.sent_to or 'no server'}, "
                               "which is not one of the print servers added here")
        server_name = entry.name
    remote = _remote_name(job)
    with open_server(server_name) as server:
        progress(0.1, f"asking {server_name} to cancel")
        state = server.job()
        if state.state != "printing":
            raise DStudioError(f"{server_name} is not printing {remote} any more ({state.state}); nothing cancelled")
        if state.file not in (None, remote):
            raise DStudioError(f"{server_name} is printing {state.file}, not {remote}; nothing cancelled")
        server.cancel()
        # the row says cancelled at once, so a follower that sees the printer idle next keeps it
        job = ws.update_print_job(job.model_copy(update={"status": "cancelled", "completed_at": utc_now()}))
        deadline = time.monotonic() + settle_s
        while server.job().state == "printing" and time.monotonic() < deadline:
            progress(0.5, f"{server_name} is stopping the print")
            time.sleep(0.3)
    progress(1.0, "cancelled")
    return job


def send_print_job(ws: Workspace, job_id: str, server_name: str, follow: bool = True,
                   progress: ProgressCallback = no_progress, cancel: Optional[CancelToken] = None,
                   poll_s: float = 1.0) -> PrintJob:
    """Send a sliced job's G-code to ``server_name`` and start it; with ``follow``, wait for the
    print to end and record how long it really took. Cancel stops following (the print goes on);
    a print cancelled meanwhile (``cancel_print_job``) stays recorded as cancelled."""
    job = ws.get_print_job(job_id)
    if job.design_project_id is not None:
        ws.require(job.design_project_id, "edit")
    if job.gcode_asset_id is None:
        raise DStudioError(f"print job {job.id} has no G-code on this machine")
    asset = ws.get_asset(job.gcode_asset_id)
    data = ws.asset_bytes(asset)
    with open_server(server_name) as server:
        progress(0.0, f"connecting to {server_name}")
        server.check()
        remote = f"{Path(asset.name).stem}-{job.id[:8]}.gcode"
        with tempfile.TemporaryDirectory(prefix="dstudio-send-") as tmp:
            path = Path(tmp) / remote
            path.write_bytes(data)
            progress(0.0, f"uploading {remote}")
            remote = server.send(path, remote)
        started = time.monotonic()
        job = job.model_copy(update={"status": "printing", "started_at": utc_now(),
                                     "sent_to": f"{server.url}/downloads/files/local/{remote}"})
        ws.update_print_job(job)
        if not follow:
            return job
        while True:
            if cancel is not None and cancel.cancelled:
                return job   # following stops; the printer prints on, and the row says so
            state = server.job()
            if state.file not in (None, remote) and state.state == "printing":
                raise DStudioError(f"{server_name} is printing {state.file}, not {remote}")
            progress(min(state.completion, 1.0), "printing")
            if state.state in ("done", "failed", "cancelled", "idle") and time.monotonic() - started > 0.5:
                break
            time.sleep(poll_s)
        if ws.get_print_job(job.id).status == "cancelled":    # cancelled from here while followed
            progress(1.0, "cancelled")
            return ws.get_print_job(job.id)
        actual = server.finished_print_time(remote) if state.state == "done" else None
        if actual is None and state.state == "done":
            actual = time.monotonic() - started
        status = {"done": "completed", "cancelled": "cancelled"}.get(state.state, "failed")
        job = job.model_copy(update={"status": status, "completed_at": utc_now(),
                                     "actual_time_minutes": actual / 60 if actual is not None else None})
        ws.update_print_job(job)
        progress(1.0, status)
        return job
