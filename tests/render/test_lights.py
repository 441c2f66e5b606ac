"""The project's own lights in the PBR shader: directional, point and spot lights in glTF units,
adding up, as many as are given (up to eight)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .scenes import run


def test_a_directional_light_of_intensity_pi_shows_the_albedo(tmp_path: Path) -> None:
    """Lambert: radiance = albedo / pi x illuminance x N.L, so pi straight on shows the albedo
    (plus the small specular of a rough dielectric)."""
    result = run("lit_sphere", [{"direction": (0, 0, -1), "intensity": math.pi}], str(tmp_path / "a.png"))
    assert 0.47 < result["front"][0] < 0.56, result["front"]


def test_lights_add_up(tmp_path: Path) -> None:
    lights = [{"direction": (0, -1, -1), "intensity": 0.8}, {"direction": (1, 0, -1), "intensity": 0.6},
              {"direction": (-1, 0.2, -1), "intensity": 0.5, "color": (0.2, 0.5, 1.0)}]
    each = [run("lit_sphere", [light], str(tmp_path / f"{i}.png")) for i, light in enumerate(lights)]
    together = run("lit_sphere", lights, str(tmp_path / "all.png"))
    for where in ("top", "front", "bottom"):
        total = np.sum([e[where] for e in each], axis=0)
        assert np.allclose(together[where], total, atol=0.01), where


def test_point_and_spot_lights(tmp_path: Path) -> None:
    point = run("lit_sphere", [{"type": "point", "position": (0, 1.5, 0.5), "intensity": 4.0}], str(tmp_path / "p.png"))
    assert point["top"][0] > 0.1 and point["bottom"][0] < 0.01
    # the same light as a narrow spot aimed away from the sphere lights nothing
    away = run("lit_sphere", [{"type": "spot", "position": (0, 1.5, 0.5), "direction": (1, 0, 0), "intensity": 4.0,
                               "outer_cone_angle": 0.2, "inner_cone_angle": 0.1}], str(tmp_path / "s.png"))
    assert max(away["top"]) < 0.01
    aimed = run("lit_sphere", [{"type": "spot", "position": (0, 1.5, 0.5), "direction": (0, -1, -0.33), "intensity": 4.0,
                                "outer_cone_angle": 0.6, "inner_cone_angle": 0.4}], str(tmp_path / "t.png"))
    assert aimed["top"][0] > 0.1
