"""A vispy mesh filter that shades with the project's lights and a PBR material.

vispy's own ShadingFilter has one directional light; a project has several
lights of three kinds, so this filter takes all of them (up to ``MAX_LIGHTS``),
the material's metallic-roughness factors, emission, exposure and tone mapping.
The model is a cheap approximation of glTF's BRDF: Lambert diffuse scaled by
(1 - metallic) plus a normalised Blinn-Phong lobe whose sharpness follows
roughness and whose colour follows metallic.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from vispy.gloo import VertexBuffer
from vispy.visuals.filters import Filter
from vispy.visuals.shaders import Function

from ..core import EnvironmentConfig, LightingConfig, Material

MAX_LIGHTS = 8
TONE_MAPPING = {"linear": 0, "reinhard": 1, "aces": 2}

_VERTEX = """
varying vec3 v_normal;
varying vec3 v_pos;

void prepare_lit() {
    vec4 pos_scene = $render2scene(gl_Position);
    v_pos = pos_scene.xyz / pos_scene.w;
    vec4 n = $visual2scene(vec4($normal, 1.0));
    vec4 o = $visual2scene(vec4(0.0, 0.0, 0.0, 1.0));
    v_normal = normalize(n.xyz / n.w - o.xyz / o.w);
}
"""

_LIGHT_UNIFORMS = "\n".join(
    f"    if ($n_lights > {i}) c += light_contribution($l{i}_pos, $l{i}_color, $l{i}_spot, $l{i}_params, N, V, base, metal, rough);"
    for i in range(MAX_LIGHTS)
)

_FRAGMENT = """
varying vec3 v_normal;
varying vec3 v_pos;

// vispy takes the first function body as the entry point, so helpers are declared here
vec3 light_contribution(vec4 pos, vec3 color, vec4 spot, vec4 params, vec3 N, vec3 V,
                        vec3 base, float metal, float rough);
vec3 tone_map(vec3 x);

void shade_lit() {
    vec4 material = $base_color;
    vec3 base = gl_FragColor.rgb * material.rgb;
    float alpha = gl_FragColor.a * material.a;
    float metal = $metal_rough.x;
    float rough = max($metal_rough.y, 0.04);
    vec3 N = normalize(v_normal);
    if (!gl_FrontFacing) N = -N;
    // towards the eye: from the camera position, or along the view axis for orthographic views
    vec3 V = $eye.w > 0.5 ? normalize($eye.xyz - v_pos) : -normalize($eye.xyz);
    vec3 c = $ambient * base * (1.0 - 0.5 * metal) + $ambient * mix(vec3(0.04), base, metal) * 0.5;
LIGHTS
    // Reflections of a studio (dim floor, overhead softbox, two side strips) tinted by the
    // ambient colour: without them metals, which have no diffuse term, render as flat grey.
    vec3 R = reflect(-V, N);
    float studio = 0.06 + 0.8 * smoothstep(-0.1, 0.9, R.y)
                 + 0.9 * pow(max(dot(R, normalize(vec3(-0.8, 0.2, 0.6))), 0.0), 6.0)
                 + 0.5 * pow(max(dot(R, normalize(vec3(0.9, 0.1, -0.2))), 0.0), 6.0);
    float fresnel = pow(1.0 - max(dot(N, V), 0.0), 5.0);
    vec3 f0 = mix(vec3(0.04), base, metal);
    float gloss = (1.0 - rough) * (1.0 - rough);
    c += (f0 + (1.0 - f0) * fresnel * gloss) * $sky * studio * (1.0 - 0.7 * rough);
    c += $emissive;
    c *= $exposure;
    c = tone_map(c);
    c = pow(c, vec3(1.0 / 2.2));
    // selection glows at the silhouette and only tints the middle, so the part's own colour still reads
    float rim = pow(1.0 - max(dot(N, V), 0.0), 1.5);
    c = mix(c, $highlight.rgb, $highlight.a * ($highlight_centre + (1.0 - $highlight_centre) * rim));
    gl_FragColor = vec4(c, alpha);
}

vec3 light_contribution(vec4 pos, vec3 color, vec4 spot, vec4 params, vec3 N, vec3 V,
                        vec3 base, float metal, float rough) {
    vec3 L;            // towards the light
    float falloff = 1.0;
    if (pos.w < 0.5) {
        L = -normalize(pos.xyz);
    } else {
        vec3 d = pos.xyz - v_pos;
        float dist = max(length(d), 1e-4);
        L = d / dist;
        falloff = 1.0 / (dist * dist);
        if (params.y > 0.0) falloff *= clamp(1.0 - pow(dist / params.y, 4.0), 0.0, 1.0);
        if (pos.w > 1.5) {
            float cd = dot(-L, normalize(spot.xyz));
            falloff *= smoothstep(spot.w, params.x, cd);
        }
    }
    float ndl = max(dot(N, L), 0.0);
    if (ndl <= 0.0) return vec3(0.0);
    vec3 H = normalize(L + V);
    float shininess = clamp(2.0 / max(rough * rough * rough * rough, 1e-4) - 2.0, 1.0, 4096.0);
    float spec = pow(max(dot(N, H), 0.0), shininess) * (shininess + 8.0) / (8.0 * 3.14159265);
    vec3 f0 = mix(vec3(0.04), base, metal);
    vec3 diffuse = base * (1.0 - metal) / 3.14159265;
    return (diffuse + f0 * spec) * color * ndl * falloff * 3.14159265;
}

vec3 tone_map(vec3 x) {
    if ($tone_mapping == 1) return x / (1.0 + x);
    if ($tone_mapping == 2) {
        return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
    }
    return clamp(x, 0.0, 1.0);
}

""".replace("LIGHTS", _LIGHT_UNIFORMS)


def light_uniforms(config: LightingConfig) -> list[tuple[tuple, tuple, tuple, tuple]]:
    """(pos, color, spot, params) per enabled light, as the shader reads them."""
    out = []
    for light in config.lights:
        if not light.enabled:
            continue
        color = tuple(c * light.intensity for c in light.color)
        if light.type == "directional":
            pos = (*light.direction, 0.0)
        else:
            pos = (*light.position, 1.0 if light.type == "point" else 2.0)
        spot = (*light.direction, math.cos(light.outer_cone_angle))
        params = (math.cos(light.inner_cone_angle), light.range or 0.0, 0.0, 0.0)
        out.append((pos, color, spot, params))
    return out[:MAX_LIGHTS]


class LitMaterialFilter(Filter):
    """Shades one mesh visual; the scene view pushes lights, environment and material in."""

    def __init__(self, normals: Optional[np.ndarray] = None) -> None:
        """``normals``: one per face corner, precomputed (else vispy computes them on attach)."""
        self._normals = VertexBuffer(np.zeros((0, 3), dtype=np.float32))
        self._normals_cache: Optional[np.ndarray] = None
        self._given_normals = normals
        vfunc = Function(_VERTEX)
        vfunc["normal"] = self._normals
        super().__init__(vcode=vfunc, vhook="post", vpos=9, fcode=Function(_FRAGMENT), fhook="post", fpos=9)
        self._uniforms: dict = {}
        self.set_lighting(LightingConfig())
        self.set_environment(EnvironmentConfig())
        self.set_material(None)
        self.set_highlight(None)
        self._set(eye=(0.0, 0.0, 1.0, 0.0))

    def _set(self, **values) -> None:
        self._uniforms.update(values)
        if self._attached:
            for key, value in values.items():
                self.fshader[key] = value

    def set_lighting(self, config: LightingConfig) -> None:
        lights = light_uniforms(config)
        values = {
            "n_lights": len(lights),
            "ambient": tuple(c * config.ambient_intensity for c in config.ambient_color),
            "sky": tuple(config.ambient_color),
        }
        for i in range(MAX_LIGHTS):
            pos, color, spot, params = lights[i] if i < len(lights) else ((0, -1, 0, 0), (0, 0, 0), (0, -1, 0, 1), (1, 0, 0, 0))
            values.update({f"l{i}_pos": pos, f"l{i}_color": color, f"l{i}_spot": spot, f"l{i}_params": params})
        self._set(**values)

    def set_environment(self, env: EnvironmentConfig) -> None:
        self._set(exposure=float(2.0 ** env.exposure), tone_mapping=TONE_MAPPING[env.tone_mapping])

    def set_material(self, material: Optional[Material]) -> None:
        m = material or Material(name="default", base_color_factor=(0.8, 0.8, 0.8, 1.0), metallic_factor=0.0,
                                 roughness_factor=0.6)
        self._set(base_color=tuple(m.base_color_factor),
                  metal_rough=(float(m.metallic_factor), float(m.roughness_factor)),
                  emissive=tuple(m.emissive_factor))

    def set_camera(self, view) -> None:
        """Perspective: the eye position (w = 1). Orthographic: the viewing direction (w = 0)."""
        if view.projection == "perspective":
            self._set(eye=(*view.eye, 1.0))
        else:
            self._set(eye=tuple(float(v) for v in np.subtract(view.target, view.eye)) + (0.0,))

    def set_highlight(self, rgba: Optional[tuple[float, float, float, float]], centre: float = 0.3) -> None:
        """Blend a selection tint over the shaded colour: alpha is the amount at the silhouette,
        ``centre`` the fraction of it facing the eye (0: an outline glow that keeps the colour)."""
        self._set(highlight=rgba or (0.0, 0.0, 0.0, 0.0), highlight_centre=float(centre))

    def _update_normals(self) -> None:
        if self._given_normals is not None:
            if self._normals_cache is not self._given_normals:
                self._normals_cache = self._given_normals
                self._normals.set_data(self._given_normals, convert=True)
            return
        normals = self._visual.mesh_data.get_vertex_normals(indexed="faces")
        if normals is not None and normals is not self._normals_cache:
            self._normals_cache = normals
            self._normals.set_data(normals.astype(np.float32), convert=True)

    def _attach(self, visual) -> None:
        super()._attach(visual)
        self.vshader["render2scene"] = visual.transforms.get_transform("render", "scene")
        self.vshader["visual2scene"] = visual.transforms.get_transform("visual", "scene")
        for key, value in self._uniforms.items():
            self.fshader[key] = value
        if visual.mesh_data is not None:
            self._update_normals()
        visual.events.data_updated.connect(self._on_data)

    def _on_data(self, event=None) -> None:
        self._update_normals()

    def _detach(self, visual) -> None:
        visual.events.data_updated.disconnect(self._on_data)
        super()._detach(visual)
