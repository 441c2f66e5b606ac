"""OctoPrint as a print server, over its REST API (``X-Api-Key``: an application key).

``PrintServer`` is the interface a print server meets: check the connection and the key,
upload a G-code and start it, report the job's state, and say how long the finished print
really took. OctoPrint is the first; Moonraker (Klipper) can follow the same interface
(``/server/files/upload`` with ``print=true``, ``/printer/objects/query?print_stats`` for
state and ``print_duration``, ``/server/history/list`` for the finished job's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol

import httpx

from ..errors import DStudioError

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServerJob:
    """Where the print is on the server: its state, how far, how long so far (seconds)."""

    state: str                    # printing | done | failed | cancelled | idle
    completion: float             # 0..1
    print_time_s: Optional[float]
    file: Optional[str]


class PrintServer(Protocol):
    name: str

    def check(self) -> str: ...
    def send(self, gcode: Path, remote_name: str) -> str: ...
    def job(self) -> ServerJob: ...
    def finished_print_time(self, remote_name: str) -> Optional[float]: ...


class OctoPrint:
    """One OctoPrint instance: ``url`` (e.g. http://octopi.local) and an application key."""

    def __init__(self, name: str, url: str, api_key: str, timeout: float = TIMEOUT_S) -> None:
        self.name, self.url = name, url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, headers={"X-Api-Key": api_key}, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OctoPrint:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise DStudioError(f"printer {self.name!r} at {self.url} did not answer within "
                               f"{self._client.timeout.read:g} s") from None
        except httpx.HTTPError as err:
            raise DStudioError(f"printer {self.name!r} at {self.url} cannot be reached ({err})") from None
        if response.status_code in (401, 403):
            raise DStudioError(f"printer {self.name!r} at {self.url} refused the API key (HTTP {response.status_code}); "
                               "create an application key in OctoPrint's settings and add the printer again")
        if response.status_code >= 400:
            detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            raise DStudioError(f"printer {self.name!r} at {self.url}: {method} {path} failed "
                               f"(HTTP {response.status_code}{': ' + detail if detail else ''})")
        return response

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise DStudioError(f"{self.url}{path} did not answer as OctoPrint does (not JSON); is it OctoPrint?") \
                from None

    def check(self) -> str:
        """The server's version, once the URL answers and the key is accepted."""
        version = self._json("GET", "/api/version")
        if "server" not in version:
            raise DStudioError(f"{self.url} answered, but not as OctoPrint does")
        return f"OctoPrint {version['server']}"

    def _ensure_connected(self) -> None:
        state = self._json("GET", "/api/connection").get("current", {}).get("state", "")
        if state.startswith("Closed") or state.startswith("Offline") or state.startswith("Error"):
            self._request("POST", "/api/connection", json={"command": "connect", "autoconnect": True})

    def send(self, gcode: Path, remote_name: str) -> str:
        """Upload ``gcode`` as ``remote_name`` and start printing it; the name it got there."""
        self._ensure_connected()
        with open(gcode, "rb") as fh:
            answer = self._json("POST", "/api/files/local", files={"file": (remote_name, fh, "text/x-gcode")},
                                data={"select": "true", "print": "true"})
        local = answer.get("files", {}).get("local", {})
        if not answer.get("done", False) or not answer.get("effectivePrint", True):
            raise DStudioError(f"printer {self.name!r} took {remote_name} but did not start it "
                               "(is the printer connected and idle?)")
        return local.get("path", remote_name)

    def job(self) -> ServerJob:
        data = self._json("GET", "/api/job")
        state = str(data.get("state", ""))
        progress = data.get("progress") or {}
        completion = float(progress.get("completion") or 0.0) / 100.0
        name = (data.get("job") or {}).get("file", {}).get("path")
        if state.startswith("Printing") or state in ("Starting", "Finishing", "Pausing", "Paused", "Resuming"):
            kind = "printing"
        elif state.startswith("Cancelling"):
            kind = "cancelled"
        elif state.startswith("Error") or state.startswith("Offline"):
            kind = "failed"
        elif completion >= 1.0:
            kind = "done"
        else:
            kind = "idle"
        return ServerJob(kind, completion, progress.get("printTime"), name)

    def finished_print_time(self, remote_name: str) -> Optional[float]:
        """OctoPrint's record of the last print of ``remote_name``: how long it really took (s),
        or None if that print did not succeed."""
        info = self._json("GET", f"/api/files/local/{remote_name}")
        last = (info.get("prints") or {}).get("last") or {}
        return float(last["printTime"]) if last.get("success") and last.get("printTime") is not None else None

    def cancel(self) -> None:
        self._request("POST", "/api/job", json={"command": "cancel"})
