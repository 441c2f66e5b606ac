"""The signed-in session: kept in the system keyring (never in a file of the workspace),
refreshed before it expires, and kept, not dropped, when a refresh cannot reach the server."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Optional

from .. import keychain

SERVICE = "dstudio-desktop"
ACCOUNT = "session"
REFRESH_MARGIN_S = 120  # refresh this long before the access token expires


@dataclass
class Session:
    url: str
    anon_key: str
    access_token: str
    refresh_token: str
    expires_at: int
    user_id: str
    email: str

    def expiring(self, now: Optional[float] = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - REFRESH_MARGIN_S


def load_session() -> Optional[Session]:
    raw = keychain.read(SERVICE, ACCOUNT, "the sign-in")
    if not raw:
        return None
    try:
        return Session(**json.loads(raw))
    except (TypeError, ValueError):
        return None


def save_session(session: Session) -> None:
    keychain.keep(SERVICE, ACCOUNT, json.dumps(asdict(session)), "the sign-in")


def clear_session() -> None:
    keychain.forget(SERVICE, ACCOUNT)
