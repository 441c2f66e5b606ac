"""Content-addressed file storage: bytes are stored once under their sha256."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Optional

from ..atomic import atomic_write

STALE_PART_S = 3600.0  # a temp file untouched this long has no writer left


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

    def clean_partial(self, now: Optional[float] = None) -> int:
        """Remove temp files a crashed writer left behind; returns how many. A file written to
        in the last STALE_PART_S is left alone: it is another writer's, under way (the app's
        reading thread, the CLI beside the app), and deleting it failed that writer's import."""
        now = time.time() if now is None else now
        count = 0
        for leftover in self.tmp.glob("*.part"):
            try:
                if now - leftover.stat().st_mtime < STALE_PART_S:
                    continue
                leftover.unlink()
            except FileNotFoundError:
                continue  # its writer finished (renamed it) meanwhile
            count += 1
        return count
