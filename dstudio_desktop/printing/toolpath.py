"""G-code read back as toolpaths: per layer, the moves as segments, each an extrusion or a
travel, with the feature type the slicer marked it with (``;TYPE:WALL-OUTER`` from CuraEngine,
``;TYPE:External perimeter`` from PrusaSlicer). For the toolpath preview and the tests.

Layers start at CuraEngine's ``;LAYER:n`` and PrusaSlicer's ``;LAYER_CHANGE`` comments; moves
before the first layer (start G-code, a prime line) are layer -1 and not shown. Absolute and
relative extrusion (M82/M83) and ``G92`` resets are followed; arcs (G2/G3) are drawn as chords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DStudioError

_WORD = re.compile(r"([XYZEF])(-?\d*\.?\d+(?:[eE][-+]?\d+)?)")
TRAVEL = "travel"


@dataclass
class Layer:
    z: float
    segments: np.ndarray       # (n, 6) float32: x0 y0 z0 x1 y1 z1
    extruding: np.ndarray      # (n,) bool
    feature: np.ndarray        # (n,) int: index into Toolpath.features (0 = travel)


@dataclass
class Toolpath:
    layers: list[Layer] = field(default_factory=list)
    features: list[str] = field(default_factory=lambda: [TRAVEL])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The extent of every extrusion (mm)."""
        pts = [layer.segments[layer.extruding].reshape(-1, 3) for layer in self.layers if layer.extruding.any()]
        if not pts:
            return np.zeros(3), np.zeros(3)
        allp = np.concatenate(pts)
        return allp.min(axis=0), allp.max(axis=0)


def _feature_name(comment: str) -> str:
    return comment.strip().lower().replace("-", " ").replace("_", " ")


def read_toolpath(path: Path) -> Toolpath:
    """Every layer's moves; an unreadable file is one clear error naming it."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as err:
        raise DStudioError(f"{path}: cannot read the G-code ({err.strerror})") from None
    toolpath = Toolpath()
    index = {TRAVEL: 0}
    x = y = z = e = 0.0
    relative_e = relative_xyz = False
    feature = 0
    current: list[tuple] = []
    layer_started = False

    def close_layer() -> None:
        if current:
            arr = np.array(current, dtype=np.float32)
            toolpath.layers.append(Layer(float(np.median(arr[:, 5])), arr[:, :6], arr[:, 6] > 0.5,
                                         arr[:, 7].astype(np.int32)))
        current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0] == ";":
            if line.startswith(";LAYER:") or line.startswith(";LAYER_CHANGE"):
                if layer_started:
                    close_layer()
                layer_started = True
            elif line.startswith(";TYPE:"):
                name = _feature_name(line[6:])
                feature = index.setdefault(name, len(index))
                if feature == len(toolpath.features):
                    toolpath.features.append(name)
            continue
        code, _, rest = line.partition(";")[0].partition(" ")
        code = code.upper()
        if code in ("G0", "G1", "G2", "G3"):
            words = {k: float(v) for k, v in _WORD.findall(rest.upper())}
            nx = (x + words["X"] if relative_xyz else words["X"]) if "X" in words else x
            ny = (y + words["Y"] if relative_xyz else words["Y"]) if "Y" in words else y
            nz = (z + words["Z"] if relative_xyz else words["Z"]) if "Z" in words else z
            extruded = False
            if "E" in words:
                ne = e + words["E"] if relative_e else words["E"]
                extruded = ne > e + 1e-9
                e = ne
            if layer_started and (nx != x or ny != y):
                current.append((x, y, z, nx, ny, nz, 1.0 if extruded else 0.0, feature if extruded else 0))
            x, y, z = nx, ny, nz
        elif code == "G92":
            words = {k: float(v) for k, v in _WORD.findall(rest.upper())}
            e = words.get("E", e)
        elif code == "M82":
            relative_e = False
        elif code == "M83":
            relative_e = True
        elif code == "G90":
            relative_xyz = False
        elif code == "G91":
            relative_xyz = True
    close_layer()
    if not toolpath.layers:
        raise DStudioError(f"{path}: no layers found (is it G-code from a slicer?)")
    return toolpath
