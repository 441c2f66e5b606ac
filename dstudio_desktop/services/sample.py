"""The bundled sample project: installed into a workspace on first use, then opened."""

from __future__ import annotations

from ..core import Project
from ..store import Workspace
from ..store.bundle import install_bundle


def install_sample(ws: Workspace) -> Project:
    """The sample project in ``ws``, installed from the package's resources on first use."""
    from ..sample import SAMPLE_DIR

    return install_bundle(ws, SAMPLE_DIR)
