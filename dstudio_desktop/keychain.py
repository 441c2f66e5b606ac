"""Secrets in the system keyring, never in a file: the signed-in session and the print servers'
API keys. ``keyring`` is imported on first use (finding the system's backend takes a tenth of a
second or more). A keyring that refuses becomes a ``DStudioError`` naming what was asked for;
forgetting a secret that is not there is not an error."""

from __future__ import annotations

from typing import Optional

from .errors import DStudioError


def _keyring():
    import keyring
    from keyring.errors import KeyringError

    return keyring, KeyringError


def read(service: str, account: str, what: str) -> Optional[str]:
    """The secret, or None when none is kept; ``what`` names it in the error ("the sign-in")."""
    keyring, KeyringError = _keyring()
    try:
        return keyring.get_password(service, account)
    except KeyringError as err:
        raise DStudioError(f"cannot read {what} from the system keyring: {err}") from None


def keep(service: str, account: str, secret: str, what: str) -> None:
    keyring, KeyringError = _keyring()
    try:
        keyring.set_password(service, account, secret)
    except KeyringError as err:
        raise DStudioError(f"no secure place to keep {what}: {err} (install and unlock a keyring such as "
                           "GNOME Keyring or KWallet)") from None


def forget(service: str, account: str) -> None:
    keyring, KeyringError = _keyring()
    try:
        keyring.delete_password(service, account)
    except KeyringError:
        pass


__all__ = ["forget", "keep", "read"]
