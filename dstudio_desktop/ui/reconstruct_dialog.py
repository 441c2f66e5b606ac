"""Reconstruct from Photos: choose a folder, read the photo-set report, pick a quality, choose
where it runs, and run it with a progress bar and a Cancel that stops it within seconds.

*This computer (free)* runs the reconstruction worker (a ``jobs.reconstruct`` job, followed
through ``ui.tasks.follow``); the finished mesh comes back to the window, which adds it as an
asset, a node and a version. *Cloud — N credits* shows the server's quote and the balance before
anything starts (unavailable, with the reason, when signed out or offline), then uploads the
photos and follows the job (``services.cloud_jobs.reconstruction_job``); the finished job goes
to the Jobs panel, which lands it through the same door."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
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

from ..errors import Cancelled, DStudioError
from ..jobs import Job, ThreadJob
from ..jobs.cloud import CloudJob
from .tasks import follow, run_buttons


class ReconstructDialog(QDialog):
    """The Reconstruct from Photos dialog; ``reconstructed`` fires when a run finished."""

    #: the GLB written and the worker's report, when a run finishes
    reconstructed = Signal(str, dict)
    #: the completed job's row, when a cloud run finishes
    cloud_finished = Signal(dict)

    def __init__(self, work_dir: Path, folder: str = "", parent: Optional[QWidget] = None, jobs=None,
                 project_id: Optional[str] = None) -> None:
        super().__init__(parent)
        self.jobs = jobs  # the window's Jobs panel: the connection for cloud work, or None
        self.project_id = project_id
        self.quote = None  # the server's quote for the folder and quality shown
        self.photo_set = None
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
        browse_video = QPushButton("Video…")
        browse_video.setObjectName("reconstruct_video")
        browse_video.setToolTip("A video walking round the object: its sharp frames with motion between them are used")
        browse_video.clicked.connect(self.browse_video)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        row.addWidget(browse_video)
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
        self.where = QComboBox()
        self.where.setObjectName("reconstruct_where")
        self.where.addItem("This computer (free)", "local")
        self.where.addItem("Cloud", "cloud")
        self.where.setToolTip("Run it here for free, or on the server's workers for the price shown")
        form.addRow("Run on", self.where)
        form.addRow("Device", self.device)
        self.price = QLabel("")
        self.price.setObjectName("reconstruct_price")
        self.price.setWordWrap(True)
        form.addRow("", self.price)
        layout.addLayout(form)
        self.quality.currentIndexChanged.connect(lambda _: self.update_quote())
        self.where.currentIndexChanged.connect(lambda _: self._where_changed())

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

        buttons, self.run_button, self.cancel_button = run_buttons(self, "Reconstruct")
        self.run_button.setEnabled(False)   # until the photo check passes
        layout.addWidget(buttons)
        self.resize(560, 520)
        self._cloud_available(self.jobs.unavailable() if self.jobs is not None else "no connection to a server")
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

    def browse_video(self) -> None:
        from gpu.video import VIDEO_SUFFIXES

        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Video of the object", self.folder.text(),
                                              f"Videos ({patterns})")
        if path:
            self.folder.setText(path)
            self.check_folder()

    def check_folder(self) -> None:
        """The photo-set report, before anything runs: every image is opened, so on a thread."""
        from gpu.photoset import check_photos
        from gpu.video import is_video, video_report

        self.findings.clear()
        self.photos_ok = False
        self.run_button.setEnabled(False)
        text = self.folder.text().strip()
        if not text:
            return
        self.status.setText("Checking the photos…")
        # a video's check reads its header; its frames are chosen when the run starts
        check = video_report if is_video(Path(text)) else check_photos
        follow(self, ThreadJob(lambda progress, token: check(Path(text)), name="check photos"), None,
               lambda report: self._checked(text, report), self._failed)

    def _checked(self, folder: str, report) -> None:
        if folder != self.folder.text().strip():
            return  # the folder changed while this one was being checked
        self.findings.clear()
        if report.ok and not report.images:   # a video: what it is; its frames are chosen when it runs
            self.findings.addItem(f"✔ {report.findings[0].file}: {report.findings[0].problem}")
            self.status.setText("Ready.")
            self.photos_ok = True
            self.run_button.setEnabled(not self.running)
            self.update_quote()
            return
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
        if report.ok:
            self.update_quote()

    # -- where it runs -------------------------------------------------------------------

    def _cloud_item(self):
        return self.where.model().item(1)

    def _cloud_available(self, reason: str) -> None:
        """The cloud choice, or why there is none (then This computer is chosen)."""
        item = self._cloud_item()
        item.setEnabled(not reason)
        if reason:
            item.setText(f"Cloud — unavailable: {reason}")
            if self.where.currentIndex() == 1:
                self.where.setCurrentIndex(0)
            self.price.setText(f"Cloud: {reason}.")
        elif self.quote is None:
            item.setText("Cloud — choose photos for a price")

    def _where_changed(self) -> None:
        cloud = self.where.currentData() == "cloud"
        self.device.setEnabled(not cloud and not self.running)
        self.run_button.setText("Send to the cloud" if cloud else "Reconstruct")

    def update_quote(self) -> None:
        """The server's price for these photos at this quality, with the balance, off the GUI thread."""
        from ..services import cloud_jobs

        self.quote = None
        reason = self.jobs.unavailable() if self.jobs is not None else "no connection to a server"
        if reason or not self.photos_ok:
            self._cloud_available(reason)
            return
        if Path(self.folder.text().strip()).is_file():
            self._cloud_available("a video is reconstructed on this computer only")
            return
        try:
            cloud = self.jobs.cloud()
        except DStudioError as err:
            self._cloud_available(str(err))
            return
        folder, quality = Path(self.folder.text().strip()), self.quality.currentData()
        self._cloud_item().setText("Cloud — asking the server for the price…")

        def work(progress, token):
            photos = cloud_jobs.photo_set(folder)
            return photos, cloud_jobs.quote_reconstruction(cloud, photos, quality)

        def quoted(result) -> None:
            if str(folder) != self.folder.text().strip() or quality != self.quality.currentData():
                return  # the choice changed meanwhile: its own quote is on the way
            self.photo_set, self.quote = result
            q = self.quote
            self._cloud_item().setEnabled(True)
            self._cloud_item().setText(f"Cloud — {q.credits} credits")
            enough = "" if q.sufficient else " — not enough: buy credits or run it on this computer"
            self.price.setText(f"Cloud: {q.summary()}{enough}.")

        follow(self, ThreadJob(work, name="quote"), None, quoted,
               lambda message: self._cloud_available(f"the server cannot give a price ({message})"))

    def start(self) -> None:
        from ..jobs.reconstruct import ReconstructionRefused, reconstruction_job

        if self.running or not self.photos_ok:
            return
        if self.where.currentData() == "cloud":
            self.start_cloud()
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

    def start_cloud(self) -> None:
        from ..services import cloud_jobs

        if self.quote is None:
            self.status.setText("Waiting for the server's price…")
            return
        if not self.quote.sufficient:
            self._failed(str(cloud_jobs.ShortBalance(self.quote.credits, self.quote.balance)))
            return
        try:
            cloud = self.jobs.cloud()
        except DStudioError as err:
            self._failed(str(err))
            return
        job = cloud_jobs.reconstruction_job(cloud, self.photo_set, self.quote.quality, self.project_id, self.quote)
        ws = self.jobs.window.ws

        def progressed(fraction: float, message: str) -> None:
            if job.job_id and self.project_id and not self._expected:
                self._expected = True  # a restarted app still lands it, through the Jobs panel
                cloud_jobs.expect_result(ws, job.job_id, self.project_id)
            self._progress(fraction, message)

        def done(row: dict) -> None:
            self._set_running(False)
            self.progress.setValue(1000)
            self.status.setText(f"Done on the server ({row['credits_used']} credits). Adding it to the project…")
            self.cloud_finished.emit(row)

        def failed(message: str) -> None:
            if isinstance(job.exception(), Cancelled):
                message = "Cancelled; nothing was added and the credits came back."
            self._failed(message)

        self._expected = False
        self._set_running(True)
        self.status.setText(f"Sending {len(self.photo_set.photos)} photos…")
        self.job = follow(self, job, progressed, done, failed)

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
        self.where.setEnabled(not running)
        self.device.setEnabled(not running and self.where.currentData() != "cloud")

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
        """Closing while running cancels a local run first (no worker outlives its dialog); a
        cloud job goes on on the server, and the Jobs panel follows it and lands its result."""
        if self.running:
            if isinstance(self.job, CloudJob):
                self.job.detach()
            else:
                self.cancel()
            self.job.wait(timeout=10)
        super().reject()

    def keyPressEvent(self, event) -> None:  # Esc cancels a run rather than hiding it
        if event.key() == Qt.Key_Escape and self.running:
            self.cancel()
            return
        super().keyPressEvent(event)
