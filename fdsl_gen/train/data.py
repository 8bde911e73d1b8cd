"""Real image classification sets for fine-tuning and evaluation, and their batch transforms on the device.

Two sources: Fashion-MNIST from its four IDX files (Debian's `dataset-fashion-mnist` puts them under
/usr/share/datasets/fashion-mnist; `--data-dir` or FDSL_FASHION_MNIST point elsewhere), held in memory
as uint8; and an ImageFolder directory (class sub-folders of images, or `train/` + `val/`|`test/`),
decoded with Pillow per item (shorter side resized to the model's size, centre crop). Batches reach the
device as uint8 and become model input there: gray → the model's channels, resized, for training a
random crop with zero padding (size/8) and a horizontal flip, then normalised like the pre-training.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import _env
from ..errors import UsageError

FASHION_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                 "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip or plain) as a uint8 array of its declared shape (MNIST's format)."""
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise UsageError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).tolist()
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise UsageError(f"{path}: {data.size} bytes of data for a declared shape {dims}")
    return data.reshape(dims)


class TensorImages:
    """An in-memory set: images uint8 [N, C, H, W], labels int64 [N]."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: tuple[str, ...]):
        self.images, self.labels, self.classes = images, labels, classes

    def __len__(self) -> int:
        return len(self.labels)


class ImageFolder(torch.utils.data.Dataset):
    """`root/<class>/**/<image>` decoded on access: (uint8 [3, S, S], label)."""

    def __init__(self, root: Path, size: int, classes: tuple[str, ...] | None = None):
        found = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
        if not found:
            raise UsageError(f"{root} has no class folders (an ImageFolder is root/<class>/<image>)")
        if classes is not None and found != classes:
            raise UsageError(f"{root} has classes {list(found)[:5]}..., the training split {list(classes)[:5]}...")
        self.root, self.size, self.classes = root, size, found
        self.samples = [(p, k) for k, name in enumerate(found) for p in sorted((root / name).rglob("*"))
                        if p.suffix.lower() in IMAGE_SUFFIXES]
        if not self.samples:
            raise UsageError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        self.labels = torch.tensor([k for _, k in self.samples], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        from PIL import Image

        path, label = self.samples[i]
        with Image.open(path) as im:
            im = im.convert("RGB")
            scale = self.size / min(im.size)  # shorter side to `size`, then the centre square
            w, h = max(self.size, round(im.width * scale)), max(self.size, round(im.height * scale))
            im = im.resize((w, h), Image.BILINEAR)
            left, top = (w - self.size) // 2, (h - self.size) // 2
            im = im.crop((left, top, left + self.size, top + self.size))
            return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1), label


def fashion_mnist(split: str, data_dir: str | None = None) -> TensorImages:
    root = Path(data_dir) if data_dir else _env.fashion_mnist_dir()
    paths = []
    for name in FASHION_FILES[split]:
        found = [root / f"{name}{ext}" for ext in (".gz", "") if (root / f"{name}{ext}").is_file()]
        if not found:
            raise UsageError(f"Fashion-MNIST not found: no {name}.gz in {root} (apt-get install "
                             "dataset-fashion-mnist, or --data-dir / FDSL_FASHION_MNIST)")
        paths.append(found[0])
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise UsageError(f"{paths[0]} and {paths[1]} do not hold one label per 2-D image")
    return TensorImages(torch.from_numpy(images.copy())[:, None], torch.from_numpy(labels.astype(np.int64)),
                        FASHION_CLASSES)


def load_split(data: str, split: str, size: int, data_dir: str | None = None, classes=None,
               root_is_test: bool = False):
    """The `split` ("train" | "test") of `data`, or None when an ImageFolder has no such split.

    A folder with `train/` uses it and `val/` (else `test/`) for testing; a plain ImageFolder is the training
    set (nothing held out), or the test set when `root_is_test` (evaluation).
    """
    if data == "fashion-mnist":
        return fashion_mnist(split, data_dir)
    root = Path(data)
    if not root.is_dir():
        raise UsageError(f"data must be fashion-mnist or an ImageFolder directory; {data} is neither")
    if split == "train":
        split_root = root / "train" if (root / "train").is_dir() else root
    else:
        split_root = next((root / s for s in ("val", "test") if (root / s).is_dir()), None)
        if split_root is None and root_is_test and not (root / "train").is_dir():
            split_root = root
    return None if split_root is None else ImageFolder(split_root, size, classes)


def subset_per_class(labels: torch.Tensor, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` images of every class (all of a smaller class), drawn with `seed`, sorted."""
    rng = np.random.default_rng(seed)
    labels = labels.numpy()
    picks = [rng.permutation(np.flatnonzero(labels == k))[:per_class] for k in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def shard(indices: np.ndarray, seed: int, epoch: int, rank: int, world: int, shuffle: bool) -> np.ndarray:
    """This rank's share of an epoch: a seeded shuffle, padded by wrapping to a multiple of the world size
    when shuffling (training: every rank the same number of steps), split rank::world."""
    order = indices[np.random.default_rng([seed, epoch]).permutation(len(indices))] if shuffle else indices
    if shuffle and len(order) % world:
        order = np.concatenate([order, order[: world - len(order) % world]])
    return order[rank::world]


def batches(dataset, indices: np.ndarray, batch_size: int, workers: int = 0):
    """(uint8 images [B, C, H, W], int64 labels [B]) over `indices` in order, on the CPU."""
    if isinstance(dataset, TensorImages):
        for i in range(0, len(indices), batch_size):
            idx = torch.from_numpy(indices[i:i + batch_size])
            yield dataset.images[idx], dataset.labels[idx]
        return
    # its own generator: a DataLoader otherwise draws its workers' seed from torch's global one (drop-path's)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=indices.tolist(),
                                         num_workers=workers, generator=torch.Generator())
    yield from loader


def prepare(images: torch.Tensor, size: int, channels: int, mean, std, device: torch.device,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 [B, C, H, W] -> normalised float [B, channels, size, size] on `device`; random crop (zero
    padding size/8) and horizontal flip when a generator is given (training)."""
    x = images.to(device, non_blocking=True).float().div_(255.0)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    if x.shape[1] != channels:
        x = x.expand(-1, channels, -1, -1) if x.shape[1] == 1 else x.mean(dim=1, keepdim=True)
    if generator is not None:
        x = crop_flip(x, max(size // 8, 1), generator)
    mean = torch.tensor(mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(std, device=device).view(1, -1, 1, 1)
    return (x - mean) / std


def crop_flip(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Per sample: a random size×size window of the zero-padded image, mirrored with probability 1/2."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator, device=x.device)
    flip = torch.rand(b, generator=generator, device=x.device) < 0.5
    rows = offsets[:, :1] + torch.arange(h, device=x.device)  # [B, H]
    cols = offsets[:, 1:] + torch.arange(w, device=x.device)  # [B, W]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # [B, H, W, C]
    return out.permute(0, 3, 1, 2).contiguous()
