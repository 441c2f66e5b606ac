"""Environment: the light of the surroundings (a built-in studio or your own .hdr/.exr), the
background (gradient, solid, a picture, or the environment itself), ground grid, shadow catcher,
exposure in EV and tone mapping. Colours are shown and typed in sRGB, stored linear."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from ..core.commands import ReplaceDocument
from ..core.environment import BUILTIN_ENVIRONMENTS, TONE_MAPPING_NAMES, TONE_MAPPINGS
from ..errors import DStudioError
from .material_dock import ColourField
from .panel import Panel

HDR_FILTER = "HDR environments (*.hdr *.exr)"
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
OWN = "own"


class EnvironmentDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Environment", "environment_dock", window, QFormLayout)
        self.toggleViewAction().setToolTip("Show or hide the Environment panel")
        form = self.body_layout
        self.light_on = QCheckBox("Light the scene with the environment")
        self.light_on.setToolTip("The environment lights and reflects in the parts (image-based light)")
        self.light_on.toggled.connect(lambda on: self._set(("lighting", "enabled"), on))
        self.source = QComboBox()
        self.source.setToolTip("A built-in studio, or your own HDR image")
        for name in BUILTIN_ENVIRONMENTS:
            self.source.addItem(name, name)
        self.source.addItem("your own image", OWN)
        self.source.activated.connect(lambda _: self._source_chosen())
        self.load = QPushButton("Load HDR…")
        self.load.setToolTip("Light the scene with an .hdr or .exr of your own")
        self.load.clicked.connect(self.load_dialog)
        source_row = QWidget()
        row = QHBoxLayout(source_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.source, 1)
        row.addWidget(self.load)
        self.source_name = QLabel()
        self.env_intensity = QDoubleSpinBox(minimum=0, maximum=100, singleStep=0.1, decimals=3)
        self.env_intensity.setToolTip("How strongly the environment lights the scene")
        self.env_intensity.editingFinished.connect(
            lambda: self._set(("lighting", "intensity"), round(self.env_intensity.value(), 4)))
        self.rotation = QDoubleSpinBox(minimum=-360, maximum=360, singleStep=15, decimals=1, suffix="°")
        self.rotation.setToolTip("Turn the environment about the up axis")
        self.rotation.editingFinished.connect(lambda: self._set(("lighting", "rotation"), round(self.rotation.value(), 3)))
        self.mode = QComboBox()
        self.mode.setToolTip("What is seen behind the model (the environment lights it either way)")
        self.mode.addItems(["gradient", "solid", "image", "environment"])
        self.mode.activated.connect(lambda _: self._mode_chosen())
        self.picture = QPushButton("Choose picture…")
        self.picture.setToolTip("Show a picture of your own behind the model (a backdrop; it does not light)")
        self.picture.clicked.connect(self.picture_dialog)
        mode_row = QWidget()
        row = QHBoxLayout(mode_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode, 1)
        row.addWidget(self.picture)
        self.blur = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, decimals=2)
        self.blur.setToolTip("How soft the environment looks behind the model (it lights the same)")
        self.blur.editingFinished.connect(lambda: self._set(("background", "blur"), round(self.blur.value(), 3)))
        self.colours: dict[str, ColourField] = {}
        self.grid = QCheckBox("Show ground grid")
        self.grid.setToolTip("Show the ground grid")
        self.grid.toggled.connect(lambda on: self._set(("grid", "visible"), on))
        self.spacing = QDoubleSpinBox(minimum=0.001, maximum=100, singleStep=0.01, decimals=3, suffix=" m")
        self.spacing.setToolTip("Distance between grid lines")
        self.spacing.editingFinished.connect(lambda: self._set(("grid", "spacing"), round(self.spacing.value(), 4)))
        self.shadows = QCheckBox("Shadows on the ground (key light)")
        self.shadows.setToolTip("Off draws faster")
        self.shadows.toggled.connect(lambda on: self._set(("shadow_catcher", "enabled"), on))
        self.shadow_opacity = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, decimals=2)
        self.shadow_opacity.setToolTip("How dark the shadows on the ground are")
        self.shadow_opacity.editingFinished.connect(
            lambda: self._set(("shadow_catcher", "opacity"), round(self.shadow_opacity.value(), 3)))
        self.softness = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, decimals=2)
        self.softness.setToolTip("0 a sharp edge, 1 the softest penumbra")
        self.softness.editingFinished.connect(
            lambda: self._set(("shadow_catcher", "softness"), round(self.softness.value(), 3)))
        self.exposure = QDoubleSpinBox(minimum=-10, maximum=10, singleStep=0.25, decimals=2, suffix=" EV")
        self.exposure.setToolTip("Camera exposure in stops: +1 EV is twice as bright")
        self.exposure.editingFinished.connect(lambda: self._set(("exposure",), round(self.exposure.value(), 3)))
        self.tone = QComboBox()
        self.tone.setToolTip("How light is mapped to the screen: PBR Neutral keeps product colours")
        for key in TONE_MAPPINGS:
            self.tone.addItem(TONE_MAPPING_NAMES[key], key)
        self.tone.activated.connect(lambda _: self._set(("tone_mapping",), self.tone.currentData()))
        form.addRow("", self.light_on)
        form.addRow("Environment", source_row)
        form.addRow("", self.source_name)
        form.addRow("Intensity", self.env_intensity)
        form.addRow("Rotation", self.rotation)
        form.addRow("Background", mode_row)
        form.addRow("Background blur", self.blur)
        for key, label in (("top_color", "Top colour"), ("bottom_color", "Bottom colour"), ("color", "Solid colour")):
            field = ColourField("Background colour")
            field.changed.connect(lambda rgb, k=key: self._set(("background", k), [round(c, 6) for c in rgb]))
            self.colours[key] = field
            form.addRow(label, field)
        form.addRow("", self.grid)
        form.addRow("Grid spacing", self.spacing)
        form.addRow("", self.shadows)
        form.addRow("Shadow opacity", self.shadow_opacity)
        form.addRow("Shadow softness", self.softness)
        form.addRow("Exposure", self.exposure)
        form.addRow("Tone mapping", self.tone)
        window.project_changed.connect(lambda name: self.refresh() if name == "environment_config" else None)
        self.refresh()

    def _doc(self) -> dict:
        return self.window.project.environment_config.to_json()

    def _set(self, path: tuple[str, ...], value: Any) -> None:
        self._set_many([(path, value)], f"Change {path[-1].replace('_', ' ')}")

    def _set_many(self, changes: list[tuple[tuple[str, ...], Any]], label: str) -> None:
        if self.window.project is None:
            return
        doc = self._doc()
        changed = False
        for path, value in changes:
            target = doc
            for key in path[:-1]:
                target = target[key]
            if target[path[-1]] != value:
                target[path[-1]] = value
                changed = True
        if changed:
            self.window.run(ReplaceDocument("environment_config", doc, label))

    def _source_chosen(self) -> None:
        choice = self.source.currentData()
        if choice == OWN:
            if self.window.project.environment_config.lighting.asset_id is None:
                self.load_dialog()
            return
        self._set_many([(("lighting", "builtin"), choice), (("lighting", "asset_id"), None),
                        (("lighting", "enabled"), True)], f"Environment {choice}")

    def _mode_chosen(self) -> None:
        mode = self.mode.currentText()
        if mode == "image" and self.window.project.environment_config.background.image_asset_id is None:
            self.picture_dialog()
            return
        self._set(("background", "mode"), mode)

    def picture_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a background picture", "", PICTURE_FILTER)
        if path:
            self.load_picture(path)
        else:
            self.refresh()

    def load_picture(self, path: str) -> None:
        """Store a picture as an asset of the project and show it behind the model (undoable)."""
        from ..services.images import add_image

        try:
            asset = add_image(self.window.ws, self.window.project.id, path)
        except DStudioError as err:
            self.window.show_error(str(err))
            self.refresh()
            return
        self._set_many([(("background", "image_asset_id"), asset.id), (("background", "mode"), "image")],
                       f"Background {asset.name}")

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an HDR environment", "", HDR_FILTER)
        if path:
            self.load_environment(path)
        else:
            self.refresh()

    def load_environment(self, path: str) -> None:
        """Store an .hdr/.exr as an asset of the project and light the scene with it (undoable)."""
        from ..services.images import add_image

        try:
            asset = add_image(self.window.ws, self.window.project.id, path, hdr=True)
        except DStudioError as err:
            self.window.show_error(str(err))
            self.refresh()
            return
        self._set_many([(("lighting", "asset_id"), asset.id), (("lighting", "enabled"), True)],
                       f"Environment {asset.name}")

    def refresh(self) -> None:
        if self.window.project is None:
            return
        env = self.window.project.environment_config
        widgets = [self.mode, self.grid, self.spacing, self.exposure, self.tone, self.light_on, self.source,
                   self.env_intensity, self.rotation, self.blur, self.shadows, self.shadow_opacity, self.softness]
        for w in widgets:
            w.blockSignals(True)
        light = env.lighting
        self.light_on.setChecked(light.enabled)
        self.source.setCurrentIndex(self.source.findData(OWN if light.asset_id else light.builtin))
        name = ""
        if light.asset_id:
            try:
                name = self.window.ws.get_asset(light.asset_id).name
            except DStudioError:
                name = "(missing image: the built-in one lights instead)"
        self.source_name.setText(name)
        self.env_intensity.setValue(light.intensity)
        self.rotation.setValue(light.rotation)
        self.mode.setCurrentText(env.background.mode)
        self.blur.setValue(env.background.blur)
        self.grid.setChecked(env.grid.visible)
        self.spacing.setValue(env.grid.spacing)
        self.shadows.setChecked(env.shadow_catcher.enabled)
        self.shadow_opacity.setValue(env.shadow_catcher.opacity)
        self.softness.setValue(env.shadow_catcher.softness)
        self.exposure.setValue(env.exposure)
        self.tone.setCurrentIndex(self.tone.findData(env.tone_mapping))
        for w in widgets:
            w.blockSignals(False)
        for key, field in self.colours.items():
            field.set_value(getattr(env.background, key))
