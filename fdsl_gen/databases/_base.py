"""The Database interface every registered database implements, and the pieces they share.

A database is a frozen config plus three answers: how many categories and instances it has, how to
render any (category, instance) pair with a given backend, and where the originals put that image on
disk. Everything else (export, preview, bench, the stream) is written once against this interface.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import backends
from ..errors import UsageError


@dataclass(frozen=True)
class DatabaseConfig:
    """The options every database has; a family's config adds its own and changes the defaults."""

    categories: int = 1000  # how many categories (the first ones of the table)
    seed: int = 0  # our draws (patch patterns, sampled parameters, the native search)
    search: str = "native"  # published: the original's table or launch, replayed; native: our seeded draws
    instances: int | None = None  # instance ids 0 .. instances - 1 (None: the database's own count)
    size: int = 512  # canvas side in pixels (the originals' image_size)


class Database(ABC):
    """One FDSL database with a fixed configuration."""

    key: ClassVar[str]  # the registry key, snake_case
    aliases: ClassVar[tuple[str, ...]] = ()  # other accepted spellings (the papers')
    summary: ClassVar[str]  # one line for `fdsl-gen list`
    implemented_backends: ClassVar[tuple[str, ...]]
    Config: ClassVar[type]  # a frozen dataclass; its fields are the database's options
    option_aliases: ClassVar[dict] = {}  # the originals' flag names -> config fields (command line)
    table_in_layout: ClassVar[bool] = False  # whether a written dataset holds the parameter files too
    check_options: ClassVar[tuple[dict, ...]] = ({"categories": 4},)  # the self-check's small configurations

    def __init__(self, config):
        self.config = config
        self._table = None  # the category table, made once (`table`)
        self._on_device: dict = {}  # runner's cache key -> `_make_device_table(runner)`

    @classmethod
    def from_options(cls, **options) -> "Database":
        """Build from keyword options (the config's fields); None means "the default"."""
        names = {f.name for f in dataclasses.fields(cls.Config)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise UsageError(f"{cls.key} has no option {', '.join(unknown)}; its options: {', '.join(sorted(names))}")
        given = {k: v for k, v in options.items() if v is not None}
        if given.get("table"):  # all the table's categories by default, and no more than it has
            size = cls.table_size(given["table"])
            if given.setdefault("categories", size) > size:
                raise UsageError(f"the table {given['table']} has {size} categories, {given['categories']} "
                                 "were asked for")
        return cls(cls.Config(**given))

    @classmethod
    def table_size(cls, table: str) -> int:
        """The number of categories in a category table file (a database with a `table` option says how)."""
        raise UsageError(f"{cls.key} takes no category table")

    @classmethod
    def defaults(cls) -> dict:
        """The default value of every option."""
        return dataclasses.asdict(cls.Config())

    # -- what every database answers -------------------------------------------------------------

    @property
    def n_categories(self) -> int:
        return self.config.categories

    @property
    @abstractmethod
    def n_instances(self) -> int:
        """Instances per category; instance ids are 0 .. n_instances - 1."""

    @property
    @abstractmethod
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of a rendered image."""

    @abstractmethod
    def _render(self, category_ids: np.ndarray, instance_ids: np.ndarray, backend: str, variants=None):
        """Render with a resolved backend: uint8 [B, C, H, W], a NumPy array (CPU) or a CUDA torch tensor.

        The render's own randomness (patch patterns, orbit noise and grays, view jitter) is keyed by
        (category, variant). The variant of a written image comes from its instance id (the instance
        itself, or fractaldb's instance // 4, whose flips share patterns); `variants` (uint32 [B]) replaces
        it, so the stream can render a sample afresh. None renders the instances as written to disk.
        """

    @abstractmethod
    def relative_path(self, category: int, instance: int) -> str:
        """Where the original generator writes this image, relative to the dataset root."""

    @abstractmethod
    def write_table(self, directory: Path, csv: bool = True) -> list[Path]:
        """Write the category table (compact file, and the originals' CSVs if `csv`); returns the files."""

    def table(self, progress=None, backend: str = "auto"):
        """The category table (a `tables.CategoryTable`), made on first use and kept.

        `progress` is called with the number of categories made as a search goes (a bar's update);
        `backend` is the backend a search may render with.
        """
        if self._table is None:
            self._table = self._make_table(progress, backend)
        return self._table

    @abstractmethod
    def _make_table(self, progress, backend: str):
        """Read, load or search the category table of this config (called once, by `table`)."""

    def table_digest(self) -> str:
        """SHA-256 identifying the category table."""
        return self.table().digest()

    # -- shared behaviour ------------------------------------------------------------------------

    def resolve_backend(self, backend: str = "auto") -> str:
        """The backend to render with; `cuda` only once it has passed its self-check here (`selfcheck`)."""
        resolved = backends.resolve(backend, self.implemented_backends, self.key)
        if resolved == "cuda":
            resolved = backends.gate("database", type(self), backend)
        return resolved

    def prepare(self, backend: str = "auto") -> str:
        """Get ready to render with `backend` and return the resolved backend.

        Everything that waits for the GPU happens here, once: the self-check, the category table and
        any per-table data a backend needs. After it, renders only queue work on the current stream.
        """
        backend = self.resolve_backend(backend)
        self.table(backend=backend)
        if backend == "cuda":
            from ..backends import cuda_runner

            self.device_table(cuda_runner.CudaRunner())
        return backend

    def device_table(self, runner):
        """What the cuda backend keeps of the whole category table on `runner`'s device, made once."""
        if runner.cache_key not in self._on_device:
            self._on_device[runner.cache_key] = self._make_device_table(runner)
        return self._on_device[runner.cache_key]

    def _make_device_table(self, runner):
        """Per-table device data of a database (traces, vertex tables, models); None: nothing kept."""
        return None

    @classmethod
    def check_outputs(cls, backend: str) -> dict[str, np.ndarray]:
        """The self-check's outputs on `backend`: renders of fixed ids for each of `check_options`.

        Each configuration renders 6 images twice, as written and freshly re-keyed (`variants`); the
        category table comes from the CPU, so that only the backend's own kernels are judged.
        """
        outputs = {}
        cpu = "numba" if backend != "ref" and "numba" in cls.implemented_backends else "ref"
        for k, options in enumerate(cls.check_options):
            db = cls.from_options(**options)
            db.table(backend=cpu)
            cats = np.arange(6, dtype=np.int64) % db.n_categories
            insts = (np.arange(6, dtype=np.int64) * 5) % db.n_instances
            for name, variants in (("written", None), ("fresh", np.arange(6, dtype=np.uint32) + 1000)):
                out = db._render(cats, insts, backend, variants)
                outputs[f"{k}/{name}"] = out if isinstance(out, np.ndarray) else out.cpu().numpy()
        outputs.update(cls.check_search_outputs(backend))
        return outputs

    @classmethod
    def check_search_outputs(cls, backend: str) -> dict[str, np.ndarray]:
        """The self-check's search outputs (a database with a search kernel adds them)."""
        return {}

    def check_ids(self, category_ids, instance_ids) -> tuple[np.ndarray, np.ndarray]:
        """Validate and broadcast ids to int64 [B]."""
        cats, insts = np.broadcast_arrays(np.atleast_1d(np.asarray(category_ids, dtype=np.int64)),
                                          np.atleast_1d(np.asarray(instance_ids, dtype=np.int64)))
        if cats.ndim != 1:
            raise UsageError("category and instance ids must be scalars or 1-D")
        if cats.size and (cats.min() < 0 or cats.max() >= self.n_categories):
            raise UsageError(f"category ids must be in [0, {self.n_categories - 1}]")
        if insts.size and (insts.min() < 0 or insts.max() >= self.n_instances):
            raise UsageError(f"instance ids must be in [0, {self.n_instances - 1}]")
        return cats, insts

    def check_variants(self, variants, n: int):
        """None, or `variants` as uint32 [n]."""
        if variants is None:
            return None
        variants = np.asarray(variants, dtype=np.uint32).reshape(-1)
        if variants.shape[0] != n:
            raise UsageError(f"one variant per image: got {variants.shape[0]} for {n} images")
        return variants

    def render_array(self, category_ids, instance_ids, backend: str = "auto", variants=None) -> np.ndarray:
        """Render images as a NumPy array.

        Args:
            category_ids: int or int array [B].
            instance_ids: int or int array [B] (broadcast with category_ids).
            backend: auto | ref | numba | ... (`fdsl-gen list` shows what runs here).
            variants: uint32 [B] or None: a fresh draw of the render's randomness (see `_render`).

        Returns:
            uint8 [B, C, H, W]; image b depends only on the config, category_ids[b], instance_ids[b]
            (and variants[b]).
        """
        cats, insts = self.check_ids(category_ids, instance_ids)
        out = self._render(cats, insts, self.resolve_backend(backend), self.check_variants(variants, cats.shape[0]))
        return out if isinstance(out, np.ndarray) else out.cpu().numpy()

    def render(self, category_ids, instance_ids, backend: str = "auto", device: str | None = None, variants=None):
        """As `render_array`, as a torch uint8 tensor [B, C, H, W].

        The tensor stays where the backend rendered it (CUDA for `cuda`, else the CPU) unless `device`
        says otherwise.
        """
        import torch

        cats, insts = self.check_ids(category_ids, instance_ids)
        out = self._render(cats, insts, self.resolve_backend(backend), self.check_variants(variants, cats.shape[0]))
        out = torch.from_numpy(out) if isinstance(out, np.ndarray) else out
        return out if device is None else out.to(device)

    def benchmark_search(self, n: int, backend: str) -> dict | None:
        """Run this database's category search afresh (no cache) for n categories, if it has one.

        Returns {"categories", "candidates"} or None for a database without a search.
        """
        return None

    @classmethod
    def canvas_options(cls, size: int) -> dict:
        """The options that render this database on a smaller native canvas of `size` pixels.

        Such renders are a different dataset from the published one (same categories and draws, fewer
        pixels and points); the stream's `canvas` uses them so that small-image training does not pay
        for a full-size render per sample. A database whose shapes are laid out in pixels (the contours)
        has no such form.
        """
        raise UsageError(f"{cls.key} renders only on its own canvas (--size); a smaller canvas is supported by "
                         "the 2D IFS databases (fractaldb, ofdb, onepfrac)")

    def describe(self) -> dict:
        """The full configuration, for manifests and `fdsl-gen list`."""
        return {"database": self.key, **dataclasses.asdict(self.config)}


SIZE_RANGE = (16, 4096)  # canvas sides any database accepts (room for a pad; a batch must fit in memory)
MAX_CATEGORIES = 10_000_000


def check_basics(config) -> None:
    """The checks every database config shares: categories, instances, seed and size."""
    from .. import rng

    check_positive("categories", config.categories, MAX_CATEGORIES)
    if config.instances is not None:
        check_positive("instances", config.instances)
    try:
        rng.check_seed(config.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not SIZE_RANGE[0] <= config.size <= SIZE_RANGE[1]:
        raise UsageError(f"size must be between {SIZE_RANGE[0]} and {SIZE_RANGE[1]} pixels, got {config.size}")


def check_positive(name: str, value: int, upper: int | None = None) -> None:
    """UsageError unless 1 <= value (<= upper)."""
    if value < 1 or (upper is not None and value > upper):
        allowed = f"between 1 and {upper}" if upper is not None else "at least 1"
        raise UsageError(f"{name} must be {allowed}, got {value}")
