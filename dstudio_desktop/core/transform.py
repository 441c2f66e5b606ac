"""Node transforms: translation, rotation quaternion (x, y, z, w as in glTF), scale."""

from __future__ import annotations

import numpy as np
from pydantic import field_validator

from .schema import Finite, Model, Vec3


def quat_to_matrix(q: tuple[float, float, float, float]) -> np.ndarray:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quat(r: np.ndarray) -> tuple[float, float, float, float]:
    """Rotation matrix (3x3, orthonormal) to a unit quaternion (x, y, z, w), w >= 0."""
    t = np.trace(r)
    if t > 0:
        s = np.sqrt(t + 1.0) * 2
        w, x, y, z = 0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
        w, x, y, z = (r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s
    elif r[1, 1] > r[2, 2]:
        s = np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
        w, x, y, z = (r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s
    else:
        s = np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
        w, x, y, z = (r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s
    q = np.array([x, y, z, w], dtype=float)
    q /= np.linalg.norm(q)
    if q[3] < 0:
        q = -q
    return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))


class Transform(Model):
    """A TRS transform; ``matrix()`` is T * R * S, as glTF defines it."""

    translation: Vec3 = (0.0, 0.0, 0.0)
    rotation: tuple[Finite, Finite, Finite, Finite] = (0.0, 0.0, 0.0, 1.0)
    scale: Vec3 = (1.0, 1.0, 1.0)

    @field_validator("rotation")
    @classmethod
    def _unit_quaternion(cls, q: tuple[float, float, float, float]) -> tuple[float, ...]:
        n = float(np.sqrt(sum(c * c for c in q)))
        if abs(n - 1.0) > 1e-3:
            raise ValueError(f"must be a unit quaternion (x, y, z, w); its length is {n:.6g}")
        return q

    def matrix(self) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3] = quat_to_matrix(self.rotation) * np.asarray(self.scale)[None, :]
        m[:3, 3] = self.translation
        return m

    @classmethod
    def from_matrix(cls, m: np.ndarray) -> Transform:
        """Decompose an affine matrix without shear into TRS (negative scale goes to x)."""
        m = np.asarray(m, dtype=float)
        t = m[:3, 3]
        basis = m[:3, :3]
        s = np.linalg.norm(basis, axis=0)
        if np.any(s < 1e-15):
            raise ValueError("transform has a zero scale")
        r = basis / s[None, :]
        if np.linalg.det(r) < 0:
            s[0] = -s[0]
            r[:, 0] = -r[:, 0]
        return cls(
            translation=tuple(float(v) for v in t),
            rotation=matrix_to_quat(r),
            scale=tuple(float(v) for v in s),
        )
