"""RCDB (Kataoka et al., CVPR 2022): K orbits of a V-gon pushed outward by noise (radial contours).

Category = (V, K, eta, c); instance = new radius, stretch and centre, new orbit grays (0..256, 256 drawn
as 255) and new noise (docs/spec/contours.md §2). Background white as the released code (option
`background: black` puts the lines on black, as the papers' figures; orbit grays are unchanged).
Files: `image/<cat:05d>/<cat:05d>_<i:04d>.png` and `param/<cat:05d>.csv` as the released script writes
them (the CSV records instance 0's radius, stretch and centre).

`search="published"` replays the released script launched with `processes` processes (default 40, as
exe_rcdb_1k.sh; RCDB_render.sh uses 10) and the same flags (docs/spec/contours.md §2.7): images and
`param/*.csv` are the original's, byte for byte. The original draws each orbit's gray as
randint(0, size / 2) (0..256 at 512², 256 drawn as 255), so published mode needs an even size (the
script fails on an odd one). It also writes `instances.csv` at the dataset root, one row per image:
class, instance, r0, sx, sy, yc, xc (the radius, stretch and centre the original re-draws per instance).
Categories beyond processes x floor(categories / processes) are never written by the original: left
out, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import rng
from ...errors import UsageError
from ...io.atomic import atomic_write_bytes
from ...registry import register_database
from ..contours.batch import RCDB as RCDB_FORMULA
from ..contours.batch import ContourSettings
from ..contours.database import ContourConfig, ContourDatabase
from . import params

BACKGROUNDS = {"white": 255, "black": 0}


@dataclass(frozen=True)
class RCDBConfig(ContourConfig):
    """RCDB: K ~ U{line_num_min .. line_num_min + 199}, r0 ~ U{radius_min .. radius_min + 100}."""

    vertex_num: int = 200  # largest vertex count V
    background: str = "white"  # white (the released code) | black (the papers' figures)


@register_database
class RCDB(ContourDatabase):
    key = "rcdb"
    aliases = ("RCDB", "radial-contour", "rcdb-1k")
    summary = "RCDB (CVPR 2022): radial contours, orbits of a V-gon pushed by noise, 512² on white"
    Config = RCDBConfig
    category_columns = params.COLUMNS
    check_options = ({"categories": 4, "size": 96, "start_pos": 64, "vertex_num": 40},
                     {"categories": 4, "size": 96, "start_pos": 64, "vertex_num": 40, "background": "black"},
                     {"categories": 3})

    def __init__(self, config: RCDBConfig):
        super().__init__(config)
        c = config
        if c.vertex_num < 3:
            raise UsageError(f"vertex_num must be at least 3, got {c.vertex_num}")
        if c.background not in BACKGROUNDS:
            raise UsageError(f"background must be white or black, got {c.background!r}")
        if self.published and c.size % 2:
            raise UsageError(f"rcdb --search published needs an even size (the original draws gray = "
                             f"randint(0, size / 2), which fails for an odd size), got {c.size}")

    def replay_launch(self) -> tuple:
        c = self.config
        ints = (c.vertex_num, c.line_num_min, c.radius_min, c.size, c.start_pos, c.size // 2)
        return RCDB_FORMULA, ints, (c.perlin_min, c.line_width, c.oval_rate)

    def sample_categories(self, n: int):
        return params.sample_categories(self.config, n)

    def sample_instances(self, category_ids, instance_ids) -> dict:
        return params.sample_instances(self.config, category_ids, instance_ids)

    def settings(self) -> ContourSettings:
        c = self.config
        gray_levels = c.size // 2 + 1 if self.published else 257  # the original: randint(0, size / 2)
        return ContourSettings(size=c.size, kind=RCDB_FORMULA, background=BACKGROUNDS[c.background],
                               gray_levels=gray_levels, seed=c.seed, stream=rng.stream_id(params.ORBIT_STREAM),
                               database=self.key)

    def relative_path(self, category: int, instance: int) -> str:
        return f"image/{category:05d}/{category:05d}_{instance:04d}.png"

    def write_params(self, directory: Path) -> list[Path]:
        """`param/<cat:05d>.csv`: key,value rows (CRLF) as the released script's csv writer, instance 0's draws."""
        t = self.table()
        folder = Path(directory) / "param"
        folder.mkdir(parents=True, exist_ok=True)
        ids = np.arange(t.n_categories)
        inst = self.instance_values(ids, np.zeros_like(ids))
        paths = []
        for k in range(t.n_categories):
            row = t.row(k)
            rows = [("Vertex", row["vertices"]), ("Perlin_noise", row["eta"]), ("line_width", row["c"]),
                    ("Center_rad", int(inst["r0"][k])), ("Line_num", row["orbits"]),
                    ("Oval_rate_x", float(inst["sx"][k])), ("Oval_rate_y", float(inst["sy"][k])),
                    ("start_pos_h", float(inst["yc"][k])), ("start_pos_w", float(inst["xc"][k]))]
            path = folder / f"{k:05d}.csv"
            atomic_write_bytes(path, "".join(f"{key},{value}\r\n" for key, value in rows).encode())
            paths.append(path)
        return paths + self.write_instance_table(directory)
