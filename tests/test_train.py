"""The trainer on the CPU: loss falls, mixup/cutmix, MAE, checkpoints, exact resume, timm names, DDP, the CLI.

Everything runs vit_micro on a 4-category ofdb stream at 32 px; the Fashion-MNIST runs skip (with the
reason) where Debian's dataset-fashion-mnist is not installed (.ci/run installs it).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from fdsl_gen import _env
from fdsl_gen.cli import app
from fdsl_gen.train import checkpoint, data
from fdsl_gen.train.config import MAEConfig, MixConfig, RunConfig, pretrain_config
from fdsl_gen.train.logs import read_log
from fdsl_gen.train.mae import MaskedAutoencoder, patchify, random_masking
from fdsl_gen.train.mixup import cutmix_box, mix_batch
from fdsl_gen.train.pretrain import pretrain
from fdsl_gen.train.vit import create_model, make_config

runner = CliRunner()
STREAM = dict(db="ofdb", categories=4, db_options={"size": 64, "points": 5000}, model="vit_micro", image_size=32,
              batch_size=16, augment="none")
HAS_FASHION = all((_env.fashion_mnist_dir() / f"{name}.gz").is_file() for pair in data.FASHION_FILES.values()
                  for name in pair)
needs_fashion = pytest.mark.skipif(not HAS_FASHION, reason=f"Fashion-MNIST not in {_env.fashion_mnist_dir()} "
                                   "(apt-get install dataset-fashion-mnist)")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_pretrain(out, steps=30, objective="supervised", log_every=1, **kw):
    run = RunConfig(out=str(out), progress=False, log_every=log_every,
                    **{k: kw.pop(k) for k in ("resume", "stop_at") if k in kw})
    optim = {"lr_batch": 0, **kw.pop("optim", {"warmup_steps": 3})}  # the lr as given at batch 16
    cfg = pretrain_config("fast", run, optim=optim, **{**STREAM, "steps": steps, "objective": objective, **kw})
    pretrain(cfg, echo=lambda *_: None)
    return [r["loss"] for r in read_log(out / "log.jsonl")]


# -- learning ---------------------------------------------------------------------------------------

def test_supervised_pretraining_lowers_the_loss(tmp_path):
    losses = run_pretrain(tmp_path / "run")
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.2, losses
    meta = json.loads((tmp_path / "run/checkpoint.json").read_text())
    assert meta["step"] == 30 and meta["num_classes"] == 4 and meta["model"]["embed_dim"] == 64
    assert (tmp_path / "run/train_state.pt").exists()


def test_mae_pretraining_lowers_the_loss(tmp_path):
    losses = run_pretrain(tmp_path / "mae", objective="mae", optim={"lr": 3e-3, "warmup_steps": 3})
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.03, losses
    state, meta = checkpoint.load(tmp_path / "mae")
    assert meta["objective"] == "mae" and "decoder_pos_embed" in state and "head.weight" not in state


def test_mae_keeps_a_quarter_of_the_patches():
    keep, mask = random_masking(5, 64, 0.75, torch.Generator().manual_seed(0))
    assert keep.shape == (5, 16) and mask.sum(1).tolist() == [48.0] * 5
    assert all(len(set(k.tolist())) == 16 for k in keep)
    assert torch.all(mask.gather(1, keep) == 0)
    model = MaskedAutoencoder(make_config("vit_micro"), MAEConfig())
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    loss, pred, mask = model(images, torch.Generator().manual_seed(2))
    assert pred.shape == patchify(images, 4).shape == (2, 64, 48) and mask.sum() == 96 and loss.item() > 0.5


# -- mixup / cutmix ---------------------------------------------------------------------------------

def test_mixup_targets_sum_to_one_and_blend_with_lambda():
    x = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    mixed, targets, lam = mix_batch(x.clone(), labels, 5, MixConfig(mixup=0.8), np.random.default_rng(3))
    assert 0 < lam < 1 and torch.allclose(targets.sum(1), torch.ones(6))
    assert torch.allclose(mixed, lam * x + (1 - lam) * x.flip(0), atol=1e-6)
    assert torch.allclose(targets[1, 1], torch.tensor(lam * (0.9 + 0.02) + (1 - lam) * 0.02))


def test_cutmix_box_area_matches_lambda():
    for seed in range(20):
        x = torch.rand(4, 3, 16, 12, generator=torch.Generator().manual_seed(seed))
        rng = np.random.default_rng(seed)
        mixed, targets, lam = mix_batch(x.clone(), torch.tensor([0, 1, 2, 3]), 4,
                                        MixConfig(mixup=0.8, cutmix=1.0, switch=1.0), rng)
        pasted = (mixed[0] != x[0]).any(dim=0)  # [H, W]: the box (random pixels never repeat)
        assert torch.equal(mixed[0][:, pasted], x[3][:, pasted])  # pasted from the reversed batch
        rows, cols = pasted.any(1).nonzero(), pasted.any(0).nonzero()
        assert pasted.sum() == len(rows) * len(cols)  # a rectangle
        assert lam == pytest.approx(1 - pasted.sum().item() / (16 * 12))
        assert torch.allclose(targets.sum(1), torch.ones(4))
    y0, y1, x0, x1 = cutmix_box(0.75, 100, 100, np.random.default_rng(0))
    assert (y1 - y0) * (x1 - x0) <= 2500


# -- checkpoints and resume -------------------------------------------------------------------------

def test_checkpoint_round_trip_and_pretrained_loading(tmp_path):
    torch.manual_seed(0)
    model = create_model("vit_micro", num_classes=7).eval()
    meta = {"model": dataclasses.asdict(model.cfg), "step": 3}
    checkpoint.save(tmp_path, model, meta)
    state, saved = checkpoint.load(tmp_path / "checkpoint.safetensors")
    assert saved == meta and state.keys() == model.state_dict().keys()
    again = create_model("vit_micro", num_classes=7).eval()
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    x = torch.randn(3, 3, 32, 32)
    assert torch.equal(model(x), again(x))
    # fine-tuning from an MAE checkpoint at another resolution: decoder and head dropped, pos_embed resampled
    mae = MaskedAutoencoder(make_config("vit_micro"))
    target = create_model("vit_micro", num_classes=10, img_size=16)
    left = checkpoint.load_pretrained(target, mae.state_dict())
    assert sorted(left) == ["head.bias", "head.weight"] and target.pos_embed.shape == (1, 17, 64)
    assert torch.equal(target.blocks[1].mlp.fc2.weight, mae.blocks[1].mlp.fc2.weight)
    assert torch.equal(target.pos_embed[:, 0], mae.pos_embed[:, 0])


def test_resume_continues_exactly(tmp_path):
    kw = dict(steps=6, drop_path=0.1, mix={"mixup": 0.8, "cutmix": 1.0})
    whole = run_pretrain(tmp_path / "a", **kw)
    first = run_pretrain(tmp_path / "b", stop_at=3, **kw)
    assert len(first) == 3 and json.loads((tmp_path / "b/checkpoint.json").read_text())["step"] == 3
    resumed = run_pretrain(tmp_path / "b", resume=True, **kw)
    assert resumed == whole  # the same losses, bit for bit, and the log holds each step once
    a, _ = checkpoint.load(tmp_path / "a")
    b, _ = checkpoint.load(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finetune_resume_mid_epoch_is_exact(tmp_path):
    folder = make_image_folder(tmp_path / "imgs")
    args = ["train", "finetune", "--data", folder, "--model", "vit_micro", "--epochs", 2, "--batch", 4,
            "--log-every", 1, "--quiet", "--warmup-epochs", 0.5]
    assert invoke(*args, "--out", tmp_path / "a").exit_code == 0
    assert invoke(*args, "--out", tmp_path / "b", "--stop-at", 4).exit_code == 0  # in the second epoch
    r = invoke(*args, "--out", tmp_path / "b", "--resume")
    assert r.exit_code == 0, r.output
    strip = [[{k: v for k, v in rec.items() if k not in ("time", "img_s")} for rec in read_log(p / "log.jsonl")]
             for p in (tmp_path / "a", tmp_path / "b")]
    assert strip[0] == strip[1] and any("test_acc" in rec for rec in strip[0])


# -- the architecture is timm's ---------------------------------------------------------------------

# timm's vit_tiny_patch16_224 state dict (VisionTransformer: class token, pos_embed with the class position,
# fused qkv with bias, LayerNorm eps 1e-6, 1000-class head): 4 + 12 × 12 + 4 = 152 tensors. Typed by hand from
# timm's models/vision_transformer.py (the names of timm 0.9 to 1.0), because timm cannot be installed on the CPU
# machines these tests run on here (its torchvision dependency has no CPU build there). Where timm is installed,
# the next test compares with timm itself, and tools/device_check.py loads a saved checkpoint into timm with
# strict=True on the GPU machine.
TIMM_TOP = [("cls_token", (1, 1, 192)), ("pos_embed", (1, 197, 192)), ("patch_embed.proj.weight", (192, 3, 16, 16)),
            ("patch_embed.proj.bias", (192,))]
TIMM_BLOCK = [("norm1.weight", (192,)), ("norm1.bias", (192,)), ("attn.qkv.weight", (576, 192)),
              ("attn.qkv.bias", (576,)), ("attn.proj.weight", (192, 192)), ("attn.proj.bias", (192,)),
              ("norm2.weight", (192,)), ("norm2.bias", (192,)), ("mlp.fc1.weight", (768, 192)),
              ("mlp.fc1.bias", (768,)), ("mlp.fc2.weight", (192, 768)), ("mlp.fc2.bias", (192,))]
TIMM_END = [("norm.weight", (192,)), ("norm.bias", (192,)), ("head.weight", (1000, 192)), ("head.bias", (1000,))]
TIMM_VIT_TINY = TIMM_TOP + [(f"blocks.{i}.{n}", s) for i in range(12) for n, s in TIMM_BLOCK] + TIMM_END


def test_parameter_names_and_shapes_are_timms_vit_tiny():
    ours = [(k, tuple(v.shape)) for k, v in create_model("vit_tiny").state_dict().items()]
    assert len(TIMM_VIT_TINY) == 152 and ours == TIMM_VIT_TINY


def test_checkpoints_load_strictly_into_timm():
    timm = pytest.importorskip("timm", reason="timm is not installed (optional cross-check)")
    theirs = timm.create_model("vit_tiny_patch16_224", pretrained=False)
    assert [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()] == TIMM_VIT_TINY
    ours = create_model("vit_tiny").eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs.eval()(x), atol=1e-5)


# -- real data --------------------------------------------------------------------------------------

def write_idx(path, array: np.ndarray):
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reader_and_subset(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (30, 28, 28)), np.arange(30) % 10
    for img_name, lab_name in data.FASHION_FILES.values():
        write_idx(tmp_path / f"{img_name}.gz", images)
        write_idx(tmp_path / f"{lab_name}.gz", labels)
    ds = data.fashion_mnist("train", str(tmp_path))
    assert ds.images.shape == (30, 1, 28, 28) and np.array_equal(ds.images[:, 0].numpy(), images)
    pick = data.subset_per_class(ds.labels, 2, seed=1)
    assert np.bincount(ds.labels[pick].numpy()).tolist() == [2] * 10
    assert np.array_equal(pick, data.subset_per_class(ds.labels, 2, seed=1))
    x = data.prepare(ds.images[:4], 32, 3, [0.5] * 3, [0.5] * 3, torch.device("cpu"), torch.Generator())
    assert x.shape == (4, 3, 32, 32) and torch.equal(x[:, 0], x[:, 2]) and -1 <= x.min() and x.max() <= 1


def make_image_folder(root, n=6):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for k, name in enumerate(("cat", "dog")):
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                pixels = np.clip(rng.normal(60 + 120 * k, 30, (20, 26, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i}.png")
    return root


@needs_fashion
def test_pretrain_finetune_eval_through_the_cli(tmp_path):
    r = invoke("train", "pretrain", "--db", "ofdb", "--categories", 4, "--size", 64, "--points", 5000, "--model",
               "vit_micro", "--steps", 10, "--batch", 16, "--augment", "none", "--out", tmp_path / "pre", "--quiet")
    assert r.exit_code == 0, r.output
    r = invoke("train", "finetune", "--init", tmp_path / "pre/checkpoint.safetensors", "--data", "fashion-mnist",
               "--subset", 10, "--epochs", 2, "--batch", 32, "--out", tmp_path / "ft", "--quiet")
    assert r.exit_code == 0, r.output
    assert "test accuracy" in r.output
    records = read_log(tmp_path / "ft/log.jsonl")
    assert records[-1]["test_images"] == 10000
    # the logged accuracy, recounted here: the checkpoint on the 10,000 test images, resized and normalised
    state, meta = checkpoint.load(tmp_path / "ft")
    model = create_model("vit_micro", num_classes=10, img_size=32).eval()
    model.load_state_dict(state)
    test = data.fashion_mnist("test")
    x = torch.nn.functional.interpolate(test.images.float() / 255, size=(32, 32), mode="bilinear",
                                        align_corners=False, antialias=True).expand(-1, 3, -1, -1)
    mean = torch.tensor(meta["normalize"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["normalize"]["std"]).view(1, -1, 1, 1)
    with torch.no_grad():
        hits = sum(int((model((x[i:i + 1000] - mean) / std).argmax(1) == test.labels[i:i + 1000]).sum())
                   for i in range(0, 10000, 1000))
    assert records[-1]["test_acc"] == hits / 10000
    assert (tmp_path / "ft/checkpoint.safetensors").exists() and (tmp_path / "ft/checkpoint.json").exists()
    try:
        import matplotlib  # noqa: F401

        assert (tmp_path / "ft/curves.png").stat().st_size > 1000
    except ImportError:
        assert "no plot" in r.output
    r = invoke("train", "eval", "--ckpt", tmp_path / "ft", "--data", "fashion-mnist", "--json", tmp_path / "e.json")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "e.json").read_text())["test_acc"] == pytest.approx(records[-1]["test_acc"])


def test_ddp_two_ranks_match_one(tmp_path):
    args = ["train", "pretrain", "--db", "ofdb", "--categories", 4, "--size", 64, "--points", 5000, "--model",
            "vit_micro", "--steps", 4, "--augment", "none", "--warmup", 1, "--log-every", 1, "--quiet"]
    assert invoke(*args, "--batch", 16, "--out", tmp_path / "one").exit_code == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "fdsl_gen.cli", *map(str, args), "--batch", "8", "--out", str(tmp_path / "two")]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    one, two = (read_log(tmp_path / d / "log.jsonl") for d in ("one", "two"))
    assert [r["step"] for r in two] == [1, 2, 3, 4]  # rank 0 alone writes
    assert np.allclose([r["loss"] for r in one], [r["loss"] for r in two], atol=1e-5)
    # the weights after 4 steps: 2 ranks x 8 images with averaged gradients = 1 rank x 16 (to float rounding)
    (w1, _), (w2, _) = checkpoint.load(tmp_path / "one"), checkpoint.load(tmp_path / "two")
    assert w1.keys() == w2.keys()
    for name in w1:
        torch.testing.assert_close(w2[name], w1[name], rtol=1e-4, atol=1e-6, msg=name)


# -- user errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["pretrain", "--model", "vit_huge"], "unknown model 'vit_huge'"),
    (["pretrain", "--preset", "slow"], "unknown preset 'slow'"),
    (["pretrain", "--objective", "byol"], "unknown objective"),
    (["pretrain", "--db", "nope"], "unknown database 'nope'"),
    (["pretrain", "--wobble", 3], "has no option --wobble"),
    (["pretrain", "--image_size", 32], "--image_size: this command's option is spelled --image-size"),
    (["pretrain", "--categories", 4, "--numof_classes", 5], "categories is given twice"),
    (["pretrain", "--categories", 4, "--steps", 1, "--model", "vit_micro", "--precision", "bf16", "--device", "cpu"],
     "needs CUDA"),
    (["pretrain", "--resume"], "nothing to resume"),
    (["finetune", "--data", "{tmp}/nowhere"], "neither"),
    (["finetune", "--init", "{tmp}/none.safetensors"], "does not exist"),
    (["finetune", "--data-dir", "{tmp}"], "Fashion-MNIST not found"),
    (["finetune", "--subset", 0], "subset must be"),
    (["eval", "--ckpt", "{tmp}/none.safetensors"], "does not exist"),
])
def test_user_errors_are_one_line_with_status_2(tmp_path, args, message):
    args = ["train", *[a.format(tmp=tmp_path) if isinstance(a, str) else a for a in args]]
    if args[1] != "eval":
        args += ["--out", tmp_path / "x"]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output
    assert not (tmp_path / "x").exists()
