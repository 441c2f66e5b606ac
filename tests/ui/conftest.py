"""The GUI tier: the real main window on a real X display (Xvfb in CI) with Mesa's GL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("GUI tests need an X display; run the suite under xvfb-run (see README)")
    pytest.skip("no X display: run under xvfb-run to include the GUI tests", allow_module_level=True)


class ModalWatcher:
    """Looks every ``interval_ms`` for the application's open modal dialog and hands it to
    ``seen_modal`` (the GUI thread is inside the dialog's own event loop then, so only a timer
    can reach it)."""

    def __init__(self, interval_ms: int) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        from PySide6.QtWidgets import QApplication

        widget = QApplication.activeModalWidget()
        self.seen_modal(widget if widget is not None and widget.isVisible() else None)

    def seen_modal(self, widget) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.timer.stop()


# A message box nobody answers this long is one nobody will (a test's work failed and the app
# said so): it is closed and the test fails with its text, instead of the suite waiting forever.
FORGOTTEN_BOX_S = 60.0


class ForgottenBoxes(ModalWatcher):
    def __init__(self, patience: float) -> None:
        import time

        super().__init__(250)
        self.patience = patience
        self.texts: list[str] = []
        self.expected = False    # a test of this guard itself
        self._since: dict[int, float] = {}
        self._clock = time.monotonic

    def seen_modal(self, widget) -> None:
        from PySide6.QtWidgets import QMessageBox

        if not isinstance(widget, QMessageBox):
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
    guard.stop()
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


class Dialogs(ModalWatcher):
    """Answers modal dialogs as they open, the way a person would (``answer(widget)``), and
    remembers each: ``seen`` their texts or titles, ``messages`` each message box's (icon, text)."""

    def __init__(self, answer) -> None:
        self.seen: list[str] = []
        self.messages: list[tuple[str, str]] = []
        self.answer = answer
        super().__init__(20)

    def seen_modal(self, widget) -> None:
        from PySide6.QtWidgets import QMessageBox

        if widget is None:
            return
        if isinstance(widget, QMessageBox):
            self.messages.append((widget.icon().name, widget.text()))
            self.seen.append(widget.text())
        else:
            self.seen.append(widget.windowTitle())
        self.answer(widget)
