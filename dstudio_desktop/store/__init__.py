"""The local workspace: SQLite for records, a content-addressed store for bytes."""

from .blobs import BlobStore, sha256_bytes
from .paths import workspace_home
from .workspace import Workspace

__all__ = ["BlobStore", "Workspace", "sha256_bytes", "workspace_home"]
