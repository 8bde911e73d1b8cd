"""VisualAtom (Takashima et al., CVPR 2023): K orbits of q vertices pushed outward by noise and two waves.

Category = (q, K, eta, c, r0, n1, n2, sx, sy); instance = a new centre anywhere in the canvas, new orbit
grays (0..255) and new noise (docs/spec/contours.md §1). Black background.
Files: `<cat:05d>/vertex_<q:04d>_instance_<i:04d>.png` as the released script writes them, plus
`params.csv` (one row per category, which the released script never wrote) at the dataset root:
class, vertices (q), orbits (K), eta, c, r0, n1, n2, sx, sy.

`search="published"` replays the released script launched with `processes` processes (default 20, as
make_VisualAtom.sh) and the same flags (docs/spec/contours.md §2.7): category k, instance i is the
original's image, pixel for pixel, in the original's folder `<k + start_class:05d>`. It also writes
`instances.csv` at the dataset root, one row per image: class, instance, yc, xc (the centre, the only
value the original re-draws per instance). Categories beyond processes x floor(categories / processes)
are never written by the original: left out, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import rng
from ...errors import UsageError
from ...io.atomic import atomic_write_bytes
from ...registry import register_database
from .._base import check_positive
from ..contours.batch import VISUAL_ATOM, ContourSettings
from ..contours.database import ContourConfig, ContourDatabase, check_range
from . import params


@dataclass(frozen=True)
class VisualAtomConfig(ContourConfig):
    """VisualAtom: K in [line_num_min, line_num_max], r0 ~ U{radius_min .. radius_min + 50}, two waves."""

    radius_min: int = 10
    start_pos: int = 512
    processes: int = 20  # numof_thread (make_VisualAtom.sh)
    vertex_num_min: int = 200  # q range (vertices per orbit)
    vertex_num_max: int = 1000
    line_num_max: int = 200
    nami_1_min: int = 0  # wave frequencies n1, n2
    nami_1_max: int = 20
    nami_2_min: int = 0
    nami_2_max: int = 20
    start_class: int = 0  # (search="published" only) offset of the class numbers in the folder names


@register_database
class VisualAtom(ContourDatabase):
    key = "visual_atom"
    aliases = ("VisualAtom", "visualatom", "visual-atom")
    summary = "VisualAtom (CVPR 2023): orbits of noise + two sinusoidal waves, 512² on black"
    Config = VisualAtomConfig
    category_columns = params.COLUMNS
    replay_instance_columns = ("yc", "xc")
    check_options = ({"categories": 4, "size": 96, "start_pos": 64, "vertex_num_min": 20, "vertex_num_max": 80,
                      "line_num_max": 30},
                     {"categories": 4, "size": 96, "start_pos": 64, "vertex_num_min": 20, "vertex_num_max": 80,
                      "line_num_max": 30, "nami_1_max": 0, "nami_2_max": 0},
                     {"categories": 3})

    def __init__(self, config: VisualAtomConfig):
        super().__init__(config)
        c = config
        check_positive("vertex_num_min", c.vertex_num_min)
        for lo, hi in (("vertex_num_min", "vertex_num_max"), ("line_num_min", "line_num_max"),
                       ("nami_1_min", "nami_1_max"), ("nami_2_min", "nami_2_max")):
            check_range(lo, getattr(c, lo), hi, getattr(c, hi))
        if min(c.nami_1_min, c.nami_2_min) < 0:
            raise UsageError(f"nami_1_min and nami_2_min must be >= 0, got {c.nami_1_min} and {c.nami_2_min}")
        if c.start_class < 0 or (c.start_class and not self.published):
            raise UsageError(f"start_class must be >= 0 and is for --search published only, got {c.start_class}")
        if self.published and c.nami_2_min == c.nami_2_max != 0 and c.nami_1_min <= c.nami_2_min <= c.nami_1_max:
            raise UsageError(f"nami_2 in [{c.nami_2_min}, {c.nami_2_max}] can equal n1 forever: "
                             "the original never ends")

    def replay_launch(self) -> tuple:
        c = self.config
        ints = (c.vertex_num_min, c.vertex_num_max, c.line_num_min, c.line_num_max, c.radius_min, c.nami_1_min,
                c.nami_1_max, c.nami_2_min, c.nami_2_max, c.size, c.start_pos, 255)
        return VISUAL_ATOM, ints, (c.perlin_min, c.line_width, c.oval_rate)

    def sample_categories(self, n: int):
        return params.sample_categories(self.config, n)

    def sample_instances(self, category_ids, instance_ids) -> dict:
        return params.sample_instances(self.config, self.table(), category_ids, instance_ids)

    def settings(self) -> ContourSettings:
        return ContourSettings(size=self.config.size, kind=VISUAL_ATOM, background=0, gray_levels=256,
                               seed=self.config.seed, stream=rng.stream_id(params.ORBIT_STREAM),
                               database=self.key)

    def relative_path(self, category: int, instance: int) -> str:
        q = int(self.category_values(np.array([category]))["vertices"][0])
        return f"{category + self.config.start_class:05d}/vertex_{q:04d}_instance_{instance:04d}.png"

    def write_params(self, directory: Path) -> list[Path]:
        t = self.table()
        first = self.config.start_class
        lines = ["class," + ",".join(params.COLUMNS)]
        lines += [",".join([str(k + first)] + [repr(t.row(k)[name]) for name in params.COLUMNS])
                  for k in range(t.n_categories)]
        path = Path(directory) / "params.csv"
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
        return [path] + self.write_instance_table(directory, first)
