"""Lighting: presets (each a whole look: lights, environment, exposure), ambient light, and each
light's type, colour (sRGB in the panel, linear in the model), intensity, direction or position."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
)

from ..core import Light
from ..core.commands import Macro, ReplaceDocument
from ..core.lighting import DEFAULT_PRESET, apply_preset, builtin_presets, preset_named
from .material_dock import ColourField
from .panel import Panel

PRESET_ORDER = ("studio", "three-point", "outdoor", "soft", "product")
CUSTOM = "custom"


def _vector_row(lo: float, hi: float, step: float, on_commit, what: str = "") -> tuple[QHBoxLayout, list[QDoubleSpinBox]]:
    row, spins = QHBoxLayout(), []
    for axis in "xyz":
        spin = QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=3)
        spin.setToolTip(f"{what} {axis}".strip())
        spin.editingFinished.connect(on_commit)
        row.addWidget(spin)
        spins.append(spin)
    return row, spins


class LightingDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Lighting", "lighting_dock", window)
        self.toggleViewAction().setToolTip("Show or hide the Lighting panel")
        layout = self.body_layout
        row = QHBoxLayout()
        self.presets = QComboBox()
        looks = builtin_presets()
        names = [n for n in PRESET_ORDER if n in looks] + sorted(set(looks) - set(PRESET_ORDER))
        for name in names:
            self.presets.addItem(name, name)
            self.presets.setItemData(self.presets.count() - 1, looks[name].description, 3)  # tooltip role
        self.presets.addItem("custom (edited)", CUSTOM)
        self.presets.setToolTip("Looks: each pairs lights with an environment and an exposure")
        apply = QPushButton("Apply preset")
        apply.setToolTip("Light the scene with this preset (undoable)")
        apply.clicked.connect(lambda: self.apply_preset(self.presets.currentData()))
        row.addWidget(self.presets, 1)
        row.addWidget(apply)
        layout.addLayout(row)
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        layout.addWidget(self.preset_note)
        form = QFormLayout()
        self.ambient = QDoubleSpinBox(minimum=0, maximum=10, singleStep=0.05, decimals=3)
        self.ambient.setToolTip("A uniform light from everywhere, added to the environment's")
        self.ambient.editingFinished.connect(lambda: self._doc_set("ambient_intensity", round(self.ambient.value(), 4)))
        form.addRow("Ambient", self.ambient)
        layout.addLayout(form)
        self.lights = QListWidget()
        self.lights.currentRowChanged.connect(lambda _: self._show_light())
        layout.addWidget(self.lights)
        buttons = QHBoxLayout()
        for text, slot, tip in (("Add light", self.add_light, "Add a directional light"),
                                ("Remove", self.remove_light, "Remove the chosen light")):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        light_form = QFormLayout()
        self.type = QComboBox()
        self.type.addItems(["directional", "point", "spot"])
        self.type.setToolTip("Directional: sun-like; point: a bulb; spot: a cone")
        self.type.activated.connect(lambda _: self._light_set("type", self.type.currentText()))
        self.color = ColourField("Light colour")
        self.color.changed.connect(lambda rgb: self._light_set("color", [round(c, 6) for c in rgb]))
        self.intensity = QDoubleSpinBox(minimum=0, maximum=100000, singleStep=0.1, decimals=3)
        self.intensity.setToolTip("glTF units: lux for a directional light (pi lights a white matte surface "
                                  "to white), candela for point and spot lights")
        self.intensity.editingFinished.connect(lambda: self._light_set("intensity", round(self.intensity.value(), 4)))
        direction_row, self.direction = _vector_row(-1, 1, 0.1, lambda: self._light_vector("direction", self.direction),
                                          "Where the light travels,")
        position_row, self.position = _vector_row(-1e3, 1e3, 0.1, lambda: self._light_vector("position", self.position),
                                         "Where the light is (metres),")
        for label, widget in (("Type", self.type), ("Colour", self.color), ("Intensity", self.intensity)):
            light_form.addRow(label, widget)
        light_form.addRow("Direction", direction_row)
        light_form.addRow("Position (m)", position_row)
        layout.addLayout(light_form)
        layout.addStretch(1)
        window.project_changed.connect(lambda name: self.refresh() if name == "lighting_config" else None)
        self.refresh()

    def _config(self):
        return self.window.project.lighting_config

    def _replace(self, doc: dict[str, Any], label: str) -> None:
        self.window.run(ReplaceDocument("lighting_config", doc, label))

    def apply_preset(self, name: Optional[str]) -> None:
        """The preset's lights, environment, exposure and background, as one undoable step."""
        if not name or name == CUSTOM or self.window.project is None:
            return
        project = self.window.project
        lighting, environment = apply_preset(preset_named(name, project.lighting_config), project.lighting_config,
                                             project.environment_config)
        self.window.run(Macro([ReplaceDocument("lighting_config", lighting.to_json()),
                               ReplaceDocument("environment_config", environment.to_json())],
                              f"Lighting preset {name}"))

    def _doc_set(self, field: str, value: Any) -> None:
        doc = self._config().to_json()
        if doc[field] != value:
            doc[field] = value
            self._replace(doc, f"Change {field.replace('_', ' ')}")

    def _current(self) -> Optional[int]:
        row = self.lights.currentRow()
        return row if 0 <= row < len(self._config().lights) else None

    def _light_set(self, field: str, value: Any) -> None:
        row = self._current()
        if row is None:
            return
        doc = self._config().to_json()
        if doc["lights"][row][field] != value:
            doc["lights"][row][field] = value
            doc["active_preset"] = None
            self._replace(doc, f"Change light {field}")

    def _light_vector(self, field: str, spins: list[QDoubleSpinBox]) -> None:
        vec = [round(s.value(), 6) for s in spins]
        if field == "direction" and np.linalg.norm(vec) < 1e-9:
            self._show_light()
            return
        self._light_set(field, vec)

    def add_light(self) -> None:
        doc = self._config().to_json()
        doc["lights"].append(Light(name=f"Light {len(doc['lights']) + 1}", direction=(-0.4, -0.8, -0.4),
                                   intensity=1.5).to_json())
        doc["active_preset"] = None
        self._replace(doc, "Add light")

    def remove_light(self) -> None:
        row = self._current()
        if row is not None:
            doc = self._config().to_json()
            del doc["lights"][row]
            doc["active_preset"] = None
            self._replace(doc, "Remove light")

    def refresh(self) -> None:
        if self.window.project is None:
            return
        config = self._config()
        row = max(self.lights.currentRow(), 0)
        self.lights.blockSignals(True)
        self.lights.clear()
        for light in config.lights:
            self.lights.addItem(QListWidgetItem(f"{light.name} — {light.type}, {light.intensity:g}"))
        self.lights.setCurrentRow(min(row, len(config.lights) - 1))
        self.lights.blockSignals(False)
        self.ambient.blockSignals(True)
        self.ambient.setValue(config.ambient_intensity)
        self.ambient.blockSignals(False)
        index = self.presets.findData(config.active_preset or CUSTOM)
        self.presets.setCurrentIndex(index if index >= 0 else self.presets.findData(CUSTOM))
        look = builtin_presets().get(config.active_preset or "")
        if look is not None:
            self.preset_note.setText(look.description)
        else:
            self.preset_note.setText("Edited lights: apply a preset to start again from one "
                                     f"(a new project starts from {DEFAULT_PRESET}).")
        self._show_light()

    def _show_light(self) -> None:
        row = self._current()
        widgets = [self.type, self.color, self.intensity, *self.direction, *self.position]
        for w in widgets:
            w.setEnabled(row is not None)
        if row is None:
            return
        light = self._config().lights[row]
        for w in widgets:
            w.blockSignals(True)
        self.type.setCurrentText(light.type)
        self.intensity.setValue(light.intensity)
        for spins, vec in ((self.direction, light.direction), (self.position, light.position)):
            for spin, v in zip(spins, vec, strict=True):
                spin.setValue(v)
        for w in widgets:
            w.blockSignals(False)
        self.color.set_value(light.color)
        for spin in self.direction:
            spin.setEnabled(light.type != "point")
        for spin in self.position:
            spin.setEnabled(light.type != "directional")
