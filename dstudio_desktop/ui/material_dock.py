"""The material editor: the project's materials with swatches, the selected part's material
(PBR factors, alpha, texture maps with thumbnails), and a library to assign from.

Colours are shown and typed as sRGB (the swatch, the picker, the hex field) and stored linear,
through ``core.color``; ``ColourField`` is the one colour widget every panel uses.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from ..core import Material
from ..core.color import ColorError, hex_to_linear, linear_to_hex, luminance, srgb8, srgb_to_linear
from ..core.commands import AddMaterial, Macro, SetMaterialField, SetNodeField
from ..core.materials import material_library
from ..core.schema import new_id
from ..errors import DStudioError
from .panel import Panel

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tga *.tif *.tiff)"
SLOTS = (("base_color_texture", "Base colour"), ("metallic_roughness_texture", "Metal / rough"),
         ("normal_texture", "Normal"), ("occlusion_texture", "Occlusion"), ("emissive_texture", "Emissive"))
THUMB = 44


def qcolor(linear) -> QColor:
    """The sRGB QColor a person sees for a linear model colour."""
    r, g, b = srgb8(linear)
    return QColor(r, g, b)


def from_qcolor(colour: QColor) -> tuple[float, float, float]:
    """The linear model colour of what a person picked (the picker works in sRGB)."""
    return srgb_to_linear((colour.redF(), colour.greenF(), colour.blueF()))


def swatch_icon(linear, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(qcolor(linear))
    return QIcon(pixmap)


class ColourField(QWidget):
    """A swatch that opens the colour picker and an sRGB hex field, for a linear colour.
    ``changed`` carries the new linear colour when the person picks or types one."""

    changed = Signal(tuple)

    def __init__(self, title: str = "Choose a colour", parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._title = title
        self._value: tuple[float, float, float] = (1.0, 1.0, 1.0)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton()
        self.button.setMinimumWidth(48)
        self.button.setToolTip(f"{title}: pick it (shown and picked as sRGB, kept linear)")
        self.button.clicked.connect(self.open_dialog)
        self.hex = QLineEdit()
        self.hex.setMaxLength(9)
        self.hex.setFixedWidth(80)
        self.hex.setToolTip("sRGB, as #rrggbb")
        self.hex.editingFinished.connect(self._typed)
        row.addWidget(self.button, 1)
        row.addWidget(self.hex)
        self.dialog: Optional[QColorDialog] = None

    def value(self) -> tuple[float, float, float]:
        return self._value

    def set_value(self, linear) -> None:
        """Show a linear colour (no signal)."""
        self._value = tuple(float(c) for c in tuple(linear)[:3])
        text = linear_to_hex(self._value)
        self.hex.blockSignals(True)
        self.hex.setText(text)
        self.hex.setStyleSheet("")
        self.hex.blockSignals(False)
        ink = "black" if luminance(self._value) > 0.18 else "white"
        self.button.setText(text)
        self.button.setStyleSheet(f"background-color: {text}; color: {ink}")

    def open_dialog(self) -> None:
        """The picker, on the shown colour (non-blocking: a test sets and accepts it)."""
        if self.dialog is None:
            self.dialog = QColorDialog(self)
            self.dialog.setWindowTitle(self._title)
            self.dialog.colorSelected.connect(self._picked)
        self.dialog.setCurrentColor(qcolor(self._value))
        self.dialog.open()

    def _picked(self, colour: QColor) -> None:
        if colour.isValid():
            self._emit(from_qcolor(colour))

    def _typed(self) -> None:
        try:
            linear = hex_to_linear(self.hex.text())
        except ColorError as err:
            self.hex.setStyleSheet("color: #c0392b")
            self.hex.setToolTip(str(err))
            return
        self._emit(linear)

    def _emit(self, linear) -> None:
        linear = tuple(round(float(c), 6) for c in linear)
        self.set_value(linear)
        self.changed.emit(linear)


class MaterialDock(Panel):
    def __init__(self, window) -> None:
        super().__init__("Material", "material_dock", window)
        self.toggleViewAction().setToolTip("Show or hide the Material panel")
        self.material: Optional[Material] = None
        self._parts: list = []
        layout = self.body_layout
        self.title = QLabel("Select a part to edit its material.")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        shared = QHBoxLayout()
        self.shared_label = QLabel()
        self.shared_label.setWordWrap(True)
        self.make_unique_button = QPushButton("Make unique")
        self.make_unique_button.setToolTip("Give the selected parts their own copy of this material")
        self.make_unique_button.clicked.connect(self.make_unique)
        shared.addWidget(self.shared_label, 1)
        shared.addWidget(self.make_unique_button)
        layout.addLayout(shared)

        layout.addWidget(QLabel("Project materials"))
        self.materials = QListWidget()
        self.materials.setIconSize(QSize(16, 16))
        self.materials.setMaximumHeight(120)
        self.materials.currentRowChanged.connect(self._list_row)
        layout.addWidget(self.materials)
        buttons = QHBoxLayout()
        self.materials.setToolTip("The project's materials: choose one to edit it")
        self.new_button = QPushButton("New")
        self.new_button.setToolTip("A new material (given to the selected parts)")
        self.new_button.clicked.connect(self.new_material)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate_material)
        self.duplicate_button.setToolTip("A copy of this material (given to the selected parts)")
        self.assign_button = QPushButton("Assign")
        self.assign_button.setToolTip("Give the selected parts this material")
        self.assign_button.clicked.connect(self.assign_current)
        for b in (self.new_button, self.duplicate_button, self.assign_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)

        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setToolTip("The material's name")
        self.name.editingFinished.connect(lambda: self._set("name", self.name.text().strip() or self.material.name))
        self.base_color = ColourField("Base colour")
        self.base_color.changed.connect(lambda rgb: self.set_colour("base_color_factor", rgb))
        self.opacity = self._spin(0.0, 1.0, 0.05)
        self.opacity.setToolTip("Base colour alpha: below 1 blends the part with what is behind it")
        self.opacity.editingFinished.connect(self._opacity)
        self.alpha_mode = QComboBox()
        self.alpha_mode.addItems(["OPAQUE", "MASK", "BLEND"])
        self.alpha_mode.setToolTip("OPAQUE ignores alpha; MASK cuts out below the cutoff; BLEND is see-through")
        self.alpha_mode.activated.connect(lambda _: self._set("alpha_mode", self.alpha_mode.currentText()))
        self.alpha_cutoff = self._spin(0.0, 1.0, 0.05)
        self.alpha_cutoff.setToolTip("MASK: alpha below this is cut out")
        self.alpha_cutoff.editingFinished.connect(lambda: self._set("alpha_cutoff", round(self.alpha_cutoff.value(), 4)))
        self.metallic = self._spin(0.0, 1.0, 0.05)
        self.metallic.setToolTip("0 plastic, wood, paint; 1 bare metal")
        self.metallic.editingFinished.connect(lambda: self._set("metallic_factor", round(self.metallic.value(), 4)))
        self.roughness = self._spin(0.0, 1.0, 0.05)
        self.roughness.setToolTip("0 mirror-smooth, 1 fully matte")
        self.roughness.editingFinished.connect(lambda: self._set("roughness_factor", round(self.roughness.value(), 4)))
        self.emissive = ColourField("Emissive colour")
        self.emissive.changed.connect(lambda rgb: self._emissive())
        self.emissive_strength = self._spin(0.0, 1000.0, 0.5)
        self.emissive_strength.setToolTip("How bright the emission is (1: as bright as the colour)")
        self.emissive_strength.editingFinished.connect(self._emissive)
        self.double_sided = QCheckBox("Double-sided")
        self.double_sided.setToolTip("Draw and light the back faces too (thin or open surfaces)")
        self.double_sided.toggled.connect(lambda on: self._set("double_sided", on))
        for label, widget in (("Name", self.name), ("Base colour", self.base_color), ("Opacity", self.opacity),
                              ("Alpha", self.alpha_mode), ("Alpha cutoff", self.alpha_cutoff),
                              ("Metallic", self.metallic), ("Roughness", self.roughness), ("Emissive", self.emissive),
                              ("Emission strength", self.emissive_strength), ("", self.double_sided)):
            form.addRow(label, widget)
        layout.addLayout(form)

        box = QGroupBox("Texture maps")
        grid = QGridLayout(box)
        self.slots: dict[str, dict[str, QWidget]] = {}
        for row, (field, label) in enumerate(SLOTS):
            thumb = QLabel()
            thumb.setFixedSize(THUMB, THUMB)
            thumb.setAlignment(Qt.AlignCenter)
            thumb.setStyleSheet("border: 1px solid #666")
            name = QLabel("none")
            name.setWordWrap(True)
            choose = QPushButton("Choose…")
            choose.setToolTip(f"Pick an image file for the {label.lower()} map")
            choose.clicked.connect(lambda _=False, f=field: self.choose_texture(f))
            remove = QPushButton("Remove")
            remove.setToolTip(f"Take the {label.lower()} map off this material")
            remove.clicked.connect(lambda _=False, f=field: self.set_texture(f, None))
            grid.addWidget(thumb, row, 0)
            text = QLabel(f"<b>{label}</b>")
            grid.addWidget(text, row, 1)
            grid.addWidget(name, row, 2)
            grid.addWidget(choose, row, 3)
            grid.addWidget(remove, row, 4)
            self.slots[field] = {"thumb": thumb, "name": name, "choose": choose, "remove": remove}
        self.normal_scale = self._spin(0.0, 10.0, 0.1)
        self.normal_scale.setToolTip("How strongly the normal map bends the surface")
        self.normal_scale.editingFinished.connect(lambda: self._texture_param("normal_texture", "scale",
                                                                              round(self.normal_scale.value(), 4)))
        self.occlusion_strength = self._spin(0.0, 1.0, 0.05)
        self.occlusion_strength.setToolTip("How much the occlusion map darkens the environment's light")
        self.occlusion_strength.editingFinished.connect(lambda: self._texture_param(
            "occlusion_texture", "strength", round(self.occlusion_strength.value(), 4)))
        params = QFormLayout()
        params.addRow("Normal scale", self.normal_scale)
        params.addRow("Occlusion strength", self.occlusion_strength)
        grid.addLayout(params, len(SLOTS), 0, 1, 5)
        layout.addWidget(box)

        row = QHBoxLayout()
        self.library = QComboBox()
        self.library.setToolTip("Ready-made materials (their colours are sRGB as a person types them)")
        for mat in material_library():
            self.library.addItem(swatch_icon(mat.base_color_factor), mat.name, mat.to_json())
        assign = QPushButton("Assign to selection")
        assign.setToolTip("Give the selected parts a new material from the library")
        assign.clicked.connect(self.assign_from_library)
        row.addWidget(self.library, 1)
        row.addWidget(assign)
        layout.addWidget(QLabel("Library"))
        layout.addLayout(row)
        layout.addStretch(1)
        self._editors = [self.name, self.base_color, self.opacity, self.alpha_mode, self.alpha_cutoff, self.metallic,
                         self.roughness, self.emissive, self.emissive_strength, self.double_sided, self.normal_scale,
                         self.occlusion_strength, self.duplicate_button,
                         *(w for slot in self.slots.values() for w in (slot["choose"], slot["remove"]))]
        self._list_choice: Optional[str] = None
        window.selection_changed.connect(self._selection_changed)
        window.editor.stack.indexChanged.connect(self._changed)  # after every edit, undo and redo
        window.project_changed.connect(lambda name: self.refresh() if name in ("material_overrides", "scene_graph") else None)
        self.refresh()

    @staticmethod
    def _spin(lo: float, hi: float, step: float) -> QDoubleSpinBox:
        return QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=3)

    # -- what is being edited ---------------------------------------------------------------

    def _project(self):
        return self.window.project

    def users(self, material_id: str) -> list:
        """The parts that use a material."""
        project = self._project()
        return [n for n, _ in project.scene_graph.walk() if n.material_id == material_id] if project else []

    def _selection_changed(self, *_) -> None:
        self._list_choice = None
        self.refresh()

    def _list_row(self, row: int) -> None:
        project = self._project()
        if project is None or not 0 <= row < len(project.material_overrides.materials):
            return
        chosen = project.material_overrides.materials[row].id
        if self.material is None or chosen != self.material.id:
            self._list_choice = chosen
            self.refresh()

    def _changed(self, *_) -> None:
        self.refresh()

    # -- edits --------------------------------------------------------------------------------

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
        steps = [SetMaterialField(self.material.id, "base_color_factor", (r, g, b, alpha))]
        if self.material.alpha_mode == "OPAQUE" and alpha < 1:
            steps.append(SetMaterialField(self.material.id, "alpha_mode", "BLEND"))
        self.window.run(Macro(steps, "Change opacity"))

    def _emissive(self) -> None:
        strength = self.emissive_strength.value()
        self._set("emissive_factor", tuple(round(c * strength, 6) for c in self.emissive.value()))

    def set_colour(self, field: str, rgb: tuple[float, float, float]) -> None:
        """Set base or emissive colour, as linear values (the picker converts what a person
        picked from sRGB before it calls this)."""
        if self.material is None:
            return
        value = (*rgb, self.material.base_color_factor[3]) if field == "base_color_factor" else tuple(rgb)
        self._set(field, tuple(round(c, 6) for c in value))

    def choose_texture(self, field: str) -> None:
        if self.material is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Choose a texture image", "", IMAGE_FILTER)
        if path:
            self.set_texture(field, path)

    def set_texture(self, field: str, path: Optional[str]) -> None:
        """Put an image file in a texture slot (``None`` removes it); one undoable step."""
        if self.material is None or self.window.project is None:
            return
        if path is None:
            if getattr(self.material, field) is not None:
                self.window.run(SetMaterialField(self.material.id, field, None))
            return
        from ..services.images import add_image

        try:
            asset = add_image(self.window.ws, self.window.project.id, path)
        except DStudioError as err:
            self.window.show_error(str(err))
            return
        old = getattr(self.material, field)
        ref = {"asset_id": asset.id, "texcoord": old.texcoord if old else 0}
        if old is not None and old.transform is not None:
            ref["transform"] = old.transform.to_json()
        if field == "normal_texture":
            ref["scale"] = old.scale if old else 1.0
        if field == "occlusion_texture":
            ref["strength"] = old.strength if old else 1.0
        self.window.run(SetMaterialField(self.material.id, field, ref))

    def _texture_param(self, field: str, key: str, value: float) -> None:
        ref = getattr(self.material, field) if self.material else None
        if ref is not None and getattr(ref, key) != value:
            self._set(field, {**ref.to_json(), key: value})

    def _selected_meshes(self) -> list:
        return [n for n in self.window.selected_nodes() if n.kind == "mesh"] if self.window.project else []

    def make_unique(self) -> None:
        """Give the selected parts their own copy of the material they share with others."""
        if self.material is None:
            return
        parts = [n for n in self._selected_meshes() if n.material_id == self.material.id]
        if not parts:
            return
        copy = self.material.model_copy(update={"id": new_id(), "name": f"{self.material.name} ({parts[0].name})"[:256]})
        steps = [AddMaterial(copy.to_json())] + [SetNodeField(n.id, "material_id", copy.id) for n in parts]
        self.window.run(Macro(steps, f"Make {self.material.name} unique"))

    def new_material(self) -> None:
        """A new plain material, given to the selected parts when there are any."""
        material = Material(name=self._fresh_name("Material"), base_color_factor=(0.8, 0.8, 0.8, 1.0),
                            metallic_factor=0.0, roughness_factor=0.5)
        self._add(material, "New material")

    def duplicate_material(self) -> None:
        if self.material is None:
            return
        material = self.material.model_copy(update={"id": new_id(), "name": self._fresh_name(f"{self.material.name} copy")})
        self._add(material, f"Duplicate {self.material.name}")

    def _add(self, material: Material, label: str) -> None:
        steps = [AddMaterial(material.to_json())] + [SetNodeField(n.id, "material_id", material.id)
                                                      for n in self._selected_meshes()]
        self._list_choice = material.id
        self.window.run(Macro(steps, label))
        self.refresh()

    def _fresh_name(self, base: str) -> str:
        names = {m.name for m in self.window.project.material_overrides.materials} if self.window.project else set()
        name, i = base, 2
        while name in names:
            name, i = f"{base} {i}", i + 1
        return name[:256]

    def assign_current(self) -> None:
        nodes = self._selected_meshes()
        if self.material is None or not nodes:
            self.window.statusBar().showMessage("Select the parts to assign the material to", 5000)
            return
        steps = [SetNodeField(n.id, "material_id", self.material.id) for n in nodes if n.material_id != self.material.id]
        if steps:
            self.window.run(Macro(steps, f"Assign {self.material.name}"))

    def assign_from_library(self) -> None:
        nodes = self._selected_meshes()
        if not nodes:
            self.window.statusBar().showMessage("Select the parts to assign the material to", 5000)
            return
        new = Material.model_validate({**self.library.currentData(), "id": new_id()})
        steps = [AddMaterial(new.to_json())] + [SetNodeField(n.id, "material_id", new.id) for n in nodes]
        self.window.run(Macro(steps, f"Assign {new.name}"))

    # -- showing ----------------------------------------------------------------------------

    def refresh(self, *_) -> None:
        if self.material is not None:
            try:
                self.material.events.all.disconnect(self.refresh)
            except (TypeError, ValueError, RuntimeError):
                pass
        project = self._project()
        nodes = [n for n in self.window.selected_nodes() if n.material_id] if project else []
        material = None
        if project is not None:
            if self._list_choice is not None:
                material = project.material_overrides.get(self._list_choice)
            if material is None and nodes:
                material = project.material_overrides.get(nodes[0].material_id)
        self.material = material
        self._parts = nodes
        self._show_list()
        enabled = material is not None
        for w in self._editors:
            w.setEnabled(enabled)
        self.assign_button.setEnabled(enabled and bool(self._selected_meshes()))
        if not enabled:
            self.title.setText("Select a part, or a material in the list, to edit it.")
            self.shared_label.setText("")
            self.make_unique_button.setVisible(False)
            return
        material.events.all.connect(self.refresh)
        m = material
        on = [n.name for n in nodes if n.material_id == m.id]
        self.title.setText(f"<b>{m.name}</b>" + (f" — on {on[0]}" if on else ""))
        users = self.users(m.id)
        if len(users) > 1:
            names = ", ".join(u.name for u in users[:4]) + (" …" if len(users) > 4 else "")
            self.shared_label.setText(f"Used by {len(users)} parts ({names}): an edit changes all of them.")
        else:
            self.shared_label.setText("")
        self.make_unique_button.setVisible(len(users) > 1 and any(n.material_id == m.id for n in self._selected_meshes()))
        widgets = (self.opacity, self.metallic, self.roughness, self.alpha_cutoff, self.emissive_strength,
                   self.double_sided, self.alpha_mode, self.name, self.normal_scale, self.occlusion_strength)
        for w in widgets:
            w.blockSignals(True)
        self.name.setText(m.name)
        self.opacity.setValue(m.base_color_factor[3])
        self.metallic.setValue(m.metallic_factor)
        self.roughness.setValue(m.roughness_factor)
        self.alpha_cutoff.setValue(m.alpha_cutoff)
        self.alpha_mode.setCurrentText(m.alpha_mode)
        self.double_sided.setChecked(m.double_sided)
        strength = max(m.emissive_factor) if max(m.emissive_factor) > 1.0 else 1.0
        self.emissive_strength.setValue(strength)
        self.normal_scale.setValue(m.normal_texture.scale if m.normal_texture else 1.0)
        self.occlusion_strength.setValue(m.occlusion_texture.strength if m.occlusion_texture else 1.0)
        for w in widgets:
            w.blockSignals(False)
        self.alpha_cutoff.setEnabled(m.alpha_mode == "MASK")
        self.normal_scale.setEnabled(m.normal_texture is not None)
        self.occlusion_strength.setEnabled(m.occlusion_texture is not None)
        self.base_color.set_value(m.base_color_factor[:3])
        self.emissive.set_value(tuple(c / strength for c in m.emissive_factor))
        for field, slot in self.slots.items():
            self._show_slot(getattr(m, field), slot)

    def _show_list(self) -> None:
        project = self._project()
        self.materials.blockSignals(True)
        self.materials.clear()
        row = -1
        for i, m in enumerate(project.material_overrides.materials if project else []):
            count = len(self.users(m.id))
            item = QListWidgetItem(swatch_icon(m.base_color_factor), f"{m.name}  ({count} part{'s' if count != 1 else ''})")
            item.setToolTip(f"{linear_to_hex(m.base_color_factor)}, metallic {m.metallic_factor:g}, "
                            f"roughness {m.roughness_factor:g}")
            self.materials.addItem(item)
            if self.material is not None and m.id == self.material.id:
                row = i
        self.materials.setCurrentRow(row)
        self.materials.blockSignals(False)

    def _show_slot(self, ref, slot: dict[str, QWidget]) -> None:
        thumb: QLabel = slot["thumb"]
        slot["remove"].setEnabled(ref is not None)
        if ref is None:
            thumb.clear()
            thumb.setText("—")
            slot["name"].setText("none")
            return
        try:
            asset = self.window.ws.get_asset(ref.asset_id)
            data = self.window.ws.asset_bytes(asset)
            name = asset.name
        except DStudioError:
            data, name = b"", "missing image"
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            thumb.setPixmap(pixmap.scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        else:
            thumb.clear()
            thumb.setText("?")
        slot["name"].setText(name)
