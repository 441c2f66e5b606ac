"""The Edit menu: undo and redo, selection, and every command on parts, as window-wide actions
that work from whichever panel has focus (the viewport, the outliner, a dock). The outliner's
context menu shows the same actions."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from ..core.commands import DuplicateNodes, GroupNodes, Macro, RemoveNodes, SetNodeField, UngroupNodes
from ..core.gizmo_math import translated

DUPLICATE_GAP = 0.1   # a copy lands this fraction of its width beside the original
EMPTY_OFFSET = 0.05   # metres, for copies of parts with no size (groups of lights, say)


def _redo_keys() -> list[QKeySequence]:
    """Ctrl+Shift+Z and Ctrl+Y, each once: on some platforms one of them is already the
    standard Redo key, and binding a key twice makes Qt refuse it as ambiguous."""
    keys: list[QKeySequence] = []
    for key in (*QKeySequence.keyBindings(QKeySequence.Redo), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")):
        if not key.isEmpty() and all(key != k for k in keys):
            keys.append(key)
    return keys


class PartActions(QObject):
    """Builds the Edit menu's actions on the window and carries them out on its selection."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.actions: dict[str, QAction] = {}

    def _add(self, menu, key: str, text: str, slot: Callable[[], None], shortcuts=(), tip: str = "") -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action_{key}")
        keys = [QKeySequence(s) if not isinstance(s, QKeySequence) else s for s in shortcuts]
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.WindowShortcut)
        shown = ", ".join(k.toString(QKeySequence.NativeText) for k in keys)
        action.setToolTip(f"{tip or text.replace('&', '')}" + (f" ({shown})" if shown else ""))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        self.window.addAction(action)  # shortcuts work while any panel of the window has focus
        self.actions[key] = action
        return action

    def build(self, menu) -> None:
        stack = self.window.editor.stack
        undo = stack.createUndoAction(self.window, "&Undo")
        undo.setObjectName("action_undo")
        undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.Undo))
        redo = stack.createRedoAction(self.window, "&Redo")
        redo.setObjectName("action_redo")
        redo.setShortcuts(_redo_keys())
        for action, tip in ((undo, "Undo the last edit"), (redo, "Redo what was undone")):
            keys = ", ".join(k.toString(QKeySequence.NativeText) for k in action.shortcuts())
            action.setToolTip(f"{tip} ({keys})")
            menu.addAction(action)
            self.window.addAction(action)
        self.actions["undo"], self.actions["redo"] = undo, redo
        menu.addSeparator()
        self._add(menu, "select_all", "Select &All", self.select_all, ["Ctrl+A"], "Select every part")
        self._add(menu, "select_none", "Select &None", self.select_none, ["Ctrl+Shift+A"], "Clear the selection")
        self._add(menu, "select_invert", "&Invert Selection", self.invert_selection, ["Ctrl+Shift+I"],
                  "Select what is not selected, and the other way round")
        menu.addSeparator()
        self._add(menu, "duplicate", "&Duplicate", self.duplicate, ["Ctrl+D"],
                  "Copy the selected parts, placed beside them")
        self._add(menu, "delete", "De&lete", self.delete, [QKeySequence.Delete, "Backspace"],
                  "Delete the selected parts")
        self._add(menu, "group", "&Group", self.group, ["Ctrl+G"], "Put the selected parts in a group")
        self._add(menu, "ungroup", "U&ngroup", self.ungroup, ["Ctrl+Shift+G"],
                  "Take the parts out of the selected groups")
        self._add(menu, "rename", "&Rename…", self.rename, ["F2"], "Rename the selected part")
        menu.addSeparator()
        self._add(menu, "hide", "&Hide / Show", self.toggle_hidden, ["H"], "Hide the selected parts, or show them")
        self._add(menu, "lock", "&Lock / Unlock", self.toggle_locked, ["Ctrl+L"],
                  "Lock the selected parts against edits, or unlock them")
        self._add(menu, "drop", "Drop to &Ground", self.drop_to_ground, ["End"],
                  "Move the selected parts down until they rest on the ground")

    # -- selection ------------------------------------------------------------------------

    def _all_ids(self) -> list[str]:
        project = self.window.project
        return [n.id for n, _ in project.scene_graph.walk()] if project else []

    def _selected(self) -> list[str]:
        return [n.id for n in self.window.selected_nodes()]

    def select_all(self) -> None:
        self.window.set_selection(self._all_ids())

    def select_none(self) -> None:
        self.window.set_selection([])

    def invert_selection(self) -> None:
        chosen = set(self._selected())
        self.window.set_selection([i for i in self._all_ids() if i not in chosen])

    # -- part commands ------------------------------------------------------------------------

    def _need_selection(self, what: str) -> Optional[list[str]]:
        ids = self._selected()
        if not ids:
            self.window.statusBar().showMessage(f"Select a part to {what}", 4000)
            return None
        return ids

    def duplicate(self) -> None:
        ids = self._need_selection("duplicate")
        if ids is None:
            return
        bounds = self.window.viewport.scene_view.bounds(set(ids)) if self.window.viewport.scene_view else None
        width = float(bounds[1][0] - bounds[0][0]) if bounds is not None else 0.0
        offset = (width * (1 + DUPLICATE_GAP) if width > 0 else EMPTY_OFFSET, 0.0, 0.0)
        command = DuplicateNodes(node_ids=ids, offset=offset)
        if self.window.run(command):
            self.window.set_selection(list(command.new_ids))

    def delete(self) -> None:
        ids = self._need_selection("delete")
        if ids is not None and self.window.run(RemoveNodes(node_ids=ids)):
            self.window.set_selection([])

    def group(self) -> None:
        ids = self._need_selection("group")
        if ids is None:
            return
        command = GroupNodes(node_ids=ids)
        if self.window.run(command):
            self.window.set_selection([command.group_id])

    def ungroup(self) -> None:
        ids = self._need_selection("ungroup")
        if ids is None:
            return
        project = self.window.project
        children = [c.id for i in ids if (g := project.scene_graph.find(i)) is not None for c in g.children]
        if self.window.run(UngroupNodes(node_ids=ids)):
            self.window.set_selection(children)

    def rename(self) -> None:
        ids = self._need_selection("rename")
        if ids is None:
            return
        outliner = self.window.outliner
        outliner.show()
        outliner.raise_()
        item = outliner._items.get(ids[0])
        if item is not None:
            outliner.tree.setFocus()
            outliner.tree.setCurrentItem(item, 0)
            outliner.tree.editItem(item, 0)

    def _toggle(self, field: str, on: str, off: str) -> None:
        """``field`` turned on for every selected part, or off when all have it on already (a
        mixed selection all becomes on); the undo step is named ``on`` or ``off``."""
        nodes = self.window.selected_nodes()
        if not nodes:
            self.window.statusBar().showMessage(f"Select a part to {on.lower()} or {off.lower()}", 4000)
            return
        value = not all(getattr(n, field) for n in nodes)
        self.window.run(Macro([SetNodeField(n.id, field, value) for n in nodes], on if value else off))

    def toggle_hidden(self) -> None:
        self._toggle("visible", "Show", "Hide")

    def toggle_locked(self) -> None:
        self._toggle("locked", "Lock", "Unlock")

    def drop_to_ground(self) -> None:
        """Each selected part moves straight down (or up) until its lowest point is at y = 0."""
        nodes = [n for n in self.window.selected_nodes() if not n.locked]
        scene_view = self.window.viewport.scene_view
        if not nodes or scene_view is None:
            self.window.statusBar().showMessage("Select an unlocked part to drop to the ground", 4000)
            return
        graph = self.window.project.scene_graph
        steps = []
        for node in nodes:
            bounds = scene_view.bounds({node.id})
            if bounds is None:
                continue
            parent = graph.parent_of(node.id)
            parent_world = graph.world_matrix(parent.id) if parent else np.eye(4)
            moved = translated(node.transform, parent_world, np.array([0.0, -float(bounds[0][1]), 0.0]))
            steps.append(SetNodeField(node.id, "transform", moved))
        if steps:
            self.window.run(Macro(steps, "Drop to ground"))
