"""Every setting in one place: environment variables, paths and tunables.

Each setting is a function, read when called (so a test or a long-lived process sees a changed
environment). The README's "Settings" section lists them; keep the two in step.

This module imports only the standard library and platformdirs: core, gpu and the backend
worker import it, and none of them may pull in Qt, vispy or network code through it.
A value that cannot be used (``DSTUDIO_MSAA=lots``) is reported once, in one line on the
``dstudio`` logger, and the default is used instead: a typo in the environment should not stop
the app from starting.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import platformdirs

_log = logging.getLogger("dstudio")
_reported: set[str] = set()

DEFAULT_MAX_IMPORT_MB = 2048.0
DEFAULT_LOD_TRIANGLES = 500_000
DEFAULT_AUTOSAVE_MS = 2000
DEFAULT_SYNC_INTERVAL_S = 30.0


def _report(name: str, raw: str, wanted: str, default: object) -> None:
    if name not in _reported:
        _reported.add(name)
        _log.warning("ignoring %s=%r: expected %s; using %s", name, raw, wanted, default)


def _number(name: str, default: float, *, minimum: float, integer: bool = False) -> float:
    """``$name`` as a number of at least ``minimum``; unset or empty gives ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    wanted = f"{'a whole number' if integer else 'a number'} of at least {minimum:g}"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        _report(name, raw, wanted, default)
        return default
    if not minimum <= value < float("inf"):  # also refuses nan
        _report(name, raw, wanted, default)
        return default
    return value


# -- paths -------------------------------------------------------------------------------------

def workspace_home() -> Path:
    """``$DSTUDIO_HOME``, else the platform's user data folder: projects, blobs, logs, user profiles."""
    env = os.environ.get("DSTUDIO_HOME", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dstudio", "DesignStudio"))


def user_printing_dir() -> Path:
    """Where a user's own ``printers.json`` / ``materials.json`` add to the bundled profiles."""
    return workspace_home() / "printing"


def crash_log() -> Path:
    """Where the CLI appends the traceback of an internal error."""
    return workspace_home() / "logs" / "crash.log"


def cura_resource_candidates() -> list[Path]:
    """Folders that may hold Cura's printer definitions, in the order they are tried.

    ``$DSTUDIO_CURA_RESOURCES`` first, then the environment's ``share/cura/resources`` (where
    ``./dev setup`` unpacks them), then Debian's cura package. The caller keeps those that hold
    ``definitions/fdmprinter.def.json``.
    """
    env = os.environ.get("DSTUDIO_CURA_RESOURCES", "").strip()
    candidates = [Path(env).expanduser()] if env else []
    return candidates + [Path(sys.prefix) / "share" / "cura" / "resources", Path("/usr/share/cura/resources")]


# -- sync ----------------------------------------------------------------------------------------

def anon_key() -> str:
    """``$DSTUDIO_ANON_KEY``: the backend project's public anon key, when ``--anon-key`` is not given."""
    return os.environ.get("DSTUDIO_ANON_KEY", "").strip()


def sync_interval_s() -> float:
    """``$DSTUDIO_SYNC_INTERVAL_S``: seconds between background syncs while signed in (at least 5)."""
    return _number("DSTUDIO_SYNC_INTERVAL_S", DEFAULT_SYNC_INTERVAL_S, minimum=5.0)


def presence_heartbeat_s() -> float:
    """``$DSTUDIO_PRESENCE_HEARTBEAT_S``: seconds between presence heartbeats (socket and session row; at least 1)."""
    return _number("DSTUDIO_PRESENCE_HEARTBEAT_S", 15.0, minimum=1.0)


# -- import and editing --------------------------------------------------------------------------

def max_import_bytes() -> int:
    """``$DSTUDIO_MAX_IMPORT_MB`` (default 2048) as bytes: larger model files are refused before parsing."""
    return int(_number("DSTUDIO_MAX_IMPORT_MB", DEFAULT_MAX_IMPORT_MB, minimum=0.001) * 1024 * 1024)


def autosave_ms() -> int:
    """``$DSTUDIO_AUTOSAVE_MS``: how long the editor waits after the last edit before saving (at least 200)."""
    return int(_number("DSTUDIO_AUTOSAVE_MS", DEFAULT_AUTOSAVE_MS, minimum=200, integer=True))


# -- viewport ------------------------------------------------------------------------------------

def msaa_samples() -> int:
    """``$DSTUDIO_MSAA``: multisample antialiasing samples for the viewport (0 turns it off).

    Unset: 4 on a GPU, 0 for software GL, where it quadruples the cost of every pixel (on Linux,
    no /dev/dri means Mesa renders on the CPU with llvmpipe).
    """
    default = 0 if sys.platform.startswith("linux") and not Path("/dev/dri").exists() else 4
    return int(_number("DSTUDIO_MSAA", default, minimum=0, integer=True))


def lod_triangles() -> int:
    """``$DSTUDIO_LOD_TRIANGLES``: parts with more triangles than this are drawn coarse while the camera moves."""
    return int(_number("DSTUDIO_LOD_TRIANGLES", DEFAULT_LOD_TRIANGLES, minimum=1000, integer=True))


def cache_home() -> Path:
    """The user's cache folder: prepared environments for image-based light (``ibl/``), remade when missing."""
    return Path(platformdirs.user_cache_dir("dstudio", appauthor=False))


def describe() -> list[tuple[str, Optional[str], str]]:
    """(variable, value set in the environment or None, effective value) for every variable, for diagnostics."""
    effective = {
        "DSTUDIO_HOME": str(workspace_home()),
        "DSTUDIO_MAX_IMPORT_MB": f"{max_import_bytes() / 1024 / 1024:g}",
        "DSTUDIO_CURA_RESOURCES": os.pathsep.join(str(p) for p in cura_resource_candidates()),
        "DSTUDIO_ANON_KEY": "(set)" if anon_key() else "",
        "DSTUDIO_SYNC_INTERVAL_S": f"{sync_interval_s():g}",
        "DSTUDIO_PRESENCE_HEARTBEAT_S": f"{presence_heartbeat_s():g}",
        "DSTUDIO_AUTOSAVE_MS": str(autosave_ms()),
        "DSTUDIO_MSAA": str(msaa_samples()),
        "DSTUDIO_LOD_TRIANGLES": str(lod_triangles()),
    }
    return [(name, os.environ.get(name), value) for name, value in effective.items()]
