"""The viewport's tool modes and their toolbar: select, move, rotate, scale, measure, annotate.

Select (Q) clicks parts (Shift+click adds, Ctrl+click toggles) and drags a box around them;
move (W), rotate (E) and scale (R) show a gizmo on the selection and turn each drag of a handle
into one core command, showing the value as it goes (Ctrl while dragging flips snapping, Esc
puts everything back); measure (M) reads the distance between two points picked on surfaces
in the project's display unit; annotate is the Review menu's Annotate (Shift+A). A click that
hits no handle selects in every transform mode, and a drag that hits none orbits the camera as
always (Alt+drag orbits in select mode too). The Lighting panel's chosen light shows a
direction handle. A reviewer selects, measures and annotates; nothing of theirs moves a part.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMenu,
    QToolBar,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from ..core import CameraView, LightingConfig, Transform, load_document
from ..core import camera_math as cm
from ..core import gizmo_math as gm
from ..core.commands import ReplaceDocument, SetTransforms
from ..core.permissions import can
from ..core.units import DECIMALS, format_length, from_display, to_display
from ..render.camera import Pointer
from ..render.gizmo import SIZE_PX, Feedback, Gizmo, Handle, LightHandle, ScreenOverlay
from ..render.measure import MeasureOverlay

MODES = ("select", "move", "rotate", "scale", "measure", "annotate")
TRANSFORM_MODES = ("move", "rotate", "scale")
KEYS = {"select": "Q", "move": "W", "rotate": "E", "scale": "R", "measure": "M"}  # annotate: Review's Shift+A
TIPS = {
    "select": "Select: click a part; Shift+click adds, Ctrl+click toggles; drag a box to select the parts "
              "inside it (Alt+drag orbits)",
    "move": "Move: drag an arrow along one axis or a square in its plane; Ctrl while dragging flips snapping",
    "rotate": "Rotate: drag a ring about its axis, or the outer ring about the view; Ctrl flips snapping",
    "scale": "Scale: drag a handle along its axis, or the middle square for all three; Ctrl flips snapping",
    "measure": "Measure: click two points on parts to read the distance between them",
}
DEFAULT_MODE = "move"   # a plain left drag off the gizmo orbits, as it always has
CLICK_PX = 4            # the camera's own threshold between a click and a drag
AXIS_NAMES = "XYZ"
PIVOT_LABELS = {"median": "Median point", "active": "Active part", "individual": "Individual origins"}


# -- icons ------------------------------------------------------------------------

def _icon(mode: str) -> QIcon:
    """The toolbar's icons, drawn here in the palette's text colour (no image files)."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.Antialiasing)
    ink = QApplication.palette().color(QPalette.WindowText)
    pen = QPen(ink, 5, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    p.setPen(pen)
    if mode == "select":
        path = QPainterPath(QPointF(18, 10))
        for x, y in ((18, 50), (28, 40), (36, 56), (43, 53), (35, 37), (49, 37)):
            path.lineTo(x, y)
        path.closeSubpath()
        p.setBrush(ink)
        p.drawPath(path)
    elif mode == "move":
        p.drawLine(32, 8, 32, 56)
        p.drawLine(8, 32, 56, 32)
        p.setBrush(ink)
        for tip, a, b in (((32, 4), (24, 14), (40, 14)), ((32, 60), (24, 50), (40, 50)),
                          ((4, 32), (14, 24), (14, 40)), ((60, 32), (50, 24), (50, 40))):
            p.drawPolygon([QPointF(*tip), QPointF(*a), QPointF(*b)])
    elif mode == "rotate":
        p.drawArc(QRectF(12, 12, 40, 40), 30 * 16, 290 * 16)
        p.setBrush(ink)
        p.drawPolygon([QPointF(58, 20), QPointF(44, 22), QPointF(54, 34)])
    elif mode == "scale":
        p.drawRect(8, 28, 28, 28)
        p.drawLine(26, 38, 54, 10)
        p.setBrush(ink)
        p.drawPolygon([QPointF(58, 6), QPointF(40, 10), QPointF(54, 24)])
    elif mode == "measure":
        p.save()
        p.translate(32, 32)
        p.rotate(-35)
        p.drawRect(-28, -9, 56, 18)
        for i, x in enumerate(range(-20, 24, 8)):
            p.drawLine(x, -9, x, -1 if i % 2 else 2)
        p.restore()
    elif mode == "annotate":
        p.setBrush(ink)
        path = QPainterPath(QPointF(32, 60))
        path.cubicTo(QPointF(12, 34), QPointF(12, 8), QPointF(32, 8))
        path.cubicTo(QPointF(52, 8), QPointF(52, 34), QPointF(32, 60))
        p.drawPath(path)
        p.setBrush(QApplication.palette().color(QPalette.Window))
        p.drawEllipse(QPointF(32, 27), 7, 7)
    p.end()
    return QIcon(pixmap)


# -- drags --------------------------------------------------------------------------

@dataclass
class _Part:
    """One node a drag moves, as it was when the drag began."""

    node_id: str
    start: Transform
    parent: np.ndarray      # the parent's world matrix
    world: np.ndarray
    pivot: np.ndarray
    frame: np.ndarray       # the axes the handle's axes mean for this part


@dataclass
class _Drag:
    kind: str                          # "gizmo", "box", "light"
    x0: float
    y0: float
    view: CameraView
    modifiers: frozenset
    handle: Optional[Handle] = None
    pivot: np.ndarray = field(default_factory=lambda: np.zeros(3))
    frame: np.ndarray = field(default_factory=lambda: np.eye(3))
    parts: list[_Part] = field(default_factory=list)
    ray0: Any = None
    along0: Optional[float] = None     # axis drags: where on the axis the drag began
    angle: float = 0.0                 # rotate: unwrapped sweep
    last_raw: float = 0.0
    tangent_px: Optional[np.ndarray] = None   # rotate, ring seen edge on: pixel direction of a positive turn
    grab: Optional[np.ndarray] = None  # rotate: world direction from the pivot where the drag began
    axis: Optional[np.ndarray] = None  # rotate: the world axis
    moved: bool = False
    cancelled: bool = False
    result: dict[str, Transform] = field(default_factory=dict)
    light_index: int = -1
    light_doc: Optional[dict] = None   # the lighting document when the drag began
    light_new: Optional[dict] = None   # and as the drag leaves it
    light_centre: Optional[np.ndarray] = None
    light_direction: Optional[np.ndarray] = None


class Tools(QObject):
    """The tool modes of one window's viewport, their toolbar and their mouse handling."""

    mode_changed = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.viewport = window.viewport
        self.mode = DEFAULT_MODE
        self._last_tool = DEFAULT_MODE      # the mode to go back to when Annotate is switched off
        self.active_id: Optional[str] = None
        self.orientation = "world"
        self.pivot_kind = "median"
        self.grid_step = 0.01                # metres
        self.angle_step = 15.0               # degrees
        self.scale_step = 0.1
        self.measure_points: list[np.ndarray] = []
        self.measured: Optional[float] = None  # metres, once two points are picked
        self._drag: Optional[_Drag] = None
        self._closed = False
        self._press_modifiers: frozenset = frozenset()
        self.gizmo = Gizmo(self.viewport)
        self.light_handle = LightHandle(self.viewport)
        self.screen = ScreenOverlay(self.viewport)
        self.measure = MeasureOverlay(self.viewport, self.screen)
        self._build_actions()
        self._build_toolbar()
        self.badge = QLabel(self.viewport.canvas.native)
        self.badge.setObjectName("mode_badge")
        self.badge.setStyleSheet("color: #f2f2f4; background: rgba(16, 16, 20, 190); padding: 4px 10px;"
                                 "border-radius: 4px; font-weight: 600;")
        self.badge.move(10, 10)
        self.badge.setAttribute(Qt.WA_TransparentForMouseEvents)
        camera = self.viewport.camera
        camera.pressed.connect(self._pressed)
        camera.dragged.connect(self._dragged)
        camera.released.connect(self._released)
        self.viewport.canvas.native.installEventFilter(self)
        window.installEventFilter(self)
        window.selection_changed.connect(self._selection_changed)
        window.editor.stack.indexChanged.connect(self.refresh)
        window.project_changed.connect(self._document_changed)
        window.project_opened.connect(self._project_opened)
        window.units_changed.connect(lambda _unit: self._units_changed())   # View > Units
        window.lighting_dock.lights.currentRowChanged.connect(lambda _row: self.refresh())
        window.lighting_dock.visibilityChanged.connect(lambda _on: self.refresh())
        self._set_mode(DEFAULT_MODE)

    # -- actions and toolbar ----------------------------------------------------------

    def _build_actions(self) -> None:
        self.group = QActionGroup(self)
        self.group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.actions: dict[str, QAction] = {}
        for mode in MODES[:-1]:
            action = QAction(_icon(mode), mode.capitalize(), self.window)
            action.setObjectName(f"tool_{mode}")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(KEYS[mode]))
            action.setToolTip(f"{TIPS[mode]} ({KEYS[mode]})")
            action.setStatusTip(TIPS[mode])
            self.actions[mode] = action
        annotate = self.window.annotate_action
        annotate.setIcon(_icon("annotate"))
        keys = annotate.shortcut().toString(QKeySequence.NativeText)
        annotate.setToolTip(f"Annotate: a click on a part pins a note there ({keys})")
        self.actions["annotate"] = annotate
        for mode, action in self.actions.items():
            self.group.addAction(action)
            action.toggled.connect(lambda on, m=mode: self._toggled(m, on))
        self.group.triggered.connect(self._triggered)
        self.cancel_action = QAction("Cancel Drag / Clear Measurement", self.window)
        self.cancel_action.setObjectName("tool_cancel")
        self.cancel_action.setShortcut(QKeySequence(Qt.Key_Escape))
        self.cancel_action.setToolTip("Put a drag's parts back where they were, or clear the measurement (Esc)")
        self.cancel_action.triggered.connect(self.cancel)
        self.window.addAction(self.cancel_action)
        self.snap_action = QAction("Snap", self.window)
        self.snap_action.setObjectName("tool_snap")
        self.snap_action.setCheckable(True)
        self.snap_action.setToolTip("Snap moves to the grid step, turns to the angle step and scaling to the "
                                    "scale step (hold Ctrl while dragging to flip this)")
        self.snap_action.toggled.connect(lambda _on: self._update_badge())

    def _build_toolbar(self) -> None:
        bar = self.toolbar = QToolBar("Tools", self.window)
        bar.setObjectName("tools_toolbar")
        bar.toggleViewAction().setToolTip("Show or hide the tools bar (select, move, rotate, scale, measure, annotate)")
        for mode in MODES:
            bar.addAction(self.actions[mode])
        bar.addSeparator()
        self.orientation_box = QComboBox()
        self.orientation_box.setObjectName("tool_orientation")
        self.orientation_box.addItems(["World", "Local"])
        self.orientation_box.setToolTip("Gizmo axes: the world's, or the active part's own")
        self.orientation_box.currentTextChanged.connect(lambda text: self.set_orientation(text.lower()))
        bar.addWidget(self.orientation_box)
        self.pivot_box = QComboBox()
        self.pivot_box.setObjectName("tool_pivot")
        for key, label in PIVOT_LABELS.items():
            self.pivot_box.addItem(label, key)
        self.pivot_box.setToolTip("Turn and scale about the median point of the selection, the active "
                                  "(last clicked) part, or each part's own origin")
        self.pivot_box.currentIndexChanged.connect(lambda _i: self.set_pivot(self.pivot_box.currentData()))
        bar.addWidget(self.pivot_box)
        snap_button = QToolButton()
        snap_button.setObjectName("tool_snap_button")
        snap_button.setDefaultAction(self.snap_action)
        snap_button.setPopupMode(QToolButton.MenuButtonPopup)
        menu = QMenu(snap_button)
        panel = QWidget()
        form = QFormLayout(panel)
        self.grid_spin = QDoubleSpinBox(minimum=0.001, maximum=100000, decimals=3)
        self.grid_spin.setObjectName("snap_grid")
        self.grid_spin.valueChanged.connect(self._grid_changed)
        self.angle_spin = QDoubleSpinBox(minimum=0.5, maximum=180, decimals=1, suffix="°", value=self.angle_step)
        self.angle_spin.setObjectName("snap_angle")
        self.angle_spin.valueChanged.connect(lambda v: setattr(self, "angle_step", float(v)))
        self.scale_spin = QDoubleSpinBox(minimum=0.01, maximum=10, decimals=2, singleStep=0.05, value=self.scale_step)
        self.scale_spin.setObjectName("snap_scale")
        self.scale_spin.valueChanged.connect(lambda v: setattr(self, "scale_step", float(v)))
        self.grid_spin.setToolTip("Snapped moves go in steps of this length")
        self.angle_spin.setToolTip("Snapped turns go in steps of this angle (and so does aiming a light)")
        self.scale_spin.setToolTip("Snapped scaling goes in steps of this factor")
        form.addRow("Grid step", self.grid_spin)
        form.addRow("Angle step", self.angle_spin)
        form.addRow("Scale step", self.scale_spin)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(panel)
        menu.addAction(holder)
        snap_button.setMenu(menu)
        bar.addWidget(snap_button)
        self._show_grid_step()

    def _unit(self) -> str:
        project = self.window.project
        return project.canvas_state.display_units if project is not None else "mm"

    def _show_grid_step(self) -> None:
        unit = self._unit()
        self.grid_spin.blockSignals(True)
        self.grid_spin.setSuffix(f" {unit}")
        self.grid_spin.setDecimals(DECIMALS[unit])
        self.grid_spin.setValue(to_display(self.grid_step, unit))
        self.grid_spin.blockSignals(False)

    def _grid_changed(self, value: float) -> None:
        self.grid_step = from_display(float(value), self._unit())
        self._update_badge()

    def _units_changed(self) -> None:
        self._show_grid_step()
        self._show_measurement()
        self._update_badge()

    # -- modes --------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"no tool mode {mode!r}")
        self.actions[mode].setChecked(True)

    def _toggled(self, mode: str, on: bool) -> None:
        if on:
            self._set_mode(mode)
        elif not any(a.isChecked() for a in self.group.actions()):
            # Annotate switched off (its old Shift+A toggle): back to the tool before it
            self.actions[self._last_tool if mode == "annotate" else mode].setChecked(True)

    def _triggered(self, action: QAction) -> None:
        if not action.isChecked() and action is not self.actions["annotate"]:
            action.setChecked(True)   # choosing the current tool again keeps it

    def _set_mode(self, mode: str) -> None:
        if self._drag is not None:
            self.cancel()
        self.mode = mode
        if mode != "annotate":
            self._last_tool = mode
        if not self.actions[mode].isChecked():
            self.actions[mode].setChecked(True)
        self.measure.set_enabled(mode == "measure")
        self.refresh()
        self.mode_changed.emit(mode)

    def set_orientation(self, orientation: str) -> None:
        if orientation not in gm.ORIENTATIONS:
            raise ValueError(f"orientation must be one of {', '.join(gm.ORIENTATIONS)}")
        self.orientation = orientation
        self.orientation_box.setCurrentText(orientation.capitalize())
        self.refresh()

    def set_pivot(self, kind: str) -> None:
        if kind not in gm.PIVOTS:
            raise ValueError(f"pivot must be one of {', '.join(gm.PIVOTS)}")
        self.pivot_kind = kind
        self.pivot_box.setCurrentIndex(self.pivot_box.findData(kind))
        self.refresh()

    def can_edit(self) -> bool:
        return self.window.project is not None and can(self.window.editor.role, "edit")

    # -- what the overlays show ----------------------------------------------------------

    def _project_opened(self, _project_id: str) -> None:
        self.active_id = None
        self.measure_points, self.measured = [], None
        self.measure.set_points([])
        self._show_grid_step()
        self.refresh()

    def _document_changed(self, name: str) -> None:
        if name in ("scene_graph", "lighting_config") and self._drag is None:
            self.refresh()

    def _selection_changed(self, node_ids: list) -> None:
        if self.active_id not in node_ids:
            self.active_id = node_ids[-1] if node_ids else None
        if self._drag is None:
            self.refresh()

    def refresh(self, *_: Any) -> None:
        """Place the gizmo and the light handle for the current selection, mode and camera."""
        if self._drag is not None:
            return
        placed = self._placement() if self.mode in TRANSFORM_MODES and self.can_edit() else None
        if placed is None:
            self.gizmo.place(None)
        else:
            _, pivot, frame = placed
            self.gizmo.place(self.mode, pivot, frame)
        light = self._light()
        if light is None:
            self.light_handle.place(None)
        else:
            self.light_handle.place(light[1], light[2])
        self._update_badge()

    def _movable(self) -> list[tuple[Any, np.ndarray, np.ndarray]]:
        """(node, world matrix, parent's world matrix) of the selected nodes a drag moves:
        unlocked, and not inside another selected node (which carries them along already).
        One walk of the tree, however large the selection."""
        scene_view = self.viewport.scene_view
        project = self.window.project
        if scene_view is None or project is None or not scene_view.selection:
            return []
        chosen = set(scene_view.selection)
        found = []
        # depth first with the parent's world matrix and whether a selected node is above
        stack = [(n, np.eye(4), False) for n in reversed(project.scene_graph.nodes)]
        while stack:
            node, parent_world, carried = stack.pop()
            world = parent_world @ node.transform.matrix()
            if node.id in chosen and not carried and not node.locked:
                found.append((node, world, parent_world))
            below = carried or (node.id in chosen and not node.locked)   # a locked parent carries nothing
            stack.extend((c, world, below) for c in reversed(node.children))
        return found

    def _placement(self) -> Optional[tuple[list[_Part], np.ndarray, np.ndarray]]:
        movable = self._movable()
        if not movable:
            return None
        ids = [n.id for n, _, _ in movable]
        active = ids.index(self.active_id) if self.active_id in ids else len(ids) - 1
        origins = np.array([w[:3, 3] for _, w, _ in movable])
        centre, each = gm.pivots(origins, self.pivot_kind, active)
        frame = gm.orientation_frame(self.orientation, movable[active][1])
        parts = []
        for (node, world, parent), pivot in zip(movable, each, strict=True):
            own = gm.orientation_frame(self.orientation, world) if self.pivot_kind == "individual" else frame
            parts.append(_Part(node.id, node.transform, parent, world, pivot, own))
        return parts, centre, frame

    def _light(self) -> Optional[tuple[int, np.ndarray, np.ndarray]]:
        """(index, where the handle sits, direction) of the Lighting panel's chosen light."""
        dock = self.window.lighting_dock
        project = self.window.project
        scene_view = self.viewport.scene_view
        # a panel tabbed behind another is "visible" to Qt, but none of it shows
        shown = dock.isVisible() and not dock.visibleRegion().isEmpty()
        if not shown or project is None or scene_view is None or not self.can_edit() \
                or self.mode in ("measure", "annotate"):
            return None
        row = dock.lights.currentRow()
        lights = project.lighting_config.lights
        if not 0 <= row < len(lights) or lights[row].type == "point":
            return None
        light = lights[row]
        if light.type == "spot":
            centre = np.asarray(light.position, float)
        else:
            bounds = scene_view.bounds()
            centre = (bounds[0] + bounds[1]) / 2 if bounds is not None else np.zeros(3)
        return row, centre, np.asarray(light.direction, float)

    def _update_badge(self) -> None:
        names = {"select": "Select", "move": "Move", "rotate": "Rotate", "scale": "Scale", "measure": "Measure",
                 "annotate": "Annotate"}
        key = KEYS.get(self.mode) or self.actions["annotate"].shortcut().toString(QKeySequence.NativeText)
        parts = [f"{names[self.mode]} ({key})"]
        if self.mode in TRANSFORM_MODES:
            parts += [self.orientation.capitalize(), PIVOT_LABELS[self.pivot_kind]]
            if self.snap_action.isChecked():
                parts.append(f"Snap {self._snap_text()}")
            if not self.can_edit() and self.window.project is not None:
                parts.append("view only")
        elif self.mode == "select":
            parts.append("drag a box")
        elif self.mode == "measure":
            parts.append("click two points")
        elif self.mode == "annotate":
            parts.append("click a part to pin a note")
        self.badge.setText("  ·  ".join(parts))
        self.badge.adjustSize()
        self.badge.show()
        self.badge.raise_()

    def _snap_text(self) -> str:
        if self.mode == "rotate":
            return f"{self.angle_step:g}°"
        if self.mode == "scale":
            return f"×{self.scale_step:g}"
        return format_length(self.grid_step, self._unit())

    # -- mouse -------------------------------------------------------------------------

    def _canvas_size(self) -> tuple[float, float]:
        w, h = self.viewport.canvas.size
        return float(max(w, 1)), float(max(h, 1))

    def _ray(self, view: CameraView, x: float, y: float):
        return cm.ray_through(view, x, y, *self._canvas_size())

    def _pressed(self, pointer: Pointer) -> None:
        self._press_modifiers = pointer.modifiers
        if pointer.button != 1 or "alt" in pointer.modifiers or self._drag is not None:
            return
        if self.window.project is None or self.viewport.scene_view is None:
            return
        view = self.viewport.camera.view
        if self.mode in TRANSFORM_MODES and self.gizmo.mode is not None:
            handle = self.gizmo.handle_at(pointer.x, pointer.y)
            if handle is not None and self._start_gizmo(handle, pointer, view):
                pointer.claim()
                return
        if self.light_handle.centre is not None and self.light_handle.hit(pointer.x, pointer.y):
            if self._start_light(pointer, view):
                pointer.claim()
                return
        if self.mode == "select":
            self._drag = _Drag("box", pointer.x, pointer.y, view, pointer.modifiers)
            pointer.claim()

    def _dragged(self, pointer: Pointer) -> None:
        drag = self._drag
        if drag is None or drag.cancelled:
            return
        if not drag.moved and math.hypot(pointer.x - drag.x0, pointer.y - drag.y0) < CLICK_PX:
            return
        drag.moved = True
        if drag.kind == "box":
            self.screen.box((drag.x0, drag.y0, pointer.x, pointer.y))
        elif drag.kind == "light":
            self._update_light(drag, pointer)
        else:
            self._update_gizmo(drag, pointer)

    def _released(self, pointer: Pointer) -> None:
        drag = self._drag
        if drag is None:
            return
        try:
            if drag.cancelled:
                return
            # the last move can be dropped (vispy skips moves closer than 10 ms): the release is where it ends
            self._dragged(pointer)
            if drag.kind == "box":
                if drag.moved:
                    self.box_select((drag.x0, drag.y0, pointer.x, pointer.y), drag.modifiers)
                else:
                    self.select_at(pointer.x, pointer.y, drag.modifiers)
            elif drag.kind == "light":
                self._finish_light(drag)
            else:
                self._finish_gizmo(drag)
        finally:
            self._end_drag()

    def _end_drag(self) -> None:
        self._drag = None
        self.screen.box(None)
        self.screen.label("value", None)
        self.gizmo.set_feedback(None)
        self.light_handle.set_hot(False)
        self.viewport.canvas.native.unsetCursor()
        self.refresh()

    def cancel(self) -> None:
        """Esc: a drag under way puts its parts back and ends; otherwise the measurement clears."""
        drag = self._drag
        if drag is not None:
            if drag.kind == "gizmo":
                self._apply({p.node_id: p.start for p in drag.parts})
            elif drag.kind == "light":
                self.viewport.scene_view.apply_lighting(self.window.project.lighting_config)
                self.light_handle.place(drag.light_centre, drag.light_direction)
            drag.cancelled = True
            drag.result, drag.light_new = {}, None
            self.screen.box(None)
            self.screen.label("value", None)
            self.gizmo.set_feedback(None)
            if drag.parts:
                self.gizmo.place(self.mode, drag.pivot, drag.frame)
            self.window.statusBar().showMessage("Cancelled", 2000)
            self.viewport.canvas.update()
            return   # the drag stays claimed until the button comes up: nothing else happens meanwhile
        if self.measure_points:
            self.measure_points, self.measured = [], None
            self._show_measurement()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport.canvas.native:
            if event.type() == QEvent.MouseMove and event.buttons() == Qt.NoButton and self._drag is None:
                self._hover(event.position().x(), event.position().y())
            elif event.type() == QEvent.Leave and self._drag is None:
                self._hover(-1e6, -1e6)
            elif event.type() == QEvent.Resize:
                self.badge.raise_()
        elif watched is self.window and event.type() == QEvent.Close:
            self.close()
        return False

    def _hover(self, x: float, y: float) -> None:
        handle = self.gizmo.handle_at(x, y) if self.gizmo.mode is not None else None
        self.gizmo.set_hover(handle.name if handle else None)
        light = self.light_handle.centre is not None and handle is None and self.light_handle.hit(x, y)
        self.light_handle.set_hot(light)
        native = self.viewport.canvas.native
        if handle is not None or light:
            native.setCursor(Qt.OpenHandCursor)
        elif self.mode in ("select", "measure"):
            native.setCursor(Qt.CrossCursor)
        else:
            native.unsetCursor()

    # -- clicks and selection ------------------------------------------------------------

    def clicked(self, x: float, y: float) -> None:
        """A click the camera reported (no handle was hit, nothing dragged)."""
        if self.mode == "annotate":
            self.window.place_pin(x, y)
        elif self.mode == "measure":
            self.measure_at(x, y)
        else:
            self.select_at(x, y, self._press_modifiers)

    def _pick(self, x: float, y: float, include_locked: bool = False):
        scene_view = self.viewport.scene_view
        if scene_view is None:
            return None
        origin, direction = self._ray(self.viewport.camera.view, x, y)
        return scene_view.pick(origin, direction, include_locked=include_locked)

    def _selected_ids(self) -> list[str]:
        return [n.id for n in self.window.selected_nodes()]

    def select_at(self, x: float, y: float, modifiers: frozenset = frozenset()) -> None:
        """Click selection: the part under (x, y) alone, or with Shift added, with Ctrl toggled."""
        if self.viewport.scene_view is None:
            return
        hit = self._pick(x, y)
        node_id = hit[0] if hit else None
        current = self._selected_ids()
        if "control" in modifiers or "meta" in modifiers:
            if node_id is None:
                return
            chosen = [i for i in current if i != node_id] if node_id in current else [*current, node_id]
            active = node_id if node_id in chosen else (chosen[-1] if chosen else None)
        elif "shift" in modifiers:
            if node_id is None:
                return
            chosen = [*[i for i in current if i != node_id], node_id]
            active = node_id
        else:
            chosen = [node_id] if node_id else []
            active = node_id
        self.active_id = active
        self.window.set_selection(chosen)

    def parts_in_box(self, rect: tuple[float, float, float, float]) -> list[str]:
        """The visible, unlocked parts whose whole outline on screen lies inside ``rect``."""
        scene_view = self.viewport.scene_view
        project = self.window.project
        if scene_view is None or project is None:
            return []
        view = self.viewport.camera.view
        w, h = self._canvas_size()
        inside = []
        for node, world in project.scene_graph.world_matrices():
            node_view = scene_view.node_views.get(node.id)
            if node_view is None or not node_view.shown or node.locked:
                continue
            mesh = scene_view.mesh_source(node.asset_id)
            points = np.asarray(mesh.positions, float) @ world[:3, :3].T + world[:3, 3]
            rect_px = gm.screen_rect(view, points, w, h)
            if rect_px is not None and gm.rect_contains(rect, rect_px):
                inside.append(node.id)
        return inside

    def box_select(self, rect: tuple[float, float, float, float], modifiers: frozenset = frozenset()) -> None:
        """Select the parts inside ``rect``; Shift adds them, Ctrl toggles them."""
        found = self.parts_in_box(rect)
        current = self._selected_ids()
        if "control" in modifiers or "meta" in modifiers:
            chosen = [i for i in current if i not in found] + [i for i in found if i not in current]
        elif "shift" in modifiers:
            chosen = current + [i for i in found if i not in current]
        else:
            chosen = found
        if found:
            self.active_id = found[-1] if found[-1] in chosen else (chosen[-1] if chosen else None)
        self.window.set_selection(chosen)
        self.window.statusBar().showMessage(f"{len(found)} part{'s' if len(found) != 1 else ''} in the box", 3000)

    # -- gizmo drags ---------------------------------------------------------------------

    def _start_gizmo(self, handle: Handle, pointer: Pointer, view: CameraView) -> bool:
        placed = self._placement()
        if placed is None:
            return False
        parts, pivot, frame = placed
        drag = _Drag("gizmo", pointer.x, pointer.y, view, pointer.modifiers, handle, pivot, frame, parts)
        drag.ray0 = self._ray(view, pointer.x, pointer.y)
        _, _, forward = cm.frame(view)
        if handle.kind in ("translate", "scale") and len(handle.axes) == 1:
            drag.along0 = gm.along_axis(pivot, frame[:, handle.axes[0]], forward, drag.ray0)
            if drag.along0 is None or (handle.kind == "scale" and abs(drag.along0) < 1e-12):
                return False
        if handle.kind == "rotate":
            axis = frame[:, handle.axes[0]] if handle.axes else forward
            drag.axis = axis
            start_hit = gm.ray_plane(*drag.ray0, pivot, axis)
            # a ring seen from well off its plane follows the pointer round it; one seen nearly edge
            # on (where plane hits run off to infinity) turns by the pointer's travel along it
            if abs(float(np.dot(axis, forward))) < 0.5 or start_hit is None:
                # the ring is seen edge on: turn by how far the pointer goes along the ring's
                # direction of a positive turn where it was grabbed
                normal = gm.axis_plane_normal(axis, forward)
                q = gm.ray_plane(*drag.ray0, pivot, normal) if normal is not None else None
                r = (q - pivot) if q is not None else cm.frame(view)[0]
                r = r - axis * np.dot(r, axis)
                if np.linalg.norm(r) < 1e-12:
                    r = np.cross(axis, forward)
                r /= np.linalg.norm(r)
                w, h = self._canvas_size()
                grab = pivot + r * self.gizmo.length * 0.8
                tangent = gm.screen_direction(view, grab, np.cross(axis, r), w, h)
                if np.linalg.norm(tangent) < 1e-9:
                    return False
                drag.tangent_px = tangent / np.linalg.norm(tangent)
                drag.grab = r
            else:
                drag.grab = start_hit - pivot
        self._drag = drag
        self.gizmo.set_feedback(handle.name, self._feedback(drag, 0.0))
        self.viewport.canvas.native.setCursor(Qt.ClosedHandCursor)
        return True

    def _snapping(self, modifiers: frozenset) -> bool:
        return self.snap_action.isChecked() != ("control" in modifiers)

    def _feedback(self, drag: _Drag, angle: float, snapping: bool = False) -> Feedback:
        handle = drag.handle
        if handle.kind == "rotate":
            step = math.radians(self.angle_step) if snapping else 0.0
            return Feedback(handle.name, angle=angle, start=drag.grab, axis=drag.axis, snap_step=step)
        return Feedback(handle.name, snap_step=self.grid_step if snapping and handle.kind == "translate" else 0.0,
                        origin=drag.pivot)

    def _update_gizmo(self, drag: _Drag, pointer: Pointer) -> None:
        handle = drag.handle
        snapping = self._snapping(pointer.modifiers)
        ray = self._ray(drag.view, pointer.x, pointer.y)
        _, _, forward = cm.frame(drag.view)
        unit = self._unit()
        result: dict[str, Transform] = {}
        text = ""
        gizmo_at = drag.pivot
        angle_shown = 0.0
        if handle.kind == "translate":
            if len(handle.axes) == 1:
                i = handle.axes[0]
                along = gm.along_axis(drag.pivot, drag.frame[:, i], forward, ray)
                if along is None:
                    return
                d = along - drag.along0
                if snapping:
                    d = gm.snap(d, self.grid_step)
                local = np.zeros(3)
                local[i] = d
                text = f"Move {AXIS_NAMES[i]}  {format_length(d, unit)}"
            else:
                normal_axis = next(k for k in range(3) if k not in handle.axes)
                offset = gm.plane_offset(drag.pivot, drag.frame[:, normal_axis], drag.ray0, ray)
                if offset is None:
                    return
                local = drag.frame.T @ offset
                if snapping:
                    local = gm.snap(local, self.grid_step)
                local[normal_axis] = 0.0   # exactly in the plane: the third coordinate stays as it was
                a, b = handle.axes
                text = (f"Move {AXIS_NAMES[a]}{AXIS_NAMES[b]}  {to_display(local[a], unit):.{DECIMALS[unit]}f}, "
                        f"{format_length(local[b], unit)}")
            for part in drag.parts:
                result[part.node_id] = gm.translated(part.start, part.parent, part.frame @ local)
            gizmo_at = drag.pivot + drag.frame @ local
        elif handle.kind == "rotate":
            if drag.tangent_px is not None:
                moved = np.array([pointer.x - drag.x0, pointer.y - drag.y0])
                drag.angle = float(np.dot(moved, drag.tangent_px)) / (0.8 * SIZE_PX)
            else:
                raw = gm.ring_angle(drag.pivot, drag.axis, drag.ray0, ray)
                if raw is None:
                    return
                drag.angle += gm.wrap_angle(raw - drag.last_raw)
                drag.last_raw = raw
            angle = drag.angle
            if snapping:
                angle = gm.snap(angle, math.radians(self.angle_step))
            angle_shown = angle
            for part in drag.parts:
                axis = part.frame[:, handle.axes[0]] if handle.axes else drag.axis
                result[part.node_id] = gm.rotated(part.start, part.parent, part.pivot, gm.rotation(axis, angle))
            name = f"{AXIS_NAMES[handle.axes[0]]}" if handle.axes else "view"
            text = f"Rotate {name}  {math.degrees(angle):.1f}°"
        else:  # scale
            if handle.name == "su":
                moved = (pointer.x - drag.x0) - (pointer.y - drag.y0)   # right or up grows
                factor = 2.0 ** (moved / SIZE_PX)
                if snapping:
                    factor = gm.snap_factor(factor, self.scale_step)
                factors = np.full(3, max(factor, gm.MIN_FACTOR))
                text = f"Scale  ×{factors[0]:.3f}"
            else:
                i = handle.axes[0]
                along = gm.along_axis(drag.pivot, drag.frame[:, i], forward, ray)
                if along is None:
                    return
                factor = along / drag.along0
                if snapping:
                    factor = gm.snap_factor(factor, self.scale_step)
                factors = np.ones(3)
                factors[i] = max(factor, gm.MIN_FACTOR)
                text = f"Scale {AXIS_NAMES[i]}  ×{factors[i]:.3f}"
            for part in drag.parts:
                result[part.node_id] = gm.scaled(part.start, part.parent, part.pivot, part.frame, factors)
        if snapping:
            text += f"   snap {self._snap_text()}"
        drag.result = result
        self._apply(result)
        self.gizmo.place(self.mode, gizmo_at, drag.frame)
        self.gizmo.set_feedback(handle.name, self._feedback(drag, angle_shown, snapping))
        self._show_value(text, pointer, gizmo_at, drag.view)
        self.window.statusBar().showMessage(text.replace("  ", " "), 2000)

    def _show_value(self, text: str, pointer: Pointer, centre: np.ndarray, view: CameraView) -> None:
        """The value next to the pointer, on the side away from the gizmo so it never covers it."""
        w, h = self._canvas_size()
        c = gm.project(view, centre, w, h)[0, :2]
        away = np.array([pointer.x, pointer.y]) - c
        away = away / np.linalg.norm(away) if np.linalg.norm(away) > 1e-6 else np.array([1.0, 0.0])
        # beside the pointer and off the line it is dragging along, on the far side from the gizmo
        x = pointer.x + (22 if away[0] >= 0 else -22)
        y = pointer.y + (20 if away[1] >= -0.25 else -48)
        self.screen.label("value", text, x, y, right=away[0] < 0)

    def _apply(self, transforms: dict[str, Transform]) -> None:
        """Live feedback during a drag: the nodes take the transforms directly (no command yet)."""
        graph = self.window.project.scene_graph
        for node_id, transform in transforms.items():
            node = graph.find(node_id)
            if node is not None:
                node.transform = transform
        self.viewport.canvas.update()

    def _finish_gizmo(self, drag: _Drag) -> None:
        changed = {i: t for i, t in drag.result.items()
                   if t != next(p.start for p in drag.parts if p.node_id == i)}
        self._apply({p.node_id: p.start for p in drag.parts})   # back to the start: the command makes the change
        if not changed:
            return
        labels = {"translate": "Move", "rotate": "Rotate", "scale": "Scale"}
        count = len(changed)
        label = f"{labels[drag.handle.kind]} {count} part{'s' if count != 1 else ''}" if count > 1 else \
            f"{labels[drag.handle.kind]} {self.window.project.scene_graph.find(next(iter(changed))).name}"
        self.window.run(SetTransforms({i: t.to_json() for i, t in changed.items()}, label=label))

    # -- the light's direction --------------------------------------------------------------

    def _start_light(self, pointer: Pointer, view: CameraView) -> bool:
        light = self._light()
        if light is None:
            return False
        index, centre, direction = light
        drag = _Drag("light", pointer.x, pointer.y, view, pointer.modifiers)
        drag.light_index = index
        drag.light_doc = self.window.project.lighting_config.to_json()
        drag.light_centre, drag.light_direction = centre, direction / np.linalg.norm(direction)
        self._drag = drag
        self.light_handle.set_hot(True)
        self.viewport.canvas.native.setCursor(Qt.ClosedHandCursor)
        return True

    def _update_light(self, drag: _Drag, pointer: Pointer) -> None:
        origin, direction = self._ray(drag.view, pointer.x, pointer.y)
        point = gm.ray_sphere(origin, direction, drag.light_centre, self.light_handle.length)
        new = drag.light_centre - point
        if np.linalg.norm(new) < 1e-12:
            return
        new /= np.linalg.norm(new)
        azimuth = math.degrees(math.atan2(new[0], new[2]))
        elevation = math.degrees(math.asin(max(-1.0, min(1.0, -new[1]))))   # how far down it shines
        if self._snapping(pointer.modifiers):
            azimuth, elevation = gm.snap(azimuth, self.angle_step), gm.snap(elevation, self.angle_step)
            a, e = math.radians(azimuth), math.radians(elevation)
            new = np.array([math.sin(a) * math.cos(e), -math.sin(e), math.cos(a) * math.cos(e)])
        doc = dict(drag.light_doc)
        doc["lights"] = [dict(light) for light in doc["lights"]]
        doc["lights"][drag.light_index]["direction"] = [float(v) for v in new]
        doc["active_preset"] = None
        drag.light_new = doc
        self.viewport.scene_view.apply_lighting(load_document(LightingConfig, doc))
        self.light_handle.place(drag.light_centre, new)
        name = doc["lights"][drag.light_index]["name"]
        text = f"Light {name}  azimuth {azimuth:.0f}°, {elevation:.0f}° down"
        self._show_value(text, pointer, drag.light_centre, drag.view)
        self.viewport.canvas.update()

    def _finish_light(self, drag: _Drag) -> None:
        doc = drag.light_new
        if doc is None:
            return
        name = doc["lights"][drag.light_index]["name"]
        if not self.window.run(ReplaceDocument("lighting_config", doc, f"Aim light {name}")):
            self.viewport.scene_view.apply_lighting(self.window.project.lighting_config)

    # -- measuring -------------------------------------------------------------------------

    def measure_at(self, x: float, y: float) -> None:
        """Measure mode: the first click picks where from, the second where to; a third starts again."""
        hit = self._pick(x, y, include_locked=True)
        if hit is None:
            self.window.statusBar().showMessage("Click on a part to measure from or to it", 4000)
            return
        if len(self.measure_points) >= 2:
            self.measure_points = []
        self.measure_points.append(np.asarray(hit[1], float))
        self.measured = (float(np.linalg.norm(self.measure_points[1] - self.measure_points[0]))
                         if len(self.measure_points) == 2 else None)
        self._show_measurement()

    def measurement_text(self) -> Optional[str]:
        return None if self.measured is None else format_length(self.measured, self._unit())

    def _show_measurement(self) -> None:
        self.measure.set_points(self.measure_points, self.measurement_text())
        if self.measured is not None:
            unit = self._unit()
            delta = self.measure_points[1] - self.measure_points[0]
            parts = ", ".join(f"{AXIS_NAMES[i]} {to_display(abs(delta[i]), unit):.{DECIMALS[unit]}f}" for i in range(3))
            self.window.statusBar().showMessage(f"Distance {self.measurement_text()}  ({parts} {unit})", 10000)

    # -- teardown ------------------------------------------------------------------------

    @contextmanager
    def overlays_hidden(self) -> Iterator[None]:
        """Gizmo, light handle, box and measurement out of the picture while an image of the
        design is made (a version's thumbnail shows the part, not the tool in hand)."""
        roots = [overlay.root for overlay in (self.gizmo, self.light_handle, self.screen, self.measure)]
        shown = [root.visible for root in roots]
        for root in roots:
            root.visible = False
        try:
            yield
        finally:
            for root, visible in zip(roots, shown, strict=True):
                root.visible = visible

    def close(self) -> None:
        """Disconnect from the camera and drop the overlays (the window is closing)."""
        if self._closed:
            return
        self._closed = True
        camera = self.viewport.camera
        for signal, slot in ((camera.pressed, self._pressed), (camera.dragged, self._dragged),
                             (camera.released, self._released)):
            signal.disconnect(slot)
        for overlay in (self.gizmo, self.light_handle, self.measure, self.screen):
            overlay.close()
        self.viewport.canvas.native.removeEventFilter(self)
        self.window.removeEventFilter(self)


__all__ = ["DEFAULT_MODE", "KEYS", "MODES", "Tools"]
