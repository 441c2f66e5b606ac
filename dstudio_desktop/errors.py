"""Errors a user can cause. Each carries a message written for a person.

The CLI and the UI show ``str(error)`` and nothing else; anything that is not a
``DStudioError`` is a bug in our code and is reported as such.
"""

from __future__ import annotations

from pathlib import Path


class DStudioError(Exception):
    """Base class for every error the user can cause or fix."""


class DocumentError(DStudioError):
    """A JSON document (scene graph, materials, ...) is invalid; names the field."""

    def __init__(self, document: str, field: str, problem: str) -> None:
        self.document = document
        self.field = field
        self.problem = problem
        where = f"{document}.{field}" if field else document
        super().__init__(f"{where}: {problem}")


class MeshFileError(DStudioError):
    """A model file cannot be read or written; names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class NotFoundError(DStudioError):
    """A project, node, version or asset the user named does not exist."""


class WorkspaceError(DStudioError):
    """The local workspace cannot be opened or written."""


class Cancelled(DStudioError):
    """The user cancelled a long operation."""

    def __init__(self, what: str = "operation") -> None:
        super().__init__(f"{what} cancelled")


class ConflictError(DStudioError):
    """A save was based on an older revision of the project than the one stored: someone else
    (a CLI command, a sync pull, a finished job) wrote it meanwhile. Nothing was written."""

    def __init__(self, project_name: str, base_revision: int | None, stored_revision: int) -> None:
        self.base_revision = base_revision
        self.stored_revision = stored_revision
        super().__init__(f"project {project_name!r} was changed elsewhere (revision {stored_revision}, this copy "
                         f"was based on {base_revision}); nothing was overwritten")


class PermissionDenied(DStudioError):
    """The user's role on the project does not allow this (a reviewer editing the scene)."""
