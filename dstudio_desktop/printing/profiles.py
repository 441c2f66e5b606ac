"""Printer and material profiles: the bundled ones in resources/printing, plus the user's own.

A user adds or overrides profiles by dropping ``printers.json`` / ``materials.json`` (same
shape as the bundled files) into ``$DSTUDIO_HOME/printing/`` (``settings.user_printing_dir()``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.schema import format_loc
from ..errors import DStudioError
from ..resources import resource
from ..settings import user_printing_dir


class PrinterProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    cura_definition: str = "fdmprinter"
    build_volume_mm: tuple[float, float, float]
    nozzle_mm: float = Field(default=0.4, gt=0)
    filament_diameter_mm: float = Field(default=1.75, gt=0)
    gcode_flavor: str = "Marlin"
    heated_bed: bool = True
    #: the slicers that can drive this printer ("cura", "prusa"; PrusaSlicer has no UltiGCode)
    slicers: tuple[str, ...] = ("cura", "prusa")


class MaterialProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    density_g_cm3: float = Field(gt=0)
    nozzle_temp_c: float = Field(gt=0)
    bed_temp_c: float = Field(ge=0)
    slicers: tuple[str, ...] = ("cura", "prusa")


def _read(path: Path, key: str, cls: type[BaseModel]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        items = data[key]
        return {p.id: p for p in (cls.model_validate(item) for item in items)}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DStudioError(f"{path}: not a valid {key} profile file ({err})") from None
    except ValidationError as err:
        first = err.errors()[0]
        raise DStudioError(f"{path}: {key}{format_loc(tuple(first['loc']))}: {first['msg']}") from None


def _profiles(filename: str, key: str, cls: type[BaseModel]) -> dict[str, Any]:
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
