"""G-code read back as toolpaths: per layer, the moves as segments, each an extrusion or a
travel, with the feature type the slicer marked it with (``;TYPE:WALL-OUTER`` from CuraEngine,
``;TYPE:External perimeter`` from PrusaSlicer). For the toolpath preview and the tests.

Layers start at CuraEngine's ``;LAYER:n`` and PrusaSlicer's ``;LAYER_CHANGE`` comments; moves
before the first layer (start G-code, a prime line) are layer -1 and not shown. Absolute and
relative extrusion (M82/M83) and ``G92`` resets are followed; arcs (G2/G3) are drawn as chords.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..core.progress import CancelToken, ProgressCallback, check, no_progress
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


# What the preview takes on: a real print has some thousands of layers and some millions of
# moves; a file past these is refused with a clear line rather than filling the memory.
MAX_GCODE_BYTES = 1 << 30
MAX_LAYERS = 100_000
MAX_MOVES = 20_000_000
MAX_COORDINATE_MM = 100_000.0     # 100 m: beyond any printer (and what a camera can frame)
_BINARY_GCODE_MAGIC = b"GCDE"     # PrusaSlicer's binary G-code (.bgcode)


def _text_of(path: Path) -> str:
    """The file's text, once it is known to be a readable G-code text of a size the preview takes."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise DStudioError(f"{path}: the file is empty, not G-code")
        if size > MAX_GCODE_BYTES:
            raise DStudioError(f"{path}: {size / 1e9:.1f} GB is more G-code than the preview reads "
                               f"({MAX_GCODE_BYTES / 1e9:.1f} GB at most)")
        with open(path, "rb") as fh:
            data = fh.read(MAX_GCODE_BYTES + 1)
    except OSError as err:
        raise DStudioError(f"{path}: cannot read the G-code ({err.strerror or err})") from None
    if len(data) > MAX_GCODE_BYTES:   # it grew (or its size was not what stat said)
        raise DStudioError(f"{path}: more G-code than the preview reads ({MAX_GCODE_BYTES / 1e9:.1f} GB at most)")
    if data.startswith(_BINARY_GCODE_MAGIC):
        raise DStudioError(f"{path}: binary G-code (.bgcode), which the preview does not read; "
                           "export text G-code from the slicer")
    if b"\0" in data[:65536]:
        raise DStudioError(f"{path}: a binary file, not G-code text")
    return data.decode("utf-8", errors="replace")


def read_toolpath(path: Path, progress: ProgressCallback = no_progress,
                  cancel: Optional[CancelToken] = None) -> Toolpath:
    """Every layer's moves; a file that is not G-code the preview can show is one clear error
    naming it (empty, binary, too large, no layers, coordinates no printer has)."""
    path = Path(path)
    text = _text_of(path)
    toolpath = Toolpath()
    index = {TRAVEL: 0}
    x = y = z = e = 0.0
    relative_e = relative_xyz = False
    feature = 0
    current = array("f")      # 8 floats a move: x0 y0 z0 x1 y1 z1, extruding, feature
    moves = 0
    layer_started = False

    def close_layer() -> None:
        if current:
            arr = np.frombuffer(current, dtype=np.float32).reshape(-1, 8).copy()
            toolpath.layers.append(Layer(float(np.median(arr[:, 5])), arr[:, :6], arr[:, 6] > 0.5,
                                         arr[:, 7].astype(np.int32)))
            del current[:]

    lines = text.splitlines()
    del text
    step = 200_000
    for number, raw in enumerate(lines, 1):
        if number % step == 0:
            check(cancel, "reading the toolpath")
            progress(number / len(lines), "reading the toolpath")
        line = raw.strip()
        if not line:
            continue
        if line[0] == ";":
            if line.startswith(";LAYER:") or line.startswith(";LAYER_CHANGE"):
                if layer_started:
                    close_layer()
                    if len(toolpath.layers) > MAX_LAYERS:
                        raise DStudioError(f"{path}: more than {MAX_LAYERS:,} layers, more than the preview shows")
                layer_started = True
            elif line.startswith(";TYPE:"):
                name = _feature_name(line[6:])[:80]
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
            if not max(abs(nx), abs(ny), abs(nz)) <= MAX_COORDINATE_MM:   # also catches inf and nan
                raise DStudioError(f"{path}: line {number} moves to {raw.strip()[:60]!r}, "
                                   "coordinates no printer has")
            extruded = False
            if "E" in words:
                ne = e + words["E"] if relative_e else words["E"]
                extruded = ne > e + 1e-9
                e = ne
            if layer_started and (nx != x or ny != y):
                current.extend((x, y, z, nx, ny, nz, 1.0 if extruded else 0.0, feature if extruded else 0))
                moves += 1
                if moves > MAX_MOVES:
                    raise DStudioError(f"{path}: more than {MAX_MOVES:,} moves, more than the preview shows")
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
