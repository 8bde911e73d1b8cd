"""3D-OFDB (Nakamura et al., ICCV 2023): one 3D fractal model per category, seen from 12 views.

Category = a searched 3D IFS (docs/spec/fractals.md §4.1); its single model uses the first row of
weights_ins145 (parameter a x 0.4) with 9,999 points; instance = view k of 12 on the horizontal circle
(2 pi k / 12 + 30 degrees + the originals' +-3.14 degree jitter, drawn once per (category, view)).
224² white points on black, no OpenGL. Training picks one view at random each time a category is used.
Files: `<cat:06d>/<cat:06d>_00000_<view:03d>.png` as the released renderer writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import UsageError
from ...registry import register_database
from ..ifs3d import camera
from ..ifs3d.database import IFS3DConfig, IFS3DDatabase


@dataclass(frozen=True)
class OFDB3DConfig(IFS3DConfig):
    """3D-OFDB-1k and -21k: `categories` 1000 or 21000; `instances` are views (default and at most 12)."""


@register_database
class OFDB3D(IFS3DDatabase):
    key = "ofdb3d"
    aliases = ("3d-ofdb", "3dofdb", "ofdb-3d")
    summary = "3D-OFDB (ICCV 2023): one a x 0.4 3D fractal per category, 12 views at 224², no OpenGL"
    Config = OFDB3DConfig
    option_aliases = {"variance": "threshold", "point_num": "points", "img_size": "size",
                      "view_point": "instances"}

    def __init__(self, config: OFDB3DConfig):
        super().__init__(config)
        if config.instances is not None and config.instances > camera.VIEWS:
            raise UsageError(f"3D-OFDB has {camera.VIEWS} views per category, got instances={config.instances}")

    @property
    def n_instances(self) -> int:
        return self.config.instances or camera.VIEWS

    def _instances(self, category_ids, instance_ids, variants) -> tuple[np.ndarray, np.ndarray]:
        jitter = camera.jitter(self.config.seed, "ofdb3d/jitter", category_ids, variants)
        return np.zeros_like(category_ids), camera.orbit_mvps(camera.fixed_view_angles(instance_ids, jitter))

    def relative_path(self, category: int, instance: int) -> str:
        return f"{category:06d}/{category:06d}_00000_{instance:03d}.png"
