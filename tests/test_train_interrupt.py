"""A training run stopped by SIGTERM (a cluster's preemption) or Ctrl-C saves where it is and resumes from
there, ending with the weights of a run that was never stopped (issue 16)."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from fdsl_gen.errors import Interrupted
from fdsl_gen.train import checkpoint, runtime
from fdsl_gen.train.config import RunConfig, pretrain_config
from fdsl_gen.train.pretrain import pretrain

STREAM = dict(db="ofdb", categories=4, db_options={"size": 48, "points": 2000}, model="vit_micro", image_size=32,
              batch_size=8, augment="none", optim={"warmup_steps": 2, "lr_batch": 0})


def config(out, resume=False):
    return pretrain_config("fast", RunConfig(out=str(out), progress=False, resume=resume, ckpt_every=1000),
                           steps=12, **STREAM)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_and_resume_finishes_the_same_run(tmp_path, monkeypatch, sig):
    pretrain(config(tmp_path / "straight"), echo=lambda *_: None)
    real, calls = runtime.optimizer_step, [0]

    def signal_at_step_5(*args):
        real(*args)
        calls[0] += 1
        if calls[0] == 5:
            os.kill(os.getpid(), sig)

    monkeypatch.setattr(runtime, "optimizer_step", signal_at_step_5)
    with pytest.raises(Interrupted, match="at step 5 of 12: checkpoint saved .* --resume"):
        pretrain(config(tmp_path / "stopped"), echo=lambda *_: None)
    assert checkpoint.load(tmp_path / "stopped")[1]["step"] == 5
    assert signal.getsignal(sig) is not None and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    monkeypatch.undo()
    pretrain(config(tmp_path / "stopped", resume=True), echo=lambda *_: None)
    straight, _ = checkpoint.load(tmp_path / "straight")
    resumed, meta = checkpoint.load(tmp_path / "stopped")
    assert meta["step"] == 12
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
