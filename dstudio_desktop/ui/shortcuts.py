"""Help → Keyboard Shortcuts: every key the window answers to, read from its actions (so the
sheet cannot drift from what the keys do), with the viewport's mouse and trackpad gestures."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

GESTURES = [
    ("Viewport", "Orbit", "left-drag; two fingers on a trackpad"),
    ("Viewport", "Pan", "middle-drag or Shift+left-drag; Shift + two fingers"),
    ("Viewport", "Zoom", "wheel or right-drag; pinch or Ctrl + two fingers"),
    ("Viewport", "Select", "click a part; Shift+click adds, Ctrl+click toggles; drag a box in Select mode"),
    ("Viewport", "Orbit in any mode", "Alt+left-drag"),
    ("Viewport", "Move, turn or scale", "drag a gizmo handle (Move, Rotate, Scale modes); Ctrl while dragging "
     "flips snapping"),
    ("Viewport", "Measure", "in Measure mode, click two points on parts"),
]


def shortcut_actions(window) -> list[tuple[str, QAction]]:
    """(where, action) for every action of the window's menus and toolbars that has a key."""
    found: list[tuple[str, QAction]] = []
    seen: set[int] = set()

    def visit(menu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                visit(action.menu(), f"{path} › {action.menu().title().replace('&', '')}")
            elif action.shortcuts() and id(action) not in seen:
                seen.add(id(action))
                found.append((path, action))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            visit(top.menu(), top.menu().title().replace("&", ""))
    for action in window.findChildren(QAction):  # toolbar-only actions (tools) too
        if action.shortcuts() and id(action) not in seen and action.text():
            seen.add(id(action))
            found.append(("Tools", action))
    return found


def keys_of(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.NativeText) for k in action.shortcuts())


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(where, command, keys): what the sheet shows."""
    return [(where, a.text().replace("&", "").rstrip("…"), keys_of(a)) for where, a in shortcut_actions(window)]


class ShortcutsDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(640, 560)
        rows = shortcut_rows(window) + GESTURES
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Command", "Keys"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(2)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
