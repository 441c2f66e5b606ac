"""Edit commands: every change the editor makes, as do/undo pairs on a ``Project``.

Commands hold ids and JSON, never model objects, so they stay valid after other
commands replaced those objects. ``do`` validates before it changes anything;
the UI wraps each command in a ``QUndoCommand``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ..errors import DStudioError
from .gizmo_math import translated
from .materials import Material
from .merge import merge
from .project import SNAPSHOT_DOCUMENTS, Project, check_references
from .scene import Node, SceneGraph
from .schema import load_document, new_id
from .transform import Transform


class Command:
    """Base: ``label`` is what Edit > Undo shows."""

    label = "Edit"

    def do(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError


def rebase(start: dict[str, Any], end: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the change from ``start`` to ``end`` applied: undoing or redoing a
    snapshot edit keeps what arrived from elsewhere since (a part imported from the command line
    survives an undo of the duplicate made before it). Where the two overlap, ``end`` wins."""
    return merge(start, end, current).value


def _node(project: Project, node_id: str) -> Node:
    node = project.scene_graph.find(node_id)
    if node is None:
        raise DStudioError(f"no node {node_id} in project {project.name!r}")
    return node


NODE_FIELDS = {"name", "transform", "visible", "locked", "material_id"}


@dataclass
class SetNodeField(Command):
    node_id: str
    field: str
    value: Any
    old: Any = None

    def __post_init__(self) -> None:
        if self.field not in NODE_FIELDS:
            raise ValueError(f"{self.field} is not an editable node field")
        self.label = f"Change {self.field.replace('_', ' ')}"

    def _set(self, project: Project, value: Any) -> None:
        node = _node(project, self.node_id)
        if self.field == "material_id" and value is not None and project.material_overrides.get(value) is None:
            raise DStudioError(f"no material {value} in project {project.name!r}")
        setattr(node, self.field, Transform.model_validate(value) if self.field == "transform" else value)

    def do(self, project: Project) -> None:
        node = _node(project, self.node_id)
        if node.locked and self.field not in ("locked", "visible"):
            raise DStudioError(f"{node.name!r} is locked; unlock it to edit it")
        current = getattr(node, self.field)
        self.old = current.to_json() if isinstance(current, Transform) else current
        self._set(project, self.value.to_json() if isinstance(self.value, Transform) else self.value)

    def undo(self, project: Project) -> None:
        self._set(project, self.old)


@dataclass
class SetMaterialField(Command):
    material_id: str
    field: str
    value: Any
    old: Any = None

    def __post_init__(self) -> None:
        self.label = f"Change {self.field.replace('_', ' ')}"

    def _material(self, project: Project) -> Material:
        mat = project.material_overrides.get(self.material_id)
        if mat is None:
            raise DStudioError(f"no material {self.material_id} in project {project.name!r}")
        return mat

    def do(self, project: Project) -> None:
        mat = self._material(project)
        self.old = getattr(mat, self.field)
        setattr(mat, self.field, self.value)

    def undo(self, project: Project) -> None:
        setattr(self._material(project), self.field, self.old)


@dataclass
class AddMaterial(Command):
    material: dict[str, Any]
    label: str = "Add material"

    def do(self, project: Project) -> None:
        mat = Material.model_validate(self.material)
        if project.material_overrides.get(mat.id) is not None:
            raise DStudioError(f"material {mat.id} already exists")
        project.material_overrides.materials = [*project.material_overrides.materials, mat]
        project.changed.emit("material_overrides")

    def undo(self, project: Project) -> None:
        project.material_overrides.materials = [m for m in project.material_overrides.materials
                                                if m.id != self.material["id"]]
        project.changed.emit("material_overrides")


@dataclass
class ReplaceDocument(Command):
    """Swap a whole document (lighting, environment, camera presets) for a new version of it."""

    name: str
    value: dict[str, Any]
    label: str = "Edit"
    old: Optional[dict[str, Any]] = None

    def _put(self, project: Project, data: dict[str, Any]) -> None:
        doc = load_document(SNAPSHOT_DOCUMENTS[self.name], data)
        setattr(project, self.name, doc)
        check_references(project)
        project.changed.emit(self.name)

    def do(self, project: Project) -> None:
        if self.name not in SNAPSHOT_DOCUMENTS or self.name == "scene_graph":
            raise ValueError(f"{self.name} cannot be replaced as a whole")
        if self.old is None:
            self.old = getattr(project, self.name).to_json()
            self._put(project, self.value)
        else:  # redo, on top of whatever arrived from elsewhere since
            self._put(project, rebase(self.old, self.value, getattr(project, self.name).to_json()))

    def undo(self, project: Project) -> None:
        self._put(project, rebase(self.value, self.old, getattr(project, self.name).to_json()))


@dataclass
class _TreeEdit(Command):
    """Structural edits: snapshot the scene graph JSON before, rebuild it on undo."""

    before: Optional[dict[str, Any]] = field(default=None, init=False)
    after: Optional[dict[str, Any]] = field(default=None, init=False)

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        raise NotImplementedError

    def do(self, project: Project) -> None:
        if self.after is None:
            self.before = project.scene_graph.to_json()
            work = load_document(SceneGraph, self.before)
            nodes = self.edit(work.nodes, project)
            self.after = SceneGraph(nodes=nodes).to_json()  # validates ids and kinds
            self._put(project, self.after)
        else:  # redo, on top of whatever arrived from elsewhere since
            self._put(project, rebase(self.before, self.after, project.scene_graph.to_json()))

    def undo(self, project: Project) -> None:
        self._put(project, rebase(self.after, self.before, project.scene_graph.to_json()))

    @staticmethod
    def _put(project: Project, data: dict[str, Any]) -> None:
        project.scene_graph = load_document(SceneGraph, data)
        check_references(project)
        project.changed.emit("scene_graph")


def _detach(nodes: list[Node], node_id: str) -> tuple[Optional[Node], list[Node]]:
    """Remove ``node_id`` from the tree; return it and the list it was in."""
    for i, node in enumerate(nodes):
        if node.id == node_id:
            return nodes.pop(i), nodes
        found, where = _detach(node.children, node_id)
        if found is not None:
            return found, where
    return None, nodes


def _world(nodes: list[Node], node_id: str) -> np.ndarray:
    return SceneGraph.model_construct(nodes=nodes).world_matrix(node_id)


@dataclass
class AddNodes(_TreeEdit):
    nodes: list[dict[str, Any]] = field(default_factory=list)
    parent_id: Optional[str] = None
    label: str = "Add"

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        new = [Node.model_validate(n) for n in self.nodes]
        if self.parent_id is None:
            return [*nodes, *new]
        parent = SceneGraph.model_construct(nodes=nodes).find(self.parent_id)
        if parent is None:
            raise DStudioError(f"no node {self.parent_id} to add under")
        parent.children = [*parent.children, *new]
        return nodes


@dataclass
class RemoveNodes(_TreeEdit):
    node_ids: list[str] = field(default_factory=list)
    label: str = "Delete"

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        for node_id in self.node_ids:
            found, _ = _detach(nodes, node_id)
            if found is None:
                raise DStudioError(f"no node {node_id} to delete")
            if found.locked:
                raise DStudioError(f"{found.name!r} is locked; unlock it to delete it")
        return nodes


@dataclass
class MoveNode(_TreeEdit):
    """Reparent a node (None: to the top level) keeping where it is in the world."""

    node_id: str = ""
    new_parent_id: Optional[str] = None
    index: Optional[int] = None
    label: str = "Move"

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        world = _world(nodes, self.node_id)
        graph = SceneGraph.model_construct(nodes=nodes)
        if self.new_parent_id is not None:
            target = graph.find(self.new_parent_id)
            if target is None:
                raise DStudioError(f"no node {self.new_parent_id} to move into")
            moving = graph.find(self.node_id)
            if moving is not None and any(n.id == target.id for n, _ in SceneGraph.model_construct(nodes=[moving]).walk()):
                raise DStudioError("a node cannot be moved into itself or its own children")
            parent_world = _world(nodes, self.new_parent_id)
        else:
            parent_world = np.eye(4)
        node, _ = _detach(nodes, self.node_id)
        if node is None:
            raise DStudioError(f"no node {self.node_id} to move")
        node.transform = Transform.from_matrix(np.linalg.inv(parent_world) @ world)
        siblings = nodes if self.new_parent_id is None else SceneGraph.model_construct(nodes=nodes).find(self.new_parent_id).children
        siblings.insert(len(siblings) if self.index is None else self.index, node)
        return nodes


@dataclass
class GroupNodes(_TreeEdit):
    node_ids: list[str] = field(default_factory=list)
    name: str = "Group"
    label: str = "Group"
    group_id: str = field(default_factory=new_id)

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        if not self.node_ids:
            raise DStudioError("select something to group")
        graph = SceneGraph.model_construct(nodes=nodes)
        parent = graph.parent_of(self.node_ids[0])
        siblings = parent.children if parent else nodes
        index = next(i for i, n in enumerate(siblings) if n.id == self.node_ids[0])
        members = []
        for node_id in self.node_ids:
            world = _world(nodes, node_id)
            node, _ = _detach(nodes, node_id)
            if node is None:
                raise DStudioError(f"no node {node_id} to group")
            members.append((node, world))
        parent_world = _world(nodes, parent.id) if parent else np.eye(4)
        for node, world in members:
            node.transform = Transform.from_matrix(np.linalg.inv(parent_world) @ world)
        group = Node(id=self.group_id, name=self.name, children=[n for n, _ in members])
        siblings.insert(min(index, len(siblings)), group)
        return nodes


@dataclass
class UngroupNodes(_TreeEdit):
    """Each group's children take its place among its siblings, keeping where they are in the world."""

    node_ids: list[str] = field(default_factory=list)
    label: str = "Ungroup"

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        for group_id in self.node_ids:
            graph = SceneGraph.model_construct(nodes=nodes)
            group = graph.find(group_id)
            if group is None:
                raise DStudioError(f"no node {group_id} to ungroup")
            if group.kind != "group" or not group.children:
                raise DStudioError(f"{group.name!r} is not a group with parts in it")
            parent = graph.parent_of(group_id)
            parent_world = _world(nodes, parent.id) if parent else np.eye(4)
            worlds = [(child, _world(nodes, child.id)) for child in group.children]
            siblings = parent.children if parent else nodes
            index = siblings.index(group)
            for child, world in worlds:
                child.transform = Transform.from_matrix(np.linalg.inv(parent_world) @ world)
            siblings[index:index + 1] = [child for child, _ in worlds]
        return nodes


def _fresh_ids(node: Node) -> Node:
    return node.model_copy(update={"id": new_id(), "children": [_fresh_ids(c) for c in node.children]})


@dataclass
class DuplicateNodes(_TreeEdit):
    """Copies beside their originals: ``offset`` is a move in world space (metres), so a copy is
    never hidden exactly on top of what it copies."""

    node_ids: list[str] = field(default_factory=list)
    label: str = "Duplicate"
    new_ids: list[str] = field(default_factory=list)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def edit(self, nodes: list[Node], project: Project) -> list[Node]:
        graph = SceneGraph.model_construct(nodes=nodes)
        for node_id in self.node_ids:
            original = graph.find(node_id)
            if original is None:
                raise DStudioError(f"no node {node_id} to duplicate")
            copy = _fresh_ids(Node.model_validate(original.to_json()))
            copy.name = f"{original.name} copy"[:256]
            parent = graph.parent_of(node_id)
            if any(self.offset):  # a world offset, whatever the parent's rotation or scale
                copy.transform = translated(copy.transform, graph.world_matrix(parent.id) if parent else np.eye(4),
                                            np.asarray(self.offset, dtype=float))
            siblings = parent.children if parent else nodes
            siblings.insert(siblings.index(original) + 1, copy)
            self.new_ids.append(copy.id)
        return nodes


@dataclass
class Macro(Command):
    """Several commands as one undo step (e.g. assign a material to a selection)."""

    commands: list[Command]
    label: str = "Edit"

    def do(self, project: Project) -> None:
        done: list[Command] = []
        try:
            for cmd in self.commands:
                cmd.do(project)
                done.append(cmd)
        except BaseException:
            for cmd in reversed(done):
                cmd.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(project)


@dataclass
class SetTransforms(Command):
    """New local transforms for several nodes as one undo step (a gizmo drag on a selection).

    ``transforms`` maps node ids to transform JSON; ``do`` checks every node before changing
    any, so a locked or missing node leaves the whole selection where it was."""

    transforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    label: str = "Transform"
    old: dict[str, dict[str, Any]] = field(default_factory=dict)

    def do(self, project: Project) -> None:
        nodes = {node_id: _node(project, node_id) for node_id in self.transforms}
        for node in nodes.values():
            if node.locked:
                raise DStudioError(f"{node.name!r} is locked; unlock it to move it")
        new = {node_id: Transform.model_validate(value) for node_id, value in self.transforms.items()}
        self.old = {node_id: node.transform.to_json() for node_id, node in nodes.items()}
        for node_id, node in nodes.items():
            node.transform = new[node_id]

    def undo(self, project: Project) -> None:
        for node_id, value in self.old.items():
            _node(project, node_id).transform = Transform.model_validate(value)
