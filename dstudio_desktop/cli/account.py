"""Handlers for the backend account and sync commands: login, logout and sync."""

from __future__ import annotations

import argparse
import sys

from .. import settings
from .common import _run_cancellable, _workspace
from .output import Output


def cmd_login(args: argparse.Namespace, out: Output) -> int:
    import getpass

    from ..sync.runner import sign_in

    email = args.email or input("Email: ").strip()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    new = getattr(args, "command", "") == "signup"
    session = sign_in(args.url, email, password, args.anon_key or settings.anon_key(), new_account=new)
    out.result({"url": session.url, "user_id": session.user_id, "email": session.email},
               f"{'created an account and ' if new else ''}signed in to {session.url} as {session.email}")
    return 0


def cmd_logout(args: argparse.Namespace, out: Output) -> int:
    from ..sync.runner import sign_out

    session = sign_out()
    out.result({"signed_out": session is not None}, "signed out" if session else "was not signed in")
    return 0


def cmd_sync(args: argparse.Namespace, out: Output) -> int:
    from ..sync.runner import engine_for

    with _workspace() as ws:
        engine = engine_for(ws)
        try:
            report = _run_cancellable(out, lambda token: engine.run(progress=out.progress, cancel=token))
        finally:
            engine.client.close()
    out.result(report.to_json(), report.summary())
    return 0 if report.state == "up to date" else (3 if report.state == "offline" else 1)
