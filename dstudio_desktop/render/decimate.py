"""Quadric decimation (fast_simplification) in a child process of its own.

fast_simplification holds the interpreter lock for the whole call: 1.4 s at a stretch for a
2M-triangle part, during which the window could not even finish showing its first frame, let
alone answer the mouse. In a child (``python -m dstudio_desktop.render.decimate``, which the
frozen app runs too) it uses the other core and the window stays live. One child serves the
whole app, a request at a time; it exits when the app closes its end of the pipe.

Each message is a JSON header line, then the arrays' raw bytes (little-endian float32 xyz,
then uint32 faces); the reply is the same with the decimated arrays, or a header with "error".
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import BinaryIO, Optional

import numpy as np

_lock = threading.Lock()
_child: Optional[subprocess.Popen] = None


class DecimationFailed(RuntimeError):
    pass


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(min(left, 1 << 22))
        if not chunk:
            raise EOFError("the stream ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(stream: BinaryIO, header: dict, positions: np.ndarray, faces: np.ndarray) -> None:
    header = {**header, "vertices": len(positions), "faces": len(faces)}
    stream.write(json.dumps(header).encode() + b"\n")
    stream.write(memoryview(np.ascontiguousarray(positions, "<f4")).cast("B"))
    stream.write(memoryview(np.ascontiguousarray(faces, "<u4")).cast("B"))
    stream.flush()


def _receive(stream: BinaryIO) -> tuple[dict, np.ndarray, np.ndarray]:
    line = stream.readline()
    if not line:
        raise EOFError("the stream ended")
    header = json.loads(line)
    vertices, faces = int(header.get("vertices", 0)), int(header.get("faces", 0))
    if vertices < 0 or faces < 0 or vertices > 1 << 31 or faces > 1 << 31:
        raise ValueError(f"implausible sizes {vertices}, {faces}")
    positions = np.frombuffer(_read_exact(stream, vertices * 12), "<f4").reshape(vertices, 3)
    triangles = np.frombuffer(_read_exact(stream, faces * 12), "<u4").reshape(faces, 3)
    return header, positions, triangles


def _start() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


def simplify(positions: np.ndarray, faces: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``target`` triangles of the mesh, decimated by the child process (started on first
    use, restarted if it died). Blocks the calling thread, never the interpreter."""
    global _child
    with _lock:
        for attempt in range(2):
            if _child is None or _child.poll() is not None:
                _child = _start()
            try:
                _send(_child.stdin, {"target": int(target)}, positions, faces)
                header, kept, triangles = _receive(_child.stdout)
            except (OSError, EOFError, ValueError):
                _child.kill()
                _child = None
                if attempt:
                    raise DecimationFailed("the decimation process ended without an answer") from None
                continue
            if "error" in header:
                raise DecimationFailed(str(header["error"]))
            return kept, triangles
    raise AssertionError("unreachable")


def _serve() -> None:
    import os

    import fast_simplification

    # the replies get a descriptor of their own: anything a library prints goes to nothing
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    source = sys.stdin.buffer
    while True:
        try:
            header, positions, faces = _receive(source)
        except EOFError:
            return
        try:
            kept, triangles = fast_simplification.simplify(positions, faces.astype(np.int64),
                                                           target_count=int(header["target"]))
            _send(sink, {}, kept, triangles)
        except Exception as err:  # noqa: BLE001 - the app hears of it and draws the full mesh
            _send(sink, {"error": f"{type(err).__name__}: {err}"}, np.zeros((0, 3)), np.zeros((0, 3)))


if __name__ == "__main__":
    _serve()
