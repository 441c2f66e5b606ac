"""Help → About lists the version and every bundled part's licence; the first-run card says what
to do first and goes away for good with "Got it"."""

from __future__ import annotations

import pytest

from .conftest import Dialogs

pytestmark = pytest.mark.gui


def test_about_shows_the_version_and_the_licences_of_the_bundled_parts(window, qtbot) -> None:
    from PySide6.QtWidgets import QLabel, QTableWidget

    from dstudio_desktop import __version__

    seen = {}

    def read_and_close(dialog) -> None:
        table = dialog.findChild(QTableWidget, "bundled_parts")
        seen["title"] = dialog.windowTitle()
        seen["head"] = dialog.findChild(QLabel, "about_title").text()
        seen["rows"] = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
                        for r in range(table.rowCount())}
        dialog.reject()

    person = Dialogs(read_and_close)
    try:
        help_menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
        next(a for a in help_menu.actions() if a.text() == "&About Design Studio").trigger()
    finally:
        person.stop()
    assert seen["title"] == "About Design Studio"
    assert __version__ in seen["head"] and str(window.ws.home) in seen["head"]
    rows = seen["rows"]
    for part in ("PySide6_Essentials", "vispy", "torch", "pycolmap", "numpy", "trimesh", "Python"):
        assert part in rows, sorted(rows)
    assert "LGPL-3.0" in rows["PySide6_Essentials"][1]
    assert rows["vispy"][1] == "BSD-3-Clause"
    assert rows["torch"][0].startswith("2.")
    assert all(licence and version for version, licence in rows.values())
    assert "dstudio-desktop" not in rows  # the app itself is the title


def test_the_first_run_card_says_what_to_do_first_and_got_it_hides_it_for_good(window, qtbot) -> None:
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtWidgets import QLabel

    from dstudio_desktop.ui.first_run import show_first_run_hint

    viewport = window.viewport.canvas.native
    card = show_first_run_hint(viewport)
    assert card is not None and card.isVisible()
    assert "drop a model file" in card.findChild(QLabel).text()
    # inside the viewport, below the mode badge, leaving most of the model in view
    corner = card.mapTo(viewport, QPoint(0, 0))
    assert corner.y() >= 40 and card.width() < viewport.width() / 2
    qtbot.mouseClick(card.done, Qt.LeftButton)
    qtbot.waitUntil(lambda: not card.isVisible(), timeout=2000)
    assert QSettings().value("first_run/done", False, type=bool)
    assert show_first_run_hint(viewport) is None
