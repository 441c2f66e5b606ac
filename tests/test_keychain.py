"""Secrets go to the system keyring through one door (``keychain``); a keyring that refuses is
a clear error naming what was asked for, and nothing half-kept is left behind."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from dstudio_desktop.errors import DStudioError


@pytest.fixture
def refusing_keyring():
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_a_refusing_keyring_is_named_for_the_sign_in_and_for_a_print_server(home, refusing_keyring) -> None:
    from dstudio_desktop.printing import print_servers
    from dstudio_desktop.sync import session

    with pytest.raises(DStudioError, match="cannot read the sign-in from the system keyring"):
        session.load_session()
    with pytest.raises(DStudioError, match="no secure place to keep the sign-in"):
        session.save_session(session.Session("http://localhost", "anon", "at", "rt", 0, "u1", "a@b.c"))
    session.clear_session()   # nothing to forget is not an error
    with pytest.raises(DStudioError, match="no secure place to keep the API key of 'shop'.*install and unlock"):
        print_servers.add_server("shop", "http://localhost:5000", "key", verify=False)
    assert print_servers.list_servers() == []   # not listed without its key
    with pytest.raises(DStudioError, match="cannot read the API key of 'shop' from the system keyring"):
        print_servers.stored_key("shop")
