"""The main window: viewport in the middle, docks around it, menus and status bar."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QDockWidget, QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox

from ..core import SNAPSHOT_DOCUMENTS, CameraView, Project, SurfacePoint
from ..core import camera_math as cm
from ..core.progress import check
from ..errors import DStudioError
from ..meshio.formats import MODEL_EXTENSIONS, dialog_filter
from ..render.pins import annotation_pins
from ..render.prepare import PreparedAsset, prepare_asset
from ..render.viewport import Viewport
from ..services import review
from ..services.changes import land
from ..services.geometry import add_reconstruction, geometry_change, import_label, read_geometry
from ..services.images import workspace_assets
from ..services.models import load_mesh
from ..store import Workspace
from ..sync.runner import open_workspace
from .outliner import Outliner
from .part_actions import PartActions
from .tasks import run_task
from .undo import Editor

STANDARD_VIEWS = ["front", "back", "left", "right", "top", "bottom", "iso"]
# a project whose meshes take less than this opens at once; a larger one loads on a worker with progress
INLINE_OPEN_BYTES = 16 * 1024 * 1024
SIDE_PANEL_WIDTHS = (290, 380)  # pixels, left and right: the panels start this wide, the viewport takes the rest
SESSION_READ_MS = 2000  # the keyring's sign-in is read after the first frame with a project, or after this
# The status bar's ms/frame follows the frames at most this often: a label changed every frame
# repaints the status bar, and Qt then composes the window's widgets anew with the viewport's frame.
FRAME_READOUT_MS = 250
LAYOUT_DELAY_MS = 50  # dock sizes take only once the shown window has been laid out by the platform


def prepare_assets(ws: Workspace, asset_ids: list[str], progress=None, token=None) -> dict[str, PreparedAsset]:
    """Load and prepare the meshes of a project. One that fails to load is left out here; its
    node's view reports the problem when it asks for the mesh itself."""
    prepared = {}
    for i, asset_id in enumerate(asset_ids):
        check(token, "opening the project")
        if progress is not None:
            progress(i / max(len(asset_ids), 1), f"loading part {i + 1} of {len(asset_ids)}")
        try:
            # picking structures come later, in the background: the first frame does not need them
            prepared[asset_id] = prepare_asset(load_mesh(ws, asset_id), picker=False, defer_normals=True)
        except DStudioError:
            continue
    return prepared


class MainWindow(QMainWindow):
    selection_changed = Signal(list)
    project_changed = Signal(str)
    project_opened = Signal(str)
    units_changed = Signal(str)

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.project: Optional[Project] = None
        self.setObjectName("main_window")
        self.resize(1280, 800)
        # The canvas is made with its final parent and never moved: reparenting a GL widget breaks it.
        self.viewport = Viewport(parent=self)
        self.setCentralWidget(self.viewport.canvas.native)
        self.viewport.camera.moved.connect(self._camera_moved)
        self.viewport.camera.clicked.connect(self._clicked)
        self.editor = Editor(self.ws, parent=self)
        self.editor.failed.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.editor.merged.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.editor.dirty_changed.connect(self.setWindowModified)
        self.setAcceptDrops(True)
        self.viewport.frame_drawn.connect(self._frame_drawn)
        self.outliner = Outliner(self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.outliner)
        self.outliner.selection_changed.connect(self.set_selection)
        self.outliner.edit_requested.connect(self.run)
        self.editor.stack.indexChanged.connect(self._edited)
        self._build_status_bar()
        self._build_menus()
        from .camera_dock import CameraDock
        from .environment_dock import EnvironmentDock
        from .lighting_dock import LightingDock
        from .material_dock import MaterialDock
        from .properties_dock import PropertiesDock
        from .review_dock import ReviewDock
        from .versions_dock import VersionsDock

        self.properties_dock = PropertiesDock(self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.properties_dock)
        self.material_dock = MaterialDock(self)
        self.lighting_dock = LightingDock(self)
        self.environment_dock = EnvironmentDock(self)
        self.camera_dock = CameraDock(self)
        self.versions_dock = VersionsDock(self)
        self.review_dock = ReviewDock(self)
        from .sync_status import SyncStatus

        self.sync_status = SyncStatus(self)
        QTimer.singleShot(SESSION_READ_MS, self.sync_status.read_session)  # if no frame with a project comes
        from .presence_panel import PresencePanel

        self.presence_panel = PresencePanel(self)  # who else is in the project, live
        for dock in (self.material_dock, self.lighting_dock, self.environment_dock):
            self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.material_dock, self.lighting_dock)
        self.tabifyDockWidget(self.lighting_dock, self.environment_dock)
        self.material_dock.raise_()
        for dock in (self.camera_dock, self.versions_dock):
            self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.camera_dock, self.versions_dock)
        self.camera_dock.raise_()
        self.addDockWidget(Qt.LeftDockWidgetArea, self.review_dock)
        self.tabifyDockWidget(self.properties_dock, self.review_dock)
        self.properties_dock.raise_()
        from .jobs_dock import JobsDock

        self.jobs_dock = JobsDock(self)  # cloud jobs, from the server; lands their results here
        self.addDockWidget(Qt.RightDockWidgetArea, self.jobs_dock)
        self.tabifyDockWidget(self.versions_dock, self.jobs_dock)
        self.jobs_dock.toggleViewAction().setToolTip("Show or hide the Jobs panel")
        self.camera_dock.raise_()
        for dock in (self.properties_dock, self.material_dock, self.lighting_dock, self.environment_dock,
                     self.camera_dock, self.versions_dock, self.review_dock, self.jobs_dock):
            self.docks_menu.addAction(dock.toggleViewAction())
        for dock in (self.outliner, self.properties_dock, self.material_dock, self.lighting_dock,
                     self.environment_dock, self.camera_dock, self.versions_dock, self.review_dock):
            dock.toggleViewAction().setToolTip(f"Show or hide the {dock.windowTitle()} panel")
        from .tools import Tools

        self.tools = Tools(self)  # select/move/rotate/scale/measure/annotate, their toolbar and gizmos
        self.addToolBar(Qt.TopToolBarArea, self.tools.toolbar)
        self.empty_hint = QLabel("This project is empty: drop model files here, or File → Import (Ctrl+I)",
                                 self.viewport.canvas.native)
        self.empty_hint.setObjectName("empty_hint")
        self.empty_hint.setStyleSheet("color: #d8d8dc; background: rgba(20, 20, 24, 170); padding: 10px 16px;"
                                      "border-radius: 6px;")
        self.empty_hint.hide()
        self.project_changed.connect(lambda name: self._update_hint() if name == "scene_graph" else None)
        self._laid_out = False
        self._default_layout = self.saveState()
        settings = QSettings()
        self.remembered_geometry = settings.value("main_window/geometry") is not None
        if self.remembered_geometry:
            self.restoreGeometry(settings.value("main_window/geometry"))
            self.restoreState(settings.value("main_window/state"))

    # -- project ------------------------------------------------------------

    def open_project(self, key: str) -> None:
        """Open a project; its meshes are loaded and prepared for drawing on a worker thread
        (with progress and Cancel) unless they are small enough to be there at once."""
        if self.project is not None and self.editor.dirty:  # never write a stale copy over what the workspace holds
            self.editor.save()
        project = self.ws.load_project(key)
        asset_ids = sorted({n.asset_id for n, _ in project.scene_graph.walk() if n.asset_id})
        size = self.ws.assets_size(asset_ids)
        if size <= INLINE_OPEN_BYTES:
            self.show_project(project, prepare_assets(self.ws, asset_ids))
            return
        home = self.ws.home

        def work(progress, token):
            with open_workspace(home) as ws:
                return prepare_assets(ws, asset_ids, progress, token)

        run_task(self, f"Opening {project.name}", work, lambda prepared: self.show_project(project, prepared),
                 self.show_error)

    def show_project(self, project: Project, prepared: dict[str, PreparedAsset]) -> None:
        """Show a loaded project whose meshes have been prepared for drawing (by ``open_project``,
        or by a model file read while the app started)."""
        if self.project is not None:
            if self.editor.dirty:
                self.editor.save()
            self.project.changed.disconnect(self._document_replaced)
        self.project = project
        self.editor.open(project, self.ws.role(project.id))
        self.outliner.set_project(project)
        self.viewport.set_project(project, workspace_assets(self.ws), prepared)  # meshes, textures, environments
        project.changed.connect(self._document_replaced)
        for name in SNAPSHOT_DOCUMENTS:  # a newly opened project is a change to every document
            self._document_replaced(name)
        self.setWindowTitle(f"{project.name}[*] — Design Studio")
        self.setWindowModified(self.editor.dirty)  # the title has its [*] now: the mark can show
        self.unit_actions[project.canvas_state.display_units].setChecked(True)
        self._update_hint()
        self._remember_recent(project.id)
        self.project_opened.emit(project.id)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_hint()

    def _document_replaced(self, name: str) -> None:
        if name == "scene_graph":
            self.outliner.refresh_later()
            self.set_selection([i for i in (self.viewport.scene_view.selection if self.viewport.scene_view else [])
                                if self.project.scene_graph.find(i)])
            self._update_status()
        if name == "camera_presets":
            self._rebuild_camera_menu()
        self.project_changed.emit(name)
        self.viewport.canvas.update()

    def _edited(self, *_) -> None:
        self.outliner.refresh_later()

    def run(self, command) -> bool:
        """Do an edit through the undo stack; the view follows from model events."""
        done = self.editor.run(command)
        self.viewport.canvas.update()
        return done

    def selected_nodes(self) -> list:
        ids = self.viewport.scene_view.selection if self.viewport.scene_view else set()
        return [n for n, _ in self.project.scene_graph.walk() if n.id in ids] if self.project else []

    def _clicked(self, x: float, y: float) -> None:
        self.tools.clicked(x, y)  # the active tool decides: select (with Shift/Ctrl), measure or pin a note

    def place_pin(self, x: float, y: float, text: Optional[str] = None) -> None:
        """Annotate mode: pin a note where the ray under (x, y) meets a part, with the current view."""
        if self.viewport.scene_view is None or self.project is None:
            return
        w, h = self.viewport.canvas.size
        origin, direction = cm.ray_through(self.viewport.camera.view, x, y, w, h)
        hit = self.viewport.scene_view.pick(origin, direction, include_locked=True)
        if hit is None:
            self.statusBar().showMessage("Click on a part to pin a note to it", 4000)
            return
        if text is None:
            text, ok = QInputDialog.getText(self, "Annotate", "Note:")
            if not ok or not text.strip():
                return
        node_id, point, normal = hit
        try:
            made = review.add(self.ws, self.project, text,
                              SurfacePoint(point=tuple(point), normal=tuple(normal), node_id=node_id),
                              self.viewport.camera.view)
        except DStudioError as err:
            self.show_error(str(err))
            return
        self.review_dock.refresh()
        self.review_dock.noted.emit()
        self.viewport.pins.select(made.id)
        self.statusBar().showMessage("Pinned a note", 4000)

    def refresh_pins(self) -> None:
        if self.project is None:
            return
        dock = self.review_dock
        versions = self.ws.list_versions(self.project.id)
        pins = annotation_pins(dock.threads, self.project, dock.version_numbers, versions[-1].id if versions else None)
        self.viewport.show_pins(pins, self.viewport.pins.selected)

    def compare_versions(self) -> None:
        if self.project is None:
            return
        from .compare_dialog import CompareDialog

        dialog = CompareDialog(self)
        dialog.open()

    def pick_at(self, x: float, y: float) -> None:
        self.tools.select_at(x, y)  # the part under (x, y) alone, or nothing

    def set_selection(self, node_ids: list[str]) -> None:
        if self.viewport.scene_view is None:
            return
        self.viewport.scene_view.set_selection(set(node_ids))
        self.outliner.select(node_ids)
        names = [n.name for n, _ in self.project.scene_graph.walk() if n.id in node_ids] if self.project else []
        self.selection_label.setText(f"Selected: {', '.join(names)}" if names else "Nothing selected")
        self.viewport.canvas.update()
        self.selection_changed.emit(list(node_ids))

    # -- camera -------------------------------------------------------------

    def apply_camera(self, view: CameraView) -> None:
        self.viewport.camera.set_view(view, notify=True)

    def apply_preset(self, key: str) -> None:
        self.camera_dock.apply(key)

    def fit_all(self) -> None:
        """Frame the selection, or everything when nothing is selected (F)."""
        scene_view = self.viewport.scene_view
        bounds = scene_view.bounds(scene_view.selection or None) if scene_view else None
        if bounds is not None:
            self.apply_camera(cm.fit(self.viewport.camera.view, *bounds, aspect=self.viewport.aspect()))

    def standard_view(self, name: str) -> None:
        bounds = self.viewport.scene_view.bounds() if self.viewport.scene_view else None
        if bounds is not None:
            self.apply_camera(cm.standard_view(name, *bounds, self.viewport.camera.view, self.viewport.aspect()))

    def set_projection(self, projection: str) -> None:
        view = self.viewport.camera.view
        if view.projection != projection:
            height = cm.view_height(view)
            self.apply_camera(view.model_copy(update={"projection": projection, "ortho_height": height}))

    def _camera_moved(self, view: CameraView) -> None:
        if self.project is not None:
            self.project.canvas_state.camera = view
        self.viewport.canvas.update()

    # -- files --------------------------------------------------------------

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import models", "", dialog_filter())
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[str]) -> None:
        """Import model files as one undoable step (read and prepared on a worker thread)."""
        if self.project is None:
            return
        project_id = self.project.id
        existing = self.viewport.scene_view.bounds() if self.viewport.scene_view else None

        def work(progress, token):  # reads and prepares only: the store is written on the GUI thread
            scenes = read_geometry(paths, progress=progress, cancel=token)
            change = geometry_change(project_id, scenes, import_label(paths), beside=existing)
            # drawing and picking data too is made here, so a large part does not freeze the window
            prepared = {}
            for scene in scenes:
                for asset_id, mesh in scene.meshes.items():
                    check(token, "import")
                    progress(0.9, f"preparing {mesh.name} for display")
                    prepared[asset_id] = prepare_asset(mesh)
            return change, prepared

        def arrived(result) -> None:
            change, prepared = result
            if self.project is None or self.project.id != project_id:
                return
            if self.viewport.scene_view is not None:
                for asset_id, asset in prepared.items():
                    self.viewport.scene_view.preload(asset_id, asset)
            try:  # the nodes and their assets are stored together, as one undoable step
                land(self.ws, change, self.editor)
            except DStudioError as err:
                self.show_error(str(err))
                return
            added = [n["id"] for n in change.command.commands[-1].nodes]
            self.set_selection(added)
            self.fit_all()  # frames what came in (it is selected), wherever the file put it
            self.viewport.canvas.update()

        run_task(self, "Importing models", work, arrived, self.show_error)

    def export_dialog(self) -> None:
        """File → Export…: on this computer (free, any format) or a cloud preset at the server's price."""
        if self.project is None:
            return
        from .export_dialog import ExportDialog

        self.export_window = ExportDialog(self)
        self.export_window.exported.connect(
            lambda files: self.statusBar().showMessage(f"Exported {', '.join(Path(f).name for f in files)}", 5000))
        self.export_window.show()

    def render_dialog(self) -> None:
        """File → Render Image…: a product shot, drawn without a window by the same renderer."""
        if self.project is None:
            return
        from .render_dialog import RenderDialog

        self.editor.save()  # the picture is of what is stored
        self.render_window = RenderDialog(self)
        self.render_window.show()

    def print_dialog(self) -> None:
        """Print the selected part, or every visible part when nothing is selected."""
        if self.project is None:
            return
        from .print_dialog import PrintDialog

        selected = self.viewport.scene_view.selection if self.viewport.scene_view else set()
        node = next((n for n, _ in self.project.scene_graph.walk() if n.id in selected), None)
        dialog = PrintDialog(self.ws.home, self.project.id, self.project.name,
                             node.id if node else None, node.name if node else None, self)
        dialog.show()
        self.print_window = dialog

    def print_jobs_dialog(self) -> None:
        from .print_jobs_dialog import show_print_jobs

        show_print_jobs(self)

    def preview_gcode_dialog(self) -> None:
        """A G-code file (from any slicer) in the toolpath preview."""
        from .toolpath_preview import open_gcode_preview

        path, _ = QFileDialog.getOpenFileName(self, "Preview G-code", "", "G-code (*.gcode *.gco *.g);;All files (*)")
        if path:
            open_gcode_preview(self, path, lambda viewer: setattr(self, "gcode_window", viewer), self.show_error)

    def reconstruct_dialog(self, folder: str = "") -> None:
        """Photos to a mesh, added to this project as an asset, a node and a new version."""
        if self.project is None:
            return
        from .reconstruct_dialog import ReconstructDialog

        try:
            self.ws.require(self.project.id, "edit")  # refused now, not after the reconstruction
        except DStudioError as err:
            self.show_error(str(err))
            return
        work = self.ws.home / "reconstructions"
        work.mkdir(parents=True, exist_ok=True)
        dialog = ReconstructDialog(work, folder, self, jobs=self.jobs_dock, project_id=self.project.id)
        dialog.reconstructed.connect(self._add_reconstruction)
        dialog.cloud_finished.connect(self.jobs_dock.land)
        dialog.show()
        self.reconstruct_window = dialog

    def picture(self):
        """An image of the design as the viewport shows it, without the tools' overlays."""
        with self.tools.overlays_hidden():
            return self.viewport.render()

    def _add_reconstruction(self, glb: str, report: dict) -> bool:
        def picture(result) -> object:  # the version's thumbnail shows what came back, selected and framed
            self.set_selection([n.id for n in result.nodes])
            self.fit_all()
            return self.picture()

        try:
            _, version = add_reconstruction(self.ws, self.project.id, glb, report, editor=self.editor,
                                            picture=picture)
        except DStudioError as err:
            self.show_error(str(err))
            return False
        finally:
            Path(glb).unlink(missing_ok=True)
        self.versions_dock.refresh()
        self.statusBar().showMessage(f"Added the reconstruction and saved version {version.version_number}", 5000)
        return True

    def open_dialog(self) -> None:
        rows = self.ws.list_projects()
        labels = [f"{r['name']}  ({r['id'][:8]})" for r in rows]
        choice, ok = QInputDialog.getItem(self, "Open project", "Project:", labels, 0, False)
        if ok and choice:
            self.open_project(rows[labels.index(choice)]["id"])

    def new_project(self) -> None:
        name, ok = QInputDialog.getText(self, "New project", "Name:")
        if ok and name.strip():
            self.open_project(self.ws.create_project(name.strip()).id)

    def _remember_recent(self, project_id: str) -> None:
        settings = QSettings()
        recent = [project_id] + [p for p in (settings.value("recent_projects") or []) if p != project_id]
        settings.setValue("recent_projects", recent[:8])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        names = {r["id"]: r["name"] for r in self.ws.list_projects()}
        for project_id in QSettings().value("recent_projects") or []:
            if project_id in names:
                self._action(self.recent_menu, names[project_id], lambda _=False, p=project_id: self.open_project(p),
                             tip=f"Open {names[project_id]}")

    def dragEnterEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls()] if event.mimeData().hasUrls() else []
        if any(urls):  # files of every kind: one that cannot be read is refused with a word, not ignored
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        event.acceptProposedAction()
        self.open_files([u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile()])

    def open_files(self, paths: list[str]) -> None:
        """Import the model files among ``paths``; say which of the others cannot be read and what can."""
        models = [p for p in paths if Path(p).suffix.lower() in MODEL_EXTENSIONS]
        others = [p for p in paths if p not in models]
        if others:
            names = ", ".join(Path(p).name for p in others)
            kinds = ", ".join(sorted({e.lstrip(".").upper() for e in MODEL_EXTENSIONS}))
            self.show_error(f"{names}: not a model file Design Studio can read (it reads {kinds})"
                            + ("; the others are being imported" if models else ""))
        if models:
            self.import_paths(models)

    # -- panels, units, help ------------------------------------------------------------

    def lay_out_docks(self) -> None:
        """The viewport at the heart: narrow side panels, tabbed where they share a side."""
        self.resizeDocks([self.outliner, self.material_dock], list(SIDE_PANEL_WIDTHS), Qt.Horizontal)
        self.resizeDocks([self.outliner, self.properties_dock], [self.height() // 3, self.height()], Qt.Vertical)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._laid_out:  # docks take sizes only once the window has its own
            self._laid_out = True
            if not self.remembered_geometry:
                QTimer.singleShot(LAYOUT_DELAY_MS, self.lay_out_docks)

    def reset_layout(self) -> None:
        self.restoreState(self._default_layout)
        for dock in self.findChildren(QDockWidget):
            dock.setFloating(False)
        self.lay_out_docks()

    def set_display_units(self, unit: str) -> None:
        """Lengths are shown and typed in ``unit`` (saved with the project's viewport state)."""
        if self.project is None:
            return
        self.project.canvas_state.display_units = unit
        self.unit_actions[unit].setChecked(True)
        self.units_changed.emit(unit)
        self.statusBar().showMessage(f"Lengths in {unit}", 3000)

    def show_shortcuts(self) -> None:
        from .shortcuts import ShortcutsDialog

        self.shortcuts_window = ShortcutsDialog(self)
        self.shortcuts_window.show()

    def show_about(self) -> None:
        from .about_dialog import AboutDialog

        AboutDialog(self.ws.home, self).exec()

    def export_report(self) -> None:
        """Review → Export Report…: every note with a picture from its view, as PDF or HTML."""
        if self.project is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export review report", f"{self.project.name} review.pdf",
                                              "PDF (*.pdf);;HTML (*.html)")
        if path:
            self.write_report(path)

    def write_report(self, path: str) -> None:
        from ..services.report import write_report
        from .report_pdf import html_to_pdf

        self.editor.save()  # the report shows what is stored
        self.setCursor(Qt.WaitCursor)  # renders need this thread's GL context: no worker can make them
        try:
            result = write_report(self.ws, self.project.id, Path(path), pdf_writer=html_to_pdf)
        except DStudioError as err:
            self.show_error(str(err))
            return
        finally:
            self.unsetCursor()
        self.statusBar().showMessage(f"Wrote {Path(path).name}: {result['annotations']} notes", 6000)

    def _update_hint(self) -> None:
        empty = self.project is not None and not any(n.asset_id for n, _ in self.project.scene_graph.walk())
        self.empty_hint.setVisible(empty)
        if empty:
            self.empty_hint.adjustSize()
            native = self.viewport.canvas.native
            self.empty_hint.move((native.width() - self.empty_hint.width()) // 2, native.height() // 2 - 20)

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, "Design Studio", message)

    # -- chrome -------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.triangles_label = QLabel()
        self.frame_label = QLabel()
        self._frame_ms = 0.0
        self._frame_readout = QTimer(self, singleShot=True, interval=FRAME_READOUT_MS)
        self._frame_readout.timeout.connect(lambda: self.frame_label.setText(f"{self._frame_ms:.1f} ms/frame"))
        self.selection_label = QLabel("Nothing selected")
        self.sync_label = QLabel("Offline · local workspace")
        for widget in (self.selection_label, self.triangles_label, self.frame_label, self.sync_label):
            bar.addPermanentWidget(widget)

    def _update_status(self) -> None:
        tris = self.viewport.scene_view.triangle_count() if self.viewport.scene_view else 0
        self.triangles_label.setText(f"{tris:,} triangles")

    def _frame_drawn(self, ms: float) -> None:
        self._frame_ms = ms
        if not self._frame_readout.isActive():
            self._frame_readout.start()
        if self.project is not None:  # once the part is on screen (a 0-timer: after this paint is shown)
            QTimer.singleShot(0, self.sync_status.read_session)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName("action_" + "".join(c for c in text.lower().replace(" ", "_") if c.isalnum() or c == "_"))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        keys = action.shortcut().toString(QKeySequence.NativeText)
        action.setToolTip((tip or text.replace("&", "").rstrip("…")) + (f" ({keys})" if keys else ""))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        if shortcut:
            self.addAction(action)  # its key works wherever the focus is in the window, submenus included
        return action

    def _menu(self, title: str):
        menu = self.menuBar().addMenu(title)
        menu.setToolTipsVisible(True)
        return menu

    def _build_menus(self) -> None:
        file_menu = self._menu("&File")
        self._action(file_menu, "&New Project…", self.new_project, QKeySequence.New, "Start an empty project")
        self._action(file_menu, "&Open Project…", self.open_dialog, QKeySequence.Open, "Open a project of this workspace")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "&Save", self.editor.save, QKeySequence.Save,
                     "Save now (edits are also saved two seconds after you make them)")
        self._action(file_menu, "&Import…", self.import_dialog, "Ctrl+I", "Add model files to the project")
        self._action(file_menu, "&Export…", self.export_dialog, "Ctrl+E", "Write the project to a model file")
        self._action(file_menu, "&Render Image…", self.render_dialog, "Ctrl+R",
                     "A picture of the design: a camera, a size up to 4K, supersampling, transparency")
        self._action(file_menu, "&Print…", self.print_dialog, QKeySequence.Print,
                     "Check the selected part (or everything) and slice it for a 3D printer")
        self._action(file_menu, "Preview &G-code…", self.preview_gcode_dialog,
                     tip="Open a G-code file in the toolpath preview, layer by layer")
        self._action(file_menu, "Print &Jobs…", self.print_jobs_dialog,
                     tip="The project's print jobs: preview a job's G-code, cancel one printing")
        self._action(file_menu, "Reconstruct from &Photos…", lambda _=False: self.reconstruct_dialog(),
                     tip="Make a mesh from a folder of photos of an object")
        file_menu.addSeparator()
        self._action(file_menu, "Sign &In…", lambda _=False: self.sync_status.sign_in_dialog(),
                     tip="Sign in to a backend to sync this workspace")
        self._action(file_menu, "Create &Account…", lambda _=False: self.sync_status.sign_in_dialog(new_account=True),
                     tip="Make an account on a backend and sign in to it")
        self._action(file_menu, "Sign &Out", lambda _=False: self.sync_status.sign_out(),
                     tip="Forget the session on this computer")
        self._action(file_menu, "S&ync Now", lambda _=False: self.sync_status.sync_now(), "Ctrl+Shift+S",
                     "Send and fetch changes now")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit, "Save and close the window")
        edit_menu = self._menu("&Edit")
        self.part_actions = PartActions(self)
        self.part_actions.build(edit_menu)
        actions = self.part_actions.actions  # the outliner's context menu offers the same commands
        self.outliner.tree.addActions([actions[k] for k in ("rename", "duplicate", "group", "ungroup", "delete",
                                                            "hide", "lock", "drop")])
        view_menu = self._menu("&View")
        self._action(view_menu, "&Fit Selection / All", self.fit_all, "F",
                     "Frame the selection, or everything when nothing is selected")
        standard = view_menu.addMenu("&Standard Views")
        standard.setToolTipsVisible(True)
        for i, name in enumerate(STANDARD_VIEWS):
            self._action(standard, name.capitalize(), lambda _=False, n=name: self.standard_view(n), f"Ctrl+{i + 1}",
                         f"Look from the {name}, framing everything")
        group = QActionGroup(self)
        for projection in ("perspective", "orthographic"):
            act = self._action(view_menu, projection.capitalize(), lambda _=False, p=projection: self.set_projection(p),
                               tip=f"{projection.capitalize()} projection")
            act.setCheckable(True)
            act.setChecked(projection == "perspective")
            group.addAction(act)
        units = view_menu.addMenu("&Units")
        units.setToolTipsVisible(True)
        self.unit_actions = {}
        unit_group = QActionGroup(self)
        for unit, name in (("mm", "Millimetres"), ("cm", "Centimetres"), ("m", "Metres"), ("in", "Inches")):
            act = self._action(units, f"{name} ({unit})", lambda _=False, u=unit: self.set_display_units(u),
                               tip=f"Show and type lengths in {name.lower()}")
            act.setCheckable(True)
            unit_group.addAction(act)
            self.unit_actions[unit] = act
        self.unit_actions["mm"].setChecked(True)
        self.camera_menu = self._menu("&Cameras")
        review_menu = self._menu("&Review")
        self.annotate_action = self._action(review_menu, "&Annotate", lambda _=False: None, "Shift+A",
                                            "Annotate mode: a click on a part pins a note there")
        self.annotate_action.setCheckable(True)
        self._action(review_menu, "&Compare Versions…", self.compare_versions,
                     tip="Two versions side by side, with what changed")
        self._action(review_menu, "&Export Report…", self.export_report,
                     tip="A PDF or HTML report with a picture and the thread of every note")
        view_menu.addSeparator()
        self.docks_menu = view_menu.addMenu("&Panels")
        self.docks_menu.addAction(self.outliner.toggleViewAction())
        self._action(view_menu, "&Reset Layout", self.reset_layout, tip="Put every panel back where it started")
        help_menu = self._menu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts, "F1", "Every key the editor knows")
        self._action(help_menu, "&About Design Studio", self.show_about, tip="Version and where your work is kept")

    def _rebuild_camera_menu(self) -> None:
        self.camera_menu.clear()
        presets = self.project.camera_presets.presets if self.project else []
        for preset in presets:
            label = preset.name + ("  (default)" if preset.id == self.project.camera_presets.default_id else "")
            self._action(self.camera_menu, label, lambda _=False, key=preset.id: self.apply_preset(key),
                         tip=f"Fly to the saved camera {preset.name}")
        if not presets:
            self.camera_menu.addAction("No saved cameras").setEnabled(False)

    def closeEvent(self, event) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        for dialog in self.findChildren(QDialog):  # each cancels its own run: nothing lands in a closed workspace
            if dialog.isVisible():
                dialog.reject()
        if self.project is not None:
            self.editor.save()
        self.editor.close()
        if self.sync_status.job is not None:
            self.sync_status.job.cancel()  # a cycle under way stops at its next step; its outbox stays
        self.presence_panel.leave(wait=1.0)  # the others see this desktop go at once
        self.jobs_dock.shutdown()
        # the docks' widgets go before the docks themselves during teardown: no more notifications to them
        self.editor.stack.blockSignals(True)
        self.blockSignals(True)
        self.viewport.close()
        super().closeEvent(event)
