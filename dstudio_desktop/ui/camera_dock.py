"""Camera presets: save the current view, rename, delete, set the default, fly to one."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEasingCurve, Qt, QVariantAnimation
from PySide6.QtWidgets import (
    QGridLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QPushButton,
)

from ..core import CameraPreset, CameraView
from ..core.commands import ReplaceDocument
from .panel import Panel

TRANSITION_MS = 400


def blend(a: CameraView, b: CameraView, t: float) -> CameraView:
    """A view between a and b (t in 0..1) for the fly-to animation; exactly b at t = 1."""
    if t >= 1.0:
        return b
    lerp = lambda x, y: tuple(np.add(x, np.multiply(np.subtract(y, x), t)))  # noqa: E731
    up = np.add(a.up, np.multiply(np.subtract(b.up, a.up), t))
    if np.linalg.norm(up) < 1e-6:
        up = b.up
    fields = {"eye": lerp(a.eye, b.eye), "target": lerp(a.target, b.target), "up": tuple(up),
              "fov": a.fov + (b.fov - a.fov) * t, "projection": b.projection if t > 0.5 else a.projection,
              "near": min(a.near, b.near), "far": max(a.far, b.far)}
    if b.projection == "orthographic" or a.projection == "orthographic":
        fields["ortho_height"] = (b.ortho_height or a.ortho_height)
    try:
        return CameraView(**fields)
    except ValueError:
        return b


class CameraDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Cameras", "camera_dock", window)
        layout = self.body_layout
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda item: self.apply(item.data(Qt.UserRole)))
        layout.addWidget(self.list)
        row = QGridLayout()  # two by two: the panel stays narrow
        for i, (text, slot, tip) in enumerate( (("Save view", self.save_view, "Save the current view as a named camera"),
                                ("Rename", self.rename, "Rename the chosen camera"),
                                ("Delete", self.delete, "Delete the chosen camera"),
                                ("Default", self.make_default, "Open the project with the chosen camera"))):
            button = QPushButton(text)
            button.setToolTip(tip)
            # clicked carries a checked flag: it must not arrive as the slot's first argument
            button.clicked.connect(lambda _=False, slot=slot: slot())
            row.addWidget(button, i // 2, i % 2)
        self.list.setToolTip("Saved cameras: double-click one to fly to it")
        layout.addLayout(row)
        self.animation = QVariantAnimation(self)
        self.animation.setDuration(TRANSITION_MS)
        self.animation.setEasingCurve(QEasingCurve.InOutCubic)
        self._from = self._to = None
        self.animation.valueChanged.connect(self._step)
        window.project_changed.connect(lambda name: self.refresh() if name == "camera_presets" else None)
        self.refresh()

    def _presets(self):
        return self.window.project.camera_presets

    def refresh(self) -> None:
        self.list.clear()
        if self.window.project is None:
            return
        doc = self._presets()
        for preset in doc.presets:
            item = QListWidgetItem(preset.name + ("  ★ default" if preset.id == doc.default_id else ""))
            item.setData(Qt.UserRole, preset.id)
            self.list.addItem(item)

    def _current_id(self):
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item else None

    def _replace(self, presets: list, default_id, label: str) -> bool:
        doc = self._presets().to_json()
        doc["presets"] = [p.to_json() if hasattr(p, "to_json") else p for p in presets]
        doc["default_id"] = default_id
        return self.window.run(ReplaceDocument("camera_presets", doc, label))

    def save_view(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save view", "Name:", text=f"View {len(self._presets().presets) + 1}")
            if not ok or not name.strip():
                return
        preset = CameraPreset(name=name.strip(), **self.window.viewport.camera.view.model_dump())
        self._replace([*self._presets().presets, preset], self._presets().default_id, f"Save view {preset.name}")

    def rename(self) -> None:
        preset = self._presets().get(self._current_id() or "")
        if preset is None:
            return
        name, ok = QInputDialog.getText(self, "Rename view", "Name:", text=preset.name)
        if ok and name.strip():
            presets = [p.model_copy(update={"name": name.strip()}) if p.id == preset.id else p
                       for p in self._presets().presets]
            self._replace(presets, self._presets().default_id, "Rename view")

    def delete(self) -> None:
        current = self._current_id()
        if current is None:
            return
        doc = self._presets()
        self._replace([p for p in doc.presets if p.id != current], None if doc.default_id == current else doc.default_id,
                      "Delete view")

    def make_default(self) -> None:
        current = self._current_id()
        if current is not None:
            self._replace(list(self._presets().presets), current, "Set default view")

    def apply(self, key: str, animate: bool = True) -> None:
        preset = self._presets().get(key)
        if preset is None:
            return
        self.fly_to(preset.view(), animate)

    def fly_to(self, target: CameraView, animate: bool = True) -> None:
        """Move the camera to ``target``, smoothly unless ``animate`` is off; it ends exactly there."""
        if not animate:
            self.animation.stop()
            self.window.apply_camera(target)
            return
        self._from, self._to = self.window.viewport.camera.view, target
        self.animation.stop()
        self.animation.setStartValue(0.0)
        self.animation.setEndValue(1.0)
        self.animation.start()

    def _step(self, t: float) -> None:
        if self._from is not None and self._to is not None:
            self.window.apply_camera(blend(self._from, self._to, float(t)))
