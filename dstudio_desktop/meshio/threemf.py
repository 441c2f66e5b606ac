"""3MF's base materials, written and read here (trimesh reads and writes 3MF geometry only).

Each object is written under its node's own name with a ``pid``/``pindex`` pointing at a
``<base>`` in one ``<basematerials>`` group, named as the material and coloured with its
base colour (3MF's ``displaycolor`` is sRGB ``#RRGGBBAA``; the scene's factors are linear).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import quoteattr

import numpy as np

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)


def _to_srgb(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def display_color(rgba: tuple[float, ...]) -> str:
    srgb = [_to_srgb(min(max(c, 0.0), 1.0)) for c in rgba[:3]] + [min(max(rgba[3], 0.0), 1.0)]
    return "#" + "".join(f"{round(c * 255):02X}" for c in srgb)


def parse_display_color(text: str) -> Optional[tuple[float, float, float, float]]:
    m = re.fullmatch(r"#([0-9A-Fa-f]{6})([0-9A-Fa-f]{2})?", text.strip())
    if not m:
        return None
    raw = m.group(1) + (m.group(2) or "FF")
    vals = [int(raw[i:i + 2], 16) / 255.0 for i in range(0, 8, 2)]
    return (*(_to_linear(c) for c in vals[:3]), vals[3])


def write_3mf(objects: list[tuple[str, np.ndarray, np.ndarray, Optional[tuple[str, tuple]]]], unit: str) -> bytes:
    """``objects``: (name, vertices, triangles, (material name, linear RGBA) or None), in file coordinates."""
    bases: dict[tuple, int] = {}
    for *_, mat in objects:
        if mat is not None and mat not in bases:
            bases[mat] = len(bases)
    model = io.StringIO()
    model.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<model unit="{unit}" xml:lang="en-US" xmlns="{CORE}">\n'
                '<metadata name="Application">Design Studio Desktop</metadata>\n<resources>\n')
    if bases:
        model.write('<basematerials id="1">')
        for name, rgba in bases:
            model.write(f"<base name={quoteattr(name)} displaycolor=\"{display_color(rgba)}\"/>")
        model.write("</basematerials>\n")
    for i, (name, verts, faces, mat) in enumerate(objects):
        material = f' pid="1" pindex="{bases[mat]}"' if mat is not None else ""
        model.write(f'<object id="{i + 2}" name={quoteattr(name)} type="model"{material}><mesh><vertices>')
        model.write("".join(f'<vertex x="{x:.9g}" y="{y:.9g}" z="{z:.9g}"/>' for x, y, z in verts))
        model.write("</vertices><triangles>")
        model.write("".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in faces.astype(np.int64)))
        model.write("</triangles></mesh></object>\n")
    model.write("</resources>\n<build>")
    model.write("".join(f'<item objectid="{i + 2}"/>' for i in range(len(objects))))
    model.write("</build>\n</model>\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("3D/3dmodel.model", model.getvalue())
    return buf.getvalue()


def base_materials(path: Path) -> dict[str, tuple[str, tuple[float, float, float, float]]]:
    """Object name -> (base material name, linear RGBA) for each 3MF object with a base material."""
    from lxml import etree

    out: dict[str, tuple[str, tuple[float, float, float, float]]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.lower().endswith(".model")), None)
            if name is None:
                return out
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
            root = etree.fromstring(zf.read(name), parser)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error,
            etree.XMLSyntaxError):
        return out  # trimesh read the geometry; colours it cannot have are not worth refusing the file for
    groups: dict[str, list[tuple[str, tuple]]] = {}
    for group in root.iter("{*}basematerials"):
        entries = []
        for base in group.iter("{*}base"):
            colour = parse_display_color(base.get("displaycolor", ""))
            if colour is not None:
                entries.append((base.get("name") or "material", colour))
        groups[group.get("id", "")] = entries
    for obj in root.iter("{*}object"):
        entries = groups.get(obj.get("pid", ""), [])
        try:
            index = int(obj.get("pindex", "0"))
        except ValueError:
            continue
        if 0 <= index < len(entries):
            out[obj.get("name", obj.get("id", ""))] = entries[index]
    return out
