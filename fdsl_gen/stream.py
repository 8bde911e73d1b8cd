"""FDSLStream: augmented batches rendered on demand, for any training loop, without a disk.

Each batch is rendered afresh (the render's own randomness re-keyed per draw, `sampling.variants`),
augmented per sample (`augment.pipeline`) and yielded as (images, labels). Which samples a rank and a
DataLoader worker draw, and the resumable state, are `sampling.Plan`'s. On CUDA the main process
renders on its own CUDA stream `prefetch` batches ahead and hands each batch over with an event; on
the CPU, numba renders in whichever process iterates (DataLoader workers take every k-th step).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import json
import os

import torch
from torch.utils.data import IterableDataset, get_worker_info

from . import _env, backends
from .augment import params as augment_params
from .augment.config import make_config, preset_name
from .augment.pipeline import augment as augment_batch
from .backends import numba_parallel
from .backends.cuda_runner import to_device
from .errors import UsageError
from .registry import database_class, get_database
from .sampling import Plan, variants


def canvas_options(key: str, canvas: int | None, db_options: dict) -> dict:
    """The database options with a smaller canvas's (`Database.canvas_options`) added under them."""
    if canvas is None:
        return db_options
    clash = sorted({"size", "points"} & {k for k, v in db_options.items() if v is not None})
    if clash:
        raise UsageError(f"give canvas or {' and '.join(clash)}, not both: canvas sets them")
    return {**database_class(key).canvas_options(int(canvas)), **db_options}


class FDSLStream(IterableDataset):
    """An IterableDataset of whole batches: images [B, C, S, S] (config dtype) and int64 labels [B].

    Args:
        db: a database key ("ofdb", "visual_atom", ...) or a Database.
        categories: categories of a database given by key (its default if None).
        batch_size: images per batch on this rank.
        image_size: the output side (the augmentation's size).
        augment: "auto" | "small" | "ofdb" | "deit" | "none" (`augment.config`), a dict
            {"preset": ..., field: value}, or an AugmentConfig.
        device: "cuda" or "cpu" (default: cuda when the cuda backend runs here).
        seed: the seed of the database (when given by key), the order and the augmentation.
        rank, world_size: this process's share (default: torchrun's RANK / WORLD_SIZE).
        finite: epochs of categories × instances samples (set_epoch), or an endless stream.
        drop_last: drop the last, partial global step of an epoch instead of padding it.
        repeats: repeated augmentation (DeiT's ×3): each drawn index used this many times in a row.
        backend: the render backend (auto picks the fastest for the device).
        prefetch: batches rendered ahead on the GPU.
        fresh: re-key each draw's render randomness (default), or yield the instances as written to disk
            (the default for a database replaying a released script, `search="published"`).
        canvas: render on a smaller native canvas of this side (a database given by key that supports it:
            the 2D IFS ones, `Database.canvas_options`). This is a different dataset from the published
            one, made for small-image training: a 32-px pre-training on ofdb renders 64² images of 6,251
            points, not 362² ones of 200,000.
        **db_options: the database's own options (size, points, ...).
    """

    def __init__(self, db, categories: int | None = None, batch_size: int = 256, image_size: int = 224,
                 augment="none", device: str | None = None, seed: int = 0, rank: int | None = None,
                 world_size: int | None = None, finite: bool = True, drop_last: bool = False, repeats: int = 1,
                 backend: str = "auto", prefetch: int = 2, fresh: bool | None = None, canvas: int | None = None,
                 **db_options):
        super().__init__()
        if isinstance(db, str):
            db = get_database(db, categories=categories, seed=seed, **canvas_options(db, canvas, db_options))
        elif categories is not None or db_options or canvas is not None:
            raise UsageError("pass categories, canvas and database options to get_database, not with a Database")
        self.db = db
        self.augment = make_config(augment, image_size)
        self.augment_name = preset_name(augment, image_size)  # the preset "auto" chose, for logs
        env_rank, env_world = _env.dist_rank_world()
        self.rank = env_rank if rank is None else int(rank)
        self.world_size = env_world if world_size is None else int(world_size)
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self.finite, self.drop_last, self.repeats = bool(finite), bool(drop_last), int(repeats)
        self.prefetch = max(int(prefetch), 1)
        self.fresh = not getattr(db, "published", False) if fresh is None else bool(fresh)
        if device is None:
            device = _env.default_device() or ("cuda" if self._cuda_ready(backend) else "cpu")
        numba_parallel.prefer_fork_safe()  # DataLoader workers may fork this process (backends.numba_parallel)
        self.device = torch.device(device)
        # prepare: the self-check, the table and per-table data now, so that iterating never waits for the GPU
        if self.device.type == "cuda":  # a published contour replay renders on the CPU, then moves to the GPU
            cuda_auto = backend == "auto" and not getattr(db, "published", False)
            self.backend = db.prepare("cuda" if cuda_auto else backend)
        else:
            if backend == "cuda":
                raise UsageError("the cuda backend renders on a GPU: pass device='cuda'")
            self.backend = db.prepare("numba" if backend == "auto" and "numba" in db.implemented_backends
                                      and backends.unavailable_reason("numba") is None else backend)
        if self.device.type == "cuda":  # the augmentation's GPU path is checked now too, not mid-stream
            from .selfcheck import augment_trusted

            augment_trusted()
        self.epoch, self.position = 0, 0
        self.plan()  # validate rank, sizes and the epoch size now, not in a worker

    def _cuda_ready(self, backend: str) -> bool:
        return (backend in ("auto", "cuda") and "cuda" in self.db.implemented_backends
                and not getattr(self.db, "published", False) and backends.unavailable_reason("cuda") is None)

    # -- the plan and the state ------------------------------------------------------------------

    def plan(self) -> Plan:
        """This rank's layout of the current pass (from the current epoch and position)."""
        return Plan(self.db.n_categories, self.db.n_instances, self.seed, self.batch_size, self.rank,
                    self.world_size, self.finite, self.epoch, self.position, self.drop_last, self.repeats)

    def __len__(self) -> int:
        steps = self.plan().steps
        if steps is None:
            raise TypeError("an infinite FDSLStream has no length")
        return steps

    def set_epoch(self, epoch: int) -> None:
        """Start epoch `epoch` (its own permutation); the current epoch keeps its position (a resumed run)."""
        if int(epoch) != self.epoch:
            self.epoch, self.position = int(epoch), 0

    def config_hash(self) -> str:
        """What must not change across a resume: the database config, the augmentation and the sampling."""
        spec = {"db": self.db.describe(), "augment": dataclasses.asdict(self.augment), "seed": self.seed,
                "finite": self.finite, "repeats": self.repeats, "fresh": self.fresh}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def state_dict(self) -> dict:
        """(seed, config hash, epoch, next position): resume with `load_state_dict`, at any world size."""
        epoch, position = self.epoch, self.position
        if self.finite and position >= self.db.n_categories * self.db.n_instances:
            epoch, position = epoch + 1, 0  # the epoch is complete
        return {"seed": self.seed, "config_hash": self.config_hash(), "epoch": epoch, "position": position}

    def load_state_dict(self, state: dict) -> None:
        if state.get("seed") != self.seed or state.get("config_hash") != self.config_hash():
            raise UsageError("this stream state belongs to another seed or configuration")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])

    def advance(self, steps: int = 1) -> None:
        """Count `steps` global steps as consumed (what iterating in this process does by itself)."""
        self.position += steps * self.world_size * self.batch_size

    def end_epoch(self) -> None:
        """Move to the next epoch (iterating to the end of a finite pass does this by itself)."""
        if self.finite:
            self.epoch, self.position = self.epoch + 1, 0

    # -- producing batches ------------------------------------------------------------------------

    def render_step(self, plan: Plan, step: int):
        """Render and augment one step of `plan`: (images, labels) on this stream's device."""
        cats, insts, sample_ids = plan.samples(step)
        images = self.db.render(cats, insts, backend=self.backend,
                                variants=variants(self.seed, sample_ids) if self.fresh else None)
        if self.device.type == "cuda" and not images.is_cuda:  # rendered on the CPU (a published replay)
            images = to_device(images.numpy(), self.device)
        p = augment_params.draw(self.seed, sample_ids, tuple(images.shape[2:]), self.augment)
        out = augment_batch(images, p, self.augment)
        return out, to_device(cats.astype("int64"), self.device)

    def _steps(self, plan: Plan):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if self.device.type == "cuda" and info is not None:
            raise UsageError("the CUDA stream renders in the main process: use num_workers=0")
        if info is not None and self.backend == "numba":  # share the cores between the workers
            import numba

            numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS, (os.cpu_count() or 1) // workers)))
        steps = itertools.count(worker, workers) if plan.steps is None else range(worker, plan.steps, workers)
        return steps, info is None

    def __iter__(self):
        plan = self.plan()
        steps, main = self._steps(plan)
        if self.device.type == "cuda":
            yield from self._iter_cuda(plan, steps)
        else:
            numba_parallel.check_fork_safe("stream", "stream.loader(num_workers=k)")
            for step in steps:
                batch = self.render_step(plan, step)
                if main:
                    self.position = plan.start + (step + 1) * plan.global_batch
                yield batch
        if main and plan.finite:
            self.end_epoch()

    def _iter_cuda(self, plan: Plan, steps):
        side = torch.cuda.Stream(device=self.device)
        pending = collections.deque()
        steps = iter(steps)

        def launch():
            step = next(steps, None)
            if step is None:
                return
            with torch.cuda.stream(side):
                images, labels = self.render_step(plan, step)
                done = torch.cuda.Event()
                done.record(side)
            pending.append((step, images, labels, done))

        for _ in range(self.prefetch):
            launch()
        while pending:
            step, images, labels, done = pending.popleft()
            launch()  # `prefetch` batches in flight while the consumer works on this one
            consumer = torch.cuda.current_stream(self.device)
            consumer.wait_event(done)  # the consumer waits on the GPU, the host does not
            images.record_stream(consumer)  # memory made on `side` stays alive for the consumer's work
            labels.record_stream(consumer)
            self.position = plan.start + (step + 1) * plan.global_batch
            yield images, labels

    def loader(self, num_workers: int = 0, **kwargs) -> "StreamLoader":
        """A DataLoader over this stream that keeps its state in step (use it to resume with workers)."""
        return StreamLoader(self, num_workers, **kwargs)


class StreamLoader:
    """`DataLoader(stream, batch_size=None, num_workers=k)` that advances the stream's state per batch."""

    def __init__(self, stream: FDSLStream, num_workers: int = 0, **kwargs):
        self.stream = stream
        self.num_workers = num_workers
        self.kwargs = kwargs

    def __len__(self) -> int:
        return len(self.stream)

    def __iter__(self):
        from torch.utils.data import DataLoader

        if self.num_workers == 0:  # the stream iterates here and keeps its own state
            yield from self.stream
            return
        # workers start from a fresh process: forking one whose numba OpenMP pool already ran is unsafe
        kwargs = {"multiprocessing_context": "spawn", **self.kwargs}
        loader = DataLoader(self.stream, batch_size=None, num_workers=self.num_workers, **kwargs)
        for batch in loader:
            self.stream.advance()
            yield batch
        self.stream.end_epoch()

