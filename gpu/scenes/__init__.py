"""Scenes with known answers made outside the pipeline: ``pathtraced`` (a glossy product
rendered by Blender's Cycles path tracer, shipped under tests/data/pathtraced and remade by
``python -m gpu.scenes.pathtraced render``; ``product_scene`` is the script Blender runs)."""
