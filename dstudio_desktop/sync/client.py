"""HTTP to the backend (PostgREST, GoTrue and Storage wire protocols) with httpx over HTTP/1.1.

Errors come in two kinds: ``Offline`` (the network, a timeout, a 5xx: try again later) and
``Rejected`` (a 4xx: the server refused this request and will refuse it again)."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import httpx

from ..errors import DStudioError
from .session import Session


class Offline(DStudioError):
    """The server cannot be reached (or failed): nothing was refused, try again later."""


class Rejected(DStudioError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code or status})")
        self.status, self.code, self.reason = status, code, message


class BackendClient:
    def __init__(self, url: str, anon_key: str = "", transport: Optional[httpx.BaseTransport] = None,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        import httpx  # here: a tenth of a second of imports the window's first frame need not wait for

        self.http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport, http2=False)
        self.token: Optional[str] = None

    def close(self) -> None:
        self.http.close()

    def _headers(self, extra: Optional[dict] = None) -> dict[str, str]:
        headers = {"apikey": self.anon_key} if self.anon_key else {}
        if self.token or self.anon_key:
            headers["Authorization"] = f"Bearer {self.token or self.anon_key}"
        return {**headers, **(extra or {})}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        headers = self._headers(kwargs.pop("headers", None))
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as err:
            raise Offline(f"{self.url}: {type(err).__name__}: {err}") from None
        if response.status_code >= 500:
            raise Offline(f"{self.url}: the server failed ({response.status_code})")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            raise Rejected(response.status_code, str(body.get("code") or body.get("error_code") or body.get("error") or ""),
                           str(body.get("message") or body.get("msg") or response.reason_phrase))
        return response

    # -- auth ----------------------------------------------------------------------

    def _session(self, body: dict[str, Any]) -> Session:
        return Session(url=self.url, anon_key=self.anon_key, access_token=body["access_token"],
                       refresh_token=body["refresh_token"],
                       expires_at=int(body.get("expires_at") or time.time() + int(body["expires_in"])),
                       user_id=body["user"]["id"], email=body["user"].get("email") or "")

    def sign_in(self, email: str, password: str) -> Session:
        response = self.request("POST", "/auth/v1/token", params={"grant_type": "password"},
                                json={"email": email, "password": password})
        return self._session(response.json())

    def sign_up(self, email: str, password: str) -> Session:
        """A new account; the server signs it in at once (no e-mail confirmation on the local server;
        a hosted project that asks for one answers without a session, which is said plainly)."""
        response = self.request("POST", "/auth/v1/signup", json={"email": email, "password": password})
        body = response.json()
        if not body.get("access_token"):
            raise Rejected(response.status_code, "confirm_email",
                           f"account made for {email}: confirm it from the e-mail the server sent, then sign in")
        return self._session(body)

    def refresh(self, refresh_token: str) -> Session:
        response = self.request("POST", "/auth/v1/token", params={"grant_type": "refresh_token"},
                                json={"refresh_token": refresh_token})
        return self._session(response.json())

    def sign_out(self) -> None:
        self.request("POST", "/auth/v1/logout", params={"scope": "local"})

    # -- data ------------------------------------------------------------------------

    def rpc(self, fn: str, **args: Any) -> Any:
        return self.request("POST", f"/rest/v1/rpc/{fn}", json=args).json()

    def select(self, table: str, **params: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/rest/v1/{table}", params=params).json()

    def upload(self, bucket: str, name: str, data: bytes, content_type: str) -> bool:
        """Upload once: True if sent, False if the object was already there."""
        try:
            self.request("POST", f"/storage/v1/object/{bucket}/{name}",
                         files={"file": (name.rsplit("/", 1)[-1], data, content_type)})
        except Rejected as err:
            if err.status == 409 or err.code == "Duplicate":
                return False
            raise
        return True

    def upload_resumable(self, bucket: str, name: str, data: bytes, content_type: str,
                         resume_url: Optional[str] = None, on_url=None, chunk: int = 6 * 1024 * 1024) -> bool:
        """Upload in chunks with the TUS protocol, as Supabase Storage takes large files. Given the
        URL of an upload begun earlier (kept by the caller through ``on_url``), it goes on from the
        offset the server has. True if sent, False if the object was already there."""
        tus = {"Tus-Resumable": "1.0.0"}
        offset = None
        if resume_url:
            try:
                offset = int(self.request("HEAD", resume_url, headers=tus).headers["Upload-Offset"])
            except Rejected:
                resume_url = None  # gone (finished, or forgotten by the server): begin again
        if resume_url is None:
            meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                            (("bucketName", bucket), ("objectName", name), ("contentType", content_type)))
            try:
                created = self.request("POST", "/storage/v1/upload/resumable",
                                       headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
            except Rejected as err:
                if err.status == 409 or err.code == "Duplicate":
                    return False
                raise
            resume_url, offset = created.headers["Location"], 0
            if on_url is not None:
                on_url(resume_url)
        while offset < len(data):
            part = data[offset:offset + chunk]
            response = self.request("PATCH", resume_url, content=part, headers={
                **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            offset = int(response.headers["Upload-Offset"])
        return True

    def download(self, bucket: str, name: str) -> bytes:
        return self.request("GET", f"/storage/v1/object/{bucket}/{name}").content
