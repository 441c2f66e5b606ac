"""Run mutants of one format's seed through ``import_files`` (what ``dstudio import`` calls), in
this process, against a throwaway workspace; report every case that is not a clean outcome.

A clean outcome is an import (warnings allowed) or a refusal as a ``DStudioError`` whose
message is one line naming the file, after which the workspace is as it was. Anything else is
a failure: another exception (the CLI's exit 70), a case over ``--timeout`` seconds, memory
over ``--memory-mb`` (the address space is capped, so a larger allocation fails as
``MemoryError`` and is caught here), or a refusal that changed the workspace.

    python -m tests.fuzz.run --target glb --cases 500 --seed 1 [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "data" / "fuzz_seeds"


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in the readers swallows it."""


def _alarm(signum, frame):
    raise CaseTimeout()


def _cap_memory(extra_mb: int) -> None:
    """Cap the address space at what the process maps now plus ``extra_mb``."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def fingerprint(ws, project_id: str) -> tuple:
    """What a refusal must leave as it was, cheaply: row counts, the project's revision, and the
    modification times of the blob folders (a blob written anywhere changes its folder's)."""
    db = ws._db  # noqa: SLF001 - counting rows needs no public API of its own
    counts = tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("assets", "outbox", "versions"))
    blobs = ws.home / "blobs"
    folders = [blobs, *(e for e in os.scandir(blobs) if e.is_dir())] if blobs.exists() else []
    return counts, ws.project_revision(project_id), tuple(os.stat(f).st_mtime_ns for f in folders)


def run(target: str, cases: int, seed: int, timeout: float, memory_mb: int, keep: Path | None) -> dict:
    from dstudio_desktop.errors import DStudioError
    from dstudio_desktop.services.geometry import import_files
    from dstudio_desktop.store import Workspace

    from .mutate import TARGETS, mutant

    main, _, companions = TARGETS[target]
    seeds = {name: (SEEDS / name).read_bytes() for name in (main, *companions)}
    root = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    ws = Workspace(home=root / "ws")
    project_id = ws.create_project("fuzz").id
    signal.signal(signal.SIGALRM, _alarm)
    _cap_memory(memory_mb)
    failures, outcomes, slowest = [], {"imported": 0, "refused": 0}, 0.0
    try:
        for case in range(cases):
            files = mutant(target, seeds, seed, case)
            case_dir = root / f"case{case}"
            case_dir.mkdir()
            for name, data in files.items():
                (case_dir / name).write_bytes(data)
            path = case_dir / main
            before = fingerprint(ws, project_id)
            problem = None
            start = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                import_files(ws, project_id, [path])
                outcomes["imported"] += 1
                # the next case starts from an empty project: a project grown by hundreds of imports
                # would make every later case slower (its scene is loaded and saved each time)
                project_id = ws.create_project(f"fuzz {case}").id
            except CaseTimeout:
                problem = f"took over {timeout} s"
            except MemoryError:
                problem = f"needed more than {memory_mb} MB"
            except DStudioError as err:
                outcomes["refused"] += 1
                text = str(err)
                if "\n" in text.strip():
                    problem = f"refusal of several lines: {text!r}"
                elif main not in text:
                    problem = f"refusal not naming the file: {text!r}"
                elif "out of memory" in text:
                    problem = f"needed more than {memory_mb} MB: {text!r}"
                elif fingerprint(ws, project_id) != before:
                    problem = "a refusal changed the workspace"
            except Exception as err:  # noqa: BLE001 - exactly what the fuzzer looks for
                frame = traceback.extract_tb(err.__traceback__)[-1]
                problem = f"crash {type(err).__name__}: {str(err)[:200]} at {Path(frame.filename).name}:{frame.lineno}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.monotonic() - start
            slowest = max(slowest, elapsed)
            if problem:
                failures.append({"case": case, "problem": problem})
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    for name, data in files.items():
                        (keep / f"fuzz_{target}_{seed}_{case}_{name}").write_bytes(data)
            shutil.rmtree(case_dir, ignore_errors=True)
    finally:
        ws.close()
        shutil.rmtree(root, ignore_errors=True)
    return {"target": target, "cases": cases, "seed": seed, **outcomes, "slowest_s": round(slowest, 3),
            "failures": failures}


def main() -> int:
    from .mutate import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=sorted(TARGETS), action="append",
                        help="format to fuzz (repeatable; default: all)")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one case may take")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory one case may add")
    parser.add_argument("--keep", type=Path, help="folder to save failing mutants in")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reports = []
    for target in args.target or sorted(TARGETS):
        r = run(target, args.cases, args.seed, args.timeout, args.memory_mb, args.keep)
        reports.append(r)
        if not args.json:
            print(f"{r['target']:11s} {r['cases']} cases (seed {r['seed']}): {r['imported']} imported, "
                  f"{r['refused']} refused, slowest {r['slowest_s']} s, {len(r['failures'])} failures", flush=True)
            for f in r["failures"]:
                print(f"  case {f['case']}: {f['problem']}", flush=True)
    if args.json:
        print(json.dumps(reports))
    return 1 if any(r["failures"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
