"""Photo reconstruction, with no Qt: photo-set checks (``photoset``), structure from motion
(``sfm``), the object's region (``region``), plane-sweep depth (``dense``), TSDF fusion
(``fusion``), clean-up and colour (``cleanup``), the staged pipeline (``pipeline``), and the
worker process that runs it (``worker``, launched by ``dstudio_desktop.jobs.reconstruct``) — the same entry point
locally and as a cloud worker. ``synthetic`` and ``evaluate`` render a scene with known
answers and score a reconstruction against it.
"""
