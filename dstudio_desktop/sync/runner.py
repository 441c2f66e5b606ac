"""Wiring for the CLI and the app: a sync engine for the stored session, sign-in and -out,
and on-demand fetching of asset bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import DStudioError
from ..store import Workspace
from .client import BackendClient, Offline
from .engine import SyncEngine
from .session import Session, clear_session, load_session, save_session


def sign_in(url: str, email: str, password: str, anon_key: str = "", new_account: bool = False) -> Session:
    """Sign in (or, with ``new_account``, create the account and sign in) and keep the session."""
    client = BackendClient(url, anon_key)
    try:
        session = client.sign_up(email, password) if new_account else client.sign_in(email, password)
    finally:
        client.close()
    save_session(session)
    return session


def sign_out() -> Optional[Session]:
    """Forget the session here, and end it on the server when the server can be reached."""
    session = load_session()
    if session is None:
        return None
    client = BackendClient(session.url, session.anon_key)
    client.token = session.access_token
    try:
        client.sign_out()
    except (Offline, DStudioError):
        pass  # signing out works offline too: the tokens are gone from this machine either way
    finally:
        client.close()
    clear_session()
    return session


def engine_for(ws, client: Optional[BackendClient] = None, session: Optional[Session] = None) -> SyncEngine:
    """A sync engine for ``session`` (by default the one kept in the keyring)."""
    session = session or load_session()
    if session is None:
        raise DStudioError("not signed in: run 'dstudio login --url URL' first")
    client = client or BackendClient(session.url, session.anon_key)
    return SyncEngine(ws, client, session)


def fetch_blob(asset) -> bytes:
    """The bytes of an asset pulled from the server as metadata only, from its storage."""
    session = load_session()
    if session is None:
        raise DStudioError(f"asset {asset.name!r} is on the server; sign in to fetch it")
    client = BackendClient(session.url, session.anon_key)
    client.token = session.access_token
    try:
        return client.download("assets", asset.url)
    finally:
        client.close()


def open_workspace(home: Optional[Path] = None) -> Workspace:
    """The user's workspace, able to fetch the bytes of pulled assets when first needed: what
    the CLI, the app and their worker threads open."""
    return Workspace(home, fetch_blob=fetch_blob)
