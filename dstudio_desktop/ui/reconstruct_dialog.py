"""Reconstruct from Photos: choose a folder, read the photo-set report, pick a quality, and run
the reconstruction worker (a ``jobs.reconstruct`` job, followed through ``ui.tasks.follow``) with a
progress bar and a Cancel that stops it within seconds.
The finished mesh comes back to the window, which adds it as an asset, a node and a version."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import Cancelled
from ..jobs import Job, ThreadJob
from .tasks import follow


class ReconstructDialog(QDialog):
    """The Reconstruct from Photos dialog; ``reconstructed`` fires when a run finished."""

    #: the GLB written and the worker's report, when a run finishes
    reconstructed = Signal(str, dict)

    def __init__(self, work_dir: Path, folder: str = "", parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reconstruct from Photos")
        self.setObjectName("reconstruct_dialog")
        self.work_dir = work_dir
        self.job: Optional[Job] = None   # the reconstruction, once started
        self.photos_ok = False
        layout = QVBoxLayout(self)

        row = QHBoxLayout()
        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("a folder of photos of one object, taken from all around")
        self.folder.editingFinished.connect(self.check_folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Photos", row)
        self.quality = QComboBox()
        for key, text in (("draft", "Draft (quick look)"), ("normal", "Normal"), ("high", "High (slow)")):
            self.quality.addItem(text, key)
        self.quality.setCurrentIndex(1)
        self.device = QComboBox()
        for key, text in (("auto", "Automatic (GPU when there is one)"), ("cpu", "CPU"), ("cuda", "CUDA GPU")):
            self.device.addItem(text, key)
        form.addRow("Quality", self.quality)
        form.addRow("Device", self.device)
        layout.addLayout(form)

        layout.addWidget(QLabel("Photo check"))
        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        self.findings.setMinimumHeight(120)
        layout.addWidget(self.findings)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("Choose a folder of photos.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        buttons = QDialogButtonBox()
        self.run_button = QPushButton("Reconstruct")
        self.run_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        buttons.addButton(self.run_button, QDialogButtonBox.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ActionRole)
        buttons.addButton(QDialogButtonBox.Close)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 480)
        if folder:
            self.check_folder()

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.done

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of photos", self.folder.text())
        if folder:
            self.folder.setText(folder)
            self.check_folder()

    def check_folder(self) -> None:
        """The photo-set report, before anything runs: every image is opened, so on a thread."""
        from gpu.photoset import check_photos

        self.findings.clear()
        self.photos_ok = False
        self.run_button.setEnabled(False)
        text = self.folder.text().strip()
        if not text:
            return
        self.status.setText("Checking the photos…")
        follow(self, ThreadJob(lambda progress, token: check_photos(Path(text)), name="check photos"), None,
               lambda report: self._checked(text, report), self._failed)

    def _checked(self, folder: str, report) -> None:
        if folder != self.folder.text().strip():
            return  # the folder changed while this one was being checked
        self.findings.clear()
        for f in report.findings:
            self.findings.addItem(f"⚠ {f.file}: {f.problem}")
        if report.ok:
            self.findings.insertItem(0, f"✔ {len(report.images)} usable photos")
            self.status.setText("Ready.")
        else:
            self.findings.insertItem(0, f"✖ {report.refused}")
            self.status.setText("This photo set cannot be reconstructed; see the check above.")
        self.photos_ok = report.ok
        self.run_button.setEnabled(report.ok and not self.running)

    def start(self) -> None:
        from ..jobs.reconstruct import ReconstructionRefused, reconstruction_job

        if self.running or not self.photos_ok:
            return
        images = Path(self.folder.text().strip())
        output = self.work_dir / f"{uuid.uuid4()}.glb"
        job = reconstruction_job(images, output, self.quality.currentData(), self.device.currentData())

        def failed(message: str) -> None:
            error = job.exception()
            if isinstance(error, Cancelled):
                message = "Cancelled; nothing was added."
            elif isinstance(error, ReconstructionRefused):
                message = str(error.photos.get("refused") or error)
            self._failed(message)

        self._set_running(True)
        self.status.setText("Starting…")
        self.job = follow(self, job, self._progress, lambda report: self._finished(str(output), report), failed)

    def cancel(self) -> None:
        if self.job is not None and self.running:
            self.job.cancel()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.photos_ok)
        self.cancel_button.setEnabled(running)
        self.folder.setEnabled(not running)
        self.quality.setEnabled(not running)
        self.device.setEnabled(not running)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _finished(self, output: str, report: dict[str, Any]) -> None:
        self._set_running(False)
        self.progress.setValue(1000)
        self.status.setText(f"Done: {report['faces']:,} triangles from {report['num_registered']} of "
                            f"{report['num_images']} photos in {report['seconds']:.0f} s. Added to the project.")
        self.reconstructed.emit(output, report)

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.status.setText(f"<span style='color:#b00'>{message}</span>")

    def reject(self) -> None:
        """Closing while running cancels first: no worker outlives its dialog."""
        if self.running:
            self.cancel()
            self.job.wait(timeout=10)
        super().reject()

    def keyPressEvent(self, event) -> None:  # Esc cancels a run rather than hiding it
        if event.key() == Qt.Key_Escape and self.running:
            self.cancel()
            return
        super().keyPressEvent(event)
