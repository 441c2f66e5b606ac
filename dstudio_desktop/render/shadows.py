"""Soft shadows of the key light: a light-space depth map of the parts, and from it a ground
texture of how much key light reaches each point of the shadow catcher (percentage-closer
soft shadows: a blocker search, then a filter whose width grows with the distance between
the blocker and the ground, so a contact shadow is sharp and a far one soft).

Both are remade only when what they depend on changes (a part moves, shows or hides, the key
light turns, the softness changes): orbiting the camera costs one texture lookup per ground
pixel. The parts also look the depth map up for the key light's shadow on themselves.
"""

from __future__ import annotations

import math
from typing import Iterable, Optional

import numpy as np
from vispy import gloo

DEPTH_SIZE = 2048
GROUND_SIZE = 512
MAX_ANGLE_DEG = 9.0     # the key light's apparent radius at softness 1


def _vogel(n: int, turn: float) -> np.ndarray:
    """n points evenly spread over the unit disc: a golden-angle (Vogel) spiral, turned by
    ``turn`` radians so two sets do not line up."""
    i = np.arange(n) + 0.5
    angle = i * math.pi * (3.0 - math.sqrt(5.0)) + turn
    return np.sqrt(i / n)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])


def _glsl_array(name: str, points: np.ndarray) -> str:
    body = ", ".join(f"vec2({x:.5f}, {y:.5f})" for x, y in points)
    return f"const vec2 {name}[{len(points)}] = vec2[{len(points)}]({body});"


_BLOCKER = _vogel(16, 0.0)
_FILTER = _vogel(32, 1.1)

GROUND_VERTEX = """
attribute vec2 a_pos;
varying vec2 v_st;
void main() { v_st = a_pos * 0.5 + 0.5; gl_Position = vec4(a_pos, 0.0, 1.0); }
"""

GROUND_FRAGMENT = """
#version 120
varying vec2 v_st;
uniform sampler2D u_depth;
uniform mat4 u_light;          // world -> light clip space
uniform vec4 u_ground;         // x0, z0, size, y of the ground square
uniform vec4 u_params;         // depth range in world units, tan(light radius), texel, bias
uniform float u_map_size;      // the depth map's width in world units
BLOCKER
FILTER
void main() {
    vec3 p = vec3(u_ground.x + v_st.x * u_ground.z, u_ground.w, u_ground.y + v_st.y * u_ground.z);
    vec4 c = u_light * vec4(p, 1.0);
    vec3 q = c.xyz / c.w * 0.5 + 0.5;
    if (q.x <= 0.0 || q.x >= 1.0 || q.y <= 0.0 || q.y >= 1.0 || q.z >= 1.0) {
        gl_FragColor = vec4(1.0);
        return;
    }
    float receiver = q.z - u_params.w;
    // blockers within the widest penumbra that could reach here
    float search = max(u_params.y * u_params.x * 0.5 / u_map_size, 2.0 * u_params.z);
    float blockers = 0.0;
    float found = 0.0;
    for (int i = 0; i < 16; i++) {
        float d = texture2D(u_depth, q.xy + BLOCKER_DISC[i] * search).r;
        if (d < receiver) { blockers += d; found += 1.0; }
    }
    if (found < 0.5) { gl_FragColor = vec4(1.0); return; }
    float gap = (receiver - blockers / found) * u_params.x;          // world distance to the blockers
    float radius = max(gap * u_params.y / u_map_size, 1.5 * u_params.z);
    float lit = 0.0;
    for (int i = 0; i < 32; i++) {
        float d = texture2D(u_depth, q.xy + FILTER_DISC[i] * radius).r;
        lit += d < receiver ? 0.0 : 1.0;
    }
    gl_FragColor = vec4(vec3(lit / 32.0), 1.0);
}
""".replace("BLOCKER\n", _glsl_array("BLOCKER_DISC", _BLOCKER) + "\n").replace(
    "FILTER\n", _glsl_array("FILTER_DISC", _FILTER) + "\n")


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    r = np.cross(f, up)
    r = r / np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = r, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def ortho(half: float, near: float, far: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 0] = m[1, 1] = 1.0 / half
    m[2, 2] = -2.0 / (far - near)
    m[2, 3] = -(far + near) / (far - near)
    return m


class ShadowMaps:
    """The key light's depth map and the ground's soft shadow texture (see the module)."""

    def __init__(self) -> None:
        self.depth_texture = gloo.Texture2D(shape=(DEPTH_SIZE, DEPTH_SIZE, 1), format="luminance",
                                            internalformat="r32f", interpolation="nearest", wrapping="clamp_to_edge")
        self._depth_fbo = gloo.FrameBuffer(self.depth_texture, gloo.RenderBuffer((DEPTH_SIZE, DEPTH_SIZE), "depth"))
        self.ground_texture = gloo.Texture2D(shape=(GROUND_SIZE, GROUND_SIZE, 4), interpolation="linear",
                                             wrapping="clamp_to_edge")
        self._ground_fbo = gloo.FrameBuffer(self.ground_texture)
        self._ground = gloo.Program(GROUND_VERTEX, GROUND_FRAGMENT)
        self._ground["a_pos"] = gloo.VertexBuffer(np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32))
        self.matrix = np.eye(4)
        self.ground_rect = (0.0, 0.0, 1.0, 0.0)   # x0, z0, size, y
        self.ready = False
        self.on_parts = True
        self.bias = 0.0015
        self.texel = 1.0 / DEPTH_SIZE
        self.normal_offset = 0.0
        self._signature: Optional[tuple] = None
        self.passes = 0   # how many times the maps were remade (tests and the benchmark read it)

    def update(self, canvas, casters: Iterable[tuple], direction: Optional[np.ndarray],
               bounds: Optional[tuple[np.ndarray, np.ndarray]], softness: float) -> bool:
        """Remake the maps if anything they depend on changed; True when they were remade.
        ``casters`` are (depth program, index buffer, world matrix); must run while the
        canvas's context is current (from a visual's draw)."""
        casters = list(casters)
        if direction is None or bounds is None or not casters:
            self.ready = False
            self._signature = None
            return False
        lo, hi = (np.asarray(b, float) for b in bounds)
        signature = (tuple(np.round(direction, 6)), round(float(softness), 4), tuple(np.round(lo, 6)),
                     tuple(np.round(hi, 6)), tuple((id(p), np.asarray(w, float).round(7).tobytes()) for p, _, w in casters))
        if signature == self._signature and self.ready:
            return False
        self._signature = signature
        self._render(canvas, casters, np.asarray(direction, float), lo, hi, softness)
        self.ready = True
        self.passes += 1
        return True

    def _render(self, canvas, casters, direction, lo, hi, softness) -> None:
        centre = (lo + hi) / 2
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-4)
        ground_y = min(0.0, float(lo[1]))
        light = direction / np.linalg.norm(direction)
        up = np.array([0.0, 1.0, 0.0]) if abs(light[1]) < 0.99 else np.array([0.0, 0.0, 1.0])
        # the box must hold the parts and the ground under them where their shadows fall
        reach = radius * 1.05
        eye = centre - light * reach * 3
        view = look_at(eye, centre, up)
        near, far = reach * 0.5, reach * 7.0
        projection = ortho(reach * 1.4, near, far)
        self.matrix = projection @ view
        self.texel = 1.0 / DEPTH_SIZE
        world_per_texel = 2 * reach * 1.4 / DEPTH_SIZE
        self.normal_offset = 1.5 * world_per_texel
        self.bias = 2.0 * world_per_texel / (far - near)
        ctx = canvas.context
        canvas.push_fbo(self._depth_fbo, (0, 0), (DEPTH_SIZE, DEPTH_SIZE))
        try:
            ctx.set_state(depth_test=True, blend=False, cull_face=False, depth_mask=True)
            ctx.set_clear_color((1.0, 1.0, 1.0, 1.0))
            ctx.clear(color=True, depth=True)
            for program, indices, world in casters:
                program["u_mvp"] = (self.matrix @ np.asarray(world, float)).T.astype(np.float32)
                program.draw("triangles", indices)
        finally:
            canvas.pop_fbo()
        size = max(float(hi[0] - lo[0]), float(hi[2] - lo[2]), radius) * 3.0
        self.ground_rect = (float(centre[0] - size / 2), float(centre[2] - size / 2), size, ground_y)
        tan = math.tan(math.radians(MAX_ANGLE_DEG * max(softness, 0.0)))
        self._ground["u_depth"] = self.depth_texture
        self._ground["u_light"] = self.matrix.T.astype(np.float32)
        self._ground["u_ground"] = self.ground_rect
        self._ground["u_params"] = (float(far - near), float(tan), float(self.texel), float(self.bias))
        self._ground["u_map_size"] = float(2 * reach * 1.4)
        canvas.push_fbo(self._ground_fbo, (0, 0), (GROUND_SIZE, GROUND_SIZE))
        try:
            ctx.set_state(depth_test=False, blend=False, cull_face=False)
            self._ground.draw("triangle_strip")
        finally:
            canvas.pop_fbo()
        ctx.set_state(depth_test=True, blend=False, cull_face=False, depth_mask=True)


__all__ = ["ShadowMaps"]
