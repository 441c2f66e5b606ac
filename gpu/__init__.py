"""Photo reconstruction (structure from motion, dense geometry, meshing): not built yet.

It will run as a subprocess entry point, the same one locally and as a cloud worker,
and import nothing from Qt.
"""
