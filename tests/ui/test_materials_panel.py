"""The Material panel through its real widgets: texture slots (choose, replace, remove, with a
thumbnail and undo), the project's materials with swatches, a material shared by several
parts (said, and made unique on request), new and duplicate materials."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from dstudio_desktop.core.commands import SetNodeField

pytestmark = pytest.mark.gui


def _node(win, name: str):
    return next(n for n, _ in win.project.scene_graph.walk() if n.name == name)


def _image(path: Path, colour) -> str:
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:, :16] = colour
    pixels[:, 16:] = (255, 255, 255)
    Image.fromarray(pixels).save(path)
    return str(path)


def _choose(monkeypatch, qtbot, dock, field: str, path: str) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, "Images"))
    qtbot.mouseClick(dock.slots[field]["choose"], Qt.LeftButton)


def test_texture_slots_choose_replace_remove_with_thumbnail_and_undo(window, qtbot, monkeypatch, tmp_path) -> None:
    shade = _node(window, "Shade")
    window.set_selection([shade.id])
    dock = window.material_dock
    material = lambda: window.project.material_overrides.get(shade.material_id)  # noqa: E731
    assert material().base_color_texture is None
    assert not dock.slots["base_color_texture"]["remove"].isEnabled()

    _choose(monkeypatch, qtbot, dock, "base_color_texture", _image(tmp_path / "red.png", (200, 20, 20)))
    first = material().base_color_texture
    assert first is not None
    asset = window.ws.get_asset(first.asset_id)
    assert asset.asset_type == "texture" and asset.name == "red.png" and asset.media_type == "image/png"
    thumb = dock.slots["base_color_texture"]["thumb"].pixmap()
    assert thumb is not None and not thumb.isNull() and dock.slots["base_color_texture"]["name"].text() == "red.png"
    colour = thumb.toImage().pixelColor(2, thumb.height() // 2)
    assert colour.red() > 150 and colour.green() < 80             # the thumbnail is of the image

    _choose(monkeypatch, qtbot, dock, "base_color_texture", _image(tmp_path / "blue.png", (20, 20, 200)))
    assert material().base_color_texture.asset_id != first.asset_id   # replaced
    window.editor.stack.undo()
    assert material().base_color_texture.asset_id == first.asset_id

    _choose(monkeypatch, qtbot, dock, "normal_texture", _image(tmp_path / "n.png", (128, 128, 255)))
    assert material().normal_texture is not None and dock.normal_scale.isEnabled()
    dock.normal_scale.setValue(0.5)
    dock.normal_scale.editingFinished.emit()
    assert material().normal_texture.scale == 0.5

    qtbot.mouseClick(dock.slots["base_color_texture"]["remove"], Qt.LeftButton)
    assert material().base_color_texture is None
    assert dock.slots["base_color_texture"]["name"].text() == "none"
    window.editor.stack.undo()
    assert material().base_color_texture.asset_id == first.asset_id


def test_a_file_that_is_not_an_image_is_refused(window, qtbot, monkeypatch, tmp_path) -> None:
    shade = _node(window, "Shade")
    window.set_selection([shade.id])
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    shown = []
    monkeypatch.setattr(window, "show_error", shown.append)
    _choose(monkeypatch, qtbot, window.material_dock, "emissive_texture", str(bad))
    assert shown and "notes.png" in shown[0]
    assert window.project.material_overrides.get(shade.material_id).emissive_texture is None


def test_the_project_materials_are_listed_with_swatches(window) -> None:
    dock = window.material_dock
    names = [dock.materials.item(i).text() for i in range(dock.materials.count())]
    assert len(names) == len(window.project.material_overrides.materials) == 4
    assert any(n.startswith("Signal red plastic") and "(1 part)" in n for n in names)
    assert all(not dock.materials.item(i).icon().isNull() for i in range(dock.materials.count()))
    # choosing one in the list edits it, with nothing selected
    dock.materials.setCurrentRow(0)
    assert dock.material is not None and dock.material.id == window.project.material_overrides.materials[0].id
    assert dock.base_color.isEnabled()


def test_a_shared_material_says_so_and_can_be_made_unique(window, qtbot) -> None:
    dock = window.material_dock
    shade, bulb = _node(window, "Shade"), _node(window, "Bulb")
    red = shade.material_id
    window.run(SetNodeField(bulb.id, "material_id", red))
    window.set_selection([bulb.id])
    assert "Used by 2 parts" in dock.shared_label.text() and "Shade" in dock.shared_label.text()
    assert dock.make_unique_button.isVisibleTo(dock)
    qtbot.mouseClick(dock.make_unique_button, Qt.LeftButton)
    bulb_now = window.project.scene_graph.find(bulb.id).material_id
    assert bulb_now != red and window.project.scene_graph.find(shade.id).material_id == red
    copy = window.project.material_overrides.get(bulb_now)
    assert copy.base_color_factor == window.project.material_overrides.get(red).base_color_factor
    assert dock.shared_label.text() == "" and not dock.make_unique_button.isVisibleTo(dock)
    window.editor.stack.undo()
    assert window.project.scene_graph.find(bulb.id).material_id == red
    assert window.project.material_overrides.get(bulb_now) is None


def test_new_and_duplicate_material(window, qtbot) -> None:
    dock = window.material_dock
    base = _node(window, "Base")
    window.set_selection([base.id])
    before = len(window.project.material_overrides.materials)
    qtbot.mouseClick(dock.new_button, Qt.LeftButton)
    new_id = window.project.scene_graph.find(base.id).material_id
    new = window.project.material_overrides.get(new_id)
    assert len(window.project.material_overrides.materials) == before + 1 and new.name == "Material"
    assert dock.material.id == new_id
    qtbot.mouseClick(dock.duplicate_button, Qt.LeftButton)
    dup_id = window.project.scene_graph.find(base.id).material_id
    dup = window.project.material_overrides.get(dup_id)
    assert dup_id != new_id and dup.name == "Material copy" and dup.base_color_factor == new.base_color_factor
    window.editor.stack.undo()
    window.editor.stack.undo()
    assert len(window.project.material_overrides.materials) == before
