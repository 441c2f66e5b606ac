"""The first-run card: the first time the app starts, a short "what to do first" over the
viewport's corner (the sample project is open behind it). "Got it" hides it for good (QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

SETTING = "first_run/done"
TEXT = ("<b>Welcome to Design Studio</b><br>"
        "This is the sample desk lamp. What to do first:<ol style='margin-left:-20px'>"
        "<li>Drag to orbit, wheel to zoom, click a part to select it</li>"
        "<li>Move it with <b>W</b>, rotate with <b>E</b>; <b>Ctrl+Z</b> undoes</li>"
        "<li>Start your own: drop a model file here (glTF, OBJ, STL, PLY, OFF, 3MF) "
        "or File → New Project</li>"
        "<li>Save a version from the Versions panel; <b>F1</b> lists every key</li></ol>")


class FirstRunHint(QFrame):
    """The card, a child of the viewport's widget, in its top-left corner."""

    def __init__(self, viewport_widget: QWidget) -> None:
        super().__init__(viewport_widget)
        self.setObjectName("first_run_hint")
        self.setStyleSheet("#first_run_hint { background: rgba(20, 20, 24, 215); border-radius: 8px; }"
                           "QLabel { color: #e8e8ec; } QPushButton { padding: 4px 14px; }")
        text = QLabel(TEXT)
        text.setWordWrap(True)
        self.done = QPushButton("Got it")
        self.done.setToolTip("Hide this and do not show it again")
        self.done.clicked.connect(self.dismiss)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(text)
        layout.addWidget(self.done)
        self.setFixedWidth(360)
        self.adjustSize()
        self.move(16, 56)  # below the mode badge in the viewport's corner

    def dismiss(self) -> None:
        QSettings().setValue(SETTING, True)
        self.hide()
        self.deleteLater()


def show_first_run_hint(viewport_widget: QWidget) -> FirstRunHint | None:
    """The card, shown, unless it was dismissed before."""
    if QSettings().value(SETTING, False, type=bool):
        return None
    hint = FirstRunHint(viewport_widget)
    hint.show()
    hint.raise_()
    return hint
