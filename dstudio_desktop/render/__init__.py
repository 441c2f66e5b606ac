"""vispy drawing of the model; used by the viewport and by headless renders."""
