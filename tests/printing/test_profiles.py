"""Printer and material profiles: the bundled ones, and a user's own file checked field by
field, each fault named by file, profile and field, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dstudio_desktop.errors import DStudioError
from dstudio_desktop.printing.profiles import materials, printers

GOOD_PRINTER = {"id": "shop", "name": "Shop printer", "build_volume_mm": [300, 300, 400]}


def test_the_bundled_profiles_load_with_their_defaults() -> None:
    ender = printers()["ender3"]
    assert ender.build_volume_mm == (220.0, 220.0, 250.0) and ender.slicers == ("cura", "prusa")
    assert materials()["PLA"].density_g_cm3 == pytest.approx(1.24)


def test_a_user_profile_is_added_with_the_defaults_filled_in(home: Path) -> None:
    (home / "printing").mkdir(parents=True, exist_ok=True)
    (home / "printing" / "printers.json").write_text(json.dumps({"printers": [GOOD_PRINTER]}))
    shop = printers()["shop"]
    assert shop.build_volume_mm == (300.0, 300.0, 400.0) and shop.nozzle_mm == 0.4 and shop.gcode_flavor == "Marlin"
    assert "ender3" in printers()


@pytest.mark.parametrize(("change", "message"), [
    ({"build_volume_mm": [300, 300]}, r"printers\[0\]\.build_volume_mm: must be three numbers"),
    ({"build_volume_mm": [300, "wide", 400]}, r"printers\[0\]\.build_volume_mm\[1\]: must be a number, not 'wide'"),
    ({"nozzle_mm": -0.4}, r"printers\[0\]\.nozzle_mm: must be greater than 0"),
    ({"nozzle_mm": True}, r"printers\[0\]\.nozzle_mm: must be a number"),
    ({"name": ""}, r"printers\[0\]\.name: must be a non-empty string"),
    ({"slicers": ["simplify3d"]}, r"printers\[0\]\.slicers: must be a list of cura and prusa"),
    ({"heated_bed": "yes"}, r"printers\[0\]\.heated_bed: must be true or false"),
    ({"speed": 100}, r"printers\[0\]\.speed: is not a profile field"),
    ({"id": None}, r"printers\[0\]\.id: must be a non-empty string"),
])
def test_a_bad_user_printer_is_refused_naming_the_file_and_field(home: Path, change: dict, message: str) -> None:
    (home / "printing").mkdir(parents=True, exist_ok=True)
    path = home / "printing" / "printers.json"
    path.write_text(json.dumps({"printers": [{**GOOD_PRINTER, **change}]}))
    with pytest.raises(DStudioError, match=message) as caught:
        printers()
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", r"not a valid materials profile file"),
    ('{"materials": {"id": "x"}}', r"materials must be a list of profiles"),
    ('{"materials": ["PLA"]}', r"materials\[0\]: must be an object, not str"),
    ('{"materials": [{"id": "PETG", "name": "PETG", "density_g_cm3": 1.27, "nozzle_temp_c": 240}]}',
     r"materials\[0\]\.bed_temp_c: is missing"),
    ('{"materials": [{"id": "PETG", "name": "PETG", "density_g_cm3": 0, "nozzle_temp_c": 240, "bed_temp_c": 0}]}',
     r"materials\[0\]\.density_g_cm3: must be greater than 0, not 0"),
])
def test_a_bad_user_material_file_is_refused_naming_the_file(home: Path, text: str, message: str) -> None:
    (home / "printing").mkdir(parents=True, exist_ok=True)
    path = home / "printing" / "materials.json"
    path.write_text(text)
    with pytest.raises(DStudioError, match=message) as caught:
        materials()
    assert str(caught.value).startswith(f"{path}: ")
