"""While the camera moves, frames on screen are drafts at reduced resolution (so a software
renderer keeps up); at rest, and in every image, they are full resolution."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _wheel(widget) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(), QPoint(0, -120), Qt.NoButton, Qt.NoModifier,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _screen(canvas) -> np.ndarray:
    image = canvas.native.grabFramebuffer().convertToFormat(canvas.native.grabFramebuffer().Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return data.reshape(height, image.bytesPerLine())[:, :width * 3].reshape(height, width, 3).astype(int)


def test_moving_frames_are_drafts_and_the_rest_is_full_resolution(window, qtbot):
    canvas = window.viewport.canvas
    full = _screen(canvas)
    assert not canvas.drafting and canvas.draft_frames == 0
    _wheel(canvas.native)                         # the user zooms: the camera moves
    assert canvas.drafting
    draft = _screen(canvas)
    assert canvas.draft_frames >= 1 and canvas.draft_scale >= 2
    assert draft.shape == full.shape
    # the same view, softer: most pixels agree closely, and the draft is not the full frame
    zoomed_full = window.viewport.render()[..., :3].astype(int)
    difference = np.abs(draft - zoomed_full).mean(axis=-1)
    assert np.median(difference) < 6 and difference.mean() < 12
    assert not np.array_equal(draft, zoomed_full)
    assert canvas.drafting, "an image does not end the draft: the camera is still moving"
    qtbot.waitUntil(lambda: not canvas.drafting, timeout=5000)   # the camera rested
    drafts = canvas.draft_frames
    rested = _screen(canvas)
    assert canvas.draft_frames == drafts
    rested_difference = np.abs(rested - zoomed_full).mean(axis=-1)
    print("draft", np.median(difference), difference.mean(), "rested", np.median(rested_difference),
          rested_difference.mean())
    # on screen the edges are multisampled, in an image not: compare away from them
    assert np.median(rested_difference) <= 1 and rested_difference.mean() < difference.mean() / 2


def test_the_frame_time_readout_follows_the_frames_a_few_times_a_second(window, qtbot):
    """The status bar's ms/frame shows the last frame's time, changed at most every
    FRAME_READOUT_MS, not at every frame (each change repaints the status bar)."""
    import time

    from dstudio_desktop.ui.main_window import FRAME_READOUT_MS

    label = window.frame_label
    shown = []
    set_text = label.setText
    label.setText = lambda text: (shown.append(text), set_text(text))   # counts the readout's changes
    canvas = window.viewport.canvas
    started = time.perf_counter()
    for _ in range(12):
        _wheel(canvas.native)                   # the user zooms: a frame each time
        canvas.native.repaint()
    elapsed = time.perf_counter() - started
    qtbot.wait(FRAME_READOUT_MS + 100)
    assert 1 <= len(shown) <= 2 + elapsed * 1000 / FRAME_READOUT_MS < 12
    # the camera rests (a full frame more): the readout catches up with the last frame
    qtbot.waitUntil(lambda: label.text() == f"{window.viewport.frame_ms:.1f} ms/frame", timeout=3000)
