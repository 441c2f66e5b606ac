"""The docks around the viewport share this: a title, the name the window's saved layout
knows it by, the window it serves, and a body with a layout that scrolls when the panel is
shorter than its content (so a tall panel never makes the window taller than the screen)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFrame,
    QHeaderView,
    QLayout,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)


class Panel(QDockWidget):
    def __init__(self, title: str, object_name: str, window, layout: type[QLayout] = QVBoxLayout) -> None:
        super().__init__(title, window)
        self.setObjectName(object_name)  # QSettings restores the layout by this name: keep it stable
        self.window = window
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        body = QWidget(scroll)
        self.body_layout = layout(body)
        scroll.setWidget(body)
        self.setWidget(scroll)


def rows_table(object_name: str, columns: tuple[str, ...], tip: str) -> QTableWidget:
    """A read-only table of records, one selected row at a time, columns sized to their content
    (the Jobs panel's cloud jobs, the Print jobs window's print jobs)."""
    table = QTableWidget(0, len(columns))
    table.setObjectName(object_name)
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)  # a narrow dock shows all
    table.setToolTip(tip)
    return table
