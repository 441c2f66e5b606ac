"""What a slice is asked for (``SliceOptions``) and what it gave (``SliceReport``): light
enough to import before the mesh libraries, so the quick path can start a slicer at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import DStudioError
from .printability import Finding

REPAIRS = ("holes", "normals", "degenerate", "flat")
ADHESION = ("none", "skirt", "brim", "raft")


@dataclass
class SliceOptions:
    printer: str = "ender3"
    material: str = "PLA"
    layer_height: float = 0.2
    infill: float = 20.0
    supports: bool = False
    adhesion: str = "skirt"
    color: Optional[str] = None
    scale_to_fit: bool = False
    repairs: tuple[str, ...] = ()
    units: Optional[str] = None
    up: Optional[str] = None
    slicer: Optional[str] = None     # "cura" or "prusa"; None: the first the profiles support
    arrange: bool = False            # pack the parts on the bed (else they keep where they were placed)
    orient: bool = False             # stand each part on its best side (``orient``)
    scale: float = 1.0               # a scale the user chose (e.g. 25.4 for a part made in inches)

    def validate(self) -> None:
        if not 0.04 <= self.layer_height <= 1.0:
            raise DStudioError(f"layer height {self.layer_height} mm is outside 0.04-1.0 mm")
        if not 0 <= self.infill <= 100:
            raise DStudioError(f"infill {self.infill}% is outside 0-100%")
        if self.adhesion not in ADHESION:
            raise DStudioError(f"adhesion {self.adhesion!r}: choose one of {', '.join(ADHESION)}")
        unknown = [r for r in self.repairs if r not in REPAIRS]
        if unknown:
            raise DStudioError(f"unknown repair {unknown[0]!r}: choose from {', '.join(REPAIRS)}")
        if not 1e-4 <= self.scale <= 1e4:
            raise DStudioError(f"scale {self.scale:g} is outside 0.0001-10000")


@dataclass
class SliceReport:
    output: Path
    slicer: str
    printer: str
    material: str
    estimated_time_s: float
    filament_mm: float
    filament_g: float
    layers: int
    findings: list[Finding]
    size_mm: list[float]
    repairs: list[str] = field(default_factory=list)
    scaled_by: float = 1.0
    project_id: Optional[str] = None
    print_job_id: Optional[str] = None
    gcode_asset_id: Optional[str] = None
    repaired_node_id: Optional[str] = None
    slice_seconds: float = 0.0
    slicer_kind: str = "cura"
    parts: list[dict[str, Any]] = field(default_factory=list)   # name and bounds of each part as placed
    bounds: list[list[float]] = field(default_factory=list)      # the whole plate as placed

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output), "slicer": self.slicer, "slicer_kind": self.slicer_kind,
            "printer": self.printer, "material": self.material,
            "estimated_time_s": self.estimated_time_s, "filament_mm": self.filament_mm, "filament_g": self.filament_g,
            "layers": self.layers, "findings": [f.to_json() for f in self.findings], "size_mm": self.size_mm,
            "repairs": self.repairs, "scaled_by": self.scaled_by, "project_id": self.project_id,
            "print_job_id": self.print_job_id, "gcode_asset_id": self.gcode_asset_id,
            "repaired_node_id": self.repaired_node_id, "slice_seconds": self.slice_seconds,
            "parts": self.parts, "bounds": self.bounds,
        }
