"""The one subprocess runner: long work in a child process (the reconstruction worker,
CuraEngine) as a ``Job``.

- The child runs in its own process group, so Cancel stops it and everything it started:
  SIGTERM to the group, SIGKILL after a grace period. Whatever the child leaves running when
  it ends is killed too. The group stays in our session: a terminal's Ctrl-C goes to the
  foreground group only (ours), and Linux's autogroup scheduler (where the kernel has it on,
  as on this machine) shares the CPU fairly between sessions, not threads, so a child in a
  session of its own would take CPU time from us whatever niceness our threads have (the
  printability checks beside a slicer, at nice 19, kept 2/3 of a core).
- Each output line goes through a line parser that turns it into an event dict in the
  vocabulary of ``gpu.worker``'s JSON lines: ``{"event": "progress", "fraction", "message"}``
  is relayed as progress, anything else is kept in ``ProcessRun.events`` for ``finish``.
  ``json_lines`` parses the worker's stdout; CuraEngine's stderr gets a parser of its own.
- The last lines of stderr are kept for the error message.
- With ``stage_beside``, the child writes into a private folder beside that target (its
  ``TMPDIR`` too); ``finish`` checks the run and may add files there, ``outputs`` are moved into
  place only when it returned, and the folder is removed whatever happens.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from ..atomic import atomic_write
from ..core.progress import CancelToken, ProgressCallback
from ..errors import Cancelled, DStudioError
from .base import Job

#: One output line (without its newline) to an event dict, or None to ignore the line.
LineParser = Callable[[str], Optional[dict[str, Any]]]

DEFAULT_GRACE = 2.0   # seconds a child gets to stop by itself after SIGTERM
STDERR_TAIL = 40      # lines of stderr kept for the error message


def terminate_group(proc: subprocess.Popen, grace: float = DEFAULT_GRACE) -> None:
    """SIGTERM the process group of ``proc`` (led by ``proc``: ``process_group=0``), wait up to
    ``grace`` seconds for ``proc`` to end, then SIGKILL whatever is left of the group: members
    that ignored SIGTERM, or outlived the leader, do not survive it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc)
    proc.wait()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nobody left in the group


def json_lines(line: str) -> Optional[dict[str, Any]]:
    """A JSON-lines parser: each line an object with an ``"event"`` key; anything else ignored
    (a stray print from a library must not break the run). Progress events are checked."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return None
    if event["event"] == "progress":
        fraction = event.get("fraction")
        if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or not math.isfinite(fraction):
            return None
        event["message"] = str(event.get("message", ""))
    return event


@dataclass
class ProcessRun:
    """What a finished child left: given to ``finish`` (the staging folder still exists)."""

    returncode: int
    events: list[dict[str, Any]]          # parsed events, progress excepted, in the order they came
    stderr_tail: list[str]                # the last lines of stderr, newlines stripped
    staging: Optional[Path]
    started: float                        # time.monotonic() when the child was started
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def last_stderr(self) -> str:
        """The last non-empty line of stderr, or "" (for error messages)."""
        return next((line.strip() for line in reversed(self.stderr_tail) if line.strip()), "")

    def last(self, kind: Optional[str] = None) -> dict[str, Any]:
        """The last event (of ``kind``, when given), or {}."""
        return next((e for e in reversed(self.events) if kind is None or e.get("event") == kind), {})


def default_finish(name: str) -> Callable[[ProcessRun], ProcessRun]:
    """Success is exit status 0; otherwise a ``DStudioError`` naming the last stderr line."""

    def finish(run: ProcessRun) -> ProcessRun:
        if run.returncode != 0:
            raise DStudioError(f"{name} failed ({run.last_stderr or f'exit code {run.returncode}'})")
        return run

    return finish


class ProcessJob(Job):
    """A child process as a ``Job`` (see the module docstring for the rules it keeps).

    ``command`` is the argument list, or a function of the staging folder returning it (so
    the child can be told where to write). ``env`` is added to this process's environment.
    ``outputs`` maps file names inside the staging folder to their targets. ``finish`` turns
    the ``ProcessRun`` into the job's result or raises a ``DStudioError``. Cancelling raises
    ``Cancelled(name)`` from ``result()``.
    """

    def __init__(self, name: str, command: Union[Sequence[str], Callable[[Optional[Path]], Sequence[str]]], *,
                 env: Optional[Mapping[str, str]] = None, cwd: Optional[Path] = None,
                 stdout: Optional[LineParser] = json_lines, stderr: Optional[LineParser] = None,
                 stage_beside: Optional[Path] = None, outputs: Optional[Mapping[str, Path]] = None,
                 finish: Optional[Callable[[ProcessRun], Any]] = None, grace: float = DEFAULT_GRACE,
                 cannot_start: Optional[str] = None) -> None:
        super().__init__(name)
        if outputs and stage_beside is None:
            raise ValueError("outputs need a staging folder (stage_beside)")
        self.command = command
        self.env = dict(env or {})
        self.cwd = cwd
        self.stdout_parser = stdout
        self.stderr_parser = stderr
        self.stage_beside = Path(stage_beside) if stage_beside is not None else None
        self.outputs = {k: Path(v) for k, v in (outputs or {}).items()}
        self.finish = finish or default_finish(name)
        self.grace = grace
        self.cannot_start = cannot_start
        self.pid: Optional[int] = None   # the child's, once started (it leads its process group)

    def _execute(self, progress: ProgressCallback, token: CancelToken) -> Any:
        staging: Optional[Path] = None
        if self.stage_beside is not None:
            self.stage_beside.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.stage_beside.name}.", suffix=".staging",
                                            dir=self.stage_beside.parent))
        try:
            return self._run_child(staging, progress, token)
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def _run_child(self, staging: Optional[Path], progress: ProgressCallback, token: CancelToken) -> Any:
        argv = [str(a) for a in (self.command(staging) if callable(self.command) else self.command)]
        env = {**os.environ, **self.env}
        if staging is not None:
            env["TMPDIR"] = str(staging)  # the child's temporary files go with the staging folder
        started = time.monotonic()
        try:
            # errors="replace": a child's undecodable byte must not kill a reader and stall the pipe
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if self.stdout_parser else subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                    env=env, cwd=self.cwd, process_group=0)
        except OSError as err:
            what = self.cannot_start or f"cannot start {argv[0]}"
            raise DStudioError(f"{what} ({err.strerror})") from None
        self.pid = proc.pid
        events: list[dict[str, Any]] = []
        tail: deque[str] = deque(maxlen=STDERR_TAIL)
        lock = threading.Lock()

        def take(line: str, parser: Optional[LineParser]) -> None:
            # a reader that died would leave its pipe full and the child blocked: a line a
            # parser cannot read is ignored, a broken progress listener reported and survived
            try:
                event = parser(line) if parser is not None else None
                if event is None:
                    return
                fraction = None
                if event.get("event") == "progress":
                    fraction = min(max(float(event["fraction"]), 0.0), 1.0)
            except Exception:  # noqa: BLE001
                return
            if fraction is not None:
                try:
                    progress(fraction, str(event.get("message", "")))
                except Exception:  # noqa: BLE001
                    traceback.print_exc()
            else:
                with lock:
                    events.append(event)

        def read_stdout() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                take(line.rstrip("\r\n"), self.stdout_parser)

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                line = line.rstrip("\r\n")
                tail.append(line)
                take(line, self.stderr_parser)

        readers = [threading.Thread(target=read_stderr, name=f"{self.name}: stderr", daemon=True)]
        if self.stdout_parser is not None:
            readers.append(threading.Thread(target=read_stdout, name=f"{self.name}: stdout", daemon=True))
        for r in readers:
            r.start()
        try:
            while proc.poll() is None:
                if token.cancelled:
                    terminate_group(proc, self.grace)
                    raise Cancelled(self.name)
                # the stderr reader ends when the child closes its stderr, as it does when it
                # exits: waiting on it notices the end at once rather than at the next tick
                if readers[0].is_alive():
                    readers[0].join(0.05)
                else:
                    time.sleep(0.05)
            _kill_group(proc)  # nothing the child started outlives it (and holds its pipes open)
            _join(readers)
            with lock:
                run = ProcessRun(proc.returncode, list(events), list(tail), staging, started)
            result = self.finish(run)
            for name, target in self.outputs.items():
                _place(staging / name, target)  # type: ignore[operator]
            return result
        except BaseException:
            if proc.poll() is None:
                terminate_group(proc, self.grace)
            raise
        finally:
            # the group is gone by now, so the readers reach the end of their pipes
            if _join(readers):
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()


def _join(readers: list[threading.Thread]) -> bool:
    for r in readers:
        r.join(timeout=5)
    return not any(r.is_alive() for r in readers)


def _place(staged: Path, target: Path) -> None:
    """Move a staged file over its target: a rename, or an atomic copy across file systems."""
    if not staged.is_file():
        raise DStudioError(f"{target}: the job finished without writing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # as atomic_write does: the contents, then the rename, must survive a power cut
        with open(staged, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(staged, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise DStudioError(f"{target}: cannot write ({err.strerror})") from None

        def copy(dst) -> None:
            with open(staged, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)

        atomic_write(target, copy)
