"""Print jobs: a project's sliced and sent jobs as the workspace has them (synced ones from
other desktops among them), with Preview (the job's G-code in the toolpath preview) and Cancel
print (a job printing on its print server, stopped there and recorded as cancelled; its G-code
is kept). Reading the G-code and talking to the server run off the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.records import PrintJob
from ..errors import DStudioError
from ..jobs import ThreadJob
from ..printing.print_servers import cancel_print_job, server_of
from ..printing.toolpath import read_toolpath
from ..sync.runner import open_workspace
from .panel import rows_table
from .tasks import follow, run_task

COLUMNS = ("G-code", "Status", "Printer", "Material", "Estimated", "Actual", "Sliced", "Sent to")


def _minutes(value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{int(value // 60)} h {int(value % 60)} min" if value >= 60 else f"{value:.1f} min"


class PrintJobsDialog(QDialog):
    def __init__(self, home: Path, project_id: Optional[str] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print jobs")
        self.setObjectName("print_jobs_dialog")
        self.home, self.project_id = home, project_id
        self.jobs: list[PrintJob] = []
        self.names: dict[str, str] = {}       # G-code asset id -> its file name
        self.busy = False
        self.cancelling = None
        layout = QVBoxLayout(self)
        self.table = rows_table("print_jobs_table", COLUMNS,
                                "The project's print jobs, newest first; double-click one to preview its G-code")
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.cellDoubleClicked.connect(lambda *_: self.preview_selected())
        layout.addWidget(self.table)
        self.status = QLabel("")
        self.status.setObjectName("print_jobs_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.PlainText)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("print_jobs_preview")
        self.preview_button.setToolTip("Open the chosen job's G-code in the toolpath preview")
        self.cancel_button = QPushButton("Cancel print")
        self.cancel_button.setObjectName("print_jobs_cancel")
        self.cancel_button.setToolTip("Stop the chosen job on the printer it prints on (its G-code is kept)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the print jobs again (a print followed elsewhere may have ended)")
        close = QPushButton("Close")
        close.setToolTip("Close this window")
        for button in (self.preview_button, self.cancel_button, self.refresh_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.preview_button.clicked.connect(self.preview_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.refresh_button.clicked.connect(self.refresh)
        close.clicked.connect(self.close)
        self.resize(900, 360)
        self.refresh()

    def refresh(self) -> None:
        chosen = self.selected()
        try:
            with open_workspace(self.home) as ws:
                jobs = ws.list_print_jobs(self.project_id)
                names = {}
                for job in jobs:
                    if job.gcode_asset_id:
                        try:
                            names[job.gcode_asset_id] = ws.get_asset(job.gcode_asset_id).name
                        except DStudioError:
                            names[job.gcode_asset_id] = "(G-code not on this machine)"
        except DStudioError as err:
            self._error(str(err))
            return
        self.jobs, self.names = list(reversed(jobs)), names
        try:
            servers = {job.id: server_of(job) for job in self.jobs if job.sent_to}
        except DStudioError as err:    # a damaged list of servers: the jobs are still listed
            servers = {}
            self._error(str(err))
        self.table.setRowCount(len(self.jobs))
        for r, job in enumerate(self.jobs):
            server = servers.get(job.id)
            cells = (self.names.get(job.gcode_asset_id or "", "—"), job.status, job.printer_id, job.material,
                     _minutes(job.estimated_time_minutes), _minutes(job.actual_time_minutes),
                     job.created_at[:16].replace("T", " "),
                     server.name if server else (job.sent_to.split("/downloads/")[0] if job.sent_to else "—"))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, job.id)
                self.table.setItem(r, c, item)
        if chosen is not None:
            self.select(chosen.id)
        elif self.jobs:
            self.table.selectRow(0)
        if not self.jobs:
            self.status.setText("No print jobs yet: slice the project in the Print dialog.")
        self._enable()

    def selected(self) -> Optional[PrintJob]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.jobs[rows[0].row()] if rows and rows[0].row() < len(self.jobs) else None

    def select(self, job_id: str) -> None:
        for r, job in enumerate(self.jobs):
            if job.id == job_id:
                self.table.selectRow(r)
                return

    def _enable(self) -> None:
        job = self.selected()
        self.preview_button.setEnabled(job is not None and job.gcode_asset_id is not None and not self.busy)
        self.cancel_button.setEnabled(job is not None and job.status == "printing" and self.cancelling is None)

    def _error(self, message: str) -> None:
        self.status.setStyleSheet("color: #b00;")
        self.status.setText(" ".join(message.split()))

    def _say(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)

    def preview_selected(self) -> None:
        """The chosen job's G-code (fetched first if it was synced here as metadata) in the preview."""
        job = self.selected()
        if job is None or job.gcode_asset_id is None or self.busy:
            return
        home, asset_id = self.home, job.gcode_asset_id

        def work(progress, token):
            with open_workspace(home) as ws:
                asset = ws.get_asset(asset_id)
                ws.asset_bytes(asset)                 # here, or fetched from the server once
                path = ws.asset_path(asset)
            progress(0.1, "reading the toolpath")
            return path, asset.name, read_toolpath(path, progress, token)

        self.busy = True
        self._enable()
        self.job = run_task(self, f"Opening the G-code of {self.names.get(asset_id, 'the job')}", work,
                            self._opened, self._preview_failed)

    def _opened(self, result) -> None:
        from .toolpath_preview import ToolpathPreview

        self.busy = False
        self._enable()
        path, name, toolpath = result
        self.preview = ToolpathPreview(path, self, toolpath, name=name)
        self.preview.show()
        self._say(f"Previewing {name}.")

    def _preview_failed(self, message: str) -> None:
        self.busy = False
        self._enable()
        self._error(message)

    def cancel_selected(self) -> None:
        job = self.selected()
        if job is None or job.status != "printing" or self.cancelling is not None:
            return
        home, job_id = self.home, job.id

        def work(progress, token):
            with open_workspace(home) as ws:
                return cancel_print_job(ws, job_id, progress=progress)

        self._say("Cancelling the print…")
        self.cancelling = follow(self, ThreadJob(work, name="cancelling a print"), None, self._cancelled,
                                 self._cancel_failed)
        self._enable()

    def _cancelled(self, job: PrintJob) -> None:
        self.cancelling = None
        self.refresh()
        self._say(f"Cancelled on the printer; the job is recorded as {job.status} and its G-code is kept.")

    def _cancel_failed(self, message: str) -> None:
        self.cancelling = None
        self.refresh()
        self._error(message)


def show_print_jobs(window) -> PrintJobsDialog:
    """The main window's File > Print Jobs…: the open project's jobs (every job when none is open)."""
    project_id = window.project.id if window.project is not None else None
    dialog = getattr(window, "print_jobs_window", None)
    if dialog is None or dialog.project_id != project_id:
        dialog = PrintJobsDialog(window.ws.home, project_id, window)
        window.print_jobs_window = dialog
    else:
        dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog
