"""Properties: the selected node's transform as numbers, and facts about its geometry."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSizePolicy

from ..core import Node, Transform
from ..core.commands import SetNodeField
from ..core.transform import matrix_to_quat, quat_to_matrix
from ..core.units import DECIMALS, format_length, from_display, to_display
from .panel import Panel


class NumberField(QDoubleSpinBox):
    """A number box whose Ctrl+Z undoes the last edit (the window's undo) once its text is
    committed; while a typed value is still pending, Ctrl+Z reverts the typing as usual."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown = ""  # the text as the dock last set it: anything else is uncommitted typing

    def event(self, event) -> bool:
        if event.type() == QEvent.ShortcutOverride and self.text() == self.shown and (
                event.matches(QKeySequence.Undo) or event.matches(QKeySequence.Redo)
                or event.keyCombination().toCombined() == QKeySequence("Ctrl+Y")[0].toCombined()):
            event.ignore()  # not ours: the window's Undo/Redo action takes the key
            return False
        return super().event(event)


def euler_xyz_deg(q) -> tuple[float, float, float]:
    """Rotation as X, then Y, then Z angles in degrees (what people type)."""
    r = quat_to_matrix(q)
    y = math.asin(max(-1.0, min(1.0, r[0, 2])))
    if abs(r[0, 2]) < 0.999999:
        x, z = math.atan2(-r[1, 2], r[2, 2]), math.atan2(-r[0, 1], r[0, 0])
    else:
        x, z = math.atan2(r[2, 1], r[1, 1]), 0.0
    return tuple(math.degrees(a) for a in (x, y, z))


def quat_from_euler_xyz_deg(angles) -> tuple[float, float, float, float]:
    x, y, z = (math.radians(a) for a in angles)
    rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    return matrix_to_quat(rx @ ry @ rz)


class PropertiesDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Properties", "properties_dock", window)
        self.node: Optional[Node] = None
        layout = self.body_layout
        self.title = QLabel("Nothing selected")
        layout.addWidget(self.title)
        form = QFormLayout()
        self.fields: dict[str, list[QDoubleSpinBox]] = {}
        self.labels: dict[str, QLabel] = {}
        for key, label, lo, hi, step in (("translation", "Position", -1e7, 1e7, 1.0),
                                         ("rotation", "Rotation (°)", -360, 360, 5),
                                         ("scale", "Scale", -1e4, 1e4, 0.1)):
            row = QHBoxLayout()
            spins = []
            for axis in "XYZ":
                spin = NumberField(minimum=lo, maximum=hi, singleStep=step, decimals=4)
                # sized by the panel, not by the widest number the range allows (which would make
                # the panel, and every panel beside it, far wider than the values ever are)
                spin.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
                spin.setMinimumWidth(58)
                spin.setToolTip(f"{label} along {axis}" if key != "rotation" else f"Rotation about {axis}, degrees")
                spin.editingFinished.connect(lambda key=key, spin=spin: self._commit(key, spin))
                row.addWidget(spin)
                spins.append(spin)
            self.fields[key] = spins
            self.labels[key] = QLabel(label)
            form.addRow(self.labels[key], row)
        self.uniform = QCheckBox("Uniform scale")
        self.uniform.setChecked(True)
        self.uniform.setToolTip("Change all three scale factors together, keeping the part's proportions")
        form.addRow("", self.uniform)
        layout.addLayout(form)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        layout.addWidget(self.facts)
        layout.addStretch(1)
        window.selection_changed.connect(self._changed)
        window.editor.stack.indexChanged.connect(self._changed)  # bound method: Qt drops it with the dock
        self.refresh()

    def _changed(self, *_) -> None:
        self.refresh()

    def refresh(self) -> None:
        nodes = self.window.selected_nodes() if self.window.project else []
        self.node = nodes[0] if len(nodes) == 1 else None
        for spins in self.fields.values():
            for spin in spins:
                spin.setEnabled(self.node is not None and not self.node.locked)
        if self.node is None:
            self.title.setText("Nothing selected" if not nodes else f"{len(nodes)} nodes selected")
            self.facts.setText("")
            return
        t = self.node.transform
        unit = self.unit()
        self.labels["translation"].setText(f"Position ({unit})")
        for spin in self.fields["translation"]:
            spin.setDecimals(DECIMALS[unit])
        values = {"translation": [to_display(v, unit) for v in t.translation], "rotation": euler_xyz_deg(t.rotation),
                  "scale": t.scale}
        for key, spins in self.fields.items():
            for spin, value in zip(spins, values[key], strict=True):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.shown = spin.text()
                spin.blockSignals(False)
        self.title.setText(f"<b>{self.node.name}</b> ({self.node.kind})" + ("  — locked" if self.node.locked else ""))
        self.facts.setText(self._facts())

    def _facts(self) -> str:
        view = self.window.viewport.scene_view.node_views.get(self.node.id) if self.window.viewport.scene_view else None
        if view is None or not self.node.asset_id:
            return ""
        mesh = view.context.mesh_source(self.node.asset_id)
        world = self.window.project.scene_graph.world_matrix(self.node.id)
        pts = mesh.positions.astype(float) @ world[:3, :3].T + world[:3, 3]
        size = pts.max(axis=0) - pts.min(axis=0)
        unit = self.unit()
        return (f"{mesh.triangle_count:,} triangles, {mesh.vertex_count:,} vertices<br>"
                f"size {' × '.join(format_length(v, unit) for v in size)}")

    def unit(self) -> str:
        project = self.window.project
        return project.canvas_state.display_units if project else "mm"

    def _commit(self, key: str = "", edited: Optional[QDoubleSpinBox] = None) -> None:
        if self.node is None:
            return
        if key == "scale" and edited is not None and self.uniform.isChecked():
            old = self.node.transform.scale[self.fields["scale"].index(edited)]
            if old != 0 and edited.value() != round(old, 4):
                factor = edited.value() / old  # every axis by the same factor: proportions kept
                for spin, value in zip(self.fields["scale"], self.node.transform.scale, strict=True):
                    spin.blockSignals(True)
                    spin.setValue(value * factor)
                    spin.blockSignals(False)
        unit = self.unit()
        t = self.node.transform
        translation = tuple(from_display(s.value(), unit) if s.text() != s.shown else old
                            for s, old in zip(self.fields["translation"], t.translation, strict=True))
        scale = tuple(s.value() if s.text() != s.shown else old
                      for s, old in zip(self.fields["scale"], t.scale, strict=True))
        angles = tuple(round(s.value(), 6) for s in self.fields["rotation"])
        if angles == tuple(round(a, 6) for a in euler_xyz_deg(t.rotation)):
            rotation = t.rotation  # unchanged: keep the exact quaternion
        else:
            rotation = quat_from_euler_xyz_deg(angles)
        new = Transform(translation=translation, rotation=rotation, scale=scale)
        if new != self.node.transform:
            self.window.run(SetNodeField(self.node.id, "transform", new))
