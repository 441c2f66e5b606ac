"""The docks around the viewport share this: a title, the name the window's saved layout
knows it by, the window it serves, and a body with a layout."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QLayout, QVBoxLayout, QWidget


class Panel(QDockWidget):
    def __init__(self, title: str, object_name: str, window, layout: type[QLayout] = QVBoxLayout) -> None:
        super().__init__(title, window)
        self.setObjectName(object_name)  # QSettings restores the layout by this name: keep it stable
        self.window = window
        body = QWidget(self)
        self.body_layout = layout(body)
        self.setWidget(body)
