"""A small run of every GPU kernel of the project, for compute-sanitizer (memcheck, racecheck) on a GPU machine.

    compute-sanitizer --tool racecheck --error-exitcode 1 python3 tools/kernel_workload.py

Every database renders its first and last self-check configurations on `cuda` (written and freshly
re-keyed instances: the trace/coords/raster kernels with one band and with several, render,
models/views), runs its search kernel (fill, evaluate), and the renders go through the Triton
augmentation (crop + resample, normalisation and erasing). Exits 0 when everything ran; the sanitizer's own exit code
reports what it found.
"""

from __future__ import annotations

import sys

import numpy as np


def main() -> int:
    import torch

    import fdsl_gen
    from fdsl_gen.augment import params
    from fdsl_gen.augment.config import make_config
    from fdsl_gen.augment.pipeline import augment

    if not torch.cuda.is_available():
        print("no CUDA GPU is visible: nothing to run")
        return 2
    for key in fdsl_gen.list_databases():
        cls = fdsl_gen.database_class(key)
        for options in cls.check_options[:1] + cls.check_options[1:][-1:]:  # first and last (2D: 1 band, 2)
            db = cls.from_options(**options)
            db.table(backend="numba")
            cats = np.arange(4, dtype=np.int64) % db.n_categories
            insts = np.zeros(4, dtype=np.int64)
            images = db._render(cats, insts, "cuda", None)
            db._render(cats, insts, "cuda", np.arange(4, dtype=np.uint32) + 7)
        cls.check_search_outputs("cuda")
        config = make_config("ofdb", 32)
        augment(images, params.draw(0, np.arange(4, dtype=np.uint64), tuple(images.shape[2:]), config), config)
        torch.cuda.synchronize()
        print(f"{key}: ran", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
