"""Reconstruct from Photos in the real window: the photo check before anything runs, a run
in the worker process that lands as an asset, a node and a version (one undo step), and a
Cancel that stops the worker within seconds and adds nothing."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _dialog(window, qtbot, folder: Path):
    window.reconstruct_dialog(str(folder))
    dialog = window.reconstruct_window
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.findings.count() > 0, timeout=30000)  # the photo check runs on a thread
    return dialog


def _state(window):
    pid = window.project.id
    return (len(window.project.scene_graph.nodes), len(window.ws.list_assets(pid)), len(window.ws.list_versions(pid)))


def test_a_bad_set_is_reported_and_cannot_run(window, qtbot, synthetic_photos, tmp_path):
    for name in sorted(os.listdir(synthetic_photos))[:3]:
        shutil.copy(synthetic_photos / name, tmp_path / name)
    (tmp_path / "notes.jpg").write_text("not a photo")
    dialog = _dialog(window, qtbot, tmp_path)
    items = [dialog.findings.item(i).text() for i in range(dialog.findings.count())]
    assert items[0].startswith("✖ 3 usable image(s)")
    assert any(i.startswith("⚠ notes.jpg: cannot be read as an image") for i in items)
    assert not dialog.run_button.isEnabled()
    dialog.close()


def test_reconstruct_adds_a_node_an_asset_and_a_version(window, qtbot, synthetic_photos, tmp_path):
    nodes, assets, versions = _state(window)
    dialog = _dialog(window, qtbot, synthetic_photos)
    assert dialog.findings.item(0).text() == "✔ 24 usable photos" and dialog.run_button.isEnabled()
    dialog.quality.setCurrentIndex(0)  # draft: the accuracy test runs the CLI at normal quality
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: 0 < dialog.progress.value() < 1000, timeout=30000)
    assert dialog.cancel_button.isEnabled() and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: _state(window)[2] == versions + 1, timeout=180000)
    assert _state(window) == (nodes + 1, assets + 2, versions + 1)   # the mesh, and the version's thumbnail
    added = window.project.scene_graph.nodes[-1]
    assert added.kind == "mesh" and added.name == "photos"
    assert window.ws.list_versions(window.project.id)[-1].notes.startswith("Reconstructed from 24 photos")
    assert list((window.ws.home / "reconstructions").iterdir()) == []
    assert "Added to the project" in dialog.status.text()
    window.grab().save(str(tmp_path / "window.png"))
    dialog.grab().save(str(tmp_path / "dialog.png"))
    dialog.close()
    window.editor.stack.undo()   # the import is one undoable step
    assert len(window.project.scene_graph.nodes) == nodes


def test_cancel_stops_the_worker_and_adds_nothing(window, qtbot, synthetic_photos):
    before = _state(window)
    dialog = _dialog(window, qtbot, synthetic_photos)
    dialog.quality.setCurrentIndex(0)
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() >= 50, timeout=60000)  # past validation: the worker is busy
    pressed = time.monotonic()
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=15000)
    assert time.monotonic() - pressed < 5
    qtbot.waitUntil(lambda: "Cancelled" in dialog.status.text(), timeout=2000)
    assert _state(window) == before
    assert list((window.ws.home / "reconstructions").iterdir()) == []
    dialog.close()


def test_closing_the_window_mid_run_stops_the_worker_and_adds_nothing(window, qtbot, synthetic_photos):
    """The run's end must never land in a workspace the closed window no longer holds."""
    before = _state(window)
    dialog = _dialog(window, qtbot, synthetic_photos)
    dialog.quality.setCurrentIndex(0)
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() >= 50, timeout=60000)
    job = dialog.job
    window.close()
    assert job.done and not dialog.isVisible()
    qtbot.wait(500)  # a late delivery would raise in the event loop here, and fail the test
    assert _state(window) == before
    assert list((window.ws.home / "reconstructions").iterdir()) == []


def test_a_video_is_checked_by_its_header_and_a_broken_one_is_refused(window, qtbot, tmp_path):
    """A video typed into the field: one line about it and Reconstruct enabled (its frames are
    chosen when it runs); a file that is no video: the reason, naming it, and no run."""
    import imageio_ffmpeg
    import numpy as np

    clip = tmp_path / "walk round.mp4"
    writer = imageio_ffmpeg.write_frames(str(clip), (320, 240), fps=10)
    writer.send(None)
    for i in range(10):
        writer.send(np.full((240, 320, 3), 20 * i, np.uint8))
    writer.close()
    dialog = _dialog(window, qtbot, clip)
    first = dialog.findings.item(0).text()
    assert first.startswith("✔ walk round.mp4: a video, 320x240") and dialog.run_button.isEnabled()
    shots = Path("/tmp/helpers/shots/recon-scale")
    shots.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(shots / "dialog_video.png"))
    broken = tmp_path / "broken.mov"
    broken.write_bytes(b"not a video at all" * 50)
    dialog.folder.setText(str(broken))
    dialog.check_folder()
    qtbot.waitUntil(lambda: dialog.findings.count() > 0 and dialog.findings.item(0).text().startswith("✖"),
                    timeout=30000)
    assert f"{broken}: cannot be read as a video" in dialog.findings.item(0).text()
    assert not dialog.run_button.isEnabled()
    dialog.grab().save(str(shots / "dialog_broken_video.png"))
    dialog.close()
