"""What each role may do, as the backend's row-level security has it: owners and editors
edit the scene, reviewers read and annotate, viewers read. The app checks these in its
commands (not only by greying buttons), so a reviewer's edit never reaches the model."""

from __future__ import annotations

from typing import Literal

from ..errors import PermissionDenied

Role = Literal["owner", "editor", "reviewer", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "editor", "reviewer", "viewer")
RIGHTS: dict[str, set[str]] = {
    "owner": {"edit", "annotate"},
    "editor": {"edit", "annotate"},
    "reviewer": {"annotate"},
    "viewer": set(),
}
WHAT = {"edit": "change the scene", "annotate": "annotate"}


def can(role: str, right: str) -> bool:
    return right in RIGHTS.get(role, set())


def require(role: str, right: str, project_name: str = "this project") -> None:
    if not can(role, right):
        raise PermissionDenied(f"{project_name}: a {role} may not {WHAT[right]}")
