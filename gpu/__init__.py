"""Photo reconstruction: so far the photo-set checks (``photoset``) and a synthetic photo set
with known cameras and surfaces (``synthetic``) to measure against. Structure from motion,
dense geometry and meshing are not built yet.

It will run as a subprocess entry point, the same one locally and as a cloud worker, and
imports nothing from Qt.
"""
