"""The summary at the top of a G-code file, true for every slicer.

CuraEngine run stand-alone writes placeholders there (``;TIME:6666``, ``;Filament used: 0m``,
``;MINX:2.14748e+06`` … ``;MAXZ:-2.14748e+06``: its front end fills them in afterwards);
PrusaSlicer writes no such block at all, only its own comments at the end. Both get the same
block here, from the facts the slicer reported and the bounds of the parts as placed on the bed,
so a print server, the toolpath preview and a reader of the file see one shape.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write

HEAD_BYTES = 65536
# every line of Cura's leading block that dstudio rewrites (the rest is kept as Cura wrote it)
_CURA_FIELDS = re.compile(rb"^;(TIME|PRINT\.TIME|Filament used|Layer height|LAYER_COUNT|MIN[XYZ]|MAX[XYZ]):.*$",
                          re.MULTILINE)


@dataclass(frozen=True)
class HeaderFacts:
    """What the header says: print time, filament, layers and the print's bounds (mm)."""

    flavor: str
    time_s: float
    filament_m: float
    layer_height: float
    layers: int
    bounds: tuple[tuple[float, float, float], tuple[float, float, float]]

    def lines(self) -> list[str]:
        (x0, y0, z0), (x1, y1, z1) = self.bounds
        return [f";FLAVOR:{self.flavor}", f";TIME:{int(round(self.time_s))}",
                f";Filament used: {self.filament_m:.5f}m", f";Layer height: {self.layer_height:g}",
                f";LAYER_COUNT:{self.layers}",
                f";MINX:{x0:.3f}", f";MINY:{y0:.3f}", f";MINZ:{z0:.3f}",
                f";MAXX:{x1:.3f}", f";MAXY:{y1:.3f}", f";MAXZ:{z1:.3f}"]


def write_with_header(raw: Path, out: Path, facts: HeaderFacts) -> None:
    """Copy ``raw`` to ``out`` (atomically) with ``facts`` as its summary block: Cura's own
    block has its fields replaced in place; a file without one gets the block in front."""
    block = "\n".join(facts.lines()).encode()

    def copy(dst) -> None:
        with open(raw, "rb") as src:
            head = src.read(HEAD_BYTES)
            if head.startswith(b";FLAVOR:"):
                end = head.find(b"\n\n")
                end = end if end >= 0 else head.find(b"\n;Generated with")
                cura_block, rest = (head[:end], head[end:]) if end >= 0 else (head, b"")
                kept = [ln for ln in cura_block.split(b"\n")
                        if not ln.startswith(b";FLAVOR:") and not _CURA_FIELDS.match(ln)]
                head = block + b"".join(b"\n" + ln for ln in kept) + rest
            else:
                head = block + b"\n" + head
            dst.write(head)
            shutil.copyfileobj(src, dst, 1 << 20)

    atomic_write(out, copy)


def read_header(path: Path) -> dict[str, str]:
    """The ``;KEY:value`` lines of the leading comment block (for tests and the preview)."""
    fields: dict[str, str] = {}
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith(";"):
                if line:
                    break
                continue
            key, sep, value = line[1:].partition(":")
            if sep:
                fields.setdefault(key.strip(), value.strip())
    return fields
