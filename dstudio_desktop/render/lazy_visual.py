"""A visual made the first time something is drawn with it.

A window opens with a dozen overlay visuals (gizmo, light handle, selection box, measurement,
pins) that most sessions never show, and each costs about 10 ms to make (its transform system
and shader functions): 0.1 s before a large part's first frame. A hidden one that was never
made stays unmade; anything else asked of it makes it, drawn translucent over the scene with
the GL state and order it was given.
"""

from __future__ import annotations

from typing import Any, Callable


class LazyVisual:
    def __init__(self, make: Callable[[], Any], order: int = 0, **gl_state: Any) -> None:
        self._make = make
        self._order = order
        self._gl_state = gl_state
        self._visual: Any = None

    @property
    def made(self) -> bool:
        return self._visual is not None

    @property
    def visual(self) -> Any:
        if self._visual is None:
            visual = self._make()
            visual.set_gl_state("translucent", **self._gl_state)
            visual.order = self._order
            self._visual = visual
        return self._visual

    @property
    def visible(self) -> bool:
        return self._visual is not None and bool(self._visual.visible)

    @visible.setter
    def visible(self, on: bool) -> None:
        if on or self._visual is not None:
            self.visual.visible = on

    def __getattr__(self, name: str) -> Any:
        # only for what the class itself lacks (set_data, text, pos, ...): the visual's own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.visual, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name == "visible":
            object.__setattr__(self, name, value)
        else:
            setattr(self.visual, name, value)


__all__ = ["LazyVisual"]
