"""The view of ``environment_config``: the environment that lights and reflects (its textures
handed to every mesh's shading), the background (solid, gradient, or the environment itself),
the ground grid, the shadow catcher with the key light's soft shadows, and the exposure and
tone mapping every shader ends with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from vispy import scene
from vispy.gloo import VertexBuffer
from vispy.visuals import Visual

from ..core import EnvironmentConfig
from ..core.color import linear_to_srgb
from .environments import environment_data
from .shading import COMMON, TONE_MAPPING, key_light
from .shadows import ShadowMaps
from .textures import resources_for

if TYPE_CHECKING:
    from .scene_view import SceneView



class _BackgroundVisual(Visual):
    """Behind everything: a solid colour or vertical gradient (sRGB, shown exactly as picked),
    a picture filling the view (its pixels shown as they are, like a backdrop photo), or the
    environment seen through the camera (exposed and tone-mapped like the parts)."""

    _VERT = """
    attribute vec2 a_pos;
    uniform float u_canvas_height;
    varying vec3 v_dir;
    varying float v_t;
    varying vec2 v_screen;
    void main() {
        v_screen = a_pos;
        vec4 near = $render_to_visual(vec4(a_pos, -1.0, 1.0));
        vec4 far = $render_to_visual(vec4(a_pos, 1.0, 1.0));
        v_dir = far.xyz / far.w - near.xyz / near.w;
        vec4 c = $render_to_canvas(vec4(a_pos, 0.0, 1.0));
        v_t = 1.0 - (c.y / c.w) / max(u_canvas_height, 1.0);
        gl_Position = vec4(a_pos, 0.0, 1.0);
    }
    """
    _FRAG = """
    varying vec3 v_dir;
    varying float v_t;
    varying vec2 v_screen;
    uniform vec3 u_bottom;
    uniform vec3 u_top;
    uniform float u_mode;           // 0 gradient or solid, 1 the environment, 2 a picture
    uniform sampler2D u_image;
    uniform vec2 u_image_scale;     // of the view's -1..1 square, so the picture covers it uncropped in one axis
    uniform sampler2D u_env_radiance;
    uniform sampler2D u_env_specular;
    uniform vec4 u_env;             // intensity, cos and sin of the rotation, blur
    uniform vec2 u_output;          // exposure multiplier, tone mapping
    COMMON
    void main() {
        if (u_mode < 0.5) {
            gl_FragColor = vec4(mix(u_bottom, u_top, clamp(v_t, 0.0, 1.0)), 1.0);
            return;
        }
        if (u_mode > 1.5) {
            vec2 uv = vec2(0.5) + vec2(0.5, -0.5) * v_screen * u_image_scale;
            gl_FragColor = vec4(texture2D(u_image, uv).rgb, 1.0);
            return;
        }
        vec3 c = env_specular(u_env_radiance, u_env_specular, v_dir, u_env.w, u_env.yz) * u_env.x;
        gl_FragColor = vec4(srgb_encode(tone_map(c * u_output.x, u_output.y)), 1.0);
    }
    """.replace("COMMON", COMMON)

    def __init__(self) -> None:
        super().__init__(vcode=self._VERT, fcode=self._FRAG)
        self._draw_mode = "triangle_strip"
        quad = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float32)
        self.shared_program["a_pos"] = VertexBuffer(quad)
        self.set_gl_state(depth_test=False, blend=False, cull_face=False, depth_mask=False)
        self.shared_program["u_mode"] = 0.0
        self.shared_program["u_env"] = (1.0, 1.0, 0.0, 0.0)
        self.shared_program["u_output"] = (1.0, 3.0)
        self.shared_program["u_image_scale"] = (1.0, 1.0)
        self.image_aspect: Optional[float] = None   # width / height of the picture shown, if any
        self.set_colors((0, 0, 0), (0, 0, 0))

    def set_colors(self, bottom: tuple, top: tuple) -> None:
        """Linear model colours, shown as their sRGB encoding."""
        self.shared_program["u_bottom"] = linear_to_srgb(tuple(bottom)[:3])
        self.shared_program["u_top"] = linear_to_srgb(tuple(top)[:3])
        self.update()

    def _prepare_transforms(self, view) -> None:
        tr = view.transforms
        view.view_program.vert["render_to_visual"] = tr.get_transform("render", "visual")
        view.view_program.vert["render_to_canvas"] = tr.get_transform("render", "canvas")

    def _prepare_draw(self, view) -> bool:
        canvas = self.canvas
        if canvas is not None:
            self.shared_program["u_canvas_height"] = float(canvas.size[1])
            if self.image_aspect is not None:
                self.shared_program["u_image_scale"] = cover_scale(canvas.size, self.image_aspect)
        return True

    def _compute_bounds(self, axis, view):
        return None


class _CatcherVisual(Visual):
    """The shadow catcher: a ground square drawn only where the key light is blocked (black at
    the catcher's opacity, fading out towards its edges), over whatever is behind it."""

    _VERT = """
    attribute vec2 a_st;
    uniform vec4 u_ground;     // x0, z0, size, y
    varying vec2 v_st;
    void main() {
        v_st = a_st;
        vec3 p = vec3(u_ground.x + a_st.x * u_ground.z, u_ground.w, u_ground.y + a_st.y * u_ground.z);
        gl_Position = $visual_to_render(vec4(p, 1.0));
    }
    """
    _FRAG = """
    varying vec2 v_st;
    uniform sampler2D u_visibility;
    uniform float u_opacity;
    void main() {
        float lit = texture2D(u_visibility, v_st).r;
        float fade = 1.0 - smoothstep(0.6, 1.0, length(v_st * 2.0 - 1.0));
        float a = u_opacity * (1.0 - lit) * fade;
        if (a <= 0.002) discard;
        gl_FragColor = vec4(0.0, 0.0, 0.0, a);
    }
    """

    def __init__(self, view: EnvironmentView) -> None:
        super().__init__(vcode=self._VERT, fcode=self._FRAG)
        self._draw_mode = "triangle_strip"
        self._env_view = view
        quad = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
        self.shared_program["a_st"] = VertexBuffer(quad)
        self.shared_program["u_opacity"] = 0.6
        self.shared_program["u_ground"] = (0.0, 0.0, 1.0, 0.0)
        self.set_gl_state(depth_test=True, blend=True, cull_face=False, depth_mask=False,
                          blend_func=("src_alpha", "one_minus_src_alpha", "one", "one_minus_src_alpha"))

    def _prepare_transforms(self, view) -> None:
        view.view_program.vert["visual_to_render"] = view.transforms.get_transform("visual", "render")

    def _prepare_draw(self, view) -> bool:
        shadow = self._env_view.update_shadows(self.canvas)
        if shadow is None or not shadow.ready:
            return False
        self.shared_program["u_visibility"] = shadow.ground_texture
        self.shared_program["u_ground"] = shadow.ground_rect
        return True

    def _compute_bounds(self, axis, view):
        return None


def cover_scale(view_size: tuple[int, int], image_aspect: float) -> tuple[float, float]:
    """The part of a picture of ``image_aspect`` (width / height) a view shows when the picture
    covers it: the whole of one axis, the middle of the other (like CSS ``cover``)."""
    view_aspect = max(view_size[0], 1) / max(view_size[1], 1)
    if view_aspect >= image_aspect:
        return 1.0, image_aspect / view_aspect
    return view_aspect / image_aspect, 1.0


GradientBackground = scene.visuals.create_visual_node(_BackgroundVisual)
ShadowCatcher = scene.visuals.create_visual_node(_CatcherVisual)


class EnvironmentView:
    """Environment light, background, ground grid, shadow catcher and exposure from
    ``environment_config``."""

    def __init__(self, env: EnvironmentConfig, context: SceneView) -> None:
        self.env = env
        self.context = context
        self.resources = resources_for(context)
        self.background = GradientBackground(parent=context.root)
        self.background.order = -100
        self.catcher = ShadowCatcher(self, parent=context.root)
        self.catcher.order = -90
        self.grid = scene.visuals.Line(parent=context.root, connect="segments", antialias=True)
        self.grid.order = -50
        self.grid.set_gl_state("translucent", depth_test=True)  # parts hide the grid behind them
        self.shadows: Optional[ShadowMaps] = None
        self.transparent = False
        self._first_screen_frame = True
        env.events.all.connect(self.reset)
        for part in (env.background, env.grid, env.lighting, env.shadow_catcher):
            part.events.all.connect(self.reset)
        self.reset()

    def reset(self, *_: Any) -> None:
        env = self.env
        bg, grid = env.background, env.grid
        self.resources.set_environment(environment_data(env, self.resources.image_lookup), env.lighting)
        textures = self.resources.environment_textures()
        program = self.background.shared_program
        show_env = bg.mode == "environment" and textures is not None
        if show_env:
            rotation = np.radians(env.lighting.rotation)
            program["u_env_radiance"], program["u_env_specular"] = textures[0], textures[1]
            program["u_env"] = (float(env.lighting.intensity), float(np.cos(rotation)), float(np.sin(rotation)),
                                float(bg.blur))
        else:
            program["u_env_radiance"] = program["u_env_specular"] = self.resources.blank_texture()
        picture = self.resources.texture(bg.image_asset_id) if bg.mode == "image" and bg.image_asset_id else None
        program["u_image"] = picture if picture is not None else self.resources.blank_texture()
        self.background.image_aspect = picture.shape[1] / picture.shape[0] if picture is not None else None
        program["u_mode"] = 1.0 if show_env else 2.0 if picture is not None else 0.0
        program["u_output"] = (float(2.0 ** env.exposure), float(TONE_MAPPING[env.tone_mapping]))
        if bg.mode == "gradient":
            self.background.set_colors(bg.bottom_color, bg.top_color)
        else:  # solid, and behind a picture that is missing or cannot be read
            self.background.set_colors(bg.color, bg.color)
        self.background.visible = not self.transparent
        n = max(1, int(round(grid.extent / grid.spacing)))
        ticks = np.linspace(-grid.extent, grid.extent, 2 * n + 1)
        segs = []
        for t in ticks:
            segs += [(t, 0, -grid.extent), (t, 0, grid.extent), (-grid.extent, 0, t), (grid.extent, 0, t)]
        self.grid.set_data(pos=np.asarray(segs, np.float32), color=(*linear_to_srgb(grid.color), 0.5), width=1)
        self.grid.visible = grid.visible
        catcher = env.shadow_catcher
        self.catcher.shared_program["u_opacity"] = float(catcher.opacity)
        self.catcher.visible = catcher.enabled
        if catcher.enabled and self.shadows is None:
            self.shadows = ShadowMaps()
        self.resources.shadow = self.shadows if catcher.enabled else None
        if self.shadows is not None:
            self.shadows.ready = self.shadows.ready and catcher.enabled
        self.context.apply_environment(env)
        self.background.update()

    def set_transparent(self, on: bool) -> None:
        """Leave the background out (for images with a transparent background)."""
        self.transparent = on
        self.background.visible = not on

    def _casters(self) -> list[tuple]:
        return [c for c in (v.shadow_caster() for v in self.context.node_views.values()) if c is not None]

    def _bounds(self) -> Optional[tuple[np.ndarray, np.ndarray]]:
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for view in self.context.node_views.values():
            if view.full is None or not view.shown:
                continue
            blo, bhi = view.full.buffers.bounds
            corners = np.array(np.meshgrid(*zip(blo, bhi, strict=True))).T.reshape(-1, 3)
            pts = corners @ view.world[:3, :3].T + view.world[:3, 3]
            lo, hi = np.minimum(lo, pts.min(axis=0)), np.maximum(hi, pts.max(axis=0))
        return (lo, hi) if np.isfinite(lo).all() else None

    def update_shadows(self, canvas) -> Optional[ShadowMaps]:
        """Remake the shadow maps if the parts or the key light changed (from the catcher's
        draw, with the context current); the parts' shaders follow the new maps."""
        if self.shadows is None or canvas is None or not self.env.shadow_catcher.enabled:
            return None
        if self._first_screen_frame and not canvas._fb_stack:
            # the parts first, their shadows in the next frame: a large part shows sooner
            self._first_screen_frame = False
            if not self.shadows.ready:
                canvas.update()
                return None
        key = key_light(self.context.project.lighting_config)
        direction = None if key is None else np.asarray(key.direction, float)
        remade = self.shadows.update(canvas, self._casters(), direction, self._bounds(),
                                     self.env.shadow_catcher.softness)
        if remade or not self.shadows.ready:
            for view in self.context.node_views.values():
                for shading in view.filters:
                    shading.bind_shadow()
        return self.shadows

    def close(self) -> None:
        self.env.events.all.disconnect(self.reset)
        for part in (self.env.background, self.env.grid, self.env.lighting, self.env.shadow_catcher):
            part.events.all.disconnect(self.reset)
        self.background.parent = None
        self.catcher.parent = None
        self.grid.parent = None
