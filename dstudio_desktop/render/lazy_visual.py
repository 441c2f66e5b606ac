"""A visual made the first time something is drawn with it.

A window opens with a dozen overlay visuals (gizmo, light handle, selection box, measurement,
pins) that most sessions never show, and each costs about 10 ms to make (its transform system
and shader functions): 0.1 s before a large part's first frame. A hidden one that was never
made stays unmade; anything else asked of it makes it.
"""

from __future__ import annotations

from typing import Any, Callable


class LazyVisual:
    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._visual: Any = None

    @property
    def made(self) -> bool:
        return self._visual is not None

    @property
    def visual(self) -> Any:
        if self._visual is None:
            self._visual = self._make()
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
