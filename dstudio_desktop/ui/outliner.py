"""The outliner: the scene tree. Rename, show/hide, lock, group, duplicate, delete, drag to reparent.

Every change goes through a core command on the undo stack; the tree is rebuilt
from the model when the scene graph changes, never edited in place.
"""

from __future__ import annotations

from typing import Optional

import shiboken6
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from ..core import Node, Project
from ..core.commands import MoveNode, SetNodeField

NODE_ID = Qt.UserRole + 1
NAME, VISIBLE, LOCKED = 0, 1, 2


class _Tree(QTreeWidget):
    """A tree whose drops become MoveNode commands instead of moving items itself."""

    moved = Signal(str, object, int)  # node id, new parent id (None for top level), index

    def dropEvent(self, event) -> None:
        dragged = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        if dragged is None:
            return
        where = self.dropIndicatorPosition()
        if target is None:
            parent_id, index = None, self.topLevelItemCount()
        elif where == QAbstractItemView.OnItem:
            parent_id, index = target.data(NAME, NODE_ID), target.childCount()
        else:
            parent = target.parent()
            parent_id = parent.data(NAME, NODE_ID) if parent else None
            siblings = parent if parent else self.invisibleRootItem()
            index = siblings.indexOfChild(target) + (1 if where == QAbstractItemView.BelowItem else 0)
        event.ignore()  # the model moves; the tree is rebuilt from it
        self.moved.emit(dragged.data(NAME, NODE_ID), parent_id, index)


class Outliner(QDockWidget):
    selection_changed = Signal(list)  # node ids
    edit_requested = Signal(object)  # a core Command, for the window to run on its undo stack

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Outliner", parent)
        self.setObjectName("outliner")
        self.project: Optional[Project] = None
        self.tree = _Tree(self)
        self.tree.setHeaderLabels(["Name", "Show", "Lock"])
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setDragDropMode(QAbstractItemView.InternalMove)
        self.tree.setEditTriggers(QAbstractItemView.EditKeyPressed | QAbstractItemView.DoubleClicked)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.moved.connect(lambda node_id, parent_id, index: self.edit_requested.emit(MoveNode(node_id=node_id,
                                                                                    new_parent_id=parent_id,
                                                                                    index=index)))
        self.tree.setContextMenuPolicy(Qt.ActionsContextMenu)  # the window adds its Edit actions
        self.setWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._others: dict[str, tuple[str, str]] = {}  # node id -> (colour, names) of others selecting it
        self._rebuild_pending = False

    def refresh_later(self) -> None:
        """Rebuild on the next turn of the event loop: an item must not be deleted inside its own signal."""
        if not self._rebuild_pending:
            self._rebuild_pending = True
            QTimer.singleShot(0, self, self._rebuild)   # never after the panel itself is gone

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        if shiboken6.isValid(self.tree):   # the window may have closed in the meantime
            self.set_project(self.project)

    def set_project(self, project: Optional[Project]) -> None:
        self.project = project
        selected = self.selected_ids()
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items = {}
        if project is not None:
            for node in project.scene_graph.nodes:
                self.tree.addTopLevelItem(self._item(node))
            self.tree.expandAll()
            for column in (NAME, VISIBLE, LOCKED):
                self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self.select(selected)
        self._paint_others()

    def mark_others(self, marks: dict[str, tuple[str, str]]) -> None:
        """Parts other people have selected: node id -> (their colour, their names), shown as a
        tint of that colour behind the name and said in its tooltip."""
        self._others = dict(marks)
        self._paint_others()

    def _paint_others(self) -> None:
        # a tint is not the user editing an item: unblocked, each one would rebuild the tree, forever
        self.tree.blockSignals(True)
        try:
            self._tint_others()
        finally:
            self.tree.blockSignals(False)

    def _tint_others(self) -> None:
        for node_id, item in self._items.items():
            mark = self._others.get(node_id)
            if mark is None:
                item.setBackground(NAME, QBrush())
                item.setToolTip(NAME, item.data(NAME, Qt.UserRole + 2) or "")
                continue
            tint = QColor(mark[0])
            tint.setAlpha(110)
            item.setBackground(NAME, QBrush(tint))
            item.setToolTip(NAME, f"Selected by {mark[1]}")

    def _item(self, node: Node) -> QTreeWidgetItem:
        item = QTreeWidgetItem([node.name, "", ""])
        item.setData(NAME, NODE_ID, node.id)
        item.setToolTip(NAME, node.kind)
        item.setData(NAME, Qt.UserRole + 2, node.kind)  # the tooltip to put back when no one else selects it
        item.setFlags(item.flags() | Qt.ItemIsEditable | Qt.ItemIsUserCheckable | Qt.ItemIsDragEnabled
                      | Qt.ItemIsDropEnabled)
        item.setCheckState(VISIBLE, Qt.Checked if node.visible else Qt.Unchecked)
        item.setCheckState(LOCKED, Qt.Checked if node.locked else Qt.Unchecked)
        if not node.visible:
            item.setForeground(NAME, Qt.gray)
        self._items[node.id] = item
        for child in node.children:
            item.addChild(self._item(child))
        return item

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        node = self.project.scene_graph.find(item.data(NAME, NODE_ID)) if self.project else None
        if node is None:
            return
        checked = {VISIBLE: item.checkState(VISIBLE) == Qt.Checked, LOCKED: item.checkState(LOCKED) == Qt.Checked}
        if column == NAME and item.text(NAME).strip() and item.text(NAME) != node.name:
            self.edit_requested.emit(SetNodeField(node.id, "name", item.text(NAME).strip()[:256]))
        elif column == VISIBLE and checked[VISIBLE] != node.visible:
            self.edit_requested.emit(SetNodeField(node.id, "visible", checked[VISIBLE]))
        elif column == LOCKED and checked[LOCKED] != node.locked:
            self.edit_requested.emit(SetNodeField(node.id, "locked", checked[LOCKED]))
        # redraw from the model: shows the edit, or puts back one that was refused (e.g. on a locked part)
        self.refresh_later()

    def selected_ids(self) -> list[str]:
        return [item.data(NAME, NODE_ID) for item in self.tree.selectedItems()]

    def select(self, node_ids: list[str]) -> None:
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        for node_id in node_ids:
            if node_id in self._items:
                self._items[node_id].setSelected(True)
        current = next((self._items[i] for i in reversed(node_ids) if i in self._items), None)
        if current is not None:  # the current item moves without clearing the others' selection
            self.tree.selectionModel().setCurrentIndex(self.tree.indexFromItem(current, NAME),
                                                       QItemSelectionModel.NoUpdate)
        self.tree.blockSignals(False)

    def _selected(self) -> None:
        self.selection_changed.emit(self.selected_ids())
