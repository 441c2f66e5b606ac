"""The project's own shading: glTF 2.0 metallic-roughness PBR under the project's lights and
its environment, with exposure, tone mapping and the sRGB encoding at the very end.

vispy's ShadingFilter lights with one directional light; a project has several lights of
three kinds (up to ``MAX_LIGHTS``), an image-based environment and a shadow-casting key light,
so the PBR mesh visual (``pbr.py``) runs this shader instead. The BRDF is the one in the glTF
2.0 specification's appendix B, as the Khronos glTF Sample Viewer evaluates it:

- punctual lights: Lambert diffuse and GGX specular (height-correlated Smith visibility)
  mixed by Schlick's Fresnel with F0 = 0.04 for dielectrics, the base colour for metals;
- the environment (split sum): diffuse irradiance times the base colour, prefiltered GGX
  radiance times (F0 A + B) from the BRDF table, with Fdez-Aguera's multiple-scattering term;
- base colour (sRGB texture, decoded by the GPU before filtering), metallic-roughness (B, G),
  tangent-space normal, occlusion (R) and emissive (sRGB) textures, each with its
  KHR_texture_transform, mipmapped; alpha OPAQUE, MASK
  (with cutoff) or BLEND; double-sided materials light their back faces.

Light intensities are glTF's (KHR_lights_punctual): radiance = BRDF x intensity x N.L.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ..core import EnvironmentConfig, LightingConfig, Material

MAX_LIGHTS = 8
TONE_MAPPING = {"linear": 0, "reinhard": 1, "aces": 2, "pbr_neutral": 3, "agx": 4}
ALPHA_MODE = {"OPAQUE": 0, "MASK": 1, "BLEND": 2}
DEFAULT_MATERIAL = Material(name="default", base_color_factor=(0.8, 0.8, 0.8, 1.0), metallic_factor=0.0,
                            roughness_factor=0.6, double_sided=True)
TEXTURE_SLOTS = {"base_color_texture": "base", "metallic_roughness_texture": "mr", "normal_texture": "nrm",
                 "occlusion_texture": "occ", "emissive_texture": "emi"}

VERTEX = """
attribute vec3 a_position;
attribute vec3 a_normal;
attribute vec2 a_uv;
attribute vec4 a_tangent;
attribute vec4 a_color;
uniform mat4 u_model;
uniform mat3 u_normal_matrix;
varying vec3 v_pos;
varying vec3 v_normal;
varying vec2 v_uv;
varying vec4 v_tangent;
varying vec4 v_color;

void main() {
    vec4 world = u_model * vec4(a_position, 1.0);
    v_pos = world.xyz / world.w;
    v_normal = u_normal_matrix * a_normal;
    v_tangent = vec4(mat3(u_model[0].xyz, u_model[1].xyz, u_model[2].xyz) * a_tangent.xyz, a_tangent.w);
    v_uv = a_uv;
    v_color = a_color;
    gl_Position = $visual_to_render(vec4(a_position, 1.0));
}
"""

# GLSL shared by the mesh shader and the environment background: tone mapping, sRGB, environment lookups
COMMON = """
const float PI = 3.14159265358979;

vec3 srgb_encode(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    vec3 lo = c * 12.92;
    vec3 hi = 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055;
    return mix(hi, lo, vec3(lessThanEqual(c, vec3(0.0031308))));
}

vec3 srgb_decode(vec3 c) {
    vec3 lo = c / 12.92;
    vec3 hi = pow((c + 0.055) / 1.055, vec3(2.4));
    return mix(hi, lo, vec3(lessThanEqual(c, vec3(0.04045))));
}

vec3 tone_pbr_neutral(vec3 color) {
    const float start = 0.8 - 0.04;
    const float desat = 0.15;
    float x = min(color.r, min(color.g, color.b));
    float offset = x < 0.08 ? x - 6.25 * x * x : 0.04;
    color -= offset;
    float peak = max(color.r, max(color.g, color.b));
    if (peak < start) return color;
    float d = 1.0 - start;
    float new_peak = 1.0 - d * d / (peak + d - start);
    color *= new_peak / peak;
    float g = 1.0 - 1.0 / (desat * (peak - new_peak) + 1.0);
    return mix(color, vec3(new_peak), g);
}

vec3 tone_aces(vec3 color) {
    // Stephen Hill's fit of the ACES RRT and ODT, with its sRGB <-> ACEScg matrices
    const mat3 into = mat3(0.59719, 0.07600, 0.02840, 0.35458, 0.90834, 0.13383, 0.04823, 0.01566, 0.83777);
    const mat3 outof = mat3(1.60475, -0.10208, -0.00327, -0.53108, 1.10813, -0.07276, -0.07367, -0.00605, 1.07602);
    color = into * color;
    vec3 a = color * (color + 0.0245786) - 0.000090537;
    vec3 b = color * (0.983729 * color + 0.4329510) + 0.238081;
    return clamp(outof * (a / b), 0.0, 1.0);
}

vec3 tone_agx(vec3 color) {
    // AgX (Troy Sobotka) base look: inset, log2 encoding, sigmoid polynomial, outset back to linear
    const mat3 inset = mat3(0.856627153315983, 0.137318972929847, 0.11189821299995,
                            0.0951212405381588, 0.761241990602591, 0.0767994186031903,
                            0.0482516061458583, 0.101439036467562, 0.811302368396859);
    const mat3 outset = mat3(1.1271005818144368, -0.1413297634984383, -0.14132976349843826,
                             -0.11060664309660323, 1.157823702216272, -0.11060664309660294,
                             -0.016493938717834573, -0.016493938717834257, 1.2519364065950405);
    color = inset * max(color, vec3(1e-10));
    color = clamp((log2(color) + 12.47393) / 16.5, 0.0, 1.0);
    vec3 x2 = color * color;
    vec3 x4 = x2 * x2;
    color = 15.5 * x4 * x2 - 40.14 * x4 * color + 31.96 * x4 - 6.868 * x2 * color + 0.4298 * x2
            + 0.1191 * color - 0.00232;
    color = outset * color;
    return clamp(pow(max(color, vec3(0.0)), vec3(2.2)), 0.0, 1.0);
}

vec3 tone_map(vec3 c, float mode) {
    if (mode > 3.5) return tone_agx(c);
    if (mode > 2.5) return tone_pbr_neutral(c);
    if (mode > 1.5) return tone_aces(c);
    if (mode > 0.5) return c / (1.0 + c);
    return clamp(c, 0.0, 1.0);
}

// equirect lookup: u = 0.5 + atan(x, -z) / 2pi, v = acos(y) / pi, after turning the
// direction by the environment's rotation about the up axis
vec2 env_uv(vec3 d, vec2 rot) {
    d = normalize(d);
    vec3 r = vec3(rot.x * d.x - rot.y * d.z, d.y, rot.y * d.x + rot.x * d.z);
    return vec2(0.5 + atan(r.x, -r.z) / (2.0 * PI), acos(clamp(r.y, -1.0, 1.0)) / PI);
}

const float ENV_LEVELS = 5.0;   // prefiltered levels in the atlas: roughness 0.2 .. 1.0
const float ATLAS_ROWS = 128.0;

vec3 atlas_level(sampler2D atlas, vec2 uv, float level) {
    float v = clamp(uv.y, 0.5 / ATLAS_ROWS, 1.0 - 0.5 / ATLAS_ROWS);
    return texture2D(atlas, vec2(uv.x, (level + v) / ENV_LEVELS)).rgb;
}

// prefiltered radiance for roughness r: the radiance map at 0, the atlas levels 0.2 .. 1.0 above
vec3 env_specular(sampler2D radiance, sampler2D atlas, vec3 dir, float r, vec2 rot) {
    vec2 uv = env_uv(dir, rot);
    float l = clamp(r, 0.0, 1.0) * ENV_LEVELS;
    float i = min(floor(l), ENV_LEVELS - 1.0);
    float f = l - i;
    vec3 lo = i < 0.5 ? texture2D(radiance, vec2(uv.x, clamp(uv.y, 0.001, 0.999))).rgb : atlas_level(atlas, uv, i - 1.0);
    return mix(lo, atlas_level(atlas, uv, i), f);
}
"""

_LIGHT_CALLS = f"""
    for (int i = 0; i < {MAX_LIGHTS}; i++) {{
        if (float(i) >= u_n_lights) break;   // a uniform bound: every fragment stops at the same light
        color += punctual(u_light_pos[i], u_light_color[i], u_light_spot[i], u_light_params[i], n, v, base.rgb,
                          metallic, alpha_r, i == 0 ? shadow : 1.0);
    }}"""
_LIGHT_UNIFORMS = (f"uniform vec4 u_light_pos[{MAX_LIGHTS}];\nuniform vec3 u_light_color[{MAX_LIGHTS}];\n"
                   f"uniform vec4 u_light_spot[{MAX_LIGHTS}];\nuniform vec4 u_light_params[{MAX_LIGHTS}];")

FRAGMENT = """
varying vec3 v_pos;
varying vec3 v_normal;
varying vec2 v_uv;
varying vec4 v_tangent;
varying vec4 v_color;

uniform vec4 u_base_color;
uniform vec3 u_metal_rough_alpha;      // metallic, roughness, alpha cutoff
uniform vec3 u_emissive;
uniform vec4 u_mode;                   // alpha mode (0 opaque, 1 mask, 2 blend), double-sided, has tangents, flat
uniform vec4 u_tex_on;                 // base colour, metallic-roughness, normal, occlusion textures present
uniform vec4 u_tex_more;               // emissive texture present, normal scale, occlusion strength, -
uniform mat3 u_base_uvm;
uniform mat3 u_mr_uvm;
uniform mat3 u_nrm_uvm;
uniform mat3 u_occ_uvm;
uniform mat3 u_emi_uvm;
uniform sampler2D u_base_tex;
uniform sampler2D u_mr_tex;
uniform sampler2D u_nrm_tex;
uniform sampler2D u_occ_tex;
uniform sampler2D u_emi_tex;

uniform float u_n_lights;
LIGHT_UNIFORMS
uniform vec3 u_ambient;

uniform sampler2D u_env_radiance;
uniform sampler2D u_env_specular;
uniform vec3 u_sh[9];                 // the environment's diffuse light as order-2 spherical harmonics
uniform sampler2D u_brdf_lut;
uniform vec4 u_env;                    // intensity (0: no environment light), cos and sin of its rotation, -

uniform sampler2D u_shadow_map;
uniform mat4 u_shadow_matrix;          // world -> light clip space of the key light (light 0)
uniform vec4 u_shadow;                 // on, depth bias, texel size (uv), normal offset (world units)

uniform vec4 u_eye;                    // camera position (w = 1), or the view direction (w = 0)
uniform vec2 u_output;                 // exposure multiplier, tone mapping

COMMON

vec2 tex_uv(mat3 m) { return (m * vec3(v_uv, 1.0)).xy; }

float ggx_d(float n_dot_h, float a) {
    float a2 = a * a;
    float f = n_dot_h * n_dot_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * f * f);
}

float smith_visibility(float n_dot_l, float n_dot_v, float a) {
    float a2 = a * a;
    float gv = n_dot_l * sqrt(n_dot_v * n_dot_v * (1.0 - a2) + a2);
    float gl = n_dot_v * sqrt(n_dot_l * n_dot_l * (1.0 - a2) + a2);
    float s = gv + gl;
    return s > 0.0 ? 0.5 / s : 0.0;
}

vec3 fresnel(vec3 f0, float v_dot_h) {
    return f0 + (vec3(1.0) - f0) * pow(clamp(1.0 - v_dot_h, 0.0, 1.0), 5.0);
}

vec3 punctual(vec4 pos, vec3 intensity, vec4 spot, vec4 params, vec3 n, vec3 v, vec3 base,
              float metallic, float a, float visibility) {
    vec3 l;
    float attenuation = 1.0;
    if (pos.w < 0.5) {
        l = -normalize(pos.xyz);
    } else {
        vec3 d = pos.xyz - v_pos;
        float dist = max(length(d), 1e-4);
        l = d / dist;
        attenuation = 1.0 / (dist * dist);
        if (params.y > 0.0) attenuation *= clamp(1.0 - pow(dist / params.y, 4.0), 0.0, 1.0);
        if (pos.w > 1.5) {
            float cd = dot(-l, normalize(spot.xyz));
            attenuation *= smoothstep(spot.w, params.x, cd);
        }
    }
    float n_dot_l = dot(n, l);
    if (n_dot_l <= 0.0) return vec3(0.0);
    vec3 h = normalize(l + v);
    float n_dot_v = clamp(dot(n, v), 1e-4, 1.0);
    float n_dot_h = clamp(dot(n, h), 0.0, 1.0);
    float v_dot_h = clamp(dot(v, h), 0.0, 1.0);
    vec3 radiance = intensity * attenuation * n_dot_l * visibility;
    vec3 diffuse = radiance * base / PI;
    vec3 specular = radiance * smith_visibility(n_dot_l, n_dot_v, a) * ggx_d(n_dot_h, a);
    vec3 dielectric = mix(diffuse, specular, fresnel(vec3(0.04), v_dot_h));
    vec3 metal = fresnel(base, v_dot_h) * specular;
    return mix(dielectric, metal, metallic);
}

// the split sum's reflectance with multiple scattering (Fdez-Aguera), as the Sample Viewer has
// it; ab is the BRDF table's (A, B) at (N.V, roughness)
vec3 ibl_fresnel(vec2 ab, float n_dot_v, float rough, vec3 f0) {
    vec3 fr = max(vec3(1.0 - rough), f0) - f0;
    vec3 k_s = f0 + fr * pow(1.0 - n_dot_v, 5.0);
    vec3 fss_ess = k_s * ab.x + ab.y;
    float ems = 1.0 - (ab.x + ab.y);
    vec3 f_avg = f0 + (1.0 - f0) / 21.0;
    return fss_ess + fss_ess * ems * f_avg / (1.0 - f_avg * ems);
}

// diffuse radiance a white Lambertian with normal n reflects (irradiance / pi), from the SH
vec3 sh_diffuse(vec3 d, vec2 rot) {
    vec3 n = vec3(rot.x * d.x - rot.y * d.z, d.y, rot.y * d.x + rot.x * d.z);
    // the basis in the order ibl.sh_basis gives it, with its direction mapping (x, y, z)
    vec3 c = u_sh[0] * 0.282095
           + u_sh[1] * (0.488603 * n.y) + u_sh[2] * (0.488603 * n.z) + u_sh[3] * (0.488603 * n.x)
           + u_sh[4] * (1.092548 * n.x * n.y) + u_sh[5] * (1.092548 * n.y * n.z)
           + u_sh[6] * (0.315392 * (3.0 * n.z * n.z - 1.0)) + u_sh[7] * (1.092548 * n.x * n.z)
           + u_sh[8] * (0.546274 * (n.x * n.x - n.y * n.y));
    return max(c, vec3(0.0));
}

float key_shadow(vec3 n) {
    if (u_shadow.x < 0.5) return 1.0;
    vec4 p = u_shadow_matrix * vec4(v_pos + n * u_shadow.w, 1.0);
    vec3 q = p.xyz / p.w * 0.5 + 0.5;
    if (q.x <= 0.0 || q.x >= 1.0 || q.y <= 0.0 || q.y >= 1.0 || q.z >= 1.0) return 1.0;
    float lit = 0.0;
    float t = u_shadow.z;
    for (int i = -1; i <= 1; i++) {
        for (int j = -1; j <= 1; j++) {
            float d = texture2D(u_shadow_map, q.xy + vec2(float(i), float(j)) * t).r;
            lit += q.z - u_shadow.y > d ? 0.0 : 1.0;
        }
    }
    return lit / 9.0;
}

void main() {
    vec4 base = u_base_color * v_color;
    if (u_tex_on.x > 0.5) {
        base *= texture2D(u_base_tex, tex_uv(u_base_uvm));   // an sRGB texture: the GPU decodes it
    }
    if (u_mode.x < 0.5) base.a = 1.0;
    if (u_mode.x > 0.5 && u_mode.x < 1.5) {
        if (base.a < u_metal_rough_alpha.z) discard;
        base.a = 1.0;
    }
    float metallic = u_metal_rough_alpha.x;
    float rough = u_metal_rough_alpha.y;
    if (u_tex_on.y > 0.5) {
        vec4 mr = texture2D(u_mr_tex, tex_uv(u_mr_uvm));
        rough *= mr.g;
        metallic *= mr.b;
    }
    metallic = clamp(metallic, 0.0, 1.0);
    rough = clamp(rough, 0.0, 1.0);
    float alpha_r = max(rough * rough, 1e-3);

    vec3 v = u_eye.w > 0.5 ? normalize(u_eye.xyz - v_pos) : -normalize(u_eye.xyz);
    vec3 ng = normalize(v_normal);
    float side = (!gl_FrontFacing && u_mode.y > 0.5) ? -1.0 : 1.0;
    if (u_mode.w > 0.5) {
        // a large part's first frames, before its smooth normals are made: each face's own
        // normal, turned towards the eye (its triangles are a pixel or two across)
        ng = normalize(cross(dFdx(v_pos), dFdy(v_pos)));
        ng *= dot(ng, v) < 0.0 ? -1.0 : 1.0;
        side = 1.0;
    }
    vec3 n = ng * side;
    if (u_tex_on.z > 0.5 && u_mode.z > 0.5) {
        vec3 t = normalize(v_tangent.xyz - ng * dot(ng, v_tangent.xyz));
        vec3 b = cross(ng, t) * v_tangent.w;
        vec3 tn = texture2D(u_nrm_tex, tex_uv(u_nrm_uvm)).rgb * 2.0 - 1.0;
        tn.xy *= u_tex_more.y;
        n = normalize(mat3(t, b, ng) * normalize(tn)) * side;
    }
    float n_dot_v = clamp(dot(n, v), 1e-4, 1.0);

    float shadow = key_shadow(ng * side);
    vec3 color = vec3(0.0);
LIGHT_CALLS

    // the environment, and the ambient term as a uniform environment of that radiance
    vec3 irradiance = u_ambient;
    vec3 specular_light = u_ambient;
    if (u_env.x > 0.0) {
        irradiance += sh_diffuse(n, u_env.yz) * u_env.x;
        specular_light += env_specular(u_env_radiance, u_env_specular, reflect(-v, n), rough, u_env.yz) * u_env.x;
    }
    vec2 ab = texture2D(u_brdf_lut, vec2(n_dot_v, rough)).rg;
    vec3 ambient = vec3(0.0);
    if (metallic < 1.0) {
        vec3 f_diffuse = irradiance * base.rgb;
        ambient += mix(f_diffuse, specular_light, ibl_fresnel(ab, n_dot_v, rough, vec3(0.04))) * (1.0 - metallic);
    }
    if (metallic > 0.0) ambient += ibl_fresnel(ab, n_dot_v, rough, base.rgb) * specular_light * metallic;
    if (u_tex_on.w > 0.5) {
        float ao = texture2D(u_occ_tex, tex_uv(u_occ_uvm)).r;
        ambient *= 1.0 + u_tex_more.z * (ao - 1.0);
    }
    color += ambient;

    vec3 emissive = u_emissive;
    if (u_tex_more.x > 0.5) emissive *= texture2D(u_emi_tex, tex_uv(u_emi_uvm)).rgb;   // sRGB texture
    color += emissive;

    color = tone_map(color * u_output.x, u_output.y);
    gl_FragColor = vec4(srgb_encode(color), base.a);
}
""".replace("LIGHT_UNIFORMS", _LIGHT_UNIFORMS).replace("LIGHT_CALLS", _LIGHT_CALLS).replace("COMMON", COMMON)


def light_uniforms(config: LightingConfig) -> list[tuple[tuple, tuple, tuple, tuple]]:
    """(pos, color, spot, params) per enabled light, as the shader reads them; the key light
    (the one that casts shadows, ``key_light``) first."""
    out = []
    lights = [light for light in config.lights if light.enabled]
    key = key_light(config)
    if key is not None:
        lights.remove(key)
        lights.insert(0, key)
    for light in lights:
        color = tuple(float(c * light.intensity) for c in light.color)
        if light.type == "directional":
            pos = (*light.direction, 0.0)
        else:
            pos = (*light.position, 1.0 if light.type == "point" else 2.0)
        spot = (*light.direction, math.cos(light.outer_cone_angle))
        params = (math.cos(light.inner_cone_angle), light.range or 0.0, 0.0, 0.0)
        out.append((pos, color, spot, params))
    return out[:MAX_LIGHTS]


def key_light(config: LightingConfig):
    """The light that casts the shadows: the brightest enabled directional light (or None)."""
    candidates = [light for light in config.lights if light.enabled and light.type == "directional"
                  and light.intensity > 0]
    if not candidates:
        return None
    return max(candidates, key=lambda light: light.intensity * sum(light.color))


def uv_matrix(ref) -> np.ndarray:
    """The KHR_texture_transform of a texture reference as the (transposed) mat3 gloo uploads."""
    if ref is None or ref.transform is None:
        return np.eye(3, dtype=np.float32)
    return np.asarray(ref.transform.matrix(), np.float32).T.copy()


class PbrShading:
    """The uniforms of one mesh visual's PBR shader. The scene view pushes lights, the
    environment and the camera in; the node view pushes the material and its textures."""

    def __init__(self, program, resources) -> None:
        self._program = program
        self._resources = resources
        self._uniforms: dict[str, Any] = {}
        self.material: Material = DEFAULT_MATERIAL
        self.face_normals = False   # the mesh has no smooth normals yet: shade with each face's own
        self.set_lighting(LightingConfig(lights=[], active_preset=None))
        self.set_environment(EnvironmentConfig())
        self.set_material(None)
        self._set(u_eye=(0.0, 0.0, 1.0, 0.0))

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            self._uniforms[key] = value
            self._program[key] = value

    def set_lighting(self, config: LightingConfig) -> None:
        lights = light_uniforms(config)
        values: dict[str, Any] = {
            "u_n_lights": float(len(lights)),
            "u_ambient": tuple(float(c * config.ambient_intensity) for c in config.ambient_color),
        }
        for i in range(MAX_LIGHTS):
            pos, color, spot, params = lights[i] if i < len(lights) else ((0, -1, 0, 0), (0, 0, 0), (0, -1, 0, 1), (1, 0, 0, 0))
            values.update({f"u_light_pos[{i}]": pos, f"u_light_color[{i}]": color, f"u_light_spot[{i}]": spot,
                           f"u_light_params[{i}]": params})
        self._set(**values)

    def set_environment(self, env: EnvironmentConfig) -> None:
        self._set(u_output=(float(2.0 ** env.exposure), float(TONE_MAPPING[env.tone_mapping])))
        self.bind_environment()

    def bind_environment(self) -> None:
        """Point the samplers at the scene's current environment and shadow map."""
        res = self._resources
        env = res.environment_textures()
        light = res.environment_light
        on = light is not None and light.enabled and env is not None
        if env is not None:
            radiance, specular, _ = env
            self._set(u_env_radiance=radiance, u_env_specular=specular)
        else:
            blank = res.blank_texture()
            self._set(u_env_radiance=blank, u_env_specular=blank)
        sh = res.environment.sh if env is not None and res.environment is not None else np.zeros((9, 3), np.float32)
        self._set(**{f"u_sh[{i}]": tuple(float(c) for c in sh[i]) for i in range(9)})
        rotation = math.radians(light.rotation) if light is not None else 0.0
        self._set(u_env=(float(light.intensity) if on else 0.0, math.cos(rotation), math.sin(rotation), 0.0),
                  u_brdf_lut=res.brdf_lut_texture())
        self.bind_shadow()

    def bind_shadow(self) -> None:
        shadow = self._resources.shadow
        if shadow is not None and shadow.ready:
            self._set(u_shadow_map=shadow.depth_texture, u_shadow_matrix=shadow.matrix.T.astype(np.float32),
                      u_shadow=(1.0 if shadow.on_parts else 0.0, shadow.bias, shadow.texel, shadow.normal_offset))
        else:
            self._set(u_shadow_map=self._resources.blank_texture(), u_shadow=(0.0, 0.0, 0.0, 0.0),
                      u_shadow_matrix=np.eye(4, dtype=np.float32))

    def set_face_normals(self, on: bool) -> None:
        self.face_normals = on
        mode = self._uniforms["u_mode"]
        self._set(u_mode=(mode[0], mode[1], mode[2], 1.0 if on else 0.0))

    def set_material(self, material: Optional[Material], has_tangents: bool = False) -> None:
        m = material or DEFAULT_MATERIAL
        self.material = m
        res = self._resources
        on = []
        for field, slot in TEXTURE_SLOTS.items():
            ref = getattr(m, field)
            texture = res.texture(ref.asset_id, srgb=slot in ("base", "emi")) if ref is not None else None
            on.append(texture is not None)
            self._set(**{f"u_{slot}_tex": texture if texture is not None else res.blank_texture(),
                         f"u_{slot}_uvm": uv_matrix(ref)})
        normal_scale = float(m.normal_texture.scale) if m.normal_texture else 1.0
        occlusion = float(m.occlusion_texture.strength) if m.occlusion_texture else 1.0
        self._set(u_base_color=tuple(float(c) for c in m.base_color_factor),
                  u_metal_rough_alpha=(float(m.metallic_factor), float(m.roughness_factor), float(m.alpha_cutoff)),
                  u_emissive=tuple(float(c) for c in m.emissive_factor),
                  u_mode=(float(ALPHA_MODE[m.alpha_mode]), 1.0 if m.double_sided else 0.0,
                          1.0 if has_tangents else 0.0, 1.0 if self.face_normals else 0.0),
                  u_tex_on=tuple(1.0 if x else 0.0 for x in on[:4]),
                  u_tex_more=(1.0 if on[4] else 0.0, normal_scale, occlusion, 0.0))

    def set_camera(self, view) -> None:
        """Perspective: the eye position (w = 1). Orthographic: the viewing direction (w = 0)."""
        if view.projection == "perspective":
            self._set(u_eye=(*(float(v) for v in view.eye), 1.0))
        else:
            self._set(u_eye=tuple(float(v) for v in np.subtract(view.target, view.eye)) + (0.0,))

    def set_highlight(self, rgba, centre: float = 0.0) -> None:
        """Selection is drawn as an outline by the node view; the shaded colour never changes."""


# kept for code that still names the old filter
LitMaterialFilter = PbrShading

__all__ = ["ALPHA_MODE", "COMMON", "FRAGMENT", "MAX_LIGHTS", "PbrShading", "TONE_MAPPING", "VERTEX", "key_light",
           "light_uniforms", "uv_matrix"]
