"""What ``dstudio slice`` takes as its target: a project whose name has a colon in it, and
PROJECT:NODE split at the last colon."""

from __future__ import annotations

import pytest

SAMPLE = "Sample: desk lamp"

pytestmark = pytest.mark.slow


def test_the_sample_project_slices_by_its_name(cli, home, tmp_path):
    assert cli("sample").returncode == 0
    out = tmp_path / "lamp.gcode"
    run = cli("slice", SAMPLE, "-o", str(out), "--scale-to-fit", "--json", timeout=300)
    assert run.returncode == 0, run.stderr
    report = run.json()
    assert out.is_file() and report["layers"] > 10 and report["estimated_time_s"] > 0
    assert report["print_job_id"] and report["project_id"] == cli("info", SAMPLE, "--json").json()["project_id"]


def test_a_node_of_the_sample_is_found_after_the_last_colon(cli, home, tmp_path):
    assert cli("sample").returncode == 0
    out = tmp_path / "base.gcode"
    run = cli("slice", f"{SAMPLE}:Base", "-o", str(out), "--json", timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.is_file() and run.json()["layers"] > 0
    missing = cli("slice", f"{SAMPLE}:Teapot", "-o", str(tmp_path / "x.gcode"))
    assert missing.returncode == 1 and "no node 'Teapot'" in missing.stderr
