"""Where the workspace lives: ``$DSTUDIO_HOME`` or the platform's user data dir (read in ``settings``)."""

from __future__ import annotations

from ..settings import workspace_home

__all__ = ["workspace_home"]
