"""Long work behind one interface: start it, follow its progress events, cancel it, take its
result (``base.Job``). Runners: ``ThreadJob`` for a function in a thread, ``ProcessJob`` for a
child process (``process``: process group, parsed output lines, SIGTERM then SIGKILL, staged
output), the reconstruction worker on top of it (``reconstruct``); a cloud runner follows
(see ``base``). ``run`` lets a function with the ``(progress, cancel)`` idiom, or the CLI,
drive any job. No Qt here: ``ui.tasks`` relays a job's events to the GUI thread."""

from .base import Job, JobState, ThreadJob, Work, run
from .process import LineParser, ProcessJob, ProcessRun, json_lines, terminate_group

__all__ = ["Job", "JobState", "LineParser", "ProcessJob", "ProcessRun", "ThreadJob", "Work", "json_lines", "run",
           "terminate_group"]
