"""The review report as PDF, through Qt's own writer (QTextDocument + QPdfWriter)."""

from __future__ import annotations


def html_to_pdf(page: str, images: dict[str, bytes]) -> bytes:
    """An A4 PDF of the report's HTML, its images given by the names the HTML uses."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QUrl
    from PySide6.QtGui import QGuiApplication, QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

    app = QGuiApplication.instance() or QGuiApplication([])  # text layout needs Qt's fonts  # noqa: F841
    document = QTextDocument()
    for name, png in images.items():
        document.addResource(QTextDocument.ImageResource, QUrl(name), QImage.fromData(png))
    document.setHtml(page)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait, QMarginsF(15, 15, 15, 15),
                                     QPageLayout.Millimeter))
    writer.setResolution(150)
    writer.setTitle("Design Studio review report")
    writer.setCreator("Design Studio Desktop")
    document.setPageSize(writer.pageLayout().paintRectPixels(writer.resolution()).size().toSizeF())
    document.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data)
