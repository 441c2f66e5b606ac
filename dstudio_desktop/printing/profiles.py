"""Printer and material profiles: the bundled ones in resources/printing, plus the user's own.

A user adds or overrides profiles by dropping ``printers.json`` / ``materials.json`` (same
shape as the bundled files) into ``$DSTUDIO_HOME/printing/`` (``settings.user_printing_dir()``).
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import DStudioError
from ..resources import resource
from ..settings import user_printing_dir

SLICER_KINDS = ("cura", "prusa")

# Plain dataclasses checked field by field (not pydantic models): every `dstudio slice` reads
# these before its slicer can start, and pydantic costs ~0.1 s to import there.


class ProfileError(ValueError):
    """A profile field that is missing, of the wrong type or out of range (``where`` names it)."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ProfileError(name, "must be a non-empty string")
    return value


def _number(name: str, value: Any, minimum: float = 0.0, inclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileError(name, f"must be a number, not {value!r}")
    if value < minimum or (value == minimum and not inclusive):
        raise ProfileError(name, f"must be {'at least' if inclusive else 'greater than'} {minimum:g}, not {value!r}")
    return float(value)


def _slicers(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value or any(v not in SLICER_KINDS for v in value):
        raise ProfileError(name, f"must be a list of {' and '.join(SLICER_KINDS)}, not {value!r}")
    return tuple(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(name, f"must be true or false, not {value!r}")
    return value


class _Profile:
    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class PrinterProfile(_Profile):
    id: str
    name: str
    build_volume_mm: tuple[float, float, float]
    cura_definition: str = "fdmprinter"
    nozzle_mm: float = 0.4
    filament_diameter_mm: float = 1.75
    gcode_flavor: str = "Marlin"
    heated_bed: bool = True
    #: the slicers that can drive this printer ("cura", "prusa"; PrusaSlicer has no UltiGCode)
    slicers: tuple[str, ...] = SLICER_KINDS

    def __post_init__(self) -> None:
        for name in ("id", "name", "cura_definition", "gcode_flavor"):
            _text(name, getattr(self, name))
        volume = self.build_volume_mm
        if not isinstance(volume, (list, tuple)) or len(volume) != 3:
            raise ProfileError("build_volume_mm", f"must be three numbers (width, depth, height), not {volume!r}")
        self._set("build_volume_mm", tuple(_number(f"build_volume_mm[{i}]", v) for i, v in enumerate(volume)))
        self._set("nozzle_mm", _number("nozzle_mm", self.nozzle_mm))
        self._set("filament_diameter_mm", _number("filament_diameter_mm", self.filament_diameter_mm))
        _flag("heated_bed", self.heated_bed)
        self._set("slicers", _slicers("slicers", self.slicers))


@dataclass(frozen=True)
class MaterialProfile(_Profile):
    id: str
    name: str
    density_g_cm3: float
    nozzle_temp_c: float
    bed_temp_c: float
    slicers: tuple[str, ...] = SLICER_KINDS

    def __post_init__(self) -> None:
        _text("id", self.id)
        _text("name", self.name)
        self._set("density_g_cm3", _number("density_g_cm3", self.density_g_cm3))
        self._set("nozzle_temp_c", _number("nozzle_temp_c", self.nozzle_temp_c))
        self._set("bed_temp_c", _number("bed_temp_c", self.bed_temp_c, inclusive=True))
        self._set("slicers", _slicers("slicers", self.slicers))


def _profile(cls: type, item: Any) -> Any:
    if not isinstance(item, dict):
        raise ProfileError("", f"must be an object, not {type(item).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(item) - known)
    if unknown:
        raise ProfileError(unknown[0], "is not a profile field")
    missing = [f.name for f in fields(cls) if f.name not in item and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise ProfileError(missing[0], "is missing")
    return cls(**item)


def _read(path: Path, key: str, cls: type) -> dict[str, Any]:
    try:
        items = json.loads(path.read_text())[key]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DStudioError(f"{path}: not a valid {key} profile file ({err})") from None
    if not isinstance(items, list):
        raise DStudioError(f"{path}: {key} must be a list of profiles")
    found = {}
    for i, item in enumerate(items):
        try:
            profile = _profile(cls, item)
        except ProfileError as err:
            where = f"{key}[{i}]" + (f".{err.where}" if err.where else "")
            raise DStudioError(f"{path}: {where}: {err.problem}") from None
        found[profile.id] = profile
    return found


def _profiles(filename: str, key: str, cls: type) -> dict[str, Any]:
    found = _read(resource("printing", filename), key, cls)
    user = user_printing_dir() / filename
    if user.is_file():
        found.update(_read(user, key, cls))
    return found


def printers() -> dict[str, PrinterProfile]:
    return _profiles("printers.json", "printers", PrinterProfile)


def materials() -> dict[str, MaterialProfile]:
    return _profiles("materials.json", "materials", MaterialProfile)


def supported_slicers(printer: PrinterProfile, material: MaterialProfile) -> tuple[str, ...]:
    """The slicers both profiles support, in the printer's order of preference."""
    return tuple(s for s in printer.slicers if s in material.slicers)


def pick(profiles: dict[str, Any], key: str, what: str) -> Any:
    """A profile by id or (case-insensitive) name; an error lists the choices."""
    for profile in profiles.values():
        if key in (profile.id, profile.name) or key.lower() in (profile.id.lower(), profile.name.lower()):
            return profile
    raise DStudioError(f"no {what} {key!r}; choose one of {', '.join(sorted(profiles))}")
