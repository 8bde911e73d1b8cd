"""The originals' camera, in our own code (docs/spec/fractals.md §4.3): no OpenGL needed.

Perspective projection with a vertical field of view of 45 degrees, aspect 1, near 1, far 100 (OpenGL
clip conventions); the eye 4 units from the origin, looking at it, +y up. View k of V turns the eye
about +y by 2 pi k / V + 30 degrees + a jitter that the originals draw as U(-pi, pi) and then convert
from degrees (so +-3.14 degrees). Matrices are float64, computed once per view and shared by every
backend.
"""

from __future__ import annotations

import math

import numpy as np

from ... import rng

FOV_Y_DEG = 45.0
NEAR, FAR = 1.0, 100.0
DISTANCE = 4.0
VIEWS = 12


def perspective(fov_y_deg: float = FOV_Y_DEG, aspect: float = 1.0, near: float = NEAR, far: float = FAR):
    """OpenGL perspective matrix [4, 4] (clip z in [-w, w])."""
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2.0)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, -(far + near) / (far - near), -2.0 * far * near / (far - near)], [0, 0, -1, 0]])


def look_at(eye: np.ndarray, centre: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Right-handed view matrices [B, 4, 4] for eyes [B, 3], one centre [3] and ups [B, 3] (looking down -z)."""
    f = centre[None, :] - eye
    f = f / np.sqrt((f * f).sum(axis=1, keepdims=True))
    s = np.cross(f, up)
    s = s / np.sqrt((s * s).sum(axis=1, keepdims=True))
    u = np.cross(s, f)
    m = np.zeros((eye.shape[0], 4, 4))
    m[:, 0, :3], m[:, 1, :3], m[:, 2, :3], m[:, 3, 3] = s, u, -f, 1.0
    m[:, :3, 3] = -np.einsum("bij,bj->bi", m[:, :3, :3], eye)
    return m


def mvps(directions: np.ndarray, ups: np.ndarray) -> np.ndarray:
    """Projection x view [B, 4, 4] for unit view directions [B, 3] (eye = -4 direction) and ups [B, 3]."""
    return perspective()[None] @ look_at(-DISTANCE * directions, np.zeros(3), ups)


def orbit_mvps(angles) -> np.ndarray:
    """[B, 4, 4] for eyes turned by `angles` radians about +y: eye = -4 (cos a, 0, -sin a), +y up."""
    a = np.atleast_1d(np.asarray(angles, dtype=np.float64))
    directions = np.stack([np.cos(a), np.zeros_like(a), -np.sin(a)], axis=1)
    return mvps(directions, np.tile([0.0, 1.0, 0.0], (a.shape[0], 1)))


def fixed_view_angles(views, jitter_deg, n_views: int = VIEWS) -> np.ndarray:
    """The originals' view angles: 2 pi view / n_views + 30 degrees + the jitter (given in degrees)."""
    views = np.asarray(views, dtype=np.float64)
    return 2.0 * math.pi * views / n_views + math.radians(30.0) + np.radians(np.asarray(jitter_deg, np.float64))


def jitter(seed: int, purpose: str, category_ids, instance_ids) -> np.ndarray:
    """Per-view jitter in degrees, U(-pi, pi) as the originals draw it; one draw per (category, instance)."""
    words = rng.philox_words(seed, rng.stream_id(purpose), category_ids, instance_ids, 2)
    return -math.pi + 2.0 * math.pi * rng.uniform53(words[:, 0], words[:, 1])


def sphere_mvps(seed: int, purpose: str, category_ids, instance_ids) -> np.ndarray:
    """Viewpoints uniform on the sphere of radius 4 around the object, +y up (our random-view variant)."""
    words = rng.philox_words(seed, rng.stream_id(purpose), category_ids, instance_ids, 4)
    y = -1.0 + 2.0 * rng.uniform53(words[:, 0], words[:, 1])
    phi = 2.0 * math.pi * rng.uniform53(words[:, 2], words[:, 3])
    r = np.sqrt(np.maximum(0.0, 1.0 - y * y))
    directions = np.stack([r * np.cos(phi), y, -r * np.sin(phi)], axis=1)
    ups = np.where((np.abs(y) < 0.9999)[:, None], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    return mvps(directions, ups)
