"""ExFractalDB (Kataoka et al., CVPR 2022): 3D fractal models rendered from many viewpoints.

`views: fixed` (default) is what the released launcher produces (MV-FractalDB): each category's 145
models (the rows of weights_ins145, its typo included) x 12 views on the horizontal circle; instance =
model * 12 + view; 1,740 images per category. `views: random` is our reconstruction of the paper's
random-viewpoint variant, whose sampler is not in the released code: instance i views model i mod 145
from a direction uniform on the sphere (distance 4, +y up); 1,000 instances by default.
Files: `<cat:06d>/<cat:06d>_<model:05d>_<view:03d>.png` (random: `_r<instance:04d>` for the view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import UsageError
from ...registry import register_database
from ..ifs3d import camera
from ..ifs3d.database import IFS3DConfig, IFS3DDatabase

MODELS = 145
VIEW_MODES = ("fixed", "random")


@dataclass(frozen=True)
class ExFractalDBConfig(IFS3DConfig):
    """ExFractalDB: `instances` defaults to 1,740 (fixed views) or 1,000 (random)."""

    views: str = "fixed"  # fixed: the released 145 models x 12 views; random: our random-viewpoint variant


@register_database
class ExFractalDB(IFS3DDatabase):
    key = "exfractaldb"
    aliases = ("ExFractalDB", "exfractal-db", "mv-fractaldb", "mvfractaldb")
    summary = "ExFractalDB (CVPR 2022): 145 3D models x 12 views per category (or random views), 224²"
    Config = ExFractalDBConfig
    option_aliases = {"variance": "threshold", "point_num": "points", "img_size": "size"}
    check_options = ({"categories": 4, "size": 96, "points": 3000},
                     {"categories": 4, "size": 96, "points": 3000, "views": "random"},
                     {"categories": 2, "size": 300, "points": 9999})

    def __init__(self, config: ExFractalDBConfig):
        super().__init__(config)
        if config.views not in VIEW_MODES:
            raise UsageError(f"views must be fixed or random, got {config.views!r}")
        full = MODELS * camera.VIEWS
        if config.views == "fixed" and config.instances is not None and config.instances > full:
            raise UsageError(f"ExFractalDB has {full} fixed instances per category, got {config.instances}")

    @property
    def n_instances(self) -> int:
        return self.config.instances or (MODELS * camera.VIEWS if self.config.views == "fixed" else 1000)

    def _instances(self, category_ids, instance_ids, variants) -> tuple[np.ndarray, np.ndarray]:
        if self.config.views == "random":
            mvps = camera.sphere_mvps(self.config.seed, "exfractaldb/view", category_ids, variants)
            return instance_ids % MODELS, mvps
        models, views = np.divmod(instance_ids, camera.VIEWS)
        jitter = camera.jitter(self.config.seed, "exfractaldb/jitter", category_ids, variants)
        return models, camera.orbit_mvps(camera.fixed_view_angles(views, jitter))

    def relative_path(self, category: int, instance: int) -> str:
        if self.config.views == "random":
            return f"{category:06d}/{category:06d}_{instance % MODELS:05d}_r{instance:04d}.png"
        model, view = divmod(instance, camera.VIEWS)
        return f"{category:06d}/{category:06d}_{model:05d}_{view:03d}.png"
