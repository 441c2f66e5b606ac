"""Every reader survives its fuzzer: 500 seeded mutants per format through ``import_files`` with
no crash, no refusal of more than one line or not naming the file, no case over 10 s or over
1 GB, and the workspace unchanged by every refusal. The mutants run in one subprocess (its
address space capped, so the memory bound is real) rather than one per mutant; the longer run is
``python -m tests.fuzz.run --cases 5000`` (see README)."""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import REPO
from .mutate import TARGETS

CASES = 500
SEED = 20261202


def test_every_format_survives_its_fuzzer() -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.run", "--cases", str(CASES), "--seed", str(SEED),
                           "--timeout", "10", "--memory-mb", "1024", "--json"],
                          capture_output=True, text=True, cwd=REPO, timeout=900)
    assert proc.stderr.strip() == "", proc.stderr[-3000:]
    reports = {r["target"]: r for r in json.loads(proc.stdout)}
    assert sorted(reports) == sorted(TARGETS)
    for target, r in reports.items():
        assert r["cases"] == CASES
        assert r["failures"] == [], (target, r["failures"][:5])
        # the mutants reach past the first check: some import, some are refused
        assert r["imported"] > 0 and r["refused"] > 0, (target, r)
        assert r["slowest_s"] < 10
