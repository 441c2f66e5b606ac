"""Properties: the selected node's transform as numbers, and facts about its geometry."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel

from ..core import Node, Transform
from ..core.commands import SetNodeField
from ..core.transform import matrix_to_quat, quat_to_matrix
from .panel import Panel


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
        for key, label, lo, hi, step in (("translation", "Position (m)", -1e4, 1e4, 0.01),
                                         ("rotation", "Rotation (°)", -360, 360, 5),
                                         ("scale", "Scale", -1e4, 1e4, 0.1)):
            row = QHBoxLayout()
            spins = []
            for _ in range(3):
                spin = QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=4)
                spin.editingFinished.connect(self._commit)
                row.addWidget(spin)
                spins.append(spin)
            self.fields[key] = spins
            form.addRow(label, row)
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
        values = {"translation": t.translation, "rotation": euler_xyz_deg(t.rotation), "scale": t.scale}
        for key, spins in self.fields.items():
            for spin, value in zip(spins, values[key], strict=True):
                spin.blockSignals(True)
                spin.setValue(value)
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
        return (f"{mesh.triangle_count:,} triangles, {mesh.vertex_count:,} vertices<br>"
                f"size {' × '.join(f'{v * 1000:.1f}' for v in size)} mm")

    def _commit(self) -> None:
        if self.node is None:
            return
        values = {key: tuple(round(s.value(), 6) for s in spins) for key, spins in self.fields.items()}
        if values["rotation"] == tuple(round(a, 6) for a in euler_xyz_deg(self.node.transform.rotation)):
            rotation = self.node.transform.rotation  # unchanged: keep the exact quaternion
        else:
            rotation = quat_from_euler_xyz_deg(values["rotation"])
        new = Transform(translation=values["translation"], rotation=rotation, scale=values["scale"])
        if new != self.node.transform:
            self.window.run(SetNodeField(self.node.id, "transform", new))
