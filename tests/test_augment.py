"""The per-sample augmentation: parameter laws, presets, the normalisation stage and the fast path vs the reference.

The fast path (Triton: on the GPU, or in its interpreter on the CPU) must give the reference's bits exactly.
"""

from __future__ import annotations

import math

import numpy as np
import triton  # noqa: F401  a declared test dependency: its interpreter runs the kernels (never skipped)
import pytest
import torch

from fdsl_gen import UsageError
from fdsl_gen import rng
from fdsl_gen.augment import normalize_ref, gauss_ref, params
from fdsl_gen.augment.config import IMAGENET_MEAN, AugmentConfig, make_config
from fdsl_gen.augment.pipeline import augment
from fdsl_gen.augment.randaugment_ref import OPS

N = 4000
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def test_presets_are_the_papers_pipelines():
    ofdb = make_config("ofdb", 224)
    assert (ofdb.scale, ofdb.interpolation, ofdb.hflip, ofdb.vflip) == ((0.08, 1.0), "bicubic", 0.5, 0.5)
    assert (ofdb.randaugment, ofdb.magnitude, ofdb.magnitude_std, ofdb.reprob, ofdb.mean) == (2, 9.0, 0.5, 0.5,
                                                                                              (0.5,) * 3)
    assert ofdb.fill == (128, 128, 128)  # timm: round(255 * 0.5)
    deit = make_config("deit", 224)
    assert (deit.hflip, deit.vflip, deit.reprob, deit.mean) == (0.5, 0.0, 0.25, IMAGENET_MEAN)
    assert deit.fill == (124, 116, 104)
    none = make_config("none", 32)
    assert not none.crop and none.randaugment == 0 and none.reprob == 0 and none.size == 32
    assert make_config({"preset": "deit", "hflip": 0.0}, 224).hflip == 0.0
    with pytest.raises(UsageError):
        make_config({"preset": "ofdb", "colour": 1}, 224)
    with pytest.raises(UsageError):
        AugmentConfig(dtype="int8")


def test_crop_laws():
    cfg = make_config("ofdb", 224)
    p = params.draw(11, np.arange(N), (362, 362), cfg)
    top, left, h, w = p.boxes.T
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 362).all() and (left + w <= 362).all()
    area = h * w / 362**2
    assert area.min() >= 0.075 and area.max() <= 1.0
    aspect = w / h
    assert aspect.min() > 0.70 and aspect.max() < 1.42  # 3/4 .. 4/3 up to rounding
    # accepted attempts are uniform in area only below the largest square: the fraction with area < 0.5 is
    # (0.5 - 0.08) / 0.92 of the first attempts (those that fit), i.e. most of them
    assert 0.4 < float((area < 0.5).mean()) < 0.7
    assert abs(p.flips[:, 0].mean() - 0.5) < 0.03 and abs(p.flips[:, 1].mean() - 0.5) < 0.03


def test_crop_fallback_is_the_central_crop():
    words = np.zeros((1, 60), dtype=np.uint32) + np.uint32(2**32 - 1)  # every attempt: the largest area and aspect
    box = params.crop_boxes(words, 10, 400, (0.9, 1.0), (3 / 4, 4 / 3))
    assert box.tolist() == [[0, (400 - 13) // 2, 10, 13]]  # w = round(10 * 4/3), centred


def test_randaugment_laws():
    cfg = make_config("ofdb", 224)
    p = params.draw(3, np.arange(N), (64, 64), cfg)
    applied = p.ops >= 0
    assert abs(applied.mean() - 0.5) < 0.02
    counts = np.bincount(p.ops[applied], minlength=len(OPS))
    assert counts.min() > 0.8 * applied.sum() / len(OPS)
    rotate = p.args[p.ops == OPS.index("rotate")]
    assert abs(np.median(np.abs(rotate)) - 27.0) < 0.5 and (np.abs(rotate) <= 30.0).all()
    assert 0.4 < (rotate < 0).mean() < 0.6
    posterize = p.args[p.ops == OPS.index("posterize")]
    assert set(posterize.tolist()) <= {0.0, 1.0, 2.0}


def test_erasing_laws():
    cfg = make_config("ofdb", 32)
    p = params.draw(5, np.arange(N), (64, 64), cfg)
    top, left, h, w = p.erase.T
    on = h > 0
    assert abs(on.mean() - 0.5) < 0.03
    assert (h[on] < 32).all() and (w[on] < 32).all() and (top + h <= 32).all() and (left + w <= 32).all()
    area = h[on] * w[on] / 32**2
    assert area.min() > 0.01 and area.max() < 0.4


def test_draws_depend_only_on_the_sample_id():
    cfg = make_config("ofdb", 32)
    whole = params.draw(1, np.arange(10), (64, 64), cfg)
    part = params.draw(1, np.array([7, 3]), (64, 64), cfg)
    assert np.array_equal(part.boxes, whole.boxes[[7, 3]]) and np.array_equal(part.args, whole.args[[7, 3]])
    big = params.draw(1, np.array([2**40 + 7]), (64, 64), cfg)
    assert not np.array_equal(big.boxes, whole.boxes[[7]])


def test_erasing_noise_is_standard_normal_and_only_in_the_box():
    img = np.full((2, 1, 32, 32), 200, dtype=np.uint8)
    erase = np.array([[4, 5, 20, 22], [0, 0, 0, 0]])
    out = normalize_ref.normalize(img, erase, np.array([9, 10], dtype=np.uint64), 3, (0.5,) * 3, (0.5,) * 3)
    plain = (200 / 255 - 0.5) / 0.5
    assert np.allclose(out[1], plain) and np.allclose(out[0, :, :4], plain)
    box = out[0, :, 4:24, 5:27]
    assert abs(box.mean()) < 0.1 and abs(box.std() - 1.0) < 0.1
    assert not np.array_equal(box[0], box[1])  # pixel mode: every channel its own noise


def _ulps(ours: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|ours - true| in float32 spacings at the float64 true value."""
    return np.abs(ours.astype(np.float64) - true) / np.spacing(np.abs(true).astype(np.float32)).astype(np.float64)


def test_exact_ln_and_cos_are_within_a_few_ulps():
    r = np.random.default_rng(0)
    lo, hi = np.float32(2.0**-32).view(np.int32), np.float32(1.0).view(np.int32)
    near_sqrt_half = np.float32(2**-0.5).view(np.int32) + np.arange(-2, 3)  # where m is halved or not
    bits = np.concatenate([r.integers(lo, hi + 1, 10**6), [lo, hi, hi - 1], near_sqrt_half])
    x = bits.astype(np.int32).view(np.float32)
    ours, true = gauss_ref.ln(x), np.log(x.astype(np.float64))
    assert ours.dtype == np.float32 and _ulps(ours, true)[true != 0].max() <= 2.0 and ours[x == 1.0].tolist() == [0.0]
    edges = (np.arange(8, dtype=np.int64)[:, None] << 29) + np.arange(-2, 3)[None, :]
    words = np.concatenate([r.integers(0, 2**32, 10**6), edges.ravel() % 2**32]).astype(np.uint32)
    ours, true = gauss_ref.cos_turn(words), np.cos(2.0 * np.pi * words.astype(np.float64) / 2.0**32)
    assert _ulps(ours, true)[np.abs(true) > 2.0**-10].max() <= 2.5 and np.abs(ours - true).max() < 1.1e-7


def test_erasing_noise_is_standard_normal():
    n = 10**6
    i1, i2, _, _ = rng.philox4x32_10(np.arange(n, dtype=np.uint64), 0, 0, 0, 12345, 678)
    z = gauss_ref.normal(i1, i2).astype(np.float64)
    assert abs(z.mean()) < 5 / math.sqrt(n) and abs(z.std() - 1.0) < 5 / math.sqrt(2 * n)
    assert np.abs(z).max() <= math.sqrt(64 * math.log(2)) + 1e-5  # u1 >= 2^-32
    for q, x in [(0.01, -2.3263479), (0.1, -1.2815516), (0.25, -0.6744898), (0.5, 0.0), (0.9, 1.2815516)]:
        se = math.sqrt(q * (1 - q) / n) / (math.exp(-x * x / 2) / math.sqrt(2 * math.pi))
        assert abs(np.quantile(z, q) - x) < 5 * se
    p3 = 0.0026997961  # P(|z| > 3)
    assert abs((np.abs(z) > 3).sum() - n * p3) < 5 * math.sqrt(n * p3 * (1 - p3))


@pytest.mark.parametrize("c_in,channels", [(1, 1), (1, 3), (3, 3)])
def test_triton_normalize_equals_the_reference_bit_for_bit(c_in, channels):
    from fdsl_gen.augment import normalize_triton

    r = np.random.default_rng(c_in * 10 + channels)
    images = r.integers(0, 256, (4, c_in, 36, 36)).astype(np.uint8)
    erase = np.array([[0, 0, 36, 36], [3, 4, 20, 30], [0, 0, 0, 0], [10, 0, 5, 36]])  # whole, part, none, rows
    seeds = r.integers(0, 2**64, 4, dtype=np.uint64)
    mean, std = IMAGENET_MEAN[:channels], (0.229, 0.224, 0.225)[:channels]
    want = normalize_ref.normalize(images, erase, seeds, channels, mean, std)
    src = torch.from_numpy(images).to(DEVICE)
    got = normalize_triton.normalize(src, erase, seeds, channels, mean, std).cpu().numpy()
    np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
    for dtype in (torch.float16, torch.bfloat16):
        got = normalize_triton.normalize(src, erase, seeds, channels, mean, std, dtype, channels_last=True).cpu()
        assert got.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(got.contiguous().view(torch.int16), torch.from_numpy(want).to(dtype).view(torch.int16))


def _batch(seed=0, b=6, c=1, size=48):
    r = np.random.default_rng(seed)
    base = r.integers(0, 256, (b, c, size, size), dtype=np.uint8)
    return (base // 64 * 64 + r.integers(0, 8, base.shape)).astype(np.uint8)  # blocky, with some texture


@pytest.mark.parametrize("preset", ["none", "ofdb", "deit"])
def test_reference_pipeline_shapes_and_range(preset):
    cfg = make_config(preset, 24)
    images = _batch()
    out = augment(images, params.draw(0, np.arange(6), (48, 48), cfg), cfg)
    assert out.shape == (6, 3, 24, 24) and out.dtype == torch.float32
    if preset == "none":
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_fast_path_matches_the_reference():
    """Triton (interpreted on the CPU, or on the GPU) + batched torch RandAugment vs the NumPy reference: equal bits."""
    images = torch.from_numpy(_batch(1, b=8, c=1)).to(DEVICE)
    for cfg in (AugmentConfig(size=24, hflip=0.5, vflip=0.5, reprob=0.5), make_config("ofdb", 24)):
        p = params.draw(2, np.arange(8), (48, 48), cfg)
        ref = augment(images.cpu(), p, cfg, impl="ref")
        fast = augment(images, p, cfg, impl="fast").cpu()
        assert torch.equal(ref.view(torch.int32), fast.view(torch.int32))


def test_bfloat16_and_channels_last_output():
    cfg = AugmentConfig(size=16, dtype="bfloat16", channels_last=True)
    out = augment(_batch(2, b=2), params.draw(0, np.arange(2), (48, 48), cfg), cfg)
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=torch.channels_last)
    assert math.isfinite(float(out.float().sum()))
