"""Render Image: a product shot of the open project from a camera preset or the current view,
up to 4K, supersampled, on a transparent background if asked, with progress and Cancel.

The image is drawn by the same code as the viewport and ``dstudio render`` (render.headless),
in bands on the GUI thread (GL lives there), so the dialog stays responsive between bands
and Cancel stops at the next one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.progress import CancelToken
from ..errors import Cancelled, DStudioError

CURRENT_VIEW = "current"
SIZES = (("Full HD 1920 × 1080", (1920, 1080)), ("4K UHD 3840 × 2160", (3840, 2160)),
         ("HD 1280 × 720", (1280, 720)), ("Square 2048 × 2048", (2048, 2048)), ("Custom", None))
MAX_SIDE = 3840 * 2  # the dialog allows 4K and more on one side; render.headless caps what GL can do


class RenderDialog(QDialog):
    """File → Render Image…: choose the camera, size, supersampling and background, render to PNG."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Render Image")
        self.setObjectName("render_dialog")
        self.token: Optional[CancelToken] = None
        self.image: Optional[np.ndarray] = None
        self.info: dict = {}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.camera = QComboBox()
        self.camera.setToolTip("Render from the viewport's current view or a saved camera")
        self.size_preset = QComboBox()
        self.size_preset.setToolTip("The finished image's size in pixels")
        for label, size in SIZES:
            self.size_preset.addItem(label, "x".join(map(str, size)) if size else "")
        self.size_preset.currentIndexChanged.connect(self._preset_chosen)
        self.width_box = QSpinBox(minimum=16, maximum=MAX_SIDE, value=1920, suffix=" px")
        self.width_box.setToolTip("Width of the image")
        self.height_box = QSpinBox(minimum=16, maximum=MAX_SIDE, value=1080, suffix=" px")
        self.height_box.setToolTip("Height of the image")
        for box in (self.width_box, self.height_box):
            box.valueChanged.connect(self._custom_size)
        size_row = QWidget()
        row = QHBoxLayout(size_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.width_box)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_box)
        self.supersample = QComboBox()
        self.supersample.setToolTip("Samples per pixel on each side: smoother edges, longer to draw")
        for n in (1, 2, 3, 4):
            self.supersample.addItem(f"{n} × {n}" + (" (none)" if n == 1 else ""), n)
        self.supersample.setCurrentIndex(1)
        self.transparent = QCheckBox("Transparent background")
        self.transparent.setToolTip("Leave the background out (a PNG with alpha); shadows stay, as shade")
        self.output = QLineEdit()
        self.output.setToolTip("The PNG file to write")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose where to save the image")
        browse.clicked.connect(self._browse)
        out_row = QWidget()
        row = QHBoxLayout(out_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.output, 1)
        row.addWidget(browse)
        form.addRow("Camera", self.camera)
        form.addRow("Size", self.size_preset)
        form.addRow("", size_row)
        form.addRow("Supersampling", self.supersample)
        form.addRow("", self.transparent)
        form.addRow("Save as", out_row)
        layout.addLayout(form)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setMinimumHeight(160)
        layout.addWidget(self.preview)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("How much of the image is drawn")
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.render_button = QPushButton("Render")
        self.render_button.setToolTip("Draw the image and save it")
        self.render_button.setDefault(True)
        self.render_button.clicked.connect(self.render)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the render under way, or close")
        self.cancel_button.clicked.connect(self._cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.render_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self._fill()

    def _fill(self) -> None:
        self.camera.clear()
        self.camera.addItem("Current view", CURRENT_VIEW)
        project = self.window.project
        if project is not None:
            for preset in project.camera_presets.presets:
                self.camera.addItem(preset.name, preset.id)
            default = project.camera_presets.default()
            name = project.name.replace("/", "-").replace(":", "-")
            self.output.setText(str(Path.home() / f"{name}.png"))
            if default is not None:
                self.camera.setCurrentIndex(self.camera.findData(default.id))

    def _preset_chosen(self, _index: int) -> None:
        data = self.size_preset.currentData()
        size = tuple(int(v) for v in data.split("x")) if data else None
        if size is not None:
            for box, value in zip((self.width_box, self.height_box), size, strict=True):
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)

    def _custom_size(self, _value: int) -> None:
        wanted = f"{self.width_box.value()}x{self.height_box.value()}"
        index = next((i for i in range(self.size_preset.count()) if self.size_preset.itemData(i) == wanted),
                     self.size_preset.count() - 1)
        self.size_preset.blockSignals(True)
        self.size_preset.setCurrentIndex(index)
        self.size_preset.blockSignals(False)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the image", self.output.text(), "PNG images (*.png)")
        if path:
            self.output.setText(path if path.lower().endswith(".png") else f"{path}.png")

    def view(self):
        """The camera the image is drawn from."""
        choice = self.camera.currentData()
        if choice == CURRENT_VIEW or self.window.project is None:
            return self.window.viewport.camera.view
        preset = self.window.project.camera_presets.get(choice)
        return preset.view() if preset is not None else self.window.viewport.camera.view

    def render(self) -> Optional[Path]:
        """Draw and save the image; the path written, or None when cancelled or refused."""
        project = self.window.project
        if project is None or self.token is not None:
            return None
        out = Path(self.output.text()).expanduser()
        if not out.name:
            self.status.setText("Choose where to save the image.")
            return None
        from ..render.headless import render_scene, save_png
        from ..services.images import workspace_assets

        self.token = CancelToken()
        self.render_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText("Rendering…")
        size = (self.width_box.value(), self.height_box.value())
        self.info = {}
        try:
            self.image = render_scene(project, workspace_assets(self.window.ws), size, view=self.view(),
                                      supersample=int(self.supersample.currentData()),
                                      transparent=self.transparent.isChecked(), progress=self._progress,
                                      cancel=self.token, info=self.info)
            save_png(self.image, out)
        except Cancelled:
            self.status.setText("Cancelled: nothing was saved.")
            return None
        except DStudioError as err:
            self.status.setText(str(err))
            return None
        finally:
            self.token = None
            self.render_button.setEnabled(True)
        self.progress.setValue(1000)
        self._show_preview(self.image)
        self.status.setText(f"Saved {out} ({size[0]} × {size[1]}, drawn with {self.info.get('backend', '?')})")
        self.written = out
        return out

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(f"Rendering… {text}")
        QApplication.processEvents()   # paint the bar and take a click on Cancel between bands

    def _cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()
        else:
            self.reject()

    def _show_preview(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        channels = image.shape[2]
        fmt = QImage.Format_RGBA8888 if channels == 4 else QImage.Format_RGB888
        qimage = QImage(np.ascontiguousarray(image).data, w, h, w * channels, fmt).copy()
        self.preview.setPixmap(QPixmap.fromImage(qimage).scaled(320, 180, Qt.KeepAspectRatio, Qt.SmoothTransformation))
