"""The GUI tier: the real main window on a real X display (Xvfb in CI) with Mesa's GL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("GUI tests need an X display; run the suite under xvfb-run (see README)")
    pytest.skip("no X display: run under xvfb-run to include the GUI tests", allow_module_level=True)


# A message box nobody answers this long is one nobody will (a test's work failed and the app
# said so): it is closed and the test fails with its text, instead of the suite waiting forever.
FORGOTTEN_BOX_S = 60.0


class ForgottenBoxes:
    def __init__(self, patience: float) -> None:
        import time

        from PySide6.QtCore import QTimer

        self.patience = patience
        self.texts: list[str] = []
        self.expected = False    # a test of this guard itself
        self._since: dict[int, float] = {}
        self._clock = time.monotonic
        self.timer = QTimer()
        self.timer.setInterval(250)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        widget = QApplication.activeModalWidget()
        if not isinstance(widget, QMessageBox) or not widget.isVisible():
            self._since.clear()
            return
        first = self._since.setdefault(id(widget), self._clock())
        if self._clock() - first >= self.patience:
            self.texts.append(widget.text())
            self._since.pop(id(widget), None)
            widget.done(0)


@pytest.fixture(autouse=True)
def forgotten_boxes(qapp):
    guard = ForgottenBoxes(FORGOTTEN_BOX_S)
    yield guard
    guard.timer.stop()
    if guard.texts and not guard.expected:
        pytest.fail(f"a message box was left open for {guard.patience:g} s and closed: {guard.texts}")


@pytest.fixture
def window(qtbot, home: Path, tmp_path: Path):
    """The main window on the sample project; fails the test if it leaves widgets behind."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from vispy import app as vispy_app

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings.setDefaultFormat(QSettings.IniFormat)
    vispy_app.use_app("pyside6")
    from dstudio_desktop.services.sample import install_sample
    from dstudio_desktop.store import Workspace
    from dstudio_desktop.ui.main_window import MainWindow

    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    ws = Workspace()
    project = install_sample(ws)
    win = MainWindow(ws)
    win.resize(1500, 900)
    win.open_project(project.id)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(50)
    yield win
    win.close()
    ws.close()
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    assert not leaked, f"widgets left open: {leaked}"


@pytest.fixture
def test_keyring(tmp_path, monkeypatch):
    """A file keyring outside the workspace, standing in for the desktop's keyring in tests."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "keyring"))
    before = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    yield
    keyring.set_keyring(before)


def press(qtbot, widget, key, modifiers=None) -> None:
    """A key press as a user makes it: the window active, focus on ``widget``, so window-wide
    shortcuts reach their actions the way they would from the keyboard."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=3000)
    QTest.keyClick(widget, key, modifiers if modifiers is not None else Qt.NoModifier)


class Dialogs:
    """Answers modal dialogs as they open, the way a person would (``answer(widget)``), and
    remembers each: ``seen`` their texts or titles, ``messages`` each message box's (icon, text)."""

    def __init__(self, answer) -> None:
        from PySide6.QtCore import QTimer

        self.seen: list[str] = []
        self.messages: list[tuple[str, str]] = []
        self.answer = answer
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        widget = QApplication.activeModalWidget()
        if widget is None or not widget.isVisible():
            return
        if isinstance(widget, QMessageBox):
            self.messages.append((widget.icon().name, widget.text()))
            self.seen.append(widget.text())
        else:
            self.seen.append(widget.windowTitle())
        self.answer(widget)

    def stop(self) -> None:
        self.timer.stop()
