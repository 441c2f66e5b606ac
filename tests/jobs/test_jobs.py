"""The jobs layer with real child processes and threads, no mocks: progress in order, cancel
that takes the whole process group (grandchildren, and children ignoring SIGTERM, after the
grace), staged output that lands only on success and never leaves its folder behind, error
messages from stderr, and the in-process ThreadJob."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from dstudio_desktop.core.progress import CancelToken
from dstudio_desktop.errors import Cancelled, DStudioError
from dstudio_desktop.jobs import JobState, ProcessJob, ProcessRun, ThreadJob, run


def python(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", textwrap.dedent(code)]


def gone(pid: int) -> bool:
    """No such process, or only its zombie (an orphan waits for its reaper to collect it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def pids_file_ready(path: Path, count: int):
    return lambda: path.is_file() and len(path.read_text().split()) >= count


def test_progress_lines_are_relayed_in_order_and_other_events_kept():
    child = python("""
        import json
        for i in range(1, 21):
            print(json.dumps({"event": "progress", "fraction": i / 20, "message": f"step {i}"}))
        print("a stray line from some library")
        print(json.dumps({"event": "progress", "fraction": "not a number", "message": "ignored"}))
        print(json.dumps({"event": "done", "answer": 42}))
    """)
    seen: list[tuple[float, str]] = []
    result = run(ProcessJob("counting", child), progress=lambda f, m: seen.append((f, m)))
    assert seen == [(i / 20, f"step {i}") for i in range(1, 21)]
    assert isinstance(result, ProcessRun) and result.returncode == 0
    assert result.events == [{"event": "done", "answer": 42}]


def test_the_child_leads_its_own_process_group_inside_our_session():
    """Its own group: a cancel takes it and what it started, a terminal's Ctrl-C does not reach
    it. Our session: Linux's autogroups share CPU between sessions, so a slicer in a session of
    its own would take time from our checks thread whatever its niceness."""
    child = python("""
        import json, os
        print(json.dumps({"event": "ids", "pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0)}))
    """)
    (ids,) = run(ProcessJob("ids", child)).events
    assert ids["pgid"] == ids["pid"] != os.getpgid(0)
    assert ids["sid"] == os.getsid(0)


def test_a_stderr_line_parser_turns_curaengine_lines_into_progress_and_facts():
    from dstudio_desktop.printing.slicers import cura_line

    child = python("""
        import sys
        for pct in (10.0, 55.5, 100.0):
            print(f"Progress:inset+skin:{int(pct)}:100 {pct}%", file=sys.stderr)
        print("Print time (s): 1234", file=sys.stderr)
        print("Filament (mm^3): 56.5", file=sys.stderr)
    """)
    seen: list[float] = []
    result = run(ProcessJob("slicing", child, stdout=None, stderr=cura_line), progress=lambda f, m: seen.append(f))
    assert seen == [0.1, 0.555, 1.0]
    assert result.events == [{"event": "fact", "key": "time", "value": 1234.0},
                             {"event": "fact", "key": "volume", "value": 56.5}]


SPAWNS_A_GRANDCHILD = """
    import subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(sys.argv[1], "w") as fh:
        fh.write(f"{__import__('os').getpid()} {grandchild.pid}")
    print('{"event": "progress", "fraction": 0.5, "message": "busy"}', flush=True)
    time.sleep(120)
"""


def test_cancel_kills_the_child_and_its_grandchild_within_the_grace(tmp_path):
    pids = tmp_path / "pids"
    job = ProcessJob("spawning", python(SPAWNS_A_GRANDCHILD) + [str(pids)], grace=2.0).start()
    wait_for(pids_file_ready(pids, 2))
    child, grandchild = map(int, pids.read_text().split())
    assert psutil.Process(grandchild).ppid() == child
    cancelled = time.monotonic()
    job.cancel()
    with pytest.raises(Cancelled, match="spawning cancelled"):
        job.result(timeout=10)
    assert time.monotonic() - cancelled < 2.0 + 1.0
    assert job.state is JobState.CANCELLED
    wait_for(lambda: gone(child) and gone(grandchild), timeout=2)


def test_a_grandchild_left_running_when_the_child_ends_is_killed(tmp_path):
    pids = tmp_path / "pids"
    child = python("""
        import subprocess, sys
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open(sys.argv[1], "w").write(str(grandchild.pid))
    """) + [str(pids)]
    run(ProcessJob("leaving", child))
    grandchild = int(pids.read_text())
    wait_for(lambda: gone(grandchild), timeout=2)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path):
    ready = tmp_path / "ready"
    child = python("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open(sys.argv[1], "w").write("ok")
        time.sleep(120)
    """) + [str(ready)]
    job = ProcessJob("stubborn", child, grace=1.0).start()
    wait_for(ready.is_file)
    pid = job.pid
    assert pid is not None
    cancelled = time.monotonic()
    job.cancel()
    with pytest.raises(Cancelled):
        job.result(timeout=10)
    took = time.monotonic() - cancelled
    assert 1.0 <= took < 2.5, took
    assert gone(pid)


WRITES_STAGED = """
    import os, sys, time
    mode, staged = sys.argv[1], sys.argv[2]
    with open(staged, "w") as fh:
        fh.write("partial" if mode != "ok" else "the result")
    open(os.path.join(os.environ["TMPDIR"], "scratch.tmp"), "w").write("temporary")
    print('{"event": "progress", "fraction": 0.5, "message": "written"}', flush=True)
    if mode == "hang":
        time.sleep(120)
    if mode == "fail":
        print("disk on fire", file=sys.stderr)
        sys.exit(3)
"""


@pytest.mark.parametrize("mode", ["ok", "fail", "hang"])
def test_staged_output_lands_only_on_success_and_the_staging_folder_goes(tmp_path, mode):
    target = tmp_path / "out" / "result.txt"
    job = ProcessJob("writing", lambda staging: python(WRITES_STAGED) + [mode, str(staging / "result.txt")],
                     stage_beside=target, outputs={"result.txt": target})
    started = threading.Event()
    job.progressed.connect(lambda f, m: started.set())
    job.start()
    assert started.wait(20)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()][0].startswith(".result.txt.")  # staged beside the target
    if mode == "hang":
        job.cancel()
    if mode == "ok":
        job.result(timeout=20)
        assert target.read_text() == "the result"
    else:
        with pytest.raises(Cancelled if mode == "hang" else DStudioError):
            job.result(timeout=20)
        assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == (["result.txt"] if mode == "ok" else [])


def test_a_failing_child_is_named_by_its_last_stderr_line():
    child = python("""
        import sys
        print("loading", file=sys.stderr)
        print("ValueError: the last thing it said", file=sys.stderr)
        print("", file=sys.stderr)
        sys.exit(2)
    """)
    with pytest.raises(DStudioError, match=r"^converting failed \(ValueError: the last thing it said\)$"):
        run(ProcessJob("converting", child))
    with pytest.raises(DStudioError, match=r"^silent failed \(exit code 5\)$"):
        run(ProcessJob("silent", python("raise SystemExit(5)")))


def test_a_child_that_cannot_start_is_a_dstudio_error(tmp_path):
    with pytest.raises(DStudioError, match=r"^cannot start the thing \(No such file or directory\)$"):
        run(ProcessJob("thing", [str(tmp_path / "missing")], cannot_start="cannot start the thing"))


def test_undecodable_output_does_not_stall_the_child():
    child = python("""
        import sys
        for _ in range(2000):
            sys.stderr.buffer.write(b"\\xff\\xfe not utf-8 \\x80\\n" * 50)
        print('{"event": "done"}')
    """)
    assert run(ProcessJob("noisy", child)).events == [{"event": "done"}]


def test_run_relays_a_cancel_token_to_the_job(tmp_path):
    pids = tmp_path / "pids"
    token = CancelToken()
    job = ProcessJob("spawning", python(SPAWNS_A_GRANDCHILD) + [str(pids)])
    threading.Timer(0.1, lambda: wait_for(pids_file_ready(pids, 2)) or token.cancel()).start()
    with pytest.raises(Cancelled):
        run(job, cancel=token)
    wait_for(lambda: all(gone(int(p)) for p in pids.read_text().split()), timeout=2)


def test_thread_job_result_error_and_cancel():
    seen: list[tuple[float, str]] = []

    def work(progress, token):
        for i in range(3):
            progress(i / 2, f"part {i}")
        return "finished"

    job = ThreadJob(work, name="three parts")
    job.progressed.connect(lambda f, m: seen.append((f, m)))
    ended: list = []
    job.ended.connect(ended.append)
    assert job.start().result(timeout=10) == "finished"
    assert seen == [(0.0, "part 0"), (0.5, "part 1"), (1.0, "part 2")]
    assert job.state is JobState.DONE and ended == [job] and job.exception() is None

    def refuses(progress, token):
        raise DStudioError("that file is not a model")

    failed = ThreadJob(refuses).start()
    with pytest.raises(DStudioError, match="that file is not a model"):
        failed.result(timeout=10)
    assert failed.state is JobState.FAILED and isinstance(failed.exception(), DStudioError)

    def bug(progress, token):
        return 1 / 0

    with pytest.raises(ZeroDivisionError):
        run(ThreadJob(bug))

    def waits_for_cancel(progress, token):
        while True:
            token.check("long wait")
            time.sleep(0.01)

    slow = ThreadJob(waits_for_cancel).start()
    assert not slow.wait(0.2) and slow.state is JobState.RUNNING
    with pytest.raises(TimeoutError):
        slow.result(timeout=0)
    slow.cancel()
    with pytest.raises(Cancelled, match="long wait cancelled"):
        slow.result(timeout=10)
    assert slow.state is JobState.CANCELLED
    with pytest.raises(RuntimeError):
        slow.start()


def test_a_line_the_parser_cannot_read_is_skipped_and_reading_goes_on():
    def fussy(line: str):
        if line.startswith("bad"):
            raise ValueError(line)
        return {"event": "line", "text": line}

    child = python("""
        for i in range(5000):
            print("bad" if i % 2 else f"good {i}")
    """)
    events = run(ProcessJob("fussy", child, stdout=fussy)).events
    assert [e["text"] for e in events] == [f"good {i}" for i in range(0, 5000, 2)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads are niced one by one on Linux only")
def test_yielding_work_and_the_threads_it_starts_run_at_the_lowest_priority():
    def niceness(_p, _token):
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        started = []
        helper = threading.Thread(target=lambda: started.append(
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        helper.start()
        helper.join()
        return mine, started[0]

    process = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(ThreadJob(niceness, "checks", yielding=True)) == (19, 19)
    assert run(ThreadJob(niceness, "plain")) == (process, process)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == process   # the caller's is untouched
