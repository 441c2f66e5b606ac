"""The material editor: the selected part's PBR material, and a small library to assign from."""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
)

from ..core import Material
from ..core.commands import AddMaterial, Macro, SetMaterialField, SetNodeField
from ..core.materials import material_library
from .panel import Panel


def _qcolor(rgb) -> QColor:
    return QColor.fromRgbF(*[min(max(c, 0.0), 1.0) for c in rgb[:3]])


class MaterialDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Material", "material_dock", window)
        self.material: Optional[Material] = None
        layout = self.body_layout
        self.title = QLabel("Select a part to edit its material.")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        form = QFormLayout()
        self.base_color = QPushButton()
        self.base_color.clicked.connect(lambda: self._pick_colour("base_color_factor"))
        self.opacity = self._spin(0.0, 1.0, 0.05)
        self.opacity.editingFinished.connect(self._opacity)
        self.metallic = self._spin(0.0, 1.0, 0.05)
        self.metallic.editingFinished.connect(lambda: self._set("metallic_factor", round(self.metallic.value(), 4)))
        self.roughness = self._spin(0.0, 1.0, 0.05)
        self.roughness.editingFinished.connect(lambda: self._set("roughness_factor", round(self.roughness.value(), 4)))
        self.emissive = QPushButton()
        self.emissive.clicked.connect(lambda: self._pick_colour("emissive_factor"))
        self.double_sided = QCheckBox("Double-sided")
        self.double_sided.toggled.connect(lambda on: self._set("double_sided", on))
        for label, widget in (("Base colour", self.base_color), ("Opacity", self.opacity), ("Metallic", self.metallic),
                              ("Roughness", self.roughness), ("Emissive", self.emissive), ("", self.double_sided)):
            form.addRow(label, widget)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.library = QComboBox()
        for mat in material_library():
            self.library.addItem(mat.name, mat.to_json())
        assign = QPushButton("Assign to selection")
        assign.clicked.connect(self.assign_from_library)
        row.addWidget(self.library, 1)
        row.addWidget(assign)
        layout.addWidget(QLabel("Library"))
        layout.addLayout(row)
        layout.addStretch(1)
        window.selection_changed.connect(self._changed)
        window.editor.stack.indexChanged.connect(self._changed)  # after every edit, undo and redo
        window.project_changed.connect(lambda name: self.refresh() if name in ("material_overrides", "scene_graph") else None)
        self.refresh()

    @staticmethod
    def _spin(lo: float, hi: float, step: float) -> QDoubleSpinBox:
        return QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=3)

    def _set(self, field: str, value: Any) -> None:
        if self.material is not None and getattr(self.material, field) != value:
            self.window.run(SetMaterialField(self.material.id, field, value))

    def _opacity(self) -> None:
        if self.material is None:
            return
        alpha = round(self.opacity.value(), 4)
        if alpha == self.material.base_color_factor[3]:
            return
        r, g, b, _ = self.material.base_color_factor
        steps = [SetMaterialField(self.material.id, "base_color_factor", (r, g, b, alpha)),
                 SetMaterialField(self.material.id, "alpha_mode", "BLEND" if alpha < 1 else "OPAQUE")]
        self.window.run(Macro(steps, "Change opacity"))

    def _pick_colour(self, field: str) -> None:
        if self.material is None:
            return
        current = getattr(self.material, field)
        colour = QColorDialog.getColor(_qcolor(current), self, "Choose a colour")
        if colour.isValid():
            self.set_colour(field, (colour.redF(), colour.greenF(), colour.blueF()))

    def set_colour(self, field: str, rgb: tuple[float, float, float]) -> None:
        """Set base or emissive colour (the picker calls this; so can a script or test)."""
        if self.material is None:
            return
        value = (*rgb, self.material.base_color_factor[3]) if field == "base_color_factor" else tuple(rgb)
        self._set(field, tuple(round(c, 6) for c in value))

    def assign_from_library(self) -> None:
        nodes = [n for n in self.window.selected_nodes() if n.kind == "mesh"]
        if not nodes:
            self.window.statusBar().showMessage("Select the parts to assign the material to", 5000)
            return
        new = Material.model_validate({**self.library.currentData(), "id": Material(name="x").id})
        steps = [AddMaterial(new.to_json())] + [SetNodeField(n.id, "material_id", new.id) for n in nodes]
        self.window.run(Macro(steps, f"Assign {new.name}"))

    def _changed(self, *_) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self.material is not None:
            self.material.events.all.disconnect(self.refresh)
        nodes = [n for n in self.window.selected_nodes() if n.material_id] if self.window.project else []
        project = self.window.project
        self.material = project.material_overrides.get(nodes[0].material_id) if nodes else None
        enabled = self.material is not None
        for w in (self.base_color, self.opacity, self.metallic, self.roughness, self.emissive, self.double_sided):
            w.setEnabled(enabled)
        if not enabled:
            self.title.setText("Select a part to edit its material.")
            return
        self.material.events.all.connect(self.refresh)
        m = self.material
        self.title.setText(f"<b>{m.name}</b>" + (f" — on {nodes[0].name}" if nodes else ""))
        for widget, value in ((self.opacity, m.base_color_factor[3]), (self.metallic, m.metallic_factor),
                              (self.roughness, m.roughness_factor)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.double_sided.blockSignals(True)
        self.double_sided.setChecked(m.double_sided)
        self.double_sided.blockSignals(False)
        for button, rgb in ((self.base_color, m.base_color_factor), (self.emissive, m.emissive_factor)):
            button.setText(" ".join(f"{c:.2f}" for c in rgb[:3]))
            button.setStyleSheet(f"background-color: {_qcolor(rgb).name()}; color: "
                                 f"{'black' if sum(rgb[:3]) > 1.4 else 'white'}")
