"""Where and how a training run executes: device, DDP under torchrun, precision, optimizer and schedule.

DDP starts from torchrun's environment when WORLD_SIZE > 1 (NCCL on CUDA, gloo on the CPU); every rank
drives one device. bf16 autocast on CUDA needs no loss scaling; fp16 takes a GradScaler.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass

import torch
from torch import nn

from .. import _env
from ..errors import Interrupted, UsageError
from .config import OptimConfig, RunConfig


@dataclass(frozen=True)
class Runtime:
    """This process's place in the run."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    precision: str = "fp32"  # bf16 | fp16 | fp32 (resolved from "auto")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        if self.device.type != "cuda" or self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=torch.bfloat16 if self.precision == "bf16" else torch.float16)

    def scaler(self) -> torch.amp.GradScaler:
        """A GradScaler that scales only under fp16 (a pass-through otherwise)."""
        return torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")


def start(run: RunConfig) -> Runtime:
    """The device and (under torchrun) the process group of this run."""
    want = run.device or _env.default_device() or ("cuda" if torch.cuda.is_available() else "cpu")
    if want == "cuda" and not torch.cuda.is_available():
        raise UsageError("device cuda requested but torch sees no CUDA GPU here")
    rank, world = _env.dist_rank_world()
    device = torch.device(want)
    if want == "cuda":
        device = torch.device("cuda", _env.local_rank())
        torch.cuda.set_device(device)
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if want == "cuda" else "gloo")
    precision = run.precision
    if precision == "auto":
        precision = "bf16" if want == "cuda" else "fp32"
    if precision != "fp32" and want != "cuda":
        raise UsageError(f"precision {precision} needs CUDA; use fp32 on the CPU")
    if want == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 leftovers (norms, loss) on tensor cores
        torch.backends.cudnn.allow_tf32 = True
    return Runtime(device, rank, world, precision)


def barrier(rt: Runtime) -> None:
    """Wait for every rank. Called at the end of a finished run, so that no rank tears its process group
    down while another still works (gloo aborts a process whose peer destroyed the group under it)."""
    if rt.distributed and torch.distributed.is_initialized():
        torch.distributed.barrier()


def stop(rt: Runtime) -> None:
    if rt.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def wrap(model: nn.Module, rt: Runtime, compile: bool) -> nn.Module:
    """The model as the loop calls it: compiled (optional), then DDP across ranks (nanoGPT's order)."""
    if compile:
        model = torch.compile(model)
    if rt.distributed:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model, device_ids=[rt.device.index] if rt.device.type == "cuda" else None)
    return model


def mean_over_ranks(value: torch.Tensor, rt: Runtime) -> float:
    """The mean of a scalar tensor over all ranks, as a Python float (one sync)."""
    if rt.distributed:
        value = value.detach().clone()
        torch.distributed.all_reduce(value)
        value /= rt.world_size
    return float(value)


class Meter:
    """Running means of (loss, accuracy) between two log records, read as means over the ranks."""

    def __init__(self):
        self._reset()

    def _reset(self) -> None:
        self.sums, self.count, self.seen, self.tick = None, 0, 0, time.perf_counter()

    def add(self, loss: torch.Tensor, acc: torch.Tensor, images: int) -> None:
        values = torch.stack([loss.detach().float(), acc.detach().float()])  # stays on the device: no sync
        self.sums = values if self.sums is None else self.sums + values
        self.count, self.seen = self.count + 1, self.seen + images

    def restart_clock(self) -> None:
        """Leave the time since the last step (a test-set evaluation) out of the next rate."""
        self.tick = time.perf_counter()

    def read(self, rt: Runtime) -> tuple[float, float, float]:
        """(mean loss, mean accuracy, images/s over all ranks) since the last read; starts a new window."""
        loss, acc = (mean_over_ranks(v, rt) for v in self.sums / self.count)
        rate = self.seen * rt.world_size / (time.perf_counter() - self.tick)
        self._reset()
        return loss, acc, rate


class StopSignals:
    """SIGINT and SIGTERM (Ctrl-C; a cluster's preemption) turned into a request to stop at the next step.

    The loop saves a checkpoint there and ends with `Interrupted`, so `--resume` continues where it
    stopped; a second signal interrupts at once. Under DDP the ranks agree at each log step (one
    all-reduce), so that all of them save the same step. Outside the main thread nothing is installed.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received, self._old = None, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        self.received = signal.Signals(signum).name
        for s, handler in self._old.items():  # the next one is not caught
            signal.signal(s, handler)

    def stop_now(self, rt: Runtime, step: int, log_every: int) -> bool:
        if not rt.distributed:
            return self.received is not None
        if step % log_every:
            return False
        flag = torch.tensor([float(self.received is not None)], device=rt.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())

    def end_step(self, step: int, stop: int, total: int, rt: Runtime, run: RunConfig, out, save, due=False) -> bool:
        """The end of a training step, shared by the loops: `save()` when due (`due`, every `ckpt_every`, the
        last step, a signal); after a signal, `Interrupted`; returns whether the run has reached `stop`."""
        stopping = self.stop_now(rt, step, run.log_every)
        if due or step % run.ckpt_every == 0 or step == stop or stopping:
            save()
        if stopping:
            raise self.interrupted(step, total, out)
        return step >= stop

    def interrupted(self, step: int, total: int, out) -> Interrupted:
        return Interrupted(f"interrupted ({self.received or 'another rank'}) at step {step} of {total}: checkpoint "
                           f"saved in {out}; run the same command with --resume to continue")


def optimizer_step(opt: torch.optim.Optimizer, scaler, loss: torch.Tensor) -> None:
    """Backward and one optimizer step through the grad scaler (a no-op scaler outside fp16)."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()


def optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW without weight decay on biases, norms, position embeddings and tokens (timm's rule: ndim ≤ 1
    and the names in `no_weight_decay`)."""
    decay, plain = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        skip = p.ndim <= 1 or name.endswith(("pos_embed", "cls_token", "mask_token"))
        (plain if skip else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)


def peak_lr(cfg: OptimConfig, global_batch: int) -> float:
    """The peak learning rate: linear scaling by global batch when the config quotes a reference batch."""
    return cfg.lr * global_batch / cfg.lr_batch if cfg.lr_batch else cfg.lr


def warmup_steps(cfg: OptimConfig, steps_per_epoch: int, total: int) -> tuple[int, str | None]:
    """(warm-up steps of a `total`-step run, a note when the cap shortened what the config asked for).

    The config asks in steps, else epochs, else a fraction of the run; the warm-up never exceeds
    `warmup_cap` of the run, so a short run (`--steps 20`) does not end still warming up.
    """
    asked = (cfg.warmup_steps or int(round(cfg.warmup_epochs * steps_per_epoch))
             or int(round(cfg.warmup_fraction * total)))
    cap = int(cfg.warmup_cap * total)
    if asked <= cap:
        return asked, None
    return cap, f"warm-up shortened to {cap} steps ({cfg.warmup_cap:.0%} of the run's {total}); {asked} were asked"


def lr_at(step: int, total: int, warmup: int, peak: float, floor: float) -> float:
    """Learning rate of optimizer step `step` (0-based): linear warm-up, then cosine from `peak` to `floor`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def seed_rank(seed: int, rank: int) -> None:
    """Seed torch's global generator for training (drop-path) per rank, after the model is initialised."""
    torch.manual_seed((seed * 1_000_003 + rank) * 1_000_003)


def rng_state() -> dict:
    """The global torch generators' state (CPU and CUDA), saved with a checkpoint for an exact resume."""
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def rng_states(rt: Runtime) -> list[dict]:
    """Every rank's generator state (index = rank), gathered for the checkpoint rank 0 writes."""
    if not rt.distributed:
        return [rng_state()]
    states = [None] * rt.world_size
    torch.distributed.all_gather_object(states, rng_state())
    return states


def restore_rng(states: list[dict], rt: Runtime, seed: int, step: int) -> None:
    """This rank's saved generator state; a fresh seed from (seed, rank, step) if the world size changed."""
    if len(states) == rt.world_size:
        set_rng_state(states[rt.rank])
    else:
        torch.manual_seed((seed * 1_000_003 + rt.rank) * 1_000_003 + step)
