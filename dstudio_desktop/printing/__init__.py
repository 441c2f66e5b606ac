"""3D printing: printer and material profiles, printability checks, slicing with CuraEngine."""
