"""Environment: background (solid or gradient), ground grid, exposure and tone mapping."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
)

from ..core.commands import ReplaceDocument
from .panel import Panel


class EnvironmentDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Environment", "environment_dock", window, QFormLayout)
        form = self.body_layout
        self.mode = QComboBox()
        self.mode.addItems(["gradient", "solid"])
        self.mode.activated.connect(lambda _: self._set(("background", "mode"), self.mode.currentText()))
        self.colours: dict[str, QPushButton] = {}
        self.grid = QCheckBox("Show ground grid")
        self.grid.toggled.connect(lambda on: self._set(("grid", "visible"), on))
        self.spacing = QDoubleSpinBox(minimum=0.001, maximum=100, singleStep=0.01, decimals=3, suffix=" m")
        self.spacing.editingFinished.connect(lambda: self._set(("grid", "spacing"), round(self.spacing.value(), 4)))
        self.exposure = QDoubleSpinBox(minimum=-10, maximum=10, singleStep=0.25, decimals=2, suffix=" EV")
        self.exposure.editingFinished.connect(lambda: self._set(("exposure",), round(self.exposure.value(), 3)))
        self.tone = QComboBox()
        self.tone.addItems(["aces", "reinhard", "linear"])
        self.tone.activated.connect(lambda _: self._set(("tone_mapping",), self.tone.currentText()))
        form.addRow("Background", self.mode)
        for key, label in (("top_color", "Top colour"), ("bottom_color", "Bottom colour"), ("color", "Solid colour")):
            button = QPushButton()
            button.clicked.connect(lambda _=False, k=key: self._pick(k))
            self.colours[key] = button
            form.addRow(label, button)
        form.addRow("", self.grid)
        form.addRow("Grid spacing", self.spacing)
        form.addRow("Exposure", self.exposure)
        form.addRow("Tone mapping", self.tone)
        window.project_changed.connect(lambda name: self.refresh() if name == "environment_config" else None)
        self.refresh()

    def _set(self, path: tuple[str, ...], value: Any) -> None:
        doc = self.window.project.environment_config.to_json()
        target = doc
        for key in path[:-1]:
            target = target[key]
        if target[path[-1]] != value:
            target[path[-1]] = value
            self.window.run(ReplaceDocument("environment_config", doc, f"Change {path[-1].replace('_', ' ')}"))

    def _pick(self, key: str) -> None:
        current = getattr(self.window.project.environment_config.background, key)
        colour = QColorDialog.getColor(QColor.fromRgbF(*current), self, "Background colour")
        if colour.isValid():
            self._set(("background", key), [round(colour.redF(), 4), round(colour.greenF(), 4), round(colour.blueF(), 4)])

    def refresh(self) -> None:
        if self.window.project is None:
            return
        env = self.window.project.environment_config
        widgets = [self.mode, self.grid, self.spacing, self.exposure, self.tone]
        for w in widgets:
            w.blockSignals(True)
        self.mode.setCurrentText(env.background.mode if env.background.mode != "image" else "solid")
        self.grid.setChecked(env.grid.visible)
        self.spacing.setValue(env.grid.spacing)
        self.exposure.setValue(env.exposure)
        self.tone.setCurrentText(env.tone_mapping)
        for w in widgets:
            w.blockSignals(False)
        for key, button in self.colours.items():
            button.setStyleSheet(f"background-color: {QColor.fromRgbF(*getattr(env.background, key)).name()}")
