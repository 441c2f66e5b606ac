"""The Printers dialog: the print servers a user sends jobs to (OctoPrint), added, edited,
tested and removed as ``dstudio print-server`` does. The list and URLs are kept by
``printing.print_servers`` (names and URLs in a file, each API key in the keyring); every call
that reaches a server runs off the GUI thread, and its error is shown as one line here."""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import DStudioError
from ..jobs import Job, ThreadJob
from ..printing.print_servers import add_server, check_server, list_servers, remove_server, stored_key
from .tasks import follow


def _one_line(text: str) -> str:
    return " ".join(text.split())


class PrintServersDialog(QDialog):
    """Add, edit, test and remove print servers. ``changed`` fires when the list changed."""

    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Printers")
        self.setObjectName("print_servers_dialog")
        self.job: Optional[Job] = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Print servers (OctoPrint) this computer sends jobs to:"))
        self.servers = QListWidget()
        self.servers.setObjectName("servers")
        self.servers.setToolTip("Pick a printer to edit or remove it")
        self.servers.currentItemChanged.connect(self._picked)
        layout.addWidget(self.servers)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. shop")
        self.name.setToolTip("A name for the printer, used by Send and by 'dstudio send --printer'")
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://octopi.local")
        self.url.setToolTip("The OctoPrint server's address")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.Password)
        self.key.setPlaceholderText("OctoPrint application key")
        self.key.setToolTip("Made in OctoPrint's Settings → Application Keys; kept in the system keyring")
        form.addRow("Name", self.name)
        form.addRow("URL", self.url)
        form.addRow("API key", self.key)
        layout.addLayout(form)
        self.status = QLabel("")
        self.status.setObjectName("servers_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.PlainText)
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing() * 3)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.test_button = QPushButton("Test Connection")
        self.test_button.setToolTip("Ask the server whether it answers and accepts the key (nothing is saved)")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Add the printer (or save its changes) once the server accepts the key")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the picked printer and its key")
        for b in (self.test_button, self.save_button, self.remove_button):
            buttons.addButton(b, QDialogButtonBox.ActionRole)
        buttons.addButton(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        layout.addWidget(buttons)
        self.resize(520, 420)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.done

    def refresh(self, select: Optional[str] = None) -> None:
        """Reload the list, keeping (or moving) the selection to ``select``."""
        current = self.servers.currentItem()
        select = select or (current.data(256) if current is not None else None)
        self.servers.clear()
        try:
            servers = list_servers()
        except DStudioError as err:
            self._say(str(err), error=True)
            servers = []
        for entry in servers:
            item = QListWidgetItem(f"{entry.name}  —  {entry.url}")
            item.setData(256, entry.name)
            item.setData(257, entry.url)
            self.servers.addItem(item)
            if entry.name == select:
                self.servers.setCurrentItem(item)
        self.remove_button.setEnabled(self.servers.currentItem() is not None)

    def _picked(self, item: Optional[QListWidgetItem], _previous=None) -> None:
        self.remove_button.setEnabled(item is not None)
        if item is None:
            return
        self.name.setText(item.data(256))
        self.url.setText(item.data(257))
        self.key.clear()
        self.key.setPlaceholderText("leave empty to keep the key in the keyring")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00;" if error else "")
        self.status.setText(_one_line(text))

    def _fields(self) -> tuple[str, str, str]:
        name, url, key = self.name.text().strip(), self.url.text().strip(), self.key.text().strip()
        if not name:
            raise DStudioError("give the printer a name")
        if not key and name in {s.name for s in list_servers()}:
            key = stored_key(name)     # editing a printer: its key stays unless a new one is typed
        return name, url, key

    def _run(self, what: str, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        if self.busy:
            return
        for b in (self.test_button, self.save_button, self.remove_button):
            b.setEnabled(False)
        self._say(what)

        def finish(result: Any) -> None:
            self._idle()
            done(result)

        def fail(message: str) -> None:
            self._idle()
            self._say(message, error=True)

        self.job = follow(self, ThreadJob(lambda progress, token: work(), name=what), None, finish, fail)

    def _idle(self) -> None:
        self.test_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.remove_button.setEnabled(self.servers.currentItem() is not None)

    def test_connection(self) -> None:
        try:
            name, url, key = self._fields()
        except DStudioError as err:
            self._say(str(err), error=True)
            return
        self._run(f"Asking {url}…", lambda: check_server(name, url, key),
                  lambda about: self._say(f"✔ {about} at {url} answers and accepts the key."))

    def save(self) -> None:
        try:
            name, url, key = self._fields()
        except DStudioError as err:
            self._say(str(err), error=True)
            return

        def saved(about: str) -> None:
            self.key.clear()
            self.refresh(select=name)
            self._say(f"✔ Saved {name} ({about}); its API key is in the keyring.")
            self.changed.emit()

        self._run(f"Asking {url}…", lambda: add_server(name, url, key), saved)

    def remove(self) -> None:
        item = self.servers.currentItem()
        if item is None or self.busy:
            return
        name = item.data(256)
        try:
            remove_server(name)
        except DStudioError as err:
            self._say(str(err), error=True)
            return
        self.name.clear()
        self.url.clear()
        self.refresh()
        self._say(f"Removed {name} and its key.")
        self.changed.emit()

    def reject(self) -> None:
        if self.busy:
            self.job.cancel()   # the request ends within its timeout; its answer is dropped
        super().reject()
