"""Starting the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from ..core import Project
from ..errors import DStudioError
from ..store import Workspace
from ..sync.runner import open_workspace


def open_target(ws: Workspace, target: Optional[str]) -> Project:
    """The sample project (no target), a new project made from a model file, or a project by name/id."""
    if target is None:
        from ..services.sample import install_sample

        return install_sample(ws)
    path = Path(target)
    if path.is_file():
        from ..services.geometry import import_files

        project = ws.create_project(path.stem or "Imported model")
        import_files(ws, project.id, [path])
        return ws.load_project(project.id)
    return ws.load_project(target)


def run_app(target: Optional[str] = None) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox
    from vispy import app as vispy_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("DesignStudio")
    app.setApplicationName("Design Studio")
    app.setDesktopFileName("dstudio")  # the desktop entry (packaging/dstudio.desktop) and its icon
    vispy_app.use_app("pyside6")
    from .about_dialog import app_icon
    from .first_run import show_first_run_hint
    from .main_window import MainWindow

    app.setWindowIcon(app_icon())

    try:
        ws = open_workspace()
        project = open_target(ws, target)
    except DStudioError as err:
        QMessageBox.critical(None, "Design Studio", str(err))
        print(f"dstudio: error: {err}", file=sys.stderr)
        return 1
    window = MainWindow(ws)
    window.open_project(project.id)
    if window.remembered_geometry:
        window.show()
    else:  # the first time: the whole screen, the viewport at its heart
        screen = app.primaryScreen()
        if screen is not None:
            window.setGeometry(screen.availableGeometry())  # what "maximised" means with no window manager
        window.showMaximized()
    hint = show_first_run_hint(window.viewport.canvas.native)  # noqa: F841 - owned by the viewport widget
    return app.exec()
