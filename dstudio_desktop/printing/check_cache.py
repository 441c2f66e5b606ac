"""Printability findings (and the orientation advice) cached per part's geometry.

The checks cost seconds on a million triangles; the answer depends only on the triangles,
the bed and the checks' own version, so it is kept in the user's cache folder under a hash
of those, and a part sliced again (another material, another layer height) is not checked
again. A cache that cannot be read or written is only a slower check.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np

from ..atomic import atomic_write
from ..settings import cache_home
from .mesh_figures import Part
from .orient import best_orientation
from .printability import Finding, check

CHECKS_VERSION = 3   # bump when the checks change what they find


def geometry_key(mesh, build_volume_mm: Optional[tuple[float, float, float]]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{CHECKS_VERSION}:{build_volume_mm}".encode())
    digest.update(np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes())
    return digest.hexdigest()


def orientation_finding(mesh) -> Optional[Finding]:
    current, best = best_orientation(mesh)
    if best is current:
        return None
    return Finding("orientation", "info",
                   f"standing it on another side needs less support: {best.describe()} "
                   f"instead of {current.describe()}",
                   "let the slicer orient it automatically", cli="--orient")


def findings_of(part: Part, build_volume_mm: Optional[tuple[float, float, float]],
                printer_name: str) -> list[Finding]:
    """``printability.check`` plus the orientation advice, every figure worked out once. The
    advice (face figures, orientations scored) is worked out in a second thread while this one
    counts the edges: numpy lets go of the GIL in its sorts and array passes, so a part's checks
    end sooner once the slicer beside them has left a core free."""
    advice = ThreadPoolExecutor(1, thread_name_prefix="orientation advice")
    try:
        pending = advice.submit(orientation_finding, part)
        findings = check(part, build_volume_mm, printer_name)
        found = pending.result()
    finally:
        advice.shutdown(wait=True)
    return findings + ([found] if found is not None else [])


def cached_findings(mesh, build_volume_mm: Optional[tuple[float, float, float]],
                    printer_name: str) -> list[Finding]:
    """``printability.check`` plus the orientation advice, from the cache when this geometry was seen."""
    key = geometry_key(mesh, build_volume_mm)
    path = cache_home() / "printability" / f"{key}.json"
    try:
        return [Finding(**f) for f in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        pass
    findings = findings_of(Part.of(mesh), build_volume_mm, printer_name)
    try:
        text = json.dumps([f.to_json() for f in findings]).encode()
        atomic_write(path, text)
    except OSError:
        pass
    return findings
