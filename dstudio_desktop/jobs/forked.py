"""A function run in a forked copy of this process, its result handed back without copying
its arrays.

For work that would otherwise share the interpreter's lock with the GUI thread: reading a
model file while Qt and the main window are being made. On two cores, the reading done by a
thread took twice as long as alone, and the window's making slowed by as much; in a process of
its own each has a core.

The child pickles the result (protocol 5, its large buffers out of band) into one memfd and
passes the descriptor over a socket; the parent maps it copy-on-write, so the arrays it gets
are views of the pages the child wrote, and writable. Only where forking is safe: on Linux,
while this process runs a single thread (``ForkedCall.possible``; and before Qt starts);
elsewhere the caller runs the work in a thread.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import socket
import struct
import sys
import threading
import traceback
from typing import Any, Callable

from ..errors import DStudioError

_ALIGN = 64
_LENGTH = struct.Struct("!Q")


class ChildLost(DStudioError):
    """The child ended (killed, out of memory) before it answered."""


class ForkedCall:
    """``work()`` running in a forked child; ``result()`` waits for its value or raises its error."""

    @staticmethod
    def possible() -> bool:
        """Linux, and no Python thread but this one, whose locks a child could inherit held.
        Native threads are the caller's to rule out (Qt's, once its application runs);
        OpenBLAS's stop themselves around a fork."""
        return sys.platform.startswith("linux") and hasattr(os, "memfd_create") and threading.active_count() == 1

    def __init__(self, work: Callable[[], Any]) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()   # or the child would write the parent's buffered output again
        pid = os.fork()
        if pid == 0:
            parent.close()
            _serve(child, work)   # never returns
        child.close()
        self.pid = pid
        self._socket = parent
        self._outcome: Any = None
        self._done = False

    def done(self) -> bool:
        """True once the child has answered (or ended without an answer): ``result()`` will not wait."""
        return self._done or bool(select.select([self._socket], [], [], 0)[0])

    def result(self) -> Any:
        if not self._done:
            try:
                self._outcome = _receive(self._socket)
            finally:
                self._done = True
                self._socket.close()
                _reap(self.pid)
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value


def _serve(sock: socket.socket, work: Callable[[], Any]) -> None:
    code = 0
    try:
        try:
            outcome = ("ok", work())
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent
            outcome = ("error", _portable(exc))
        _send(sock, outcome)
    except BaseException:  # noqa: BLE001 - the parent is gone, or the result would not pickle
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):   # what the child itself wrote (nothing of the parent's)
            try:
                if stream is not None:
                    stream.flush()
            except BaseException:  # noqa: BLE001, S110 - a closed terminal must not keep the child alive
                pass
        os._exit(code)   # no atexit handlers


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling; else, with the same message, a ``DStudioError`` for one
    the user can act on, and a RuntimeError with the traceback for a bug."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an exception whose __init__ wants more than its message
        if isinstance(exc, DStudioError):
            return DStudioError(str(exc))
        return RuntimeError("".join(traceback.format_exception(exc)))


def _send(sock: socket.socket, outcome: Any) -> None:
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(outcome, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    offsets, total = [], 0
    for view in views:
        offsets.append(total)
        total += -(-view.nbytes // _ALIGN) * _ALIGN
    fd = os.memfd_create("dstudio-result", os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, max(total, 1))
        with mmap.mmap(fd, max(total, 1)) as area:
            for offset, view in zip(offsets, views, strict=True):
                area[offset:offset + view.nbytes] = view
        meta = pickle.dumps((header, offsets, [v.nbytes for v in views], total), protocol=5)
        socket.send_fds(sock, [_LENGTH.pack(len(meta))], [fd])
        sock.sendall(meta)
    finally:
        os.close(fd)


def _receive(sock: socket.socket) -> Any:
    message, fds, _, _ = socket.recv_fds(sock, _LENGTH.size, 1)
    if len(message) < _LENGTH.size or not fds:
        for fd in fds:
            os.close(fd)
        return "error", ChildLost("the child process ended without an answer")
    fd = fds[0]
    try:
        meta = _exactly(sock, _LENGTH.unpack(message)[0])
        if meta is None:
            return "error", ChildLost("the child process's answer was cut short")
        header, offsets, sizes, total = pickle.loads(meta)
        area = mmap.mmap(fd, max(total, 1), flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    whole = memoryview(area)
    return pickle.loads(header, buffers=[whole[o:o + n] for o, n in zip(offsets, sizes, strict=True)])


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _reap(pid: int) -> None:
    """Collect the child's exit without waiting for it: it may still be freeing its memory."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
    if not done:
        threading.Thread(target=_wait, args=(pid,), name="forked-reap", daemon=True).start()


def _wait(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


__all__ = ["ChildLost", "ForkedCall"]
