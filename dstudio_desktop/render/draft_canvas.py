"""A SceneCanvas that can draw its frames at a fraction of the window's resolution.

On a software renderer (Mesa's llvmpipe) a frame's cost is mostly its fragments: the PBR
shader with image-based light and shadows runs for every pixel. While the camera moves, the
viewport draws at ``1 / draft_scale`` of the resolution into an off-screen texture and
stretches it over the window; once the camera rests it draws at full resolution again. The
scale adapts to what the last moving frame cost, so a fast GPU never sees a blurred frame.

Images (``render``) are always drawn at full resolution: the draft applies only to frames
drawn on screen.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo, scene

MAX_DRAFT_SCALE = 4
TARGET_MS = 33.0   # a moving frame slower than this draws at the next coarser scale


class _Blit:
    """A full-window quad showing a texture (linear filtering: the draft is stretched smoothly)."""

    VERT = """
    attribute vec2 a_pos;
    varying vec2 v_uv;
    void main() { v_uv = a_pos * 0.5 + 0.5; gl_Position = vec4(a_pos, 0.0, 1.0); }
    """
    FRAG = """
    uniform sampler2D u_frame;
    uniform vec2 u_used;     // the part of the texture the frame filled
    varying vec2 v_uv;
    void main() { gl_FragColor = vec4(texture2D(u_frame, v_uv * u_used).rgb, 1.0); }
    """

    def __init__(self) -> None:
        self.program = gloo.Program(self.VERT, self.FRAG)
        self.program["a_pos"] = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)


class DraftCanvas(scene.SceneCanvas):
    """``drafting``: frames on screen are drawn at reduced resolution (see the module)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unfreeze()   # vispy freezes its objects' attributes after __init__
        self.drafting = False
        self.draft_scale = 2
        self.last_draft_ms = 0.0
        self.draft_frames = 0     # drawn so far (the benchmark and a test count them)
        self._target: tuple | None = None     # (size, texture, framebuffer)
        self._blit: _Blit | None = None
        self.before_draft = None   # called before a draft frame binds its framebuffer
        self.freeze()

    def adapt(self, frame_ms: float) -> None:
        """After a draft frame: coarser if it was slow, finer if there is room to spare."""
        self.last_draft_ms = frame_ms
        if frame_ms > TARGET_MS and self.draft_scale < MAX_DRAFT_SCALE:
            self.draft_scale += 1
        elif frame_ms < TARGET_MS / 4 and self.draft_scale > 1:
            self.draft_scale -= 1

    def draft_size(self) -> tuple[int, int]:
        """A draft frame's size in pixels at the current scale."""
        pw, ph = self.physical_size
        scale = max(1, self.draft_scale)
        return max(1, pw // scale), max(1, ph // scale)

    def draft_pixels(self) -> int:
        width, height = self.draft_size()
        return width * height

    def _framebuffer(self, size: tuple[int, int]):
        # kept between frames, and a little larger than asked so a resize rarely remakes it
        if self._target is None or self._target[0][0] < size[0] or self._target[0][1] < size[1]:
            alloc = (size[0] + 64, size[1] + 64)
            texture = gloo.Texture2D(shape=(alloc[1], alloc[0], 4), interpolation="linear",
                                     wrapping="clamp_to_edge")
            fbo = gloo.FrameBuffer(color=texture, depth=gloo.RenderBuffer((alloc[1], alloc[0])))
            self._target = (alloc, texture, fbo)
        return self._target

    def _draw_scene(self, bgcolor=None) -> None:
        if not self.drafting or self.draft_scale <= 1 or self._fb_stack:
            super()._draw_scene(bgcolor)   # full resolution, and always for render()
            return
        if self.before_draft is not None:
            self.before_draft()   # off-screen passes (shadow maps) now, while no draft is bound
        pw, ph = self.physical_size
        size = self.draft_size()
        alloc, texture, fbo = self._framebuffer(size)
        # Only GL's viewport shrinks: vispy's transforms stay those of the whole window, so every
        # visual computes the same clip coordinates and GL rasterises them into the draft's
        # corner of the texture. (Reconfiguring vispy's transforms instead costs tens of
        # milliseconds a frame in change notifications through the scene graph.)
        fbo.activate()
        try:
            self.context.set_viewport(0, 0, *size)
            super()._draw_scene(bgcolor)
        finally:
            fbo.deactivate()
            self.context.set_viewport(0, 0, pw, ph)
        if self._blit is None:
            self._blit = _Blit()
        self._blit.program["u_frame"] = texture
        self._blit.program["u_used"] = (size[0] / alloc[0], size[1] / alloc[1])
        gloo.set_state(depth_test=False, blend=False, cull_face=False)
        self._blit.program.draw("triangle_strip")
        self.draft_frames += 1
