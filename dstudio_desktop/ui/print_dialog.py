"""The Print dialog: settings (the slicer among them), printability findings, slicing with
progress, estimates, the toolpath preview. The check and the slice run as jobs behind
``ui.tasks.run_task``'s progress dialog. A part in an implausible unit is asked about in the
dialog itself (scale it by the likely unit's factor, or keep it)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..errors import DStudioError
from ..jobs import Job, ThreadJob
from ..printing.print_servers import cancel_print_job, list_servers, send_print_job
from ..printing.profiles import materials, printers, supported_slicers
from ..printing.service import ADHESION, REPAIRS, SliceOptions, SliceReport, prepare, slice_target
from ..printing.slicers import SLICER_NAMES, find_slicers
from ..sync.runner import open_workspace
from .tasks import follow, run_task

SEVERITY_MARK = {"error": "✖", "warning": "⚠", "info": "ℹ"}


class PrintDialog(QDialog):
    """Print settings for a project or one part: check, slice to G-code, show the estimates."""

    def __init__(self, home: Path, project_id: str, project_name: str, node_id: Optional[str] = None,
                 node_name: Optional[str] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print")
        self.setObjectName("print_dialog")
        self.home = home
        self.target = f"{project_id}:{node_id}" if node_id else project_id
        self.report: Optional[SliceReport] = None
        self.busy = False
        self.job: Optional[Job] = None   # the check or slice under way
        self.cancelling: Optional[Job] = None   # a print being cancelled on its server
        self.sending_to: Optional[str] = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{node_name or project_name}</b>" + ("" if node_id else " (all visible parts)")))

        form = QFormLayout()
        self.printer = QComboBox()
        for p in printers().values():
            self.printer.addItem(f"{p.name}  ({' × '.join(f'{v:g}' for v in p.build_volume_mm)} mm)", p.id)
        self.material = QComboBox()
        for m in materials().values():
            self.material.addItem(f"{m.name}  ({m.density_g_cm3} g/cm³)", m.id)
        self.color = QLineEdit()
        self.color.setPlaceholderText("e.g. signal red")
        self.layer_height = QDoubleSpinBox(decimals=2, minimum=0.04, maximum=1.0, singleStep=0.04, value=0.2,
                                           suffix=" mm")
        self.infill = QSpinBox(minimum=0, maximum=100, value=20, suffix=" %")
        self.supports = QCheckBox("Generate supports")
        self.adhesion = QComboBox()
        self.adhesion.addItems(list(ADHESION))
        self.adhesion.setCurrentText("skirt")
        self.scale_to_fit = QCheckBox("Scale down to fit the printer")
        self.slicer = QComboBox()
        self.slicer.setObjectName("slicer")
        self.usable_slicers = [s for s in find_slicers() if s.usable]
        for info in self.usable_slicers:
            self.slicer.addItem(f"{info.name} {info.version}", info.kind)
        self.scale = QDoubleSpinBox(decimals=4, minimum=0.0001, maximum=10000.0, value=1.0, prefix="× ")
        self.orient = QCheckBox("Stand each part on its best side (least support)")
        self.arrange = QCheckBox("Arrange the parts on the bed (else they stay where they are placed)")
        self.arrange.setVisible(node_id is None)
        for label, widget in (("Slicer", self.slicer), ("Printer", self.printer), ("Material", self.material),
                              ("Colour", self.color), ("Layer height", self.layer_height), ("Infill", self.infill),
                              ("", self.supports), ("Bed adhesion", self.adhesion), ("Scale", self.scale),
                              ("", self.scale_to_fit), ("", self.orient), ("", self.arrange)):
            form.addRow(label, widget)
        layout.addLayout(form)
        self.printer.currentIndexChanged.connect(self._profiles_changed)
        self.material.currentIndexChanged.connect(self._profiles_changed)

        repairs = QGroupBox("Repairs (make a new part; the original stays as it is)")
        row = QHBoxLayout(repairs)
        self.repairs = {name: QCheckBox(name) for name in REPAIRS}
        for box in self.repairs.values():
            row.addWidget(box)
        layout.addWidget(repairs)

        layout.addWidget(QLabel("Printability"))
        self.findings = QListWidget()
        self.findings.setMinimumHeight(110)
        self.findings.setWordWrap(True)
        self.findings.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        layout.addWidget(self.findings)
        self.units_question = QWidget()
        self.units_question.setObjectName("units_question")
        ask = QHBoxLayout(self.units_question)
        ask.setContentsMargins(0, 0, 0, 0)
        self.units_text = QLabel()
        self.units_text.setWordWrap(True)
        self.units_yes = QPushButton("Scale")
        self.units_no = QPushButton("Keep as it is")
        self.units_yes.clicked.connect(self._accept_units)
        self.units_no.clicked.connect(lambda: self.units_question.setVisible(False))
        ask.addWidget(self.units_text, 1)
        ask.addWidget(self.units_yes)
        ask.addWidget(self.units_no)
        self.units_question.setVisible(False)
        self.suggested_scale = 1.0
        layout.addWidget(self.units_question)
        self.estimates = QLabel("Not sliced yet.")
        self.estimates.setWordWrap(True)
        layout.addWidget(self.estimates)
        usable = self.usable_slicers
        self.slicer_label = QLabel("" if usable else
                                   "No slicer found: install CuraEngine ('sudo apt-get install cura-engine') "
                                   "or PrusaSlicer ('sudo apt-get install prusa-slicer').")
        self.slicer_label.setVisible(not usable)
        layout.addWidget(self.slicer_label)

        layout.addWidget(self._send_row())

        buttons = QDialogButtonBox()
        self.check_button = QPushButton("Check")
        self.slice_button = QPushButton("Slice…")
        self.slice_button.setEnabled(bool(usable))
        self.gcode_button = QPushButton("Preview toolpath")
        self.gcode_button.setEnabled(False)
        for b in (self.check_button, self.slice_button, self.gcode_button):
            buttons.addButton(b, QDialogButtonBox.ActionRole)
        buttons.addButton(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.check_button.clicked.connect(self.check)
        self.slice_button.clicked.connect(self.slice_dialog)
        self.gcode_button.clicked.connect(self.show_gcode)
        layout.addWidget(buttons)
        self._profiles_changed()

    def _send_row(self) -> QGroupBox:
        """Send the sliced job to a print server: pick it, or add one in the Printers dialog."""
        box = QGroupBox("Send to a printer")
        column = QVBoxLayout(box)
        row = QHBoxLayout()
        self.server = QComboBox()
        self.server.setObjectName("print_server")
        self.server.setToolTip("The print server (OctoPrint) to send the sliced job to")
        self.servers_button = QPushButton("Printers…")
        self.servers_button.setToolTip("Add, test, edit or remove print servers")
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Upload the G-code, start the print and follow it to the end")
        self.send_button.setEnabled(False)
        row.addWidget(self.server, 1)
        row.addWidget(self.servers_button)
        row.addWidget(self.send_button)
        column.addLayout(row)
        # while a sent job prints: how far it is, and the two ways out of following it
        self.follow_row = QWidget()
        follow_row = QHBoxLayout(self.follow_row)
        follow_row.setContentsMargins(0, 0, 0, 0)
        self.print_progress = QProgressBar()
        self.print_progress.setObjectName("print_progress")
        self.print_progress.setRange(0, 1000)
        self.print_progress.setToolTip("How far the print on the server is")
        self.cancel_print_button = QPushButton("Cancel print")
        self.cancel_print_button.setObjectName("cancel_print")
        self.cancel_print_button.setToolTip("Stop the print on the printer (the print job and its G-code are kept)")
        self.stop_following_button = QPushButton("Stop following")
        self.stop_following_button.setToolTip("Stop following here; the printer prints on")
        follow_row.addWidget(self.print_progress, 1)
        follow_row.addWidget(self.cancel_print_button)
        follow_row.addWidget(self.stop_following_button)
        self.follow_row.setVisible(False)
        column.addWidget(self.follow_row)
        self.cancel_print_button.clicked.connect(self.cancel_print)
        self.stop_following_button.clicked.connect(self.stop_following)
        self.jobs_button = QPushButton("Print jobs…")
        self.jobs_button.setObjectName("print_jobs_button")
        self.jobs_button.setToolTip("This project's print jobs: preview their G-code, cancel one printing")
        self.jobs_button.clicked.connect(self.print_jobs_dialog)
        row.addWidget(self.jobs_button)
        self.send_status = QLabel("")
        self.send_status.setObjectName("send_status")
        self.send_status.setWordWrap(True)
        self.send_status.setTextFormat(Qt.PlainText)
        self.send_status.setMinimumHeight(self.send_status.fontMetrics().lineSpacing() * 3)
        column.addWidget(self.send_status)
        self.servers_button.clicked.connect(self.printers_dialog)
        self.send_button.clicked.connect(self.send)
        self.server.currentIndexChanged.connect(self._send_possible)
        self._load_servers()
        return box

    def _load_servers(self) -> None:
        current = self.server.currentData()
        self.server.clear()
        try:
            servers = list_servers()
        except DStudioError as err:
            self._send_error(str(err))
            servers = []
        for entry in servers:
            self.server.addItem(f"{entry.name}  ({entry.url})", entry.name)
        if not servers:
            self.server.addItem("No printers yet: add one with Printers…", None)
        index = self.server.findData(current)
        self.server.setCurrentIndex(max(index, 0))
        self._send_possible()

    def _send_possible(self, *_) -> None:
        self.send_button.setEnabled(not self.busy and self.server.currentData() is not None and
                                    self.report is not None and self.report.print_job_id is not None)

    def print_jobs_dialog(self) -> None:
        from .print_jobs_dialog import PrintJobsDialog

        project_id = self.target.split(":", 1)[0]
        if getattr(self, "jobs_window", None) is None:
            self.jobs_window = PrintJobsDialog(self.home, project_id, self)
        self.jobs_window.refresh()
        self.jobs_window.show()
        self.jobs_window.raise_()

    def printers_dialog(self) -> None:
        from .print_servers_dialog import PrintServersDialog

        if getattr(self, "servers_window", None) is None:
            self.servers_window = PrintServersDialog(self)
            self.servers_window.changed.connect(self._load_servers)
        self.servers_window.show()
        self.servers_window.raise_()

    def send(self) -> None:
        """Upload, start and follow the print, its progress in the send row (Cancel print stops
        it on the server; Stop following leaves it printing)."""
        if self.report is None or self.report.print_job_id is None or self.server.currentData() is None:
            return
        home, job_id, server = self.home, self.report.print_job_id, self.server.currentData()

        def work(progress, token):
            with open_workspace(home) as ws:
                return send_print_job(ws, job_id, server, follow=True, progress=progress, cancel=token)

        self._set_busy(True)
        self.send_status.setStyleSheet("")
        self.send_status.setText(f"Sending to {server}…")
        self.print_progress.setValue(0)
        self.cancel_print_button.setEnabled(False)     # until the print has started
        self.stop_following_button.setEnabled(True)
        self.follow_row.setVisible(True)
        self.sending_to = server
        self.job = follow(self, ThreadJob(work, name=f"printing on {server}"), self._print_progressed,
                          self._sent, self._send_failed)

    def _print_progressed(self, fraction: float, message: str) -> None:
        printing = message == "printing"
        if printing:
            self.print_progress.setValue(int(fraction * 1000))
        if self.cancelling is None:   # else the status says it is being cancelled
            self.send_status.setText(f"Printing on {self.sending_to}: {fraction:.0%}" if printing
                                     else f"{message[:1].upper()}{message[1:]}…")
        self.cancel_print_button.setEnabled(printing and self.cancelling is None)

    def stop_following(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()

    def cancel_print(self) -> None:
        """Cancel the print on the server; the follower then ends and shows the cancelled job."""
        if self.report is None or self.report.print_job_id is None or self.cancelling is not None:
            return
        home, job_id, server = self.home, self.report.print_job_id, self.sending_to

        def work(progress, token):
            with open_workspace(home) as ws:
                return cancel_print_job(ws, job_id, server, progress=progress)

        self.cancel_print_button.setEnabled(False)
        self.send_status.setText(f"Cancelling the print on {server}…")
        self.cancelling = follow(self, ThreadJob(work, name=f"cancelling on {server}"), None,
                                 self._print_cancelled, self._cancel_failed)

    def _print_cancelled(self, job) -> None:
        self.cancelling = None
        if not self.busy:    # the follower ended first
            self._show_cancelled(job)

    def _cancel_failed(self, message: str) -> None:
        self.cancelling = None
        self._send_error(message)
        self.cancel_print_button.setEnabled(self.busy)

    def _show_cancelled(self, job) -> None:
        self.send_status.setStyleSheet("")
        self.send_status.setText(f"✖ Cancelled on {self.sending_to}; the print job is recorded as {job.status}, "
                                 "its G-code kept.")

    def _sent(self, job) -> None:
        self._set_busy(False)
        self.follow_row.setVisible(False)
        server = self.sending_to
        if job.status == "cancelled":
            self._show_cancelled(job)
            return
        if job.actual_time_minutes is not None:
            text = (f"✔ Printed on {server}: {job.status}, took {job.actual_time_minutes:.1f} min "
                    f"(estimated {job.estimated_time_minutes:.1f}).")
        elif job.status == "printing":
            text = f"Sent to {server}; it is printing (no longer followed here: see Print jobs…)."
        else:
            text = f"The print on {server} ended: {job.status}."
        self.send_status.setText(text)

    def _send_failed(self, message: str) -> None:
        self._set_busy(False)
        self.follow_row.setVisible(False)
        self._send_error(f"{message} The print job and its G-code are kept.")

    def _send_error(self, message: str) -> None:
        self.send_status.setStyleSheet("color: #b00;")
        self.send_status.setText(" ".join(message.split()))

    def _profiles_changed(self, *_) -> None:
        """Only the slicers both profiles support can be chosen (PrusaSlicer writes no UltiGCode)."""
        printer, material = printers().get(self.printer.currentData()), materials().get(self.material.currentData())
        if printer is None or material is None:
            return
        supported = supported_slicers(printer, material)
        model = self.slicer.model()
        for row in range(self.slicer.count()):
            item = model.item(row)
            item.setEnabled(self.slicer.itemData(row) in supported)
            item.setToolTip("" if item.isEnabled() else
                            f"{SLICER_NAMES[self.slicer.itemData(row)]} does not support this printer and material")
        if self.slicer.currentData() not in supported:
            for row in range(self.slicer.count()):
                if self.slicer.itemData(row) in supported:
                    self.slicer.setCurrentIndex(row)
                    break

    def _ask_about_units(self, findings) -> None:
        question = next((f for f in findings if f.code == "implausible_units" and f.scale), None)
        self.units_question.setVisible(question is not None)
        if question is not None:
            self.suggested_scale = question.scale
            self.units_text.setText(f"{question.message.capitalize()} Scale it by {question.scale:g}?")
            self.units_yes.setText(f"Scale × {question.scale:g}")

    def _accept_units(self) -> None:
        self.scale.setValue(self.scale.value() * self.suggested_scale)
        self.units_question.setVisible(False)
        self.check()

    def options(self) -> SliceOptions:
        return SliceOptions(
            printer=self.printer.currentData(), material=self.material.currentData(),
            layer_height=round(self.layer_height.value(), 3), infill=float(self.infill.value()),
            supports=self.supports.isChecked(), adhesion=self.adhesion.currentText(),
            color=self.color.text().strip() or None, scale_to_fit=self.scale_to_fit.isChecked(),
            repairs=tuple(name for name, box in self.repairs.items() if box.isChecked()),
            slicer=self.slicer.currentData(), scale=round(self.scale.value(), 6), orient=self.orient.isChecked(),
            arrange=self.arrange.isChecked() and self.arrange.isVisible(),
        )

    def _show_findings(self, findings) -> None:
        self.findings.clear()
        for f in findings:
            item = QListWidgetItem(f"{SEVERITY_MARK.get(f.severity, '')} {f.message}\n      → {f.suggestion}")
            self.findings.addItem(item)
        if not findings:
            self.findings.addItem("✔ No problems found: watertight, manifold, consistent, fits the printer.")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for b in (self.check_button, self.slice_button):
            b.setEnabled(not busy)
        if hasattr(self, "send_button"):
            self._send_possible()

    def check(self) -> None:
        options, home, target = self.options(), self.home, self.target

        def work(progress, token):
            with open_workspace(home) as ws:
                return prepare(target, options, ws, store_repairs=False, cancel=token).findings

        self._set_busy(True)
        self.job = run_task(self, "Checking printability", work, self._checked, self._failed)

    def _checked(self, findings) -> None:
        self._set_busy(False)
        self._show_findings(findings)
        self._ask_about_units(findings)

    def slice_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save G-code", "part.gcode", "G-code (*.gcode)")
        if path:
            self.slice_to(path)

    def slice_to(self, path: str) -> None:
        options, home, target = self.options(), self.home, self.target

        def work(progress, token):
            with open_workspace(home) as ws:
                return slice_target(target, path, options, ws=ws, progress=progress, cancel=token)

        self._set_busy(True)
        self.job = run_task(self, "Slicing", work, self._sliced, self._failed)

    def _sliced(self, report: SliceReport) -> None:
        self._set_busy(False)
        self.report = report
        self._show_findings(report.findings)
        self._ask_about_units(report.findings)
        minutes = report.estimated_time_s / 60
        self.estimates.setText(
            f"<b>{int(minutes // 60)} h {int(minutes % 60)} min</b> · {report.filament_mm / 1000:.2f} m of filament "
            f"· <b>{report.filament_g:.1f} g</b> {report.material} · {report.layers} layers · {report.slicer}<br>"
            f"Saved {report.output.name}; recorded as a print job in the project.")
        self.gcode_button.setEnabled(True)
        self._send_possible()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.estimates.setText(f"<span style='color:#b00'>{message}</span>")

    def reject(self) -> None:
        """Closing cancels a check or slice under way: no slicer outlives its dialog."""
        if self.job is not None and not self.job.done:
            self.job.cancel()
        super().reject()

    def show_gcode(self) -> None:
        """The toolpath preview of the G-code just written (its raw text is one tab away)."""
        if self.report is None:
            return
        from .toolpath_preview import ToolpathPreview

        try:
            viewer = ToolpathPreview(self.report.output, self)
        except (DStudioError, OSError) as err:
            self._failed(str(err))
            return
        self.gcode_viewer = viewer
        viewer.show()
