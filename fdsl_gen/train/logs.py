"""What a run shows and keeps: a tqdm bar, a JSON-lines log (`log.jsonl`) and a PNG of its curves.

Only rank 0 writes. A resumed run drops the records past its checkpoint's step (they belong to the work
that was lost) and appends. The plot needs matplotlib (the `train` extra); without it, one message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

LOG_FILE, PLOT_FILE = "log.jsonl", "curves.png"


class RunLog:
    """Append-only JSONL records and a progress bar over the run's steps."""

    def __init__(self, out: Path, enabled: bool, total: int, start: int, desc: str, progress: bool = True,
                 echo=print):
        self.path = Path(out) / LOG_FILE
        self.enabled, self.echo = enabled, echo
        if enabled and self.path.exists():  # a resume: keep the history up to the checkpoint
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= start]
            self.path.write_text("".join(line + "\n" for line in kept))
        self.bar = None
        if enabled and progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, desc=desc, unit="step", dynamic_ncols=True)
        self.t0 = time.perf_counter()

    def record(self, **fields) -> None:
        if not self.enabled:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps({**fields, "time": round(time.perf_counter() - self.t0, 3)}) + "\n")
        if self.bar is not None:
            shown = {k: f"{v:.4g}" for k, v in fields.items() if k in ("loss", "acc", "lr", "test_acc", "img_s")}
            self.bar.set_postfix(shown, refresh=False)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            self.echo(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def finish(log: RunLog, out: Path, main: bool, step: int, total: int, checkpoint_file: str, echo=print) -> None:
    """Close the bar; on rank 0 say where the checkpoint is and draw the curves."""
    log.close()
    if main:
        echo(f"step {step}/{total}: checkpoint in {Path(out) / checkpoint_file}")
        plot(out, echo)


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot(out: Path, echo=print) -> Path | None:
    """Draw `curves.png` from `log.jsonl`: training loss, and accuracies, against the step."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        echo("no plot: matplotlib is not installed (pip install 'fdsl-gen[train]')")
        return None
    records = read_log(Path(out) / LOG_FILE)
    train = [r for r in records if "loss" in r]
    tests = [r for r in records if "test_acc" in r]
    accs = [r for r in train if r.get("acc") is not None]
    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot([r["step"] for r in train], [r["loss"] for r in train], label="train loss")
    if tests:
        ax.plot([r["step"] for r in tests], [r["test_loss"] for r in tests], "o-", label="test loss")
    ax.set(xlabel="step", ylabel="loss", title="loss")
    ax.legend()
    ax = fig.add_subplot(1, 2, 2)
    if accs:
        ax.plot([r["step"] for r in accs], [r["acc"] for r in accs], label="train acc")
    if tests:
        ax.plot([r["step"] for r in tests], [r["test_acc"] for r in tests], "o-", label="test acc")
    ax.set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(0, 1))
    if accs or tests:
        ax.legend()
    fig.tight_layout()
    path = Path(out) / PLOT_FILE
    fig.savefig(path)
    return path
