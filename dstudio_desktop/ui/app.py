"""Starting the desktop app.

A model file named on the command line (``dstudio open part.glb``, as a file manager's
"Open with" runs it) is read, stored as a new project and prepared for drawing in a forked
process (a thread where forking is not safe) started before Qt is even imported, while the
window is made; then it is shown. Nothing is written for a file that cannot be read."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from ..core import Project
    from ..render.prepare import PreparedAsset
    from ..store import Workspace

POLL_MS = 5  # how often the GUI looks whether the model file has been read


class ModelReading:
    """A model file being read and stored as a new project, with its meshes' drawing data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        from ..jobs.forked import ForkedCall

        if ForkedCall.possible() and not _qt_running():
            # a process of its own, which imports what it needs itself: a thread would share
            # the interpreter's lock with Qt's start-up and the window's making
            self.future = ForkedCall(self._read)
            return
        # what the reading needs is imported here, before the thread and before Qt (see
        # models_before_qt), so the thread imports nothing while Qt is imported
        from ..render import environments, prepare  # noqa: F401
        from ..services import changes, geometry  # noqa: F401
        from ..sync import runner  # noqa: F401

        if path.suffix.lower() not in (".glb", ".gltf"):
            from ..meshio import trimesh_io  # noqa: F401 - trimesh for every other format
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-file")
        self.future = pool.submit(self._read)
        pool.shutdown(wait=False)

    def _read(self) -> tuple[str, dict[str, PreparedAsset], Any, Any]:
        # numpy, the file and the workspace's own connection: no Qt, no GL, so all of it runs
        # beside Qt's start-up and the window's making
        from ..core import Project
        from ..render.environments import environment_data
        from ..render.ibl import brdf_lut
        from ..render.prepare import prepare_asset
        from ..services.changes import land
        from ..services.geometry import geometry_change, import_label, read_geometry
        from ..sync.runner import open_workspace

        scenes = read_geometry([self.path])  # parsed and validated before anything is written
        project = Project(name=self.path.stem or "Imported model")
        change = geometry_change(project.id, scenes, import_label([self.path]))
        with open_workspace() as ws:
            ws.create_project(project)
            land(ws, change)
        # picking structures are built after the first frame, as when a project opens
        prepared = {asset_id: prepare_asset(mesh, picker=False, defer_normals=True)
                    for scene in scenes for asset_id, mesh in scene.meshes.items()}
        # the light it is shown in, made while the window is still being made: the first frame
        # then only uploads it (a new project's environment is a built-in one)
        return project.id, prepared, environment_data(project.environment_config, None), brdf_lut()

    def project(self, ws: Workspace) -> tuple[Project, dict[str, PreparedAsset]]:
        """The new project as stored, with its drawing data; raises the file's ``DStudioError``
        (nothing stored) when it could not be read."""
        from ..errors import DStudioError
        from ..jobs.forked import ChildLost
        from ..render import ibl

        try:
            project_id, prepared, environment, brdf = self.future.result()
        except ChildLost as err:
            raise DStudioError(f"{self.path}: the reading stopped before it ended ({err})") from None
        ibl.adopt(environment, brdf)
        return ws.load_project(project_id), prepared


def _qt_running() -> bool:
    """A Qt application exists: its native threads (the X connection's reader) rule out forking."""
    core = sys.modules.get("PySide6.QtCore")
    return core is not None and core.QCoreApplication.instance() is not None


def models_before_qt() -> None:
    """Import the model's pydantic classes before PySide6: PySide6's import hook inspects each
    module imported after it, which breaks pydantic's lazy attributes part-way through their
    import ("cannot import name ... from partially initialized module")."""
    from ..core import Project  # noqa: F401


def start_reading(target: Optional[str]) -> Optional[ModelReading]:
    """A reading of ``target`` when it names a model file; None for the sample or a project."""
    if target is None:
        return None
    path = Path(target)
    return ModelReading(path) if path.is_file() else None


def open_target(ws: Workspace, target: Optional[str]) -> Project:
    """The sample project (no target) or a project by name or id (a model file is a ``ModelReading``)."""
    if target is None:
        from ..services.sample import install_sample

        return install_sample(ws)
    return ws.load_project(target)


def prepare_window(target: Optional[str] = None):
    """The application and its main window (not shown yet), and a function that opens what
    ``target`` names in it; (app, None, None) after a one-line error when that cannot be opened."""
    models_before_qt()
    reading = start_reading(target)  # first: the file is read while Qt starts
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from vispy import app as vispy_app

    from ..errors import DStudioError
    from ..sync.runner import open_workspace

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("DesignStudio")
    app.setApplicationName("Design Studio")
    app.setDesktopFileName("dstudio")  # the desktop entry (packaging/dstudio.desktop) and its icon
    vispy_app.use_app("pyside6")
    from .about_dialog import app_icon
    from .main_window import MainWindow

    app.setWindowIcon(app_icon())

    def refuse(err: DStudioError, parent=None) -> None:
        QMessageBox.critical(parent, "Design Studio", str(err))
        print(f"dstudio: error: {err}", file=sys.stderr)

    try:
        ws = open_workspace()
        project = open_target(ws, target) if reading is None else None
    except DStudioError as err:
        refuse(err)
        return app, None, None
    window = MainWindow(ws)

    def open_it() -> None:
        if reading is None:
            window.open_project(project.id)
            return

        def look() -> None:
            if not reading.future.done():
                QTimer.singleShot(POLL_MS, look)
                return
            try:
                stored, prepared = reading.project(ws)
            except DStudioError as err:
                refuse(err, window)
                return
            window.show_project(stored, prepared)

        look()

    return app, window, open_it


def run_app(target: Optional[str] = None) -> int:
    app, window, open_it = prepare_window(target)
    if window is None:
        return 1
    from .first_run import show_first_run_hint

    if window.remembered_geometry:
        window.show()
    else:  # the first time: the whole screen, the viewport at its heart
        screen = app.primaryScreen()
        if screen is not None:
            window.setGeometry(screen.availableGeometry())  # what "maximised" means with no window manager
        window.showMaximized()
    open_it()
    hint = show_first_run_hint(window.viewport.canvas.native)  # noqa: F841 - owned by the viewport widget
    return app.exec()

