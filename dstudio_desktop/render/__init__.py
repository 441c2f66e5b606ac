"""vispy drawing of the model; used by the viewport and by headless renders.

``prepare`` makes drawing data with numpy alone (worker threads, headless code); one view per
model type (``node_view``, ``environment_view``, ``lighting_view``) found through the table in
``view_types``; ``scene_view`` holds a project's views and their background work; ``viewport``
and ``camera`` are the canvas and its psygnal-evented camera. No module here imports Qt:
only ui/ does.
"""
