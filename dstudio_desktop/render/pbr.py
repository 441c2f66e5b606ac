"""The mesh visuals: a part drawn indexed with the PBR shader of ``shading.py``, the outline
that marks it selected, and the depth-only program the shadow pass draws it with.

vispy's MeshVisual uploads three vertices per face and re-uploads everything on any colour
change; these visuals upload each vertex once (float32 positions, normals, UVs, tangents,
uint32 indices) and change materials, lights and textures through uniforms and samplers only.
The buffers are shared by the three programs, so selecting a part or casting its shadow
uploads nothing.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from vispy import gloo, scene
from vispy.visuals import Visual
from vispy.visuals.transforms import MatrixTransform

from ..core.extent import extent
from .prepare import DisplayData, outline_normals
from .shading import FRAGMENT, VERTEX, PbrShading


class MeshBuffers:
    """The GPU buffers of one mesh's drawing data (made once, shared by its programs)."""

    def __init__(self, display: DisplayData) -> None:
        self.display = display
        self.positions = gloo.VertexBuffer(np.ascontiguousarray(display.vertices, np.float32))
        self.normals: Optional[gloo.VertexBuffer] = None if display.normals is None else \
            gloo.VertexBuffer(np.ascontiguousarray(display.normals, np.float32))
        self.uvs = None if display.uvs is None else gloo.VertexBuffer(np.ascontiguousarray(display.uvs, np.float32))
        self.tangents = None if display.tangents is None else gloo.VertexBuffer(
            np.ascontiguousarray(display.tangents, np.float32))
        self.colors = None if display.colors is None else gloo.VertexBuffer(
            np.ascontiguousarray(display.colors, np.float32))
        self.indices = gloo.IndexBuffer(np.ascontiguousarray(display.faces, np.uint32).reshape(-1))
        self._outline: Optional[gloo.VertexBuffer] = None
        self.bounds = extent(display.vertices)

    @property
    def has_tangents(self) -> bool:
        return self.tangents is not None

    def set_normals(self, normals: np.ndarray) -> gloo.VertexBuffer:
        """The smooth normals made after the first frame (see ``prepare.DEFER_NORMALS_ABOVE``)."""
        self.normals = gloo.VertexBuffer(np.ascontiguousarray(normals, np.float32))
        return self.normals

    def outline(self) -> gloo.VertexBuffer:
        """Welded normals for the outline (made the first time the part is selected)."""
        if self._outline is None:
            self._outline = gloo.VertexBuffer(outline_normals(self.display))
        return self._outline


class _PbrMeshVisual(Visual):
    """One part, lit by the project's lights and environment (see ``shading.py``)."""

    def __init__(self, buffers: MeshBuffers, resources) -> None:
        super().__init__(vcode=VERTEX, fcode=FRAGMENT)
        self._draw_mode = "triangles"
        self._index_buffer = buffers.indices
        self.buffers = buffers
        self.resources = resources
        program = self.shared_program
        program["a_position"] = buffers.positions
        # a constant until the smooth normals come (the shader then uses each face's own)
        program["a_normal"] = buffers.normals if buffers.normals is not None else (0.0, 0.0, 1.0)
        program["a_uv"] = buffers.uvs if buffers.uvs is not None else (0.0, 0.0)
        program["a_tangent"] = buffers.tangents if buffers.tangents is not None else (1.0, 0.0, 0.0, 1.0)
        program["a_color"] = buffers.colors if buffers.colors is not None else (1.0, 1.0, 1.0, 1.0)
        self.set_world(np.eye(4))
        self.shading = PbrShading(program, resources)
        if buffers.normals is None:
            self.shading.set_face_normals(True)
        self.apply_material_state()

    def use_normals(self, normals: gloo.VertexBuffer) -> None:
        self.shared_program["a_normal"] = normals
        self.shading.set_face_normals(False)
        self.update()

    def set_world(self, world: np.ndarray) -> None:
        self.world = np.asarray(world, float)
        normal = np.linalg.inv(self.world[:3, :3]).T
        self.shared_program["u_model"] = self.world.T.astype(np.float32)
        self.shared_program["u_normal_matrix"] = normal.T.astype(np.float32)

    def apply_material_state(self) -> None:
        """GL state of the material: culling unless double-sided, blending for BLEND."""
        m = self.shading.material
        cull = False if m.double_sided else "back"
        if m.alpha_mode == "BLEND":
            self.set_gl_state(depth_test=True, cull_face=cull, blend=True, depth_mask=False,
                              blend_func=("src_alpha", "one_minus_src_alpha", "one", "one_minus_src_alpha"))
            self.order = 10   # after the opaque parts
        else:
            self.set_gl_state(depth_test=True, cull_face=cull, blend=False, depth_mask=True)
            self.order = 0

    def _prepare_transforms(self, view) -> None:
        view.view_program.vert["visual_to_render"] = view.transforms.get_transform("visual", "render")

    def _prepare_draw(self, view) -> bool:
        self.resources.make_mipmaps(self.canvas)
        return True

    def _compute_bounds(self, axis, view):
        lo, hi = self.buffers.bounds
        return lo[axis], hi[axis]


PbrMesh = scene.visuals.create_visual_node(_PbrMeshVisual)


class _OutlineVisual(Visual):
    """The selection outline: the part's back faces pushed out by a few pixels along welded
    normals, drawn behind it, so only a rim around the silhouette shows and the part keeps
    its own colour."""

    _VERT = """
    attribute vec3 a_position;
    attribute vec3 a_outline_normal;
    uniform float u_width;        // pixels
    uniform vec2 u_viewport;      // render target size in pixels
    void main() {
        vec4 p = $visual_to_render(vec4(a_position, 1.0));
        vec4 q = $visual_to_render(vec4(a_position + a_outline_normal * 1e-3, 1.0));
        vec2 d = q.xy / q.w - p.xy / p.w;
        float len = length(d);
        vec2 dir = len > 1e-12 ? d / len : vec2(0.0);
        p.xy += dir * u_width * 2.0 / u_viewport * p.w;
        gl_Position = p;
    }
    """
    _FRAG = """
    uniform vec4 u_color;
    void main() { gl_FragColor = u_color; }
    """

    def __init__(self, buffers: MeshBuffers) -> None:
        super().__init__(vcode=self._VERT, fcode=self._FRAG)
        self._draw_mode = "triangles"
        self._index_buffer = buffers.indices
        self.buffers = buffers
        self.shared_program["a_position"] = buffers.positions
        self.shared_program["a_outline_normal"] = buffers.outline()
        self.shared_program["u_width"] = 2.5
        self.shared_program["u_color"] = (1.0, 0.55, 0.1, 1.0)
        self.set_gl_state(depth_test=True, cull_face="front", blend=True, depth_mask=True,
                          blend_func=("src_alpha", "one_minus_src_alpha", "one", "one_minus_src_alpha"))
        self.order = 20

    def set_color(self, rgba) -> None:
        self.shared_program["u_color"] = tuple(float(c) for c in rgba)

    def _prepare_transforms(self, view) -> None:
        view.view_program.vert["visual_to_render"] = view.transforms.get_transform("visual", "render")

    def _prepare_draw(self, view) -> bool:
        canvas = self.canvas
        if canvas is not None:
            fbo, _, size = canvas._current_framebuffer()
            shape = fbo.color_buffer.shape[:2][::-1] if fbo is not None else canvas.physical_size
            scale = (shape[0] / max(size[0], 1)) if fbo is not None else canvas.pixel_scale
            self.shared_program["u_viewport"] = (float(shape[0]), float(shape[1]))
            self.shared_program["u_width"] = float(2.5 * max(scale, 1.0))
        return True

    def _compute_bounds(self, axis, view):
        lo, hi = self.buffers.bounds
        return lo[axis], hi[axis]


Outline = scene.visuals.create_visual_node(_OutlineVisual)


DEPTH_VERTEX = """
attribute vec3 a_position;
uniform mat4 u_mvp;
void main() { gl_Position = u_mvp * vec4(a_position, 1.0); }
"""
DEPTH_FRAGMENT = """
void main() { gl_FragColor = vec4(gl_FragCoord.z, 0.0, 0.0, 1.0); }
"""


def depth_program(buffers: MeshBuffers) -> gloo.Program:
    """The shadow pass's program for this mesh: light-space depth only."""
    program = gloo.Program(DEPTH_VERTEX, DEPTH_FRAGMENT)
    program["a_position"] = buffers.positions
    return program


def make_mesh(buffers: MeshBuffers, resources, parent) -> PbrMesh:
    visual = PbrMesh(buffers, resources, parent=parent)
    visual.transform = MatrixTransform()
    return visual


__all__ = ["MeshBuffers", "Outline", "PbrMesh", "depth_program", "make_mesh"]
