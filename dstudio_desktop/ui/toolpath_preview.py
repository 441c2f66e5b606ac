"""The toolpath preview: a G-code drawn layer by layer with vispy, like the viewport.

Extrusions are coloured by the feature type the slicer marked (``;TYPE:`` comments of
CuraEngine and PrusaSlicer), travel moves are thin and blue and can be hidden; the slider
shows the print up to a layer (the layers below dimmed), or that layer alone. The raw text
is one tab away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from vispy import scene

from ..printing.toolpath import Toolpath, read_toolpath

BACKGROUND = (0.11, 0.11, 0.13, 1.0)
TRAVEL_COLOUR = (0.25, 0.45, 1.0, 1.0)
# feature names as both slicers write them (lower case, "-" and "_" as spaces) -> colour
FEATURE_COLOURS = {
    "wall outer": (1.0, 0.35, 0.2), "external perimeter": (1.0, 0.35, 0.2), "overhang perimeter": (1.0, 0.35, 0.2),
    "wall inner": (1.0, 0.85, 0.2), "perimeter": (1.0, 0.85, 0.2),
    "fill": (0.85, 0.55, 0.25), "internal infill": (0.85, 0.55, 0.25),
    "skin": (0.7, 0.35, 0.9), "solid infill": (0.7, 0.35, 0.9), "top solid infill": (0.85, 0.3, 0.6),
    "bridge infill": (0.4, 0.6, 1.0), "gap fill": (0.9, 0.9, 0.9),
    "support": (0.2, 0.85, 0.85), "support material": (0.2, 0.85, 0.85),
    "support interface": (0.2, 0.6, 0.7), "support material interface": (0.2, 0.6, 0.7),
    "skirt": (0.3, 0.8, 0.4), "skirt/brim": (0.3, 0.8, 0.4), "prime tower": (0.6, 0.6, 0.6),
}
OTHER_COLOUR = (0.65, 0.65, 0.65)
BELOW_DIM = 0.45      # the layers under the current one, darker


def feature_colour(name: str) -> tuple[float, float, float]:
    return FEATURE_COLOURS.get(name, OTHER_COLOUR)


class ToolpathView:
    """The canvas: the toolpath up to (or only) one layer, extrusion and travel as segment lines."""

    def __init__(self, toolpath: Toolpath, parent=None, size=(800, 600)) -> None:
        self.toolpath = toolpath
        self.canvas = scene.SceneCanvas(keys=None, size=size, parent=parent, bgcolor=BACKGROUND, show=False)
        self.view = self.canvas.central_widget.add_view(border_width=0)
        lo, hi = toolpath.bounds()
        self.center = (lo + hi) / 2
        self.extent = float(max(np.max(hi - lo), 1.0))
        self.view.camera = scene.TurntableCamera(fov=30, elevation=35, azimuth=-40, center=tuple(self.center),
                                                 distance=self.extent * 2.4)
        self.extrusion = scene.visuals.Line(parent=self.view.scene, connect="segments", method="gl", width=2)
        self.travel = scene.visuals.Line(parent=self.view.scene, connect="segments", method="gl", width=1)
        self._palette = np.array([(0.0, 0.0, 0.0, 0.0)] + [(*feature_colour(n), 1.0) for n in toolpath.features[1:]],
                                 dtype=np.float32)
        self.layer = len(toolpath.layers) - 1
        self.only_layer = False
        self.show_travel = True
        self.redraw()

    def view_top(self) -> None:
        """Straight down, without perspective: a layer as it lies on the bed."""
        self.view.camera.fov = 0
        self.view.camera.elevation, self.view.camera.azimuth = 90, 0
        self.view.camera.scale_factor = self.extent * 1.15

    def redraw(self) -> None:
        layers = self.toolpath.layers
        chosen = [self.layer] if self.only_layer else range(self.layer + 1)
        ext_pos, ext_col, trav = [], [], []
        for k in chosen:
            layer = layers[k]
            seg = layer.segments
            if layer.extruding.any():
                pts = seg[layer.extruding].reshape(-1, 3)
                colours = self._palette[np.repeat(layer.feature[layer.extruding], 2)].copy()
                if k != self.layer:
                    colours[:, :3] *= BELOW_DIM
                ext_pos.append(pts)
                ext_col.append(colours)
            if self.show_travel and k == self.layer and (~layer.extruding).any():
                trav.append(seg[~layer.extruding].reshape(-1, 3))
        empty = np.zeros((2, 3), np.float32)
        self.extrusion.set_data(pos=np.concatenate(ext_pos) if ext_pos else empty,
                                color=np.concatenate(ext_col) if ext_col else np.zeros((2, 4), np.float32))
        self.travel.set_data(pos=np.concatenate(trav) if trav else empty, color=TRAVEL_COLOUR)
        self.travel.visible = bool(trav)
        self.canvas.update()

    def render(self) -> np.ndarray:
        """The current picture as an RGBA uint8 array (what the tests read)."""
        return self.canvas.render(alpha=False)


class ToolpathPreview(QDialog):
    """A G-code file's toolpath with a layer slider, the feature legend, and the raw text."""

    def __init__(self, gcode: Path, parent: Optional[QWidget] = None, toolpath: Optional[Toolpath] = None,
                 name: Optional[str] = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolpath_preview")
        self.setWindowTitle(f"Toolpath: {name or Path(gcode).name}")
        self.toolpath = toolpath if toolpath is not None else read_toolpath(Path(gcode))
        self.view = ToolpathView(self.toolpath)
        tabs = QTabWidget()
        drawing = QWidget()
        row = QHBoxLayout(drawing)
        row.addWidget(self.view.canvas.native, 1)
        side = QVBoxLayout()
        self.slider = QSlider(Qt.Vertical)
        self.slider.setObjectName("layer_slider")
        self.slider.setRange(1, len(self.toolpath.layers))
        self.slider.setValue(len(self.toolpath.layers))
        self.slider.valueChanged.connect(self._layer_changed)
        self.layer_label = QLabel()
        self.only_layer = QCheckBox("This layer only")
        self.only_layer.toggled.connect(self._options_changed)
        self.travel = QCheckBox("Travel moves")
        self.travel.setChecked(True)
        self.travel.toggled.connect(self._options_changed)
        side.addWidget(self.layer_label)
        side.addWidget(self.slider, 1)
        side.addWidget(self.only_layer)
        side.addWidget(self.travel)
        side.addWidget(self._legend())
        row.addLayout(side)
        tabs.addTab(drawing, "Toolpath")
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setPlainText(_head(Path(gcode)))
        tabs.addTab(text, "G-code text")
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        self.resize(1000, 700)
        self._layer_changed(self.slider.value())

    def _legend(self) -> QLabel:
        rows = [f"<span style='color:rgb({int(r * 255)},{int(g * 255)},{int(b * 255)})'>■</span> {name}"
                for name in self.toolpath.features[1:] for r, g, b in [feature_colour(name)]]
        r, g, b, _ = TRAVEL_COLOUR
        rows.append(f"<span style='color:rgb({int(r * 255)},{int(g * 255)},{int(b * 255)})'>—</span> travel")
        label = QLabel("<br>".join(rows))
        label.setObjectName("legend")
        return label

    def _layer_changed(self, value: int) -> None:
        self.view.layer = value - 1
        z = self.toolpath.layers[value - 1].z
        self.layer_label.setText(f"Layer {value} / {len(self.toolpath.layers)}\nz {z:.2f} mm")
        self.view.redraw()

    def _options_changed(self, *_) -> None:
        self.view.only_layer = self.only_layer.isChecked()
        self.view.show_travel = self.travel.isChecked()
        self.view.redraw()


TEXT_TAB_BYTES = 2_000_000   # the text tab shows the file's start (a whole print would be a GUI-thread read)


def _head(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(TEXT_TAB_BYTES + 1)
    except OSError as err:
        return f"(cannot read {path}: {err.strerror or err})"
    more = len(data) > TEXT_TAB_BYTES
    return data[:TEXT_TAB_BYTES].decode("utf-8", errors="replace") + ("\n… (the rest is not shown here)" if more else "")


def open_gcode_preview(parent: QWidget, path: str, on_open: Callable[[ToolpathPreview], None],
                       on_error: Callable[[str], None]) -> None:
    """Read the G-code file ``path`` off the GUI thread (behind a progress dialog with Cancel)
    and open its preview over ``parent``; a file the preview cannot show (empty, binary, too
    large, not G-code) is one line naming it to ``on_error``."""
    from .tasks import run_task

    def work(progress, token):
        progress(0.0, "reading the toolpath")
        return read_toolpath(Path(path), progress, token)

    def opened(toolpath: Toolpath) -> None:
        viewer = ToolpathPreview(Path(path), parent, toolpath)
        viewer.show()
        on_open(viewer)

    run_task(parent, f"Opening {Path(path).name}", work, opened, on_error)
