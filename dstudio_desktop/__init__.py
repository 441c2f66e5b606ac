"""Design Studio Desktop: a desktop 3D editor for designers."""

__version__ = "0.1.0"
