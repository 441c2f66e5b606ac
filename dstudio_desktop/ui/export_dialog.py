"""File → Export…: choose the file and how it is made, then export with a progress bar and Cancel.

*This computer (free)* writes any format the app writes (``services.models.export_project`` on
a thread, as before) and records the export in the project's history (0 credits). The cloud
presets (*normal*, *web*, *lod*: the server's gltfpack optimising the project's GLB) each show
the server's quote, with the balance, before anything is sent; unavailable with the reason
when signed out or offline. A cloud export is followed like a reconstruction
(``services.cloud_jobs.export_job``): Cancel cancels the job on the server (its hold comes
back), and the optimised file (and its levels of detail beside it) lands where the CLI's
``dstudio export --cloud`` puts them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..errors import Cancelled, DStudioError
from ..jobs import Job, ThreadJob
from ..meshio.formats import dialog_filter
from ..services import cloud_jobs
from .tasks import follow, run_buttons

LOCAL = "local"


class ExportDialog(QDialog):
    """The Export dialog; ``exported`` fires with the files written when an export finishes."""

    exported = Signal(list)

    def __init__(self, window, path: str = "") -> None:
        super().__init__(window)
        self.window = window
        self.jobs = window.jobs_dock  # the window's connection for cloud work
        self.project_id, self.project_name = window.project.id, window.project.name
        self.quotes: dict[str, cloud_jobs.Quote] = {}
        self.job: Optional[Job] = None
        self.setWindowTitle("Export")
        self.setObjectName("export_dialog")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        safe = re.sub(r'[\\/:*?"<>|]+', "", self.project_name).strip() or "model"
        self.path = QLineEdit(path or str(Path.home() / f"{safe}.glb"))
        self.path.setObjectName("export_path")
        self.path.setToolTip("The file to write; its extension chooses the format")
        self.path.textChanged.connect(lambda _: self._update())
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.how = QComboBox()
        self.how.setObjectName("export_how")
        self.how.setToolTip("Write it here for free, or have the server optimise it for the price shown")
        self.how.addItem("This computer (free)", LOCAL)
        for preset, what in cloud_jobs.EXPORT_PRESETS.items():
            self.how.addItem(f"Cloud {preset}", preset)
            self.how.setItemData(self.how.count() - 1, what, Qt.ToolTipRole)
        self.how.currentIndexChanged.connect(lambda _: self._update())
        form.addRow("Made by", self.how)
        self.price = QLabel("")
        self.price.setObjectName("export_price")
        self.price.setWordWrap(True)
        form.addRow("", self.price)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons, self.run_button, self.cancel_button = run_buttons(self, "Export")
        # wide enough for its longer label: the box does not grow a button whose text changes
        self.run_button.setMinimumWidth(self.run_button.fontMetrics().horizontalAdvance("Send to the cloud") + 32)
        layout.addWidget(buttons)
        self.resize(600, 260)
        self.ask_prices()
        self._update()

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.done

    def _cloud_items(self):
        model = self.how.model()
        return [(model.item(i), self.how.itemData(i)) for i in range(1, self.how.count())]

    def browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", self.path.text(), dialog_filter())
        if path:
            self.path.setText(path)

    # -- prices --------------------------------------------------------------------------

    def _unavailable(self, reason: str) -> None:
        """Every cloud preset shown with why it cannot be chosen (then This computer is)."""
        self.quotes = {}
        for item, preset in self._cloud_items():
            item.setEnabled(False)
            item.setText(f"Cloud {preset} — unavailable: {reason}")
        if self.how.currentData() != LOCAL:
            self.how.setCurrentIndex(0)
        self.price.setText(f"Cloud: {reason}.")

    def ask_prices(self) -> None:
        """The server's quote for each preset, with the balance, off the GUI thread."""
        reason = self.jobs.unavailable()
        if reason:
            self._unavailable(reason)
            return
        try:
            cloud = self.jobs.cloud()
        except DStudioError as err:
            self._unavailable(str(err))
            return
        for item, preset in self._cloud_items():
            item.setText(f"Cloud {preset} — asking the server for the price…")

        def work(progress, token):
            return {preset: cloud_jobs.quote_export(cloud, preset) for preset in cloud_jobs.EXPORT_PRESETS}

        def quoted(quotes: dict[str, cloud_jobs.Quote]) -> None:
            self.quotes = quotes
            for item, preset in self._cloud_items():
                item.setEnabled(True)
                item.setText(f"Cloud {preset} — {quotes[preset].credits} credits")
            self._update()

        follow(self, ThreadJob(work, name="export quotes"), None, quoted,
               lambda message: self._unavailable(f"the server cannot give a price ({message})"))

    def _update(self) -> None:
        """The price line and the button for the choice made."""
        preset = self.how.currentData()
        cloud = preset != LOCAL
        self.run_button.setText("Send to the cloud" if cloud else "Export")
        if self.running:
            return
        if not cloud:
            if not self.jobs.unavailable() and self.quotes:
                self.price.setText("This computer: free, any format. The cloud optimises a .glb for the price "
                                   "shown beside each preset.")
            self.run_button.setEnabled(bool(self.path.text().strip()))
            return
        quote = self.quotes.get(preset)
        if quote is None:
            self.run_button.setEnabled(False)
            return
        enough = "" if quote.sufficient else " — not enough: buy credits or export on this computer"
        self.price.setText(f"Cloud {preset} ({cloud_jobs.EXPORT_PRESETS[preset]}): {quote.summary()}{enough}.")
        self.run_button.setEnabled(bool(self.path.text().strip()))

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            return
        text = self.path.text().strip()
        if not text:
            return
        output = Path(text).expanduser()
        preset = self.how.currentData()
        if preset == LOCAL:
            self._start_local(output)
        else:
            self._start_cloud(output, preset)

    def _start_local(self, output: Path) -> None:
        from ..services.models import export_local

        home, project_id = self.window.ws.home, self.project_id

        def work(progress, token):
            from ..sync.runner import open_workspace

            progress(0.1, f"writing {output.name}")
            with open_workspace(home) as ws:
                return export_local(ws, project_id, output)

        self._set_running(True)
        self.status.setText(f"Writing {output.name}…")
        self.job = follow(self, ThreadJob(work, name="export"), self._progress,
                          lambda files: self._finished(files, "Exported"), self._failed)

    def _start_cloud(self, output: Path, preset: str) -> None:
        quote = self.quotes.get(preset)
        if quote is None:
            self.status.setText("Waiting for the server's price…")
            return
        if output.suffix.lower() != ".glb":
            self._failed(f"{output}: a cloud export writes .glb files; export other formats on this computer (free)")
            return
        if not quote.sufficient:
            self._failed(str(cloud_jobs.ShortBalance(quote.credits, quote.balance)))
            return
        try:
            cloud = self.jobs.cloud()
        except DStudioError as err:
            self._failed(str(err))
            return
        job = cloud_jobs.export_job(self.window.ws.home, cloud, self.project_id, preset, output, quote)

        def done(result) -> None:
            row, written = result
            self._finished(written, f"Done on the server ({row['credits_used']} credits); wrote")
            self.jobs.refresh()

        def failed(message: str) -> None:
            if isinstance(job.exception(), Cancelled):
                message = "Cancelled; nothing was written and the credits came back."
            self._failed(message)
            self.jobs.refresh()

        self._set_running(True)
        self.status.setText("Writing the model to send…")
        self.job = follow(self, job, self._progress, done, failed)

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.path.setEnabled(not running)
        self.how.setEnabled(not running)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _finished(self, files: list, said: str) -> None:
        self._set_running(False)
        self.progress.setValue(1000)
        self.status.setText(f"{said} {', '.join(str(f) for f in files)}.")
        self.exported.emit([str(f) for f in files])
        if self.how.currentData() != LOCAL:
            self.ask_prices()  # the balance shown has changed
        self._update()

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.status.setText(f"<span style='color:#b00'>{message}</span>")
        if self.how.currentData() != LOCAL:
            self.ask_prices()  # a refund, or a price that changed
        self._update()

    def reject(self) -> None:
        """Closing while running cancels the export (a cloud job too: nobody would take its file)."""
        if self.running:
            self.cancel()
            self.job.wait(timeout=10)
        super().reject()

    def keyPressEvent(self, event) -> None:  # Esc cancels a run rather than hiding it
        if event.key() == Qt.Key_Escape and self.running:
            self.cancel()
            return
        super().keyPressEvent(event)
