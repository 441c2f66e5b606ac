"""Colour through the real widgets: what a person picks or types is sRGB, the model stores its
linear value (as glTF defines base_color_factor), and the swatch shows what was picked."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QPushButton

from dstudio_desktop.core.color import hex_to_linear, linear_to_srgb, srgb_to_linear

pytestmark = pytest.mark.gui


def _node(win, name: str):
    return next(n for n, _ in win.project.scene_graph.walk() if n.name == name)


def _pick(qtbot, field, hex_colour: str) -> None:
    """Open the field's colour dialog with its button, set the colour on the dialog, accept."""
    qtbot.mouseClick(field.button, Qt.LeftButton)
    dialog = field.dialog
    assert isinstance(dialog, QColorDialog) and dialog.isVisible()
    dialog.setCurrentColor(QColor(hex_colour))
    dialog.accept()


def test_a_colour_picked_in_the_material_panel_lands_linear(window, qtbot) -> None:
    shade = _node(window, "Shade")
    window.set_selection([shade.id])
    dock = window.material_dock
    _pick(qtbot, dock.base_color, "#1e5aa0")
    material = window.project.material_overrides.get(shade.material_id)
    expected = srgb_to_linear((0x1e / 255, 0x5a / 255, 0xa0 / 255))
    assert material.base_color_factor[:3] == pytest.approx(expected, abs=2e-6)
    assert material.base_color_factor[3] == 1.0
    # the panel shows what was picked, not the linear numbers
    assert dock.base_color.hex.text() == "#1e5aa0"
    assert "#1e5aa0" in dock.base_color.button.styleSheet()
    window.editor.stack.undo()
    assert window.project.material_overrides.get(shade.material_id).base_color_factor[:3] == \
        pytest.approx(hex_to_linear("#cc140d"), abs=2e-6)


def test_typing_a_hex_colour_and_a_bad_one(window, qtbot) -> None:
    bulb = _node(window, "Bulb")
    window.set_selection([bulb.id])
    field = window.material_dock.base_color
    field.hex.clear()
    qtbot.keyClicks(field.hex, "#cc140d")
    qtbot.keyClick(field.hex, Qt.Key_Return)
    material = window.project.material_overrides.get(bulb.material_id)
    assert material.base_color_factor[:3] == pytest.approx(hex_to_linear("#cc140d"), abs=2e-6)
    before = material.base_color_factor
    field.hex.clear()
    qtbot.keyClicks(field.hex, "redish")
    qtbot.keyClick(field.hex, Qt.Key_Return)
    assert window.project.material_overrides.get(bulb.material_id).base_color_factor == before
    assert "#rrggbb" in field.hex.toolTip()


def test_the_viewport_shows_the_picked_colour(window, qtbot) -> None:
    """A flat-facing part in the picked colour renders close to it (lit by the studio preset),
    not the pastel the old pipeline made of #1e5aa0."""
    shade = _node(window, "Shade")
    window.set_selection([shade.id])
    _pick(qtbot, window.material_dock.base_color, "#1e5aa0")
    window.set_selection([])
    view = window.viewport.scene_view.node_views[shade.id]
    centre = view.context.mesh_source(shade.asset_id).bounds().mean(axis=0)
    mapped = view.visual.get_transform("visual", "canvas").map(centre)
    image = window.viewport.render()
    scale = image.shape[1] / window.viewport.canvas.size[0]
    pixel = image[int(mapped[1] / mapped[3] * scale), int(mapped[0] / mapped[3] * scale), :3].astype(int)
    assert pixel[2] > pixel[1] > pixel[0], pixel          # blue over green over red, as #1e5aa0
    assert pixel[0] < 110 and pixel[2] < 230, pixel       # a mid blue, not the old pastel (172, 223, 238)


def test_light_and_background_colours_are_picked_in_srgb(window, qtbot) -> None:
    lighting = window.lighting_dock
    lighting.lights.setCurrentRow(0)
    _pick(qtbot, lighting.color, "#ffcc88")
    light = window.project.lighting_config.lights[0]
    assert light.color == pytest.approx(hex_to_linear("#ffcc88"), abs=2e-6)
    env = window.environment_dock
    _pick(qtbot, env.colours["top_color"], "#404855")
    top = window.project.environment_config.background.top_color
    assert top == pytest.approx(hex_to_linear("#404855"), abs=2e-6)
    assert env.colours["top_color"].hex.text() == "#404855"


def test_the_library_lists_its_colours_as_typed(window) -> None:
    """library.json holds sRGB hex; the library converts to linear factors on load."""
    dock = window.material_dock
    names = [dock.library.itemText(i) for i in range(dock.library.count())]
    red = dock.library.itemData(names.index("Signal red plastic"))
    assert np.allclose(linear_to_srgb(tuple(red["base_color_factor"][:3])), (0xcc / 255, 0x14 / 255, 0x0d / 255),
                       atol=1e-6)
    assert not dock.library.itemIcon(names.index("Signal red plastic")).isNull()


def test_a_preset_from_the_lighting_panel_is_one_undoable_look(window, qtbot) -> None:
    """The preset box and its button: lights, environment, exposure and background change
    together, and one undo puts all of them back."""
    dock = window.lighting_dock
    before_env = window.project.environment_config.to_json()
    before_lights = window.project.lighting_config.to_json()
    dock.presets.setCurrentIndex(dock.presets.findData("outdoor"))
    apply = next(b for b in dock.findChildren(QPushButton) if b.text() == "Apply preset")
    qtbot.mouseClick(apply, Qt.LeftButton)
    env = window.project.environment_config
    assert window.project.lighting_config.active_preset == "outdoor"
    assert [lt.name for lt in window.project.lighting_config.lights] == ["Sun"]
    assert env.lighting.builtin == "outdoor" and env.background.mode == "environment" and env.exposure == 0.0
    assert window.environment_dock.source.currentData() == "outdoor"
    window.editor.stack.undo()
    assert window.project.environment_config.to_json() == before_env
    assert window.project.lighting_config.to_json() == before_lights
    assert dock.presets.currentData() == "studio"


def test_loading_your_own_hdr_environment(window, qtbot, monkeypatch, tmp_path) -> None:
    from PySide6.QtWidgets import QFileDialog

    from dstudio_desktop.render.hdr import write_radiance

    hdr = tmp_path / "sunset.hdr"
    sky = np.zeros((32, 64, 3), np.float32)
    sky[:16] = (2.0, 1.2, 0.6)
    hdr.write_bytes(write_radiance(sky))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(hdr), "HDR"))
    dock = window.environment_dock
    qtbot.mouseClick(dock.load, Qt.LeftButton)
    light = window.project.environment_config.lighting
    assert light.enabled and light.asset_id is not None
    asset = window.ws.get_asset(light.asset_id)
    assert asset.name == "sunset.hdr" and asset.media_type == "image/vnd.radiance"
    assert dock.source.currentData() == "own" and dock.source_name.text() == "sunset.hdr"
    window.editor.stack.undo()
    assert window.project.environment_config.lighting.asset_id is None
    bad = tmp_path / "broken.hdr"
    bad.write_bytes(b"#?RADIANCE\nnot really")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), "HDR"))
    shown = []
    monkeypatch.setattr(window, "show_error", shown.append)
    qtbot.mouseClick(dock.load, Qt.LeftButton)
    assert shown and "broken.hdr" in shown[0]
    assert window.project.environment_config.lighting.asset_id is None


def test_a_picture_behind_the_model(window, qtbot, monkeypatch, tmp_path) -> None:
    """Background "image": the picture chosen through the panel fills the view behind the
    parts with its own pixels (left half red, right half blue here), and undo takes it away."""
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    picture = tmp_path / "backdrop.png"
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = (200, 30, 20)
    pixels[:, 200:] = (20, 60, 190)
    Image.fromarray(pixels).save(picture)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(picture), "Pictures"))
    dock = window.environment_dock
    window.environment_dock.raise_()
    qtbot.mouseClick(dock.picture, Qt.LeftButton)
    background = window.project.environment_config.background
    assert background.mode == "image" and window.ws.get_asset(background.image_asset_id).name == "backdrop.png"
    assert dock.mode.currentText() == "image"
    image = window.viewport.render()[..., :3].astype(int)
    h, w = image.shape[:2]
    corners = {"left": image[5, 5], "right": image[5, w - 6], "bottom left": image[h - 6, 5]}
    for where, px in corners.items():
        want = (200, 30, 20) if "left" in where else (20, 60, 190)
        assert np.abs(px - want).max() <= 3, (where, px)
    window.editor.stack.undo()
    assert window.project.environment_config.background.mode != "image"
    plain = window.viewport.render()[..., :3].astype(int)
    assert np.abs(plain[5, 5] - (200, 30, 20)).max() > 40

    # a file that is not a picture: named, and nothing changes
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not a picture")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), "Pictures"))
    shown = []
    monkeypatch.setattr(window, "show_error", shown.append)
    dock.mode.setCurrentText("image")
    dock.mode.activated.emit(dock.mode.currentIndex())
    assert shown and "notes.png" in shown[0]
    assert window.project.environment_config.background.mode != "image"
    assert dock.mode.currentText() != "image"
