"""Jobs: the organisation's cloud jobs as the server has them (so the list survives a restart),
with status, progress and price, and Cancel, Open result and Retry. A reconstruction this
workspace submitted lands in its project when it finishes (through ``services.cloud_jobs`` and
the window's one reconstruction door), even when it finishes after the app was restarted.

The dock also keeps the window's connection to the server for cloud work (``cloud()``); every
request runs off the GUI thread."""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
)

from ..errors import DStudioError
from ..jobs import ThreadJob
from ..services import cloud_jobs
from .panel import Panel, rows_table
from .tasks import follow

REFRESH_MS = 2000
COLUMNS = ("Job", "Status", "Progress", "Credits", "Submitted")


class JobsDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Jobs", "jobs_dock", window)
        self._cloud: Optional[cloud_jobs.Cloud] = None
        self._cloud_session = None
        self._busy = False
        self._landing: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        layout = self.body_layout
        self.table = rows_table("jobs_table", COLUMNS, "The organisation's cloud jobs, newest first, as the server has them")
        self.table.itemSelectionChanged.connect(self._enable)
        layout.addWidget(self.table)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip, action in (
                ("refresh", "Refresh", "Ask the server for the jobs now", self.refresh),
                ("cancel", "Cancel", "Cancel the chosen job; its credits come back", self.cancel_selected),
                ("open", "Open result", "Add the finished job's mesh to the open project", self.open_selected),
                ("retry", "Retry", "Submit the failed or cancelled job again, at today's price", self.retry_selected)):
            button = QPushButton(text)
            button.setObjectName(f"jobs_{key}")
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, act=action: act())
            row.addWidget(button)
            self.buttons[key] = button
        layout.addLayout(row)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._enable()
        QTimer.singleShot(0, self.refresh)

    # -- the connection ------------------------------------------------------------------

    def unavailable(self) -> str:
        """Why cloud work cannot start now ('' when it can)."""
        session = self.window.sync_status.session
        if session is None:
            return "sign in (File → Sign in…) to use the cloud"
        if self.window.sync_status.last_report is not None and self.window.sync_status.last_report.state == "offline":
            return "the server cannot be reached (offline)"
        return ""

    def cloud(self) -> cloud_jobs.Cloud:
        """The signed-in connection, made on the GUI thread (it reads the workspace) and reused."""
        session = self.window.sync_status.session
        if session is None:
            raise DStudioError("not signed in: sign in to use the cloud")
        if self._cloud is None or self._cloud_session is not session:
            if self._cloud is not None:
                self._cloud.close()
            self._cloud = cloud_jobs.connect(self.window.ws, session=session)
            self._cloud_session = session
        return self._cloud

    def shutdown(self) -> None:
        self.timer.stop()
        if self._cloud is not None:
            self._cloud.close()
            self._cloud = None

    # -- the list ----------------------------------------------------------------------

    def _tick(self) -> None:
        if self.isVisible() or cloud_jobs.waiting(self.window.ws):
            self.refresh()

    def refresh(self) -> None:
        reason = self.unavailable()
        if reason:
            self.status.setText(f"Cloud jobs: {reason}.")
            return
        if self._busy:
            return
        try:
            cloud = self.cloud()
        except DStudioError as err:
            self.status.setText(str(err))
            return
        self._busy = True
        follow(self, ThreadJob(lambda progress, token: cloud_jobs.list_jobs(cloud), name="list jobs"), None,
               self._listed, self._list_failed)

    def _list_failed(self, message: str) -> None:
        self._busy = False
        self.status.setText(f"Cannot list the jobs: {message}")

    def _listed(self, rows: list[dict[str, Any]]) -> None:
        self._busy = False
        selected = self.selected()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, job in enumerate(rows):
            credits = job["credits_used"] if job.get("credits_used") is not None else job["credits_estimated"]
            values = (job["job_type"], job["status"] + (f": {job['error_message']}" if job["status"] == "failed"
                                                         and job.get("error_message") else ""),
                      f"{round(100 * float(job.get('progress') or 0))}%",
                      f"{credits}" + ("" if job.get("credits_used") is not None else " held"),
                      str(job.get("created_at", ""))[:16].replace("T", " "))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(cloud_jobs.describe(job))
                self.table.setItem(i, column, item)
            if selected and job["id"] == selected["id"]:
                self.table.selectRow(i)
        active = sum(j["status"] in ("queued", "processing") for j in rows)
        self.status.setText(f"{len(rows)} job(s), {active} queued or running." if rows else "No cloud jobs yet.")
        self._enable()
        self._land_finished(rows)

    def _land_finished(self, rows: list[dict[str, Any]]) -> None:
        """This workspace's finished reconstructions land in their project when it is open."""
        expected = cloud_jobs.waiting(self.window.ws)
        for job in rows:
            project_id = expected.get(job["id"])
            if project_id is None:
                continue
            if job["status"] in ("failed", "cancelled"):
                cloud_jobs.forget_waiting(self.window.ws, job["id"])
            elif job["status"] == "completed" and self.window.project is not None \
                    and self.window.project.id == project_id:
                self.land(job)

    def selected(self) -> Optional[dict[str, Any]]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def _enable(self) -> None:
        job = self.selected()
        status = job["status"] if job else None
        self.buttons["cancel"].setEnabled(status in ("queued", "processing"))
        self.buttons["open"].setEnabled(status == "completed" and job["job_type"] == "reconstruct"
                                        and self.window.project is not None)
        self.buttons["retry"].setEnabled(status in ("failed", "cancelled"))

    # -- actions ---------------------------------------------------------------------------

    def _run(self, what: str, work: Callable[[cloud_jobs.Cloud], Any], done: Callable[[Any], None]) -> None:
        try:
            cloud = self.cloud()
        except DStudioError as err:
            self.window.show_error(str(err))
            return
        follow(self, ThreadJob(lambda progress, token: work(cloud), name=what), None, done,
               lambda message: self.window.show_error(f"{what}: {message}"))

    def cancel_selected(self) -> None:
        job = self.selected()
        if job is not None:
            self._run("cancel the job", lambda cloud: cloud_jobs.cancel_job(cloud, job["id"]),
                      lambda row: (self.window.statusBar().showMessage(
                          f"Cancelled the job; {row['credits_estimated']} credits came back", 5000), self.refresh()))

    def retry_selected(self) -> None:
        job = self.selected()
        if job is not None:
            def submitted(row: dict[str, Any]) -> None:
                if self.window.project is not None and row["job_type"] == "reconstruct":
                    cloud_jobs.expect_result(self.window.ws, row["id"], self.window.project.id)
                self.refresh()

            self._run("retry the job", lambda cloud: cloud_jobs.resubmit(cloud, job), submitted)

    def open_selected(self) -> None:
        job = self.selected()
        if job is None or self.window.project is None:
            return
        if cloud_jobs.landed(self.window.ws, job["id"]):
            self.window.statusBar().showMessage("That job's result is in the project already", 5000)
            return
        self.land(job)

    def land(self, job: dict[str, Any]) -> None:
        """Download the finished job's mesh off the GUI thread, then add it to the open project
        through the window's reconstruction door (asset + node + version, one undo step)."""
        if job["id"] in self._landing or cloud_jobs.landed(self.window.ws, job["id"]):
            return
        self._landing.add(job["id"])
        folder = self.window.ws.home / "reconstructions"
        project_id = self.window.project.id

        def downloaded(result) -> None:
            self._landing.discard(job["id"])
            path, report = result
            if self.window.project is None or self.window.project.id != project_id:
                path.unlink(missing_ok=True)
                return  # another project opened meanwhile: it lands when its project is open again
            if self.window._add_reconstruction(str(path), report):
                cloud_jobs.mark_landed(self.window.ws, job["id"], project_id)

        def failed(message: str) -> None:
            self._landing.discard(job["id"])
            self.window.show_error(f"the job's result could not be fetched: {message}")

        try:
            cloud = self.cloud()
        except DStudioError as err:
            self._landing.discard(job["id"])
            self.window.show_error(str(err))
            return
        follow(self, ThreadJob(lambda progress, token: cloud_jobs.download_result(cloud, job, folder),
                               name="download the result"), None, downloaded, failed)
