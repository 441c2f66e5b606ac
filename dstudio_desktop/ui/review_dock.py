"""Review: the project's annotations as threads, filtered by status, version, author and
text; reply, resolve and reopen; clicking one flies to the view it was made from and
highlights its pin."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
)

from ..errors import DStudioError
from ..services import review
from .panel import Panel

ALL_VERSIONS = "All versions"
ALL_AUTHORS = "All authors"


class ReviewDock(Panel):
    noted = Signal()  # a note, reply, resolve or reopen made here (the others are told to pull it)

    def __init__(self, window) -> None:
        super().__init__("Review", "review_dock", window)
        layout = self.body_layout
        filters = QHBoxLayout()
        self.status = QComboBox()
        self.status.addItems(["Open and resolved", "Open", "Resolved"])
        self.version = QComboBox()
        self.author = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search text")
        for combo, tip in ((self.status, "Show open notes, resolved ones, or both"),
                           (self.version, "Only notes made on this version"), (self.author, "Only notes by this person")):
            combo.currentIndexChanged.connect(self._fill)
            combo.setToolTip(tip)
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)  # the panel may be narrow: long names are elided
            filters.addWidget(combo)
        self.search.setToolTip("Only notes whose text holds this")
        self.search.textChanged.connect(self._fill)
        layout.addLayout(filters)
        layout.addWidget(self.search)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["#", "Status", "Version", "Author", "Date", "Comment"])
        self.list.itemClicked.connect(lambda item, _col: self.show_annotation(item.data(0, Qt.UserRole)))
        self.list.setToolTip("Click a note to fly to the view it was made from")
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        for label, slot, tip in (("Reply…", lambda: self.reply(), "Answer the chosen note"),
                                 ("Resolve", lambda: self.set_resolved(True), "Mark the chosen note done"),
                                 ("Reopen", lambda: self.set_resolved(False), "Open the chosen note again")):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.threads: list[review.Thread] = []
        self.version_numbers: dict[str, int] = {}
        self.names: dict[str, str] = {}
        window.project_opened.connect(lambda _id: self.refresh())

    # -- data --------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the annotations from the workspace, then redraw the list and the pins."""
        project = self.window.project
        if project is None:
            return
        ws = self.window.ws
        self.threads = review.threads(ws.list_annotations(project.id))
        self.version_numbers = {v.id: v.version_number for v in ws.list_versions(project.id)}
        profile = ws.local_profile()
        self.names = {profile["id"]: profile["display_name"]}
        self._refill_combo(self.version, ALL_VERSIONS,
                           sorted({self._version(t.annotation.version_id) for t in self.threads}))
        self._refill_combo(self.author, ALL_AUTHORS, sorted({self._author(t.annotation.author_id) for t in self.threads}))
        self._fill()
        self.window.refresh_pins()

    def _refill_combo(self, combo: QComboBox, everything: str, values: list[str]) -> None:
        current = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems([everything, *values])
        combo.setCurrentIndex(max(combo.findText(current), 0))
        combo.blockSignals(False)

    def _version(self, version_id) -> str:
        return f"v{self.version_numbers[version_id]}" if version_id in self.version_numbers else "unsaved"

    def _author(self, author_id) -> str:
        return self.names.get(author_id, author_id or "unknown")

    def visible_threads(self) -> list[review.Thread]:
        status, version, author = self.status.currentText(), self.version.currentText(), self.author.currentText()
        text = self.search.text().strip().lower()
        shown = []
        for t in self.threads:
            a = t.annotation
            if status == "Open" and a.resolved or status == "Resolved" and not a.resolved:
                continue
            if version not in ("", ALL_VERSIONS) and self._version(a.version_id) != version:
                continue
            if author not in ("", ALL_AUTHORS) and self._author(a.author_id) != author:
                continue
            if text and text not in a.content.lower() and not any(text in r.content.lower() for r in t.replies):
                continue
            shown.append(t)
        return shown

    def _fill(self, *_) -> None:
        selected = self.current_id()
        self.list.clear()
        for t in self.visible_threads():
            item = self._item(t.annotation, str(t.number))
            for r in t.replies:
                item.addChild(self._item(r, ""))
            self.list.addTopLevelItem(item)
            item.setExpanded(True)
            if t.annotation.id == selected:
                self.list.setCurrentItem(item)
        for column in (0, 1, 2, 3, 4):
            self.list.resizeColumnToContents(column)

    def _item(self, a, number: str) -> QTreeWidgetItem:
        status = "" if a.parent_id else ("resolved" if a.resolved else "open")
        item = QTreeWidgetItem([number, status, self._version(a.version_id), self._author(a.author_id),
                                a.created_at[:16].replace("T", " "), a.content])
        item.setData(0, Qt.UserRole, a.parent_id or a.id)
        item.setToolTip(5, a.content)
        return item

    def current_id(self):
        item = self.list.currentItem()
        return item.data(0, Qt.UserRole) if item else None

    # -- actions -------------------------------------------------------------

    def show_annotation(self, annotation_id, animate: bool = True) -> None:
        """Fly to the view the annotation was made from and highlight its pin."""
        thread = next((t for t in self.threads if t.annotation.id == annotation_id), None)
        if thread is None:
            return
        self.window.viewport.pins.select(annotation_id)
        if thread.annotation.camera_state is not None:
            self.window.camera_dock.fly_to(thread.annotation.camera_state, animate)
        self.window.viewport.canvas.update()

    def reply(self, text: str | None = None) -> None:
        annotation_id = self.current_id()
        if annotation_id is None:
            return
        if text is None:
            text, ok = QInputDialog.getText(self, "Reply", "Reply:")
            if not ok or not text.strip():
                return
        self._do(lambda ws, project: review.reply(ws, project, annotation_id, text))

    def set_resolved(self, resolved: bool) -> None:
        annotation_id = self.current_id()
        if annotation_id is not None:
            self._do(lambda ws, project: review.set_resolved(ws, project, annotation_id, resolved))

    def _do(self, action) -> None:
        try:
            action(self.window.ws, self.window.project)
        except DStudioError as err:
            self.window.show_error(str(err))
            return
        self.refresh()
        self.noted.emit()
