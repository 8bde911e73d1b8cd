"""Training on small images: the size-aware augmentation presets, the smaller canvas, the warm-up cap and
the linear probe (issue 15)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from fdsl_gen import FDSLStream, get_database
from fdsl_gen.augment.config import SMALL_SIZE, make_config, preset_name
from fdsl_gen.errors import UsageError
from fdsl_gen.registry import database_class
from fdsl_gen.train import data, probe, runtime
from fdsl_gen.train.config import OptimConfig, RunConfig, pretrain_config
from fdsl_gen.train.pretrain import stream_canvas
from fdsl_gen.train.vit import VisionTransformer, make_config as vit_config


# -- presets ------------------------------------------------------------------------------------------

def test_auto_picks_the_small_preset_up_to_64_px_and_ofdb_above():
    assert preset_name("auto", 32) == preset_name("auto", SMALL_SIZE) == "small"
    assert preset_name("auto", SMALL_SIZE + 1) == preset_name({"preset": "auto"}, 224) == "ofdb"
    assert make_config("auto", 32) == make_config("small", 32)
    assert make_config("auto", 224) == make_config("ofdb", 224)
    assert make_config({"preset": "auto", "vflip": 0.0}, 32).vflip == 0.0  # overrides still apply


def test_small_preset_keeps_what_survives_at_32_px():
    small, paper = make_config("small", 32), make_config("ofdb", 32)
    assert small.scale[0] >= 0.3 > paper.scale[0]  # no crops of a few pixels blown up
    assert small.randaugment == 0 and small.reprob == 0.0 and paper.randaugment == 2 and paper.reprob == 0.5
    assert small.hflip == small.vflip == 0.5


def test_pretrain_defaults_follow_the_image_size():
    run = RunConfig(out="unused")
    cfg = pretrain_config("fast", run)
    assert cfg.augment == "auto" and cfg.canvas == "auto" and cfg.image_size == 32
    assert stream_canvas(cfg, 32) == 64  # ofdb has a smaller canvas
    assert stream_canvas(cfg, 96) is None  # not a small image: the published canvas
    assert stream_canvas(dataclasses.replace(cfg, db="rcdb"), 32) is None  # contours have none
    assert stream_canvas(dataclasses.replace(cfg, db_options={"size": 128}), 32) is None  # the user's size wins
    assert stream_canvas(dataclasses.replace(cfg, canvas=48), 32) == 48
    assert stream_canvas(dataclasses.replace(cfg, canvas="none"), 32) is None
    with pytest.raises(UsageError, match="canvas"):
        dataclasses.replace(cfg, canvas="big")


# -- the smaller canvas -------------------------------------------------------------------------------

def test_canvas_scales_size_and_points():
    ofdb = database_class("ofdb").canvas_options(64)
    assert ofdb == {"size": 64, "points": round(200_000 * (64 / 362) ** 2)} == {"size": 64, "points": 6251}
    assert database_class("onepfrac").canvas_options(64) == {"size": 64, "points": 2000}  # the floor
    for bad in (8, 400):
        with pytest.raises(UsageError, match="canvas must be between 16"):
            database_class("ofdb").canvas_options(bad)
    with pytest.raises(UsageError, match="only on its own canvas"):
        database_class("visual_atom").canvas_options(64)


def test_stream_on_a_small_canvas_renders_the_same_shapes_smaller():
    stream = FDSLStream("ofdb", categories=3, batch_size=3, image_size=32, augment="none", canvas=64)
    assert stream.db.config.size == 64 and stream.db.config.points == 6251
    assert stream.augment_name == "none"
    images, labels = next(iter(stream))
    assert images.shape == (3, 3, 32, 32) and sorted(labels.tolist()) == [0, 1, 2]
    small = stream.db.render_array(np.arange(3), 0)
    full = get_database("ofdb", categories=3).render_array(np.arange(3), 0)
    assert small.shape == (3, 1, 64, 64) and full.shape == (3, 1, 362, 362)
    # the same fractal: downsampled to 32 px, the drawn pixels of the two canvases overlap far above chance
    a = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(small).float(), 16) > 0
    b = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(full).float(), 16) > 0
    iou = (a & b).sum((1, 2, 3)).float() / (a | b).sum((1, 2, 3)).clamp(min=1)
    assert (iou > 0.5).all(), iou


def test_canvas_and_size_together_are_refused():
    with pytest.raises(UsageError, match="canvas or size"):
        FDSLStream("ofdb", categories=3, batch_size=3, image_size=32, canvas=64, size=128)
    with pytest.raises(UsageError, match="only on its own canvas"):
        FDSLStream("rcdb", categories=3, batch_size=3, image_size=32, canvas=64)


# -- warm-up ------------------------------------------------------------------------------------------

def test_warmup_is_capped_at_a_fraction_of_the_run_and_says_so():
    assert runtime.warmup_steps(OptimConfig(warmup_steps=100), 10, 2000) == (100, None)
    steps, note = runtime.warmup_steps(OptimConfig(warmup_steps=100), 10, 20)
    assert steps == 5 and "100 were asked" in note  # `--steps 20` no longer ends still warming up
    assert runtime.warmup_steps(OptimConfig(warmup_fraction=0.05), 10, 2000) == (100, None)
    assert runtime.warmup_steps(OptimConfig(warmup_fraction=0.05), 10, 20) == (1, None)
    assert runtime.warmup_steps(OptimConfig(warmup_epochs=3.0), 16, 32)[0] == 8  # 2 epochs: capped at 25 %
    assert runtime.warmup_steps(OptimConfig(), 10, 100) == (0, None)
    lrs = [runtime.lr_at(s, 20, 5, 1e-3, 1e-5) for s in range(20)]
    assert lrs[4] == pytest.approx(1e-3) and lrs[-1] < 1e-4  # peaks, then decays within the run
    with pytest.raises(UsageError, match="warm-up fraction"):
        OptimConfig(warmup_fraction=0.5)


# -- the linear probe ---------------------------------------------------------------------------------

def test_probe_separates_classes_a_linear_model_can():
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 16, generator=gen) * 3
    y = torch.arange(400) % 4
    x = centres[y] + torch.randn(400, 16, generator=gen)
    yt = torch.arange(200) % 4
    xt = centres[yt] + torch.randn(200, 16, generator=gen)
    fit = probe.fit_probe(x, y, xt, yt, seed=0)
    assert fit["accuracy"] > 0.97 and fit["l2"] in probe.L2_GRID
    shuffled = probe.fit_probe(x, y[torch.randperm(400, generator=gen)], xt, yt, seed=0)
    assert shuffled["accuracy"] < 0.45  # labels without a relation to the features: near chance (0.25)
    assert probe.fit_probe(x, y, xt, yt, seed=0) == fit  # deterministic


def test_probe_held_out_split_is_stratified_and_seeded():
    labels = torch.arange(100) % 5
    fit, held = probe.held_out_split(labels, 3)
    assert len(held) == 20 and set(np.bincount(labels[held].numpy())) == {4}
    assert not set(fit) & set(held) and len(fit) + len(held) == 100
    assert (probe.held_out_split(labels, 3)[1] == held).all() and (probe.held_out_split(labels, 4)[1] != held).any()


def test_features_of_a_frozen_encoder_tell_apart_what_the_images_do():
    # class k: a bright square in quadrant k of a 28-px gray image (Fashion-MNIST's shape)
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(400) % 4
    images = (torch.rand(400, 1, 28, 28, generator=gen) * 60).to(torch.uint8)
    for i, k in enumerate(labels.tolist()):
        r, c = divmod(k, 2)
        images[i, 0, r * 14:r * 14 + 14, c * 14:c * 14 + 14] += 150
    dataset = data.TensorImages(images, labels, tuple("abcd"))
    torch.manual_seed(0)
    model = VisionTransformer(vit_config("vit_micro", num_classes=0))
    before = [p.clone() for p in model.parameters()]
    norm = {"mean": [0.5] * 3, "std": [0.5] * 3}
    feats = probe.extract_features(model, dataset, 32, norm, torch.device("cpu"), batch_size=150)
    assert feats.shape == (400, 2 * model.cfg.embed_dim) and model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # frozen
    fit = probe.fit_probe(feats[:300], labels[:300], feats[300:], labels[300:], seed=0)
    assert fit["accuracy"] > 0.95, fit
