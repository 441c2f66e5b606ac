"""A scene in transit between files and projects: nodes, materials, and their data.

Nodes and materials are the core model's own types; geometry and textures are
keyed by the asset id the nodes and materials already reference, so the same
structure is what an importer produces and what an exporter consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core import Material, Node


@dataclass
class Texture:
    name: str
    data: bytes
    media_type: str


@dataclass
class SceneData:
    nodes: list[Node]
    materials: list[Material] = field(default_factory=list)
    meshes: dict = field(default_factory=dict)  # asset id -> MeshData
    textures: dict[str, Texture] = field(default_factory=dict)
    source: str = ""
    units: str = "m"
    up: str = "y"
    warnings: list[str] = field(default_factory=list)

    def material(self, material_id: Optional[str]) -> Optional[Material]:
        return next((m for m in self.materials if m.id == material_id), None)

    def world_geometry(self) -> list[tuple[Node, np.ndarray]]:
        """(node, world matrix) for every visible mesh or point-cloud node."""
        from ..core import SceneGraph

        graph = SceneGraph.model_construct(nodes=self.nodes)
        out = []
        hidden: set[str] = set()
        for node, parent in graph.walk():
            if not node.visible or (parent is not None and parent.id in hidden):
                hidden.add(node.id)
        for node, m in graph.world_matrices():
            if node.asset_id and node.id not in hidden and node.asset_id in self.meshes:
                out.append((node, m))
        return out

    def counts(self) -> dict[str, int]:
        geo = self.world_geometry()
        return {
            "nodes": sum(1 for _ in _walk(self.nodes)),
            "vertices": sum(self.meshes[n.asset_id].vertex_count for n, _ in geo),
            "triangles": sum(self.meshes[n.asset_id].triangle_count for n, _ in geo),
            "materials": len(self.materials),
        }


def _walk(nodes: list[Node]):
    for n in nodes:
        yield n
        yield from _walk(n.children)
