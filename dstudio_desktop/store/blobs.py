"""Content-addressed file storage: bytes are stored once under their sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..atomic import atomic_write


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files named by their sha256, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its sha256; a second put of the same bytes writes nothing."""
        digest = sha256_bytes(data)
        final = self.path(digest)
        if final.is_file() and final.stat().st_size == len(data):
            return digest
        atomic_write(final, data, tmp_dir=self.tmp)
        return digest

    def clean_partial(self) -> int:
        """Remove temp files a crashed writer left behind; returns how many."""
        count = 0
        for leftover in self.tmp.glob("*.part"):
            leftover.unlink(missing_ok=True)
            count += 1
        return count
