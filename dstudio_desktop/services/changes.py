"""A change to a project as data: one core command (so the UI can undo it as one step) and
the asset bytes it refers to, landed atomically: the assets and the documents in one
transaction of the store, or none of them.

``land`` is the only way a ``ProjectChange`` reaches a project. With an open editor the
command runs on its undo stack and the project is saved at once with the assets; without
one it runs on the stored project, and if someone saved meanwhile (a conflict) it runs
again on a fresh copy, so nothing of theirs is overwritten.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Iterable, Optional, Protocol

from ..core import Asset, Project
from ..core.commands import Command
from ..errors import ConflictError
from ..store import Workspace

ATTEMPTS = 5


@dataclass
class ProjectChange:
    project_id: str
    command: Command
    assets: list[tuple[Asset, bytes]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.command.label


class OpenEditor(Protocol):
    """An editor with the project open (the main window's): runs the command as one undoable
    step and saves the project with the new assets, taking in changes stored meanwhile."""

    project: Optional[Project]

    def apply(self, command: Command, assets: Iterable[tuple[Asset, bytes]] = ()) -> None: ...


def land(ws: Workspace, change: ProjectChange, editor: Optional[OpenEditor] = None) -> Project:
    """Apply ``change`` and store it with its assets; returns the project as stored."""
    if editor is not None and editor.project is not None and editor.project.id == change.project_id:
        editor.apply(change.command, change.assets)
        return editor.project
    for attempt in range(ATTEMPTS):
        project = ws.load_project(change.project_id)
        # a fresh copy each try: a command remembers what it did, and this try starts anew
        copy.deepcopy(change.command).do(project)
        try:
            ws.save_project(project, change.assets)
            return project
        except ConflictError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
