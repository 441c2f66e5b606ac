"""Versions: the project's history with numbers, notes and dates; save one; restore one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
)

from ..errors import DStudioError
from ..services import versions
from ..store.syncstate import SyncState
from .panel import Panel

ICON_SIZE = (80, 50)


class VersionsDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Versions", "versions_dock", window)
        layout = self.body_layout
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["#", "Saved", "Notes"])
        self.list.setRootIsDecorated(False)
        self.list.setIconSize(QSize(*ICON_SIZE))
        layout.addWidget(self.list)
        self._icons: dict[str, QIcon] = {}  # by the thumbnail's sha256
        self._restored = None
        row = QHBoxLayout()
        save = QPushButton("Save version…")
        save.setToolTip("Keep the project as it is now as a numbered version, with notes and a thumbnail")
        save.clicked.connect(lambda: self.save())
        restore = QPushButton("Restore")
        restore.setToolTip("Make the chosen version current again (saved as a new version)")
        self.list.setToolTip("The project's versions, newest first")
        restore.clicked.connect(self.restore_selected)
        row.addWidget(save)
        row.addWidget(restore)
        layout.addLayout(row)
        window.project_changed.connect(lambda name: self.refresh() if name == "scene_graph" else None)
        window.project_opened.connect(self._opened)
        self.refresh()

    def _opened(self, _project_id: str) -> None:
        if self._restored is not None:  # the restored state is on screen now: that is its thumbnail
            self._thumbnail(self._restored)
            self._restored = None
        self.refresh()

    def _thumbnail_icons(self) -> dict[str, QIcon]:
        """Each version's thumbnail as an icon, by version id."""
        icons = {}
        ws = self.window.ws
        for version_id, asset in versions.thumbnails(ws, self.window.project.id).items():
            if asset.sha256 not in self._icons:
                pixmap = QPixmap()
                try:
                    pixmap.loadFromData(ws.asset_bytes(asset))
                except DStudioError:
                    continue
                self._icons[asset.sha256] = QIcon(pixmap)
            icons[version_id] = self._icons[asset.sha256]
        return icons

    def refresh(self) -> None:
        self.list.clear()
        if self.window.project is None:
            return
        icons = self._thumbnail_icons()
        synced = self.window.sync_status.session is not None if hasattr(self.window, "sync_status") else False
        numbers = SyncState(self.window.ws)
        for v in reversed(self.window.ws.list_versions(self.window.project.id)):
            # signed in, the server's number is the version's name; until it is pushed it is pending
            server = numbers.server_number(v.id) if synced else None
            label = str(server) if server is not None else (f"{v.version_number} (pending)" if synced
                                                             else str(v.version_number))
            item = QTreeWidgetItem([label, v.created_at[:16].replace("T", " "), v.notes])
            item.setData(0, Qt.UserRole, v.version_number)
            if v.id in icons:
                item.setIcon(0, icons[v.id])
            self.list.addTopLevelItem(item)
        self.list.resizeColumnToContents(0)
        self.list.resizeColumnToContents(1)

    def save(self, notes: str | None = None) -> None:
        if notes is None:
            notes, ok = QInputDialog.getText(self, "Save version", "Notes:")
            if not ok:
                return
        self.window.editor.save()  # the version snapshots what is stored, so store the edits first
        try:
            version = versions.save_version(self.window.ws, self.window.project.id, notes,
                                            picture=self.window.picture())
        except DStudioError as err:
            self.window.show_error(str(err))
            return
        self.window.statusBar().showMessage(f"Saved version {version.version_number}", 5000)
        self.refresh()

    def _thumbnail(self, version) -> None:
        """The view on screen now, kept as the thumbnail of ``version`` (just restored)."""
        self.window.ws.add_asset(*versions.thumbnail_asset(version, versions.thumbnail_png(self.window.picture())))

    def restore_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            number = item.data(0, Qt.UserRole)
            answer = QMessageBox.question(
                self, "Restore version",
                f"Make version {number} current again? It is saved as a new version; undo history is cleared.")
            if answer == QMessageBox.Yes:
                self.restore(number)

    def restore(self, number: int) -> None:
        self.window.editor.save()
        try:
            version = versions.restore_version(self.window.ws, self.window.project.id, number)
        except DStudioError as err:
            self.window.show_error(str(err))
            return
        self._restored = version
        self.window.open_project(self.window.project.id)
        self.window.statusBar().showMessage(f"Restored version {number} as version {version.version_number}", 5000)
