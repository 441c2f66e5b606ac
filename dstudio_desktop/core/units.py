"""Display units: the scene is metres (as glTF is); people read and type lengths in the
project's display unit (millimetres unless they choose otherwise)."""

from __future__ import annotations

from typing import Literal

DisplayUnit = Literal["mm", "cm", "m", "in"]
#: metres per display unit
METRES_PER: dict[str, float] = {"mm": 0.001, "cm": 0.01, "m": 1.0, "in": 0.0254}
DEFAULT_UNIT: DisplayUnit = "mm"
#: decimals worth showing in each unit (a 0.01 mm step is below any printer's resolution)
DECIMALS: dict[str, int] = {"mm": 2, "cm": 3, "m": 4, "in": 3}


def to_display(metres: float, unit: str) -> float:
    return metres / METRES_PER[unit]


def from_display(value: float, unit: str) -> float:
    return value * METRES_PER[unit]


def format_length(metres: float, unit: str) -> str:
    return f"{to_display(metres, unit):.{DECIMALS[unit]}f} {unit}"
