"""Renders resources/icons/dstudio.svg to the PNG sizes the desktop's icon theme wants (hicolor NxN/apps).

    python packaging/make_icons.py     (needs PySide6; the PNGs are committed)
"""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 32, 48, 64, 128, 256, 512)

if __name__ == "__main__":
    here = Path(__file__).resolve().parent.parent / "resources" / "icons"
    app = QGuiApplication([])
    renderer = QSvgRenderer(str(here / "dstudio.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(here / f"dstudio-{size}.png"))
