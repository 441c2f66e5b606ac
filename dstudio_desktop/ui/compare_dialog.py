"""Two versions side by side in linked viewports: moving one camera moves the other, and the
parts that changed between them are highlighted in both; the list names every change."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QListWidget, QSplitter, QVBoxLayout, QWidget

from ..core.diff import changed_node_ids, diff_snapshots
from ..render.viewport import Viewport
from ..services.images import workspace_assets

CHANGED = ((0.25, 0.85, 1.0, 0.9), 0.0)


class CompareDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle(f"Compare versions — {window.project.name}")
        self.resize(1400, 760)
        self.versions = window.ws.list_versions(window.project.id)
        layout = QVBoxLayout(self)
        pickers = QHBoxLayout()
        self.left_choice, self.right_choice = QComboBox(), QComboBox()
        for combo in (self.left_choice, self.right_choice):
            combo.addItems([f"v{v.version_number}  {v.notes}" for v in self.versions])
        self.left_choice.setCurrentIndex(max(len(self.versions) - 2, 0))
        self.right_choice.setCurrentIndex(max(len(self.versions) - 1, 0))
        pickers.addWidget(QLabel("Before:"))
        pickers.addWidget(self.left_choice, 1)
        pickers.addWidget(QLabel("After:"))
        pickers.addWidget(self.right_choice, 1)
        layout.addLayout(pickers)
        split = QSplitter()
        self.left, self.right = Viewport(parent=None), Viewport(parent=None)
        for viewport in (self.left, self.right):
            holder = QWidget()
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(viewport.canvas.native)
            split.addWidget(holder)
        layout.addWidget(split, 1)
        self.changes = QListWidget()
        self.changes.setMaximumHeight(140)
        layout.addWidget(self.changes)
        # linked: whichever camera the user moves, the other follows exactly
        self.left.camera.moved.connect(self.right.camera.set_view)
        self.right.camera.moved.connect(self.left.camera.set_view)
        self.left_choice.currentIndexChanged.connect(self.show_versions)
        self.right_choice.currentIndexChanged.connect(self.show_versions)
        self.show_versions()

    def _project_at(self, index: int):
        project = self.window.ws.load_project(self.window.project.id)
        project.apply_snapshot(self.versions[index].snapshot)
        return project

    def show_versions(self, *_) -> None:
        if not self.versions:
            return
        a, b = self.left_choice.currentIndex(), self.right_choice.currentIndex()
        before, after = self.versions[a].snapshot, self.versions[b].snapshot
        changes = diff_snapshots(before, after)
        self.changes.clear()
        self.changes.addItems([c.describe() for c in changes] or ["No changes"])
        view = self.window.viewport.camera.view
        ws = self.window.ws
        for viewport, index, snapshot in ((self.left, a, before), (self.right, b, after)):
            viewport.set_project(self._project_at(index), workspace_assets(ws))
            viewport.camera.set_view(view)
            viewport.scene_view.highlight = CHANGED  # an outline glow: the colours being compared stay true
            viewport.scene_view.set_selection(changed_node_ids(changes, snapshot))
            viewport.canvas.update()
        self.changed_ids = changed_node_ids(changes, after) | changed_node_ids(changes, before)

    def done(self, result: int) -> None:
        for viewport in (self.left, self.right):
            viewport.close()
        super().done(result)
