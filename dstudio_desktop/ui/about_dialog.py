"""Help → About Design Studio: the version, where the work is kept, and every bundled part with
its version and licence (read from the installed distributions' metadata by ``bundled``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..bundled import bundled_parts


def app_icon() -> QIcon:
    """The app's icon (resources/icons), for windows and the About dialog."""
    from ..resources import resource

    return QIcon(str(resource("icons", "dstudio.svg")))


class AboutDialog(QDialog):
    """Version, workspace folder and the licences of the bundled parts."""

    def __init__(self, workspace_home: Path, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Design Studio")
        self.resize(620, 560)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(72, 72))
        title = QLabel(f"<b style='font-size:16pt'>Design Studio Desktop</b><br>Version {__version__}<br>"
                       f"Your work is kept in <code>{workspace_home}</code>")
        title.setObjectName("about_title")
        title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(icon)
        head.addWidget(title, 1)

        parts = bundled_parts()
        self.table = QTableWidget(len(parts), 3)
        self.table.setObjectName("bundled_parts")
        self.table.setHorizontalHeaderLabels(["Part", "Version", "Licence"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        for row, part in enumerate(parts):
            for column, text in enumerate((part.name, part.version, part.licence)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)

        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(QLabel(f"Bundled parts ({len(parts)}), each under its own licence:"))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
