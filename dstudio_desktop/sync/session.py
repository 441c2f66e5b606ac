"""The signed-in session: kept in the system keyring (never in a file of the workspace),
refreshed before it expires, and kept, not dropped, when a refresh cannot reach the server."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Optional

from ..errors import DStudioError

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


def _keyring():
    import keyring
    from keyring.errors import KeyringError

    return keyring, KeyringError


def load_session() -> Optional[Session]:
    keyring, KeyringError = _keyring()
    try:
        raw = keyring.get_password(SERVICE, ACCOUNT)
    except KeyringError as err:
        raise DStudioError(f"cannot read the sign-in from the system keyring: {err}") from None
    if not raw:
        return None
    try:
        return Session(**json.loads(raw))
    except (TypeError, ValueError):
        return None


def save_session(session: Session) -> None:
    keyring, KeyringError = _keyring()
    try:
        keyring.set_password(SERVICE, ACCOUNT, json.dumps(asdict(session)))
    except KeyringError as err:
        raise DStudioError(f"no secure place to keep the sign-in: {err} (install and unlock a keyring such as "
                           "GNOME Keyring or KWallet)") from None


def clear_session() -> None:
    keyring, KeyringError = _keyring()
    try:
        keyring.delete_password(SERVICE, ACCOUNT)
    except KeyringError:
        pass
