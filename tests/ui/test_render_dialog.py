"""File → Render Image…'s dialog (ui.render_dialog.RenderDialog) through its widgets: a camera
preset, a size, supersampling, a transparent background, progress, and Cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(window):
    from dstudio_desktop.ui.render_dialog import RenderDialog

    d = RenderDialog(window)
    d.show()
    yield d
    d.close()


def test_render_a_transparent_product_shot_from_a_camera(dialog, qtbot, tmp_path: Path) -> None:
    dialog.camera.setCurrentIndex(dialog.camera.findText("Front"))
    dialog.size_preset.setCurrentIndex(dialog.size_preset.findText("Custom"))
    dialog.width_box.setValue(320)
    dialog.height_box.setValue(240)
    dialog.supersample.setCurrentIndex(dialog.supersample.findData(2))
    dialog.transparent.setChecked(True)
    out = tmp_path / "shot.png"
    dialog.output.setText(str(out))
    qtbot.mouseClick(dialog.render_button, Qt.LeftButton)
    assert out.is_file(), dialog.status.text()
    image = np.asarray(Image.open(out))
    assert image.shape == (240, 320, 4)
    assert image[2, 2, 3] == 0 and image[-2, -2, 3] < 255          # no background
    column = image[:, 150:170]
    red = (column[..., 3] == 255) & (column[..., 0] > 150) & (column[..., 0] > 3 * column[..., 1])
    assert red.sum() > 50                                           # the red shade, opaque, from the front
    assert dialog.progress.value() == 1000 and "Saved" in dialog.status.text()
    assert not dialog.preview.pixmap().isNull()


def test_size_presets_go_up_to_4k(dialog) -> None:
    dialog.size_preset.setCurrentIndex(dialog.size_preset.findData("3840x2160"))
    assert (dialog.width_box.value(), dialog.height_box.value()) == (3840, 2160)
    dialog.width_box.setValue(1000)
    assert dialog.size_preset.currentText() == "Custom"


def test_cancel_stops_the_render_and_writes_nothing(dialog, qtbot, tmp_path: Path) -> None:
    dialog.size_preset.setCurrentIndex(dialog.size_preset.findText("Custom"))
    dialog.width_box.setValue(200)
    dialog.height_box.setValue(900)                                 # several bands
    dialog.supersample.setCurrentIndex(dialog.supersample.findData(1))
    out = tmp_path / "never.png"
    dialog.output.setText(str(out))
    QTimer.singleShot(0, lambda: qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton))   # during the first band
    qtbot.mouseClick(dialog.render_button, Qt.LeftButton)
    assert not out.exists()
    assert "Cancelled" in dialog.status.text()
    assert dialog.render_button.isEnabled()
