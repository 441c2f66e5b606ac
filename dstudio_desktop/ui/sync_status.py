"""Sign-in and background sync in the window: a status in the status bar (offline, syncing,
up to date, or the error), the credit balance when signed in, a sync every half minute as a
job off the GUI thread (``ui.tasks.follow``: editing never waits for it), and the Sign In dialog."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QMessageBox

from .. import settings
from ..errors import DStudioError
from ..jobs import Job, ThreadJob
from ..sync.session import Session, load_session
from .tasks import follow

INTERVAL_MS = int(settings.sync_interval_s() * 1000)
MAX_INTERVAL_MS = 5 * 60_000  # offline, the wait between tries doubles up to this


class SyncStatus(QObject):
    """The window's sign-in state and its background sync cycle."""

    landed = Signal(object)  # the SyncReport of each cycle that finished

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session: Optional[Session] = None
        self.running = False
        self.last_report = None
        self.job: Optional[Job] = None   # the sync under way
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.sync_now)
        self._session_read = False
        self._show_idle()

    def read_session(self) -> None:
        """Take up the sign-in kept in the keyring and start syncing with it. The window calls
        this once its first frame is up: finding the system keyring alone can take a third of a
        second, which opening a file should not wait for."""
        if self._session_read:
            return
        self._session_read = True
        if self.session is not None:
            return  # signed in meanwhile
        try:
            self.session = load_session()
        except DStudioError as err:
            self._show(f"Offline · {err}")
            return
        if self.session is not None:
            self.timer.start()
            QTimer.singleShot(0, self.sync_now)
        self._show_idle()

    def _show(self, text: str) -> None:
        self.window.sync_label.setText(text)

    def _show_idle(self) -> None:
        if self.session is None:
            self._show("Offline · local workspace")
        elif self.last_report is None:
            self._show(f"Signed in as {self.session.email}")

    # -- sign in and out -----------------------------------------------------------

    def sign_in_dialog(self, new_account: bool = False) -> None:
        dialog = QDialog(self.window)
        dialog.setObjectName("sign_up_dialog" if new_account else "sign_in_dialog")
        dialog.setWindowTitle("Create account" if new_account else "Sign in")
        form = QFormLayout(dialog)
        fields = {name: QLineEdit() for name in ("url", "email", "password", "anon_key")}
        fields["password"].setEchoMode(QLineEdit.Password)
        fields["url"].setPlaceholderText("https://your-project.supabase.co")
        for label, name in (("Server", "url"), ("Email", "email"), ("Password", "password"),
                            ("Anon key (optional)", "anon_key")):
            form.addRow(label, fields[name])
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        for name, tip in (("url", "The backend's address: a hosted Supabase project, or ./dev backend"),
                          ("email", "Your e-mail address"), ("password", "At least 6 characters"),
                          ("anon_key", "The project's public anon key (the local server does not need one)")):
            fields[name].setToolTip(tip)
        if dialog.exec() == QDialog.Accepted:
            self.sign_in(*(fields[n].text().strip() for n in ("url", "email", "password", "anon_key")),
                         new_account=new_account)

    def sign_in(self, url: str, email: str, password: str, anon_key: str = "", new_account: bool = False) -> None:
        from ..sync.runner import sign_in
        from .tasks import run_task

        def done(session: Session) -> None:
            self._session_read = True
            self.session = session
            self.timer.start()
            self.sync_now()

        run_task(self.window, "Creating the account" if new_account else "Signing in",
                 lambda progress, token: sign_in(url, email, password, anon_key, new_account), done,
                 self.window.show_error)

    def sign_out(self) -> None:
        from ..sync.runner import sign_out

        sign_out()
        self._session_read = True  # what the keyring held is gone: nothing to take up later
        self.session, self.last_report = None, None
        self.timer.stop()
        self.window.presence_panel.leave()  # signed out: no longer among the people in the project
        self._show_idle()

    # -- the background cycle ----------------------------------------------------------

    def sync_now(self) -> None:
        if self.session is None or self.running:
            return
        if self.window.editor.dirty:
            self.window.editor.save()  # what is on screen goes up with this cycle
        self.running = True
        self._show("Syncing…")
        home = self.window.ws.home
        session = self.session

        def work(progress, token):
            from ..sync.runner import engine_for, open_workspace

            with open_workspace(home) as ws:
                engine = engine_for(ws, session=session)
                try:
                    return engine.run(progress=progress, cancel=token)
                finally:
                    engine.client.close()

        self.job = follow(self, ThreadJob(work, name="sync"), None, self._landed, self._failed)

    def _landed(self, report) -> None:
        self.running = False
        self.last_report = report
        self.session = load_session() or self.session  # a refresh may have renewed it
        credits = report.credits or {}
        balance = (f" · {credits['balance']:,} credits ({credits['monthly_remaining']:,} monthly + "
                   f"{credits['purchased_balance']:,} purchased)") if credits else ""
        if report.state == "up to date":
            self._show(f"Up to date{balance}")
            self.timer.setInterval(INTERVAL_MS)
        elif report.state == "offline":
            self._show(f"Offline · {report.waiting} change(s) waiting{balance}")
            self.timer.setInterval(min(self.timer.interval() * 2, MAX_INTERVAL_MS))  # back off
        else:
            self._show(f"Sync error: {report.message}")
        for refused in report.rejected:
            self.window.statusBar().showMessage(f"The server refused a change to {refused['entity']}: "
                                                f"{refused['message']}", 10000)
        if report.conflicts:
            QMessageBox.information(self.window, "Changed in two places", "\n\n".join(report.conflicts))
        project = self.window.project
        notes_only = set(report.pulled) <= {"design_studio_annotations", "design_studio_annotation_replies"}
        if project is not None and sum(report.pulled.values()) and not notes_only and not self.window.editor.dirty:
            self.window.open_project(project.id)  # show what arrived
        elif project is not None:
            self.window.review_dock.refresh()  # notes alone: the view, selection and camera stay as they are
        self.window.versions_dock.refresh()  # pending versions have their server numbers now
        self.landed.emit(report)

    def _failed(self, message: str) -> None:
        self.running = False
        self._show(f"Sync error: {message}")
        self.landed.emit(None)
