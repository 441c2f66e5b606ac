"""The files Design Studio ships with: the material library, printer profiles and the sample project.

The repository keeps them here, at its top level; the wheel installs this folder as the
package ``dstudio_desktop.resources`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml),
and an editable install maps that name back to this folder. Code reads them only through
``resource()``, so it finds them the same way in a checkout, an editable install and a wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(*parts: str) -> Path:
    """The bundled file or folder at ``parts`` (e.g. ``resource("printing", "printers.json")``).

    A path on disk: pip always unpacks wheels, and callers (the sample project's installer)
    need a real folder. Raises ``FileNotFoundError`` naming the path when it is missing, which
    means a broken install rather than anything a user did.
    """
    root = files(__name__)
    if not isinstance(root, Path):
        raise RuntimeError(f"{__name__} is not installed as files on disk ({root!r}); reinstall it with pip")
    found = root.joinpath(*parts)
    if not found.exists():
        raise FileNotFoundError(f"bundled resource {'/'.join(parts)} is missing from {root}; the install is incomplete")
    return found
