"""Core commands on Qt's undo stack, and the autosave that follows them."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..core import Project
from ..core.commands import Command
from ..core.permissions import require
from ..errors import DStudioError

AUTOSAVE_MS = 2000


class _QtCommand(QUndoCommand):
    """Adapter: the core command already ran once when this is pushed, so the first redo is skipped."""

    def __init__(self, command: Command, project: Project) -> None:
        super().__init__(command.label)
        self.command = command
        self.project = project
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.command.do(self.project)

    def undo(self) -> None:
        self.command.undo(self.project)


class Editor(QObject):
    """Runs edits on the open project, keeps the undo stack, autosaves a couple of seconds after a change."""

    failed = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(self, save: Callable[[Project], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self.project: Project | None = None
        self.role = "owner"  # the user's role on the open project: every scene edit is checked against it
        self._save = save
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save)
        self.stack.indexChanged.connect(self._autosave.start)
        self.stack.cleanChanged.connect(lambda clean: self.dirty_changed.emit(not clean))

    @property
    def dirty(self) -> bool:
        return not self.stack.isClean()

    def open(self, project: Project, role: str = "owner") -> None:
        self.project = project
        self.role = role
        self.stack.clear()
        self.stack.setClean()

    def run(self, command: Command) -> bool:
        """Do ``command``; only a command that succeeded goes on the undo stack."""
        if self.project is None:
            return False
        try:
            require(self.role, "edit", f"project {self.project.name!r}")
            command.do(self.project)
        except (DStudioError, ValueError) as err:
            self.failed.emit(str(err).splitlines()[0])
            return False
        self.stack.push(_QtCommand(command, self.project))
        return True

    def save(self) -> None:
        """Write the project to the workspace now (the autosave calls this too)."""
        self._autosave.stop()
        if self.project is None:
            return
        try:
            self._save(self.project)
        except DStudioError as err:
            self.failed.emit(f"could not save: {err}")
            return
        self.stack.setClean()
