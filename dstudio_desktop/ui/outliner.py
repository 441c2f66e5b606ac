"""The outliner: the scene tree, whose selection drives the viewport's."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from ..core import Node, Project

NODE_ID = Qt.UserRole + 1


class Outliner(QDockWidget):
    selection_changed = Signal(list)  # node ids

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Outliner", parent)
        self.setObjectName("outliner")
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Name", "Kind"])
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.setWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}

    def set_project(self, project: Optional[Project]) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items = {}
        if project is not None:
            for node in project.scene_graph.nodes:
                self.tree.addTopLevelItem(self._item(node))
            self.tree.expandAll()
            self.tree.resizeColumnToContents(0)
        self.tree.blockSignals(False)

    def _item(self, node: Node) -> QTreeWidgetItem:
        item = QTreeWidgetItem([node.name, node.kind])
        item.setData(0, NODE_ID, node.id)
        if not node.visible:
            item.setForeground(0, Qt.gray)
        self._items[node.id] = item
        for child in node.children:
            item.addChild(self._item(child))
        return item

    def select(self, node_ids: list[str]) -> None:
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        for node_id in node_ids:
            if node_id in self._items:
                self._items[node_id].setSelected(True)
        self.tree.blockSignals(False)

    def _selected(self) -> None:
        self.selection_changed.emit([item.data(0, NODE_ID) for item in self.tree.selectedItems()])
