"""Every action of the main window (menus, toolbar, context menus) and every push button of its
panels is triggered once, in a context where it makes sense, the way a person would reach it;
dialogs are answered as a person would. Any exception, or any error shown, fails the test. Every
shortcut the Help sheet lists is pressed once with focus in the viewport. Every control has a
tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabBar,
    QWidget,
)

from .conftest import Dialogs, press

pytestmark = pytest.mark.gui

# actions that end the session or replace the project: triggered at the end, on their own
LAST = {"&Quit"}


def answer_as_a_person(widget) -> None:
    """Names things, cancels file choosers, says yes to questions, closes the rest."""
    if isinstance(widget, QMessageBox):
        yes = widget.button(QMessageBox.Yes)
        (yes or widget.buttons()[0]).click()
    elif isinstance(widget, QInputDialog):
        if widget.inputMode() == QInputDialog.TextInput:
            widget.setTextValue("Walk-through")
        widget.accept()
    elif isinstance(widget, QDialog):  # file choosers among them
        widget.reject()
    else:
        widget.close()


def _close_new_windows(window, before: set[int]) -> None:
    for widget in QApplication.topLevelWidgets():
        if widget is not window and widget.isVisible() and id(widget) not in before and widget.isWindow():
            widget.close()


def _context(window, qtbot) -> None:
    """A part selected, a camera and a version chosen, one note made: every command has its object."""
    base = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Base")
    window.set_selection([base.id])
    window.camera_dock.list.setCurrentRow(0)
    window.versions_dock.list.setCurrentItem(window.versions_dock.list.topLevelItem(0))
    if not window.review_dock.threads:
        from dstudio_desktop.services import review

        point = review.surface_point(window.ws, window.project, (0.09, 0.01, 0.0))
        review.add(window.ws, window.project, "walk-through note", point, window.viewport.camera.view)
        window.review_dock.refresh()
    window.review_dock.list.setCurrentItem(window.review_dock.list.topLevelItem(0))
    stack = window.editor.stack
    if not (stack.canUndo() and stack.canRedo()):  # something to undo and something to redo
        window.part_actions.toggle_hidden()
        window.part_actions.toggle_hidden()
        stack.undo()
        window.set_selection([base.id])
    qtbot.wait(1)


def _settle(window, index: int, action_text: str) -> None:
    """Put the edit history back where it was, so the next command finds its part again."""
    if action_text.replace("&", "") in ("Undo", "Redo"):
        return
    stack = window.editor.stack
    while stack.index() > index and stack.canUndo():
        stack.undo()


def _actions(window) -> list[QAction]:
    seen, out = set(), []
    for action in window.findChildren(QAction):
        if action.isSeparator() or action.menu() is not None or not action.text() or id(action) in seen:
            continue
        if action.parent() is window.recent_menu or action.text() == "No saved cameras":
            continue
        seen.add(id(action))
        out.append(action)
    return out


def test_every_action_and_button_works(window, qtbot, test_keyring, tmp_path, monkeypatch):
    sample_id = window.project.id
    person = Dialogs(answer_as_a_person)
    triggered = []
    try:
        for action in _actions(window):
            if action.text() in LAST:
                continue
            if window.project is None or window.project.id != sample_id:
                window.open_project(sample_id)
            _context(window, qtbot)
            before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
            if not action.isEnabled():
                continue
            index = window.editor.stack.index()
            action.trigger()
            qtbot.wait(30)
            _close_new_windows(window, before)
            _settle(window, index, action.text())
            if action.isCheckable() and action.isChecked() and action.text() not in ("Perspective",):
                if action.actionGroup() is None:
                    action.trigger()  # leave a mode (annotate, a tool) as it was found
            triggered.append(action.text())
        for dock in (window.properties_dock, window.material_dock, window.lighting_dock, window.environment_dock,
                     window.camera_dock, window.versions_dock, window.review_dock, window.jobs_dock,
                     window.presence_panel):
            dock.show()
            dock.raise_()
            for button in dock.findChildren(QPushButton):
                if window.project is None or window.project.id != sample_id:
                    window.open_project(sample_id)
                _context(window, qtbot)
                if not button.isEnabled() or not button.isVisible():
                    continue
                before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
                index = window.editor.stack.index()
                qtbot.mouseClick(button, Qt.LeftButton)
                qtbot.wait(30)
                _close_new_windows(window, before)
                _settle(window, index, button.text())
                triggered.append(f"{dock.objectName()}: {button.text()}")
    finally:
        person.stop()
    errors = [text for icon, text in person.messages if icon in ("Warning", "Critical")]
    assert errors == [], errors
    assert len(triggered) > 50, triggered
    quit_action = next(a for a in window.findChildren(QAction) if a.text() == "&Quit")
    quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_every_control_has_a_tooltip(window):
    missing = []
    for widget in window.findChildren(QWidget):  # tabbed-away panels' controls too
        if isinstance(widget, (QAbstractButton, QAbstractSpinBox, QComboBox)) or (
                isinstance(widget, QLineEdit) and not isinstance(widget.parent(), (QAbstractSpinBox, QComboBox))):
            if widget.objectName().startswith("qt_") or isinstance(widget.parent(), QTabBar):
                continue  # Qt's own: a dock's float and close buttons, a tab bar's scroll arrows
            if not widget.toolTip() and type(widget).__name__ not in ("QDockWidgetTitleButton", "QToolBarExtension"):
                missing.append(f"{type(widget).__name__} {widget.objectName() or getattr(widget, 'text', lambda: '')()}")
    for action in _actions(window):
        if not action.toolTip() or action.toolTip() == action.text().replace("&", ""):
            missing.append(f"action {action.text()}")
    assert missing == [], missing


def test_every_shortcut_in_the_help_sheet_works_from_the_viewport(window, qtbot, test_keyring):
    from PySide6.QtGui import QKeySequence

    from dstudio_desktop.ui.shortcuts import keys_of, shortcut_actions, shortcut_rows

    rows = shortcut_actions(window)
    assert len(rows) >= 25 and len(shortcut_rows(window)) == len(rows), rows
    person = Dialogs(answer_as_a_person)
    canvas = window.viewport.canvas.native
    pressed = []
    try:
        for where, action in rows:
            text, keys = action.text().replace("&", ""), keys_of(action)
            if text == "Quit":
                continue
            sample_id = window.project.id
            _context(window, qtbot)
            fired = []
            action.triggered.connect(lambda *_, fired=fired: fired.append(True))
            before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
            sequence = QKeySequence(keys.split(", ")[0], QKeySequence.NativeText)
            combo = sequence[0]
            if action.objectName() == "tool_cancel":  # Esc has something to cancel: a measurement begun
                w, h = canvas.width(), canvas.height()
                window.tools.measure_at(w / 2, h / 2)
                assert action.isEnabled()
            index = window.editor.stack.index()
            press(qtbot, canvas, combo.key(), combo.keyboardModifiers())
            qtbot.wait(30)
            _close_new_windows(window, before)
            _settle(window, index, text)
            assert fired, f"{where} › {text} ({keys}) did nothing with focus in the viewport (after {pressed})"
            pressed.append(text)
            if action.isCheckable() and action.isChecked() and action.actionGroup() is None:
                action.trigger()
            if window.project.id != sample_id:
                window.open_project(sample_id)
    finally:
        person.stop()
    errors = [text for icon, text in person.messages if icon in ("Warning", "Critical")]
    assert errors == [], errors


def test_a_version_thumbnail_shows_the_design_not_the_tools(window, qtbot):
    """The Move gizmo on a selected part is on screen; the version's thumbnail is made without it."""
    import numpy as np

    base = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Base")
    window.tools.set_mode("move")
    window.set_selection([base.id])
    qtbot.wait(50)
    assert window.tools.gizmo.root.visible
    with_gizmo = window.viewport.render()
    picture = window.picture()
    assert window.tools.gizmo.root.visible  # back on screen afterwards

    def green(image) -> int:  # the Y handle's colour: nothing of the lamp is green
        rgb = image[..., :3].astype(int)
        return int(np.count_nonzero((rgb[..., 1] > 150) & (rgb[..., 1] > rgb[..., 0] + 50) & (rgb[..., 1] > rgb[..., 2] + 80)))

    assert green(with_gizmo) > 50 and green(picture) == 0
