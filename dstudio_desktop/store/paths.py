"""Where the workspace lives: ``$DSTUDIO_HOME`` or the platform's user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def workspace_home() -> Path:
    env = os.environ.get("DSTUDIO_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dstudio", "DesignStudio"))
