"""Core commands on Qt's undo stack, the autosave that follows them, and taking in changes
that were stored elsewhere (a CLI command, a sync pull, a finished job) while the project is
open, so the window never writes a stale copy over them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from .. import settings
from ..core import ALL_DOCUMENTS, Asset, Project
from ..core.commands import Command
from ..core.merge import merge_project
from ..core.permissions import can, require
from ..core.schema import load_document
from ..errors import ConflictError, DStudioError
from ..store import Workspace

AUTOSAVE_MS = settings.autosave_ms()
WATCH_MS = 1000  # how often the stored revision is compared with the open copy's


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
    """Runs edits on the open project, keeps the undo stack, autosaves a couple of seconds after
    a change, and merges in what others stored meanwhile."""

    failed = Signal(str)
    dirty_changed = Signal(bool)
    #: A change stored elsewhere was taken in; the text says what happened (for the status bar).
    merged = Signal(str)

    def __init__(self, ws: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.stack = QUndoStack(self)
        self.project: Project | None = None
        self.role = "owner"  # the user's role on the open project: every scene edit is checked against it
        self._base: dict[str, Any] = {}  # the project as stored when this copy last agreed with the store
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save)
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self.check_stored)
        self.stack.indexChanged.connect(self._autosave.start)
        self.stack.cleanChanged.connect(lambda clean: self.dirty_changed.emit(not clean))

    @property
    def dirty(self) -> bool:
        return not self.stack.isClean()

    def open(self, project: Project, role: str = "owner") -> None:
        self.project = project
        self.role = role
        self._base = project.to_json()
        self.stack.clear()
        self.stack.setClean()
        self._watch.start()

    def close(self) -> None:
        self._watch.stop()
        self._autosave.stop()

    def run(self, command: Command) -> bool:
        """Do ``command``; only a command that succeeded goes on the undo stack."""
        try:
            self._run(command)
        except (DStudioError, ValueError) as err:
            self.failed.emit(str(err).splitlines()[0])
            return False
        return True

    def _run(self, command: Command) -> None:
        if self.project is None:
            raise DStudioError("no project is open")
        require(self.role, "edit", f"project {self.project.name!r}")
        command.do(self.project)
        self.stack.push(_QtCommand(command, self.project))

    def apply(self, command: Command, assets: Iterable[tuple[Asset, bytes]] = ()) -> None:
        """A change that brings assets (an import, a reconstruction): stored with its assets at
        once, then one undoable step. If storing fails nothing stays and the error is raised."""
        if self.project is None:
            raise DStudioError("no project is open")
        require(self.role, "edit", f"project {self.project.name!r}")
        # the views hear of the change once it is stored: a new part's view asks for its mesh,
        # which is in the workspace only after the save
        with self.project.changed.paused():
            command.do(self.project)
            try:
                self._store(list(assets))
            except BaseException:
                command.undo(self.project)
                raise
        self.stack.push(_QtCommand(command, self.project))
        self.stack.setClean()

    def save(self) -> None:
        """Write the project to the workspace now (the autosave calls this too)."""
        self._autosave.stop()
        if self.project is None or not can(self.role, "edit"):
            return  # nothing of a reviewer's or viewer's goes into the scene
        try:
            self._store([])
        except DStudioError as err:
            self.failed.emit(f"could not save: {err}")
            return
        self.stack.setClean()

    def _store(self, assets: list[tuple[Asset, bytes]]) -> None:
        """Save; a save based on an older revision than the stored one first takes in what was
        stored (and is then based on it)."""
        try:
            self.ws.save_project(self.project, assets)
        except ConflictError:
            self.take_in_stored()
            self.ws.save_project(self.project, assets)
        self._base = self.project.to_json()

    def check_stored(self) -> None:
        """Take in a change stored elsewhere as soon as it is seen, and store the merge if this
        copy had edits of its own."""
        if self.project is None:
            return
        stored = self.ws.project_revision(self.project.id)
        if stored is None or stored == self.project.revision:
            return
        had_edits = self.dirty
        self.take_in_stored()
        if had_edits:
            self.save()

    def take_in_stored(self) -> None:
        """Three-way merge of what this copy started from, what it has now and what is stored.
        Changes on one side are taken; where both changed the same value this copy's is kept and
        the stored one is kept as a new version, and the user is told."""
        project = self.project
        theirs = self.ws.load_project(project.id)
        merged, conflicts = merge_project(self._base, project.to_json(), theirs.to_json())
        if conflicts and can(self.role, "edit"):
            when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
            kept = self.ws.save_version(project.id, notes=f"Kept from elsewhere: changed while this window had "
                                                          f"unsaved edits to the same things ({when})",
                                        snapshot=theirs.snapshot())
            message = (f"{project.name} was changed elsewhere too; both kept: yours is current, the other "
                       f"is version {kept.version_number}")
        else:
            message = f"Took in changes to {project.name} made elsewhere"
        self._adopt(merged)
        project.revision = theirs.revision
        self._base = theirs.to_json()
        if project.to_json() == self._base:
            self.stack.setClean()
        self.merged.emit(message)

    def _adopt(self, merged: dict[str, Any]) -> None:
        """Make the open project equal ``merged``: metadata set, each changed document replaced
        (its views rebuild from ``Project.changed``)."""
        project = self.project
        for key, value in merged.items():
            if key not in ALL_DOCUMENTS and key in Project.__dataclass_fields__ and key != "revision":
                setattr(project, key, value)
        replaced = []
        for name, cls in ALL_DOCUMENTS.items():
            if name in merged and merged[name] != getattr(project, name).to_json():
                setattr(project, name, load_document(cls, merged[name]))
                replaced.append(name)
        for name in replaced:
            project.changed.emit(name)
