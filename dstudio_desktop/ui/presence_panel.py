"""People: who else has this project open, live (name, role, colour); their selections outlined
in their colour in the viewport and tinted in the outliner; Go to View jumps to where someone
looks, Follow keeps your view on theirs until you move the camera yourself.

The network side is ``sync.presence.PresenceClient`` on its own thread; its psygnal events are
re-emitted here as Qt signals, which Qt queues to the GUI thread. A note, reply or resolve made
here is pushed at once and the others are told to pull (a broadcast), so it reaches them in
seconds instead of at their next sync cycle."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Optional

from pydantic import ValidationError
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton

from .. import settings
from ..core import CameraView
from .panel import Panel

if TYPE_CHECKING:  # the network side is imported when a session joins: the window opens without asyncio
    from ..sync.presence import Peer, PresenceClient

KEY = Qt.UserRole + 1
CHANGES = "changes"   # the broadcast that tells the others to pull now


def _rgb(colour: str) -> tuple[float, float, float]:
    c = QColor(colour)
    return (c.redF(), c.greenF(), c.blueF())


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class PresencePanel(Panel):
    _peers_arrived = Signal()
    _broadcast_arrived = Signal(str, object)
    _connection_changed = Signal(str)

    def __init__(self, window) -> None:
        super().__init__("People", "presence_panel", window)
        self.client: Optional[PresenceClient] = None
        self.following: Optional[str] = None   # the key of the person whose view yours follows
        self._sync_again = False
        layout = self.body_layout
        self.status = QLabel("Offline · sign in to see who else is in the project")
        self.status.setObjectName("presence_status")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("people_list")
        self.list.setToolTip("Everyone else who has this project open; their selections are outlined in their colour")
        self.view_button = QPushButton("Go to View")
        self.view_button.setToolTip("Move your view to where the selected person is looking")
        self.follow_button = QPushButton("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setToolTip("Your view follows the selected person's until you move the camera")
        buttons = QHBoxLayout()
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.follow_button)
        self.list.setMaximumHeight(96)  # a few people at a glance: the panels below keep their room
        layout.addWidget(self.status)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addStretch(1)
        # the dock never squeezes its buttons out of sight behind a scroll bar
        self.widget().setMinimumHeight(self.widget().widget().sizeHint().height())
        # who selected what, written over the viewport's corner: the outline colour alone does not say who
        self.overlay = QLabel(window.viewport.canvas.native)
        self.overlay.setObjectName("presence_overlay")
        self.overlay.setTextFormat(Qt.RichText)
        self.overlay.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.overlay.setStyleSheet("color: #e8e8ec; background: rgba(20, 20, 24, 170); padding: 6px 10px;"
                                   "border-radius: 6px;")
        self.overlay.hide()
        window.viewport.canvas.native.installEventFilter(self)  # keeps the overlay in its corner on resize
        self.view_button.clicked.connect(self._go_to_view)
        self.follow_button.toggled.connect(self._follow_toggled)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self._peers_arrived.connect(self._show_peers)
        self._broadcast_arrived.connect(self._broadcast)
        self._connection_changed.connect(lambda _state: self._show_status())
        window.addDockWidget(Qt.RightDockWidgetArea, self)
        self.toggleViewAction().setToolTip("Show or hide the People panel")
        window.docks_menu.addAction(self.toggleViewAction())
        window.project_opened.connect(self._project_opened)
        window.selection_changed.connect(self._selection_changed)
        window.review_dock.noted.connect(self._sync_soon)
        window.sync_status.landed.connect(self._landed)
        camera = window.viewport.camera
        camera.view_set.connect(self._view_set)
        camera.moved.connect(self._you_moved)  # a move of your own (a follow applies views without it)
        self._enable()

    # -- the client ---------------------------------------------------------------------

    def _project_opened(self, project_id: str) -> None:
        if self.client is not None and self.client.project_id == project_id:
            self._show_peers()  # the same project again (reopened to show what a sync brought)
            return
        self.leave()
        self._connect()

    def _connect(self) -> None:
        session, project = self.window.sync_status.session, self.window.project
        if session is None or project is None or self.client is not None:
            self._show_status()
            return
        from ..sync.presence import PresenceClient

        client = PresenceClient(session.url, session.anon_key, session.access_token, project.id, session.user_id,
                                session.email, heartbeat_s=settings.presence_heartbeat_s())
        client.peers_changed.connect(self._peers_arrived.emit)
        client.broadcast.connect(self._broadcast_arrived.emit)
        client.connection.connect(self._connection_changed.emit)
        scene_view = self.window.viewport.scene_view
        client.track(selection=sorted(scene_view.selection) if scene_view else [],
                     camera=self.window.viewport.camera.view.model_dump(mode="json"))
        self.client = client
        client.start()
        self._show_status()

    def leave(self, wait: float = 0.0) -> None:
        """Leave the project's channel (opening another project: at once, the leaving finishes on
        the presence thread; closing the window: ``wait`` up to that many seconds for it)."""
        client, self.client = self.client, None
        self.following = None
        if client is not None:
            client.close(timeout=wait)
        self._show_peers()

    # -- what this desktop tells the others ------------------------------------------------

    def _selection_changed(self, node_ids: list) -> None:
        if self.client is not None:
            self.client.track(selection=list(node_ids))

    def _view_set(self, view: CameraView) -> None:
        if self.client is not None:
            self.client.track(camera=view.model_dump(mode="json"))

    def _sync_soon(self) -> None:
        """Push a review change now (after the cycle under way, if one is)."""
        status = self.window.sync_status
        if status.session is None:
            return
        if status.running:
            self._sync_again = True
        else:
            status.sync_now()

    def _landed(self, report) -> None:
        if self.client is None:
            self._connect()  # signed in just now
        elif self.window.sync_status.session is not None \
                and self.window.sync_status.session.access_token != self.client.access_token:
            self.client.set_token(self.window.sync_status.session.access_token)  # refreshed
        if report is not None and report.pushed and self.client is not None:
            self.client.send_broadcast(CHANGES, {"project_id": self.client.project_id})
        if self._sync_again:
            self._sync_again = False
            self.window.sync_status.sync_now()

    def _broadcast(self, event: str, payload) -> None:
        if event == CHANGES and self.client is not None and payload.get("project_id") == self.client.project_id:
            self._sync_soon()  # someone pushed: pull now rather than at the next cycle

    # -- what the others do ------------------------------------------------------------------

    def peers(self) -> tuple[Peer, ...]:
        return self.client.peers if self.client is not None else ()

    def _show_status(self) -> None:
        session = self.window.sync_status.session
        if session is None:
            text = "Offline · sign in to see who else is in the project"
        elif self.client is None or self.client.state_text == "offline":
            text = "Offline · nobody else shown until the server is back"
        elif self.client.state_text == "refused":
            text = "Not shared yet · this project is not on the server, or you are not in its organisation"
        else:
            n = len(self.client.peers)
            text = f"Live · {n} other{'s' if n != 1 else ''} here" if n else "Live · nobody else here"
        self.status.setText(text)

    def _show_peers(self) -> None:
        peers = self.peers()
        keys = {p.key for p in peers}
        if self.following is not None and self.following not in keys:
            self._stop_following("they left")
        current = self.list.currentItem().data(KEY) if self.list.currentItem() else None
        self.list.clear()
        session = self.window.sync_status.session
        if session is not None and self.client is not None and self.client.connected:
            # no swatch: your own selection is drawn in the editor's orange, not a person colour
            you = QListWidgetItem(f"You · {self.client.role or 'signed in'}")
            you.setFlags(Qt.ItemIsEnabled)  # not something to follow
            you.setForeground(QColor("#8a8a90"))
            self.list.addItem(you)
        for peer in peers:
            parts = [peer.name, peer.role]
            if peer.selection:
                parts.append(f"{len(peer.selection)} selected")
            if peer.key == self.following:
                parts.append("following")
            item = QListWidgetItem(_swatch(peer.colour), " · ".join(parts))
            item.setData(KEY, peer.key)
            item.setToolTip(peer.email)
            self.list.addItem(item)
            if peer.key == current or (current is None and len(peers) == 1):
                self.list.setCurrentItem(item)
        self._outline(peers)
        following = self._peer(self.following)
        if following is not None:
            self._apply_camera(following)
        self._show_status()
        self._enable()

    def _outline(self, peers: tuple[Peer, ...]) -> None:
        colours: dict[str, tuple] = {}
        marks: dict[str, tuple[str, str]] = {}
        for peer in peers:
            for node_id in peer.selection:
                colours.setdefault(node_id, _rgb(peer.colour))
                colour, names = marks.get(node_id, (peer.colour, ""))
                marks[node_id] = (colour, f"{names}, {peer.name}" if names else peer.name)
        scene_view = self.window.viewport.scene_view
        if scene_view is not None:
            scene_view.set_others_selection(colours)
            self.window.viewport.canvas.update()
        self.window.outliner.mark_others(marks)
        self._show_overlay(peers)

    def _show_overlay(self, peers: tuple[Peer, ...]) -> None:
        project = self.window.project
        names = {n.id: n.name for n, _ in project.scene_graph.walk()} if project is not None else {}
        lines = []
        for peer in peers:
            parts = [names[i] for i in peer.selection if i in names]
            following = peer.key == self.following
            if not parts and not following:
                continue
            what = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
            text = f"<span style='color:{peer.colour}'>&#9632;</span> <b>{escape(peer.name)}</b>"
            if what:
                text += f" selected {escape(what)}"
            if following:
                text += " · <i>you are following</i>"
            lines.append(text)
        if not lines:
            self.overlay.hide()
            return
        self.overlay.setText("<br>".join(lines))
        self.overlay.adjustSize()
        self._place_overlay()
        self.overlay.show()
        self.overlay.raise_()

    def _place_overlay(self) -> None:
        native = self.window.viewport.canvas.native
        self.overlay.move(12, native.height() - self.overlay.height() - 12)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Resize and watched is self.window.viewport.canvas.native:
            self._place_overlay()
        return False

    def _peer(self, key: Optional[str]) -> Optional[Peer]:
        return next((p for p in self.peers() if p.key == key), None) if key else None

    def _selected_peer(self) -> Optional[Peer]:
        item = self.list.currentItem()
        return self._peer(item.data(KEY)) if item is not None else None

    def _enable(self) -> None:
        peer = self._selected_peer()
        self.view_button.setEnabled(peer is not None and peer.camera is not None)
        self.follow_button.setEnabled(peer is not None or self.following is not None)

    # -- their view --------------------------------------------------------------------------

    def _apply_camera(self, peer: Peer) -> bool:
        if peer.camera is None:
            return False
        try:
            view = CameraView.model_validate(peer.camera)
        except ValidationError:
            return False  # what another client sent is checked like any input
        if view != self.window.viewport.camera.view:
            self.window.viewport.camera.set_view(view)  # not notify: a follow is not a move of yours
            self.window.viewport.canvas.update()
        return True

    def _go_to_view(self) -> None:
        peer = self._selected_peer()
        if peer is not None and peer.camera is not None:
            try:
                self.window.camera_dock.fly_to(CameraView.model_validate(peer.camera))
            except ValidationError:
                pass

    def _follow_toggled(self, on: bool) -> None:
        if not on:
            self._stop_following(None)
            return
        peer = self._selected_peer()
        if peer is None:
            self.follow_button.setChecked(False)
            return
        self.following = peer.key
        self.follow_button.setText("Stop Following")
        self._apply_camera(peer)
        self.window.statusBar().showMessage(f"Following {peer.name}'s view; move the camera to stop", 5000)
        self._show_peers()

    def _you_moved(self, _view) -> None:
        if self.following is not None:
            self._stop_following("you moved")

    def _stop_following(self, why: Optional[str]) -> None:
        peer = self._peer(self.following)
        self.following = None
        self.follow_button.blockSignals(True)
        self.follow_button.setChecked(False)
        self.follow_button.blockSignals(False)
        self.follow_button.setText("Follow")
        if why and peer is not None:
            self.window.statusBar().showMessage(f"Stopped following {peer.name}: {why}", 5000)
        elif why:
            self.window.statusBar().showMessage(f"Stopped following: {why}", 5000)
        self._show_peers_later()

    def _show_peers_later(self) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self._show_peers)
