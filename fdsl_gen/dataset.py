"""FDSLDataset: a map-style dataset, for the torchvision/timm pipelines and DataLoader workers people have.

Index i is (category, instance) = divmod(i, instances): `dataset[i]` renders that image on demand and
returns (PIL image, category), the image passed through `transform` when one is given, so
`timm.data.create_transform(...)` or any torchvision pipeline applies unchanged. An index always gives
the same image: the instance as `fdsl-gen render` writes it. Rendering runs on the CPU (numba, else the
NumPy reference) in whichever process asks, so DataLoader workers (forked or spawned) and a
DistributedSampler work as with any dataset; a DataLoader that fetches whole batches (`__getitems__`)
renders each batch in one call.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from . import backends
from .backends import numba_parallel
from .errors import UsageError
from .registry import get_database

OUTPUTS = ("pil", "tensor")


class FDSLDataset(Dataset):
    """Random access over categories × instances of a database.

    Args:
        db: a database key ("ofdb", "visual_atom", ...) or a Database.
        categories, instances, seed: of a database given by key (its defaults if None).
        transform: applied to each image (a PIL image, or a tensor with output="tensor").
        target_transform: applied to each label.
        output: "pil" (RGB, or L with channels=1) or "tensor" (uint8 [C, H, W]).
        channels: 3 (gray renders repeated, as the originals save them) or 1.
        backend: a CPU backend, "numba" | "ref" | "auto" (numba where it runs).
        **db_options: the database's own options (size, points, ...).
    """

    def __init__(self, db, categories: int | None = None, instances: int | None = None, seed: int | None = None,
                 transform=None, target_transform=None, output: str = "pil", channels: int = 3,
                 backend: str = "auto", **db_options):
        if isinstance(db, str):
            db = get_database(db, categories=categories, instances=instances, seed=seed, **db_options)
        elif categories is not None or instances is not None or seed is not None or db_options:
            raise UsageError("pass categories, instances, seed and database options to get_database, not with a "
                             "Database")
        if output not in OUTPUTS:
            raise UsageError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        if channels not in (1, 3) or (channels == 1 and db.image_shape[0] == 3):
            raise UsageError(f"channels must be 3, or 1 for a gray database; got {channels}")
        cpu = [b for b in ("numba", "ref") if b in db.implemented_backends]
        if backend == "auto":
            backend = next(b for b in cpu if backends.unavailable_reason(b) is None)
        if backend not in cpu:
            raise UsageError(f"FDSLDataset renders on the CPU ({', '.join(cpu)}), got backend {backend!r}; "
                             "FDSLStream renders on the GPU")
        numba_parallel.prefer_fork_safe()  # DataLoader workers may fork this process (backends.numba_parallel)
        self.db, self.backend = db, db.prepare(backend)  # the category table now, not in every worker
        self.transform, self.target_transform = transform, target_transform
        self.output, self.channels = output, channels
        self.classes = [str(k) for k in range(db.n_categories)]

    def __len__(self) -> int:
        return self.db.n_categories * self.db.n_instances

    def locate(self, index: int) -> tuple[int, int]:
        """(category, instance) of a dataset index."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} images")
        return divmod(index % n, self.db.n_instances)

    def __getitem__(self, index: int):
        return self.__getitems__([index])[0]

    def __getitems__(self, indices) -> list:
        """A DataLoader's batch fetch: the images of `indices`, rendered in one call."""
        numba_parallel.check_fork_safe("dataset", "DataLoader(..., multiprocessing_context='spawn')")
        where = np.array([self.locate(int(i)) for i in indices], dtype=np.int64).reshape(-1, 2)
        images = self.db.render_array(where[:, 0], where[:, 1], self.backend) if len(where) else []
        return [self._sample(image, int(category)) for image, category in zip(images, where[:, 0])]

    def _sample(self, image: np.ndarray, category: int):
        if image.shape[0] != self.channels:
            image = np.repeat(image, self.channels, axis=0)
        if self.output == "tensor":
            sample = torch.from_numpy(np.ascontiguousarray(image))
        else:
            from PIL import Image

            sample = Image.fromarray(image[0] if self.channels == 1 else image.transpose(1, 2, 0))
        if self.transform is not None:
            sample = self.transform(sample)
        return sample, category if self.target_transform is None else self.target_transform(category)
