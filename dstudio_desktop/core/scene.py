"""The scene graph: a tree of named nodes with transforms, geometry and materials."""

from __future__ import annotations

from typing import ClassVar, Iterator, Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from .schema import Document, Id, Model, Name, new_id, require_unique
from .transform import Transform

NodeKind = Literal["group", "mesh", "pointcloud", "light", "camera"]


class Node(Model):
    """One node of the scene tree. Geometry nodes reference an asset by id."""

    id: Id = Field(default_factory=new_id)
    name: Name
    kind: NodeKind = "group"
    transform: Transform = Field(default_factory=Transform)
    visible: bool = True
    locked: bool = False
    asset_id: Optional[Id] = None
    material_id: Optional[Id] = None
    children: list[Node] = Field(default_factory=list)

    @model_validator(mode="after")
    def _geometry_matches_kind(self) -> Node:
        if self.kind in ("mesh", "pointcloud") and self.asset_id is None:
            raise ValueError(f"a {self.kind} node needs an asset_id")
        if self.kind not in ("mesh", "pointcloud") and self.asset_id is not None:
            raise ValueError(f"a {self.kind} node cannot have an asset_id")
        return self


class SceneGraph(Document):
    """The ``scene_graph`` document: the top-level nodes of the scene."""

    DOC_NAME: ClassVar[str] = "scene_graph"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    nodes: list[Node] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> SceneGraph:
        require_unique([node.id for node, _ in self.walk()], "node")
        return self

    def walk(self) -> Iterator[tuple[Node, Optional[Node]]]:
        """Every node, depth first, with its parent (None at the top)."""
        stack: list[tuple[Node, Optional[Node]]] = [(n, None) for n in reversed(self.nodes)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((c, node) for c in reversed(node.children))

    def find(self, node_id: str) -> Optional[Node]:
        return next((n for n, _ in self.walk() if n.id == node_id), None)

    def parent_of(self, node_id: str) -> Optional[Node]:
        return next((p for n, p in self.walk() if n.id == node_id), None)

    def world_matrices(self, roots: Optional[list[Node]] = None) -> Iterator[tuple[Node, np.ndarray]]:
        """Every node under ``roots`` (default: all) with its world matrix."""
        stack = [(n, np.eye(4)) for n in reversed(roots if roots is not None else self.nodes)]
        while stack:
            node, parent_m = stack.pop()
            m = parent_m @ node.transform.matrix()
            yield node, m
            stack.extend((c, m) for c in reversed(node.children))

    def world_matrix(self, node_id: str) -> np.ndarray:
        for node, m in self.world_matrices():
            if node.id == node_id:
                return m
        raise KeyError(node_id)

    def asset_ids(self) -> set[str]:
        return {n.asset_id for n, _ in self.walk() if n.asset_id}

    def material_ids(self) -> set[str]:
        return {n.material_id for n, _ in self.walk() if n.material_id}
