"""Crop + resample + flip: the reference against Pillow itself, the Triton kernels against the reference.

Equality is exact everywhere: the reference is Pillow's 8-bit resize byte for byte, and the Triton
kernels give its bytes on the GPU and in Triton's interpreter (TRITON_INTERPRET=1, set in conftest.py
when no GPU is visible; the tensors then stay on the CPU).
"""

import numpy as np
import triton  # noqa: F401  a declared test dependency: its interpreter runs the kernels (never skipped)
import PIL
import pytest
import torch
from PIL import Image

from fdsl_gen.augment import launch
from fdsl_gen.augment import resample_ref as ref
from fdsl_gen.augment.resample import resample as dispatch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
PILLOW_13 = int(PIL.__version__.split(".")[0]) >= 13  # the pass order of python-pillow/Pillow#9549
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def pillow(crop: np.ndarray, out_hw, mode: str) -> np.ndarray:
    """PIL.Image.resize of a uint8 [C, h, w] crop (C = 1: "L", 3: "RGB"): [C, out_h, out_w]."""
    im = Image.fromarray(crop[0] if crop.shape[0] == 1 else crop.transpose(1, 2, 0))
    out = np.asarray(im.resize((out_hw[1], out_hw[0]), FILTERS[mode]))
    return out[None] if out.ndim == 2 else out.transpose(2, 0, 1)


def random_cases(seed: int, n: int, max_side: int):
    """(image [C, H, W], box, out_hw, mode): crops of random images, scales 0.05..8, some axes unchanged."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        c = int(rng.choice([1, 3]))
        h, w = (int(v) for v in rng.integers(1, max_side, 2))
        image = rng.integers(0, 256, (c, h, w)).astype(np.uint8)
        bh, bw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        box = (int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1)), bh, bw)
        scales = rng.choice([rng.uniform(0.05, 1.0), rng.uniform(1.0, 8.0)], 2)
        oh, ow = (max(1, round(side * s)) for side, s in zip((bh, bw), scales))
        oh, ow = [(oh, ow), (bh, ow), (oh, bw), (bh, bw)][k % 4] if k % 5 == 0 else (oh, ow)
        yield image, box, (oh, ow), ("bilinear", "bicubic")[k % 2]


def test_reference_equals_pillow():
    skipped = 0
    for image, (top, left, bh, bw), out_hw, mode in random_cases(0, 800, 160):
        if not PILLOW_13 and bh != out_hw[0] and bw != out_hw[1] and ref.vertical_first(bh, bw, *out_hw):
            skipped += 1  # older Pillow always runs the horizontal pass first
            continue
        got = ref.resample(image[None], np.array([[top, left, bh, bw]]), np.zeros((1, 2), bool), out_hw, mode)[0]
        np.testing.assert_array_equal(got, pillow(image[:, top : top + bh, left : left + bw], out_hw, mode),
                                      err_msg=f"box {(top, left, bh, bw)} -> {out_hw} {mode}, {image.shape[0]} ch")
    assert skipped < 200


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_reference_identity_flips_and_channels(mode):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 1, 20, 24)).astype(np.uint8)
    boxes = np.array([[2, 3, 15, 18], [0, 0, 20, 24], [5, 1, 9, 22]])
    none = np.zeros((3, 2), bool)
    full = np.tile([0, 0, 20, 24], (3, 1))
    np.testing.assert_array_equal(ref.resample(images, full, none, (20, 24), mode), images)
    flips = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)
    plain = ref.resample(images, boxes, none, (8, 30), mode)
    flipped = ref.resample(images, boxes, flips, (8, 30), mode)
    np.testing.assert_array_equal(flipped[0], plain[0][:, :, ::-1])
    np.testing.assert_array_equal(flipped[1], plain[1][:, ::-1, :])
    np.testing.assert_array_equal(flipped[2], plain[2][:, ::-1, ::-1])
    three = ref.resample(images, boxes, flips, (8, 30), mode, channels=3)
    assert (three == flipped).all()  # a gray source: three equal planes
    rgb = rng.integers(0, 256, (3, 3, 20, 24)).astype(np.uint8)
    np.testing.assert_array_equal(ref.resample(rgb, boxes, flips, (8, 30), mode, channels=1),
                                  ref.resample(rgb, boxes, flips, (8, 30), mode)[:, :1])


def test_coefficients_by_hand_and_int32_headroom():
    xmin, count, k = ref.coefficients(8, 4, "bilinear")  # shrink by 2: a triangle twice as wide
    assert xmin[0] == 0 and count[0] == 3
    w = np.array([0.75, 0.75, 0.25]) / 1.75
    assert k[0, :3].tolist() == [int(v * 2**22 + 0.5) for v in w]
    xmin, count, k = ref.coefficients(10, 10, "bicubic")  # same length: the identity
    assert (k.sum(axis=1) == 2**22).all() and (k.max(axis=1) == 2**22).all()
    # the Triton kernel sums in int32: |2^21 + sum(v k)| <= 2^21 + 255 sum|k| must stay below 2^31
    worst = 0
    rng = np.random.default_rng(2)
    pairs = [(i, o) for i in range(1, 70) for o in range(1, 70)] + [tuple(rng.integers(1, 5000, 2)) for _ in range(300)]
    for mode in ref.MODES:
        for i, o in pairs:
            worst = max(worst, int(np.abs(ref.coefficients(int(i), int(o), mode)[2]).sum(axis=1).max()))
    assert worst < 1.3 * 2**22 and 2**21 + 255 * worst < 2**31


def test_dispatch_is_uint8_only():
    images = np.random.default_rng(3).integers(0, 256, (2, 1, 9, 9)).astype(np.uint8)
    boxes, flips = np.tile([0, 0, 9, 9], (2, 1)), np.zeros((2, 2), bool)
    np.testing.assert_array_equal(dispatch(images, boxes, flips, (5, 5)), ref.resample(images, boxes, flips, (5, 5)))
    with pytest.raises(ValueError):
        dispatch(images, boxes, flips, (5, 5), out_dtype=np.float32)


def test_launch_grids_stay_legal():
    assert launch.grid(100_000, 224 * 224, 256) == (100_000, 196, 1)
    for images, items, block in [(10**6, 4096 * 4096, 256), (10**6, 4096 + 4096, 128), (150_000, 4096 * 4096, 128),
                                 (1, 1, 256), (10**6, 8 * 8, 256)]:
        b, n1, n2 = launch.grid(images, items, block)
        assert b == images and 1 <= n1 <= 65_535 and 1 <= n2 <= 65_535  # CUDA: y and z <= 65,535
        assert n1 * n2 * block >= items and (n1 * n2 - n1) * block < items  # no wholly empty row of blocks
    # offsets that count images are int64 in the kernels: 3 x 224^2 float32 pixels pass 2^31 at ~14k images
    assert 14_300 * 3 * 224 * 224 > 2**31
    with pytest.raises(ValueError):
        launch.grid(2**31, 64, 256)  # CUDA: x < 2^31
    with pytest.raises(ValueError):
        launch.grid(1, 2**31, 256)  # int32 pixel indices


@pytest.fixture(scope="module")
def triton_resample():
    from fdsl_gen.augment import resample_triton

    return resample_triton


def _batch(rng, b, c, hw):
    images = rng.integers(0, 256, (b, c) + hw).astype(np.uint8)
    side = [(int(rng.integers(1, hw[0] + 1)), int(rng.integers(1, hw[1] + 1))) for _ in range(b)]
    boxes = np.array([[rng.integers(0, hw[0] - h + 1), rng.integers(0, hw[1] - w + 1), h, w] for h, w in side])
    return images, boxes, rng.integers(0, 2, (b, 2)).astype(bool)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("c_in,channels", [(1, 1), (1, 3), (3, 3), (3, 1)])
def test_triton_equals_the_reference(triton_resample, mode, c_in, channels):
    rng = np.random.default_rng(4)
    for out_hw in [(5, 7), (21, 25), (3, 25), (16, 4), (19, 9)]:
        images, boxes, flips = _batch(rng, 4, c_in, (14, 16))
        boxes[0] = [0, 0, 14, 16]  # whole image; others random crops, some of them vertical-first
        if out_hw[0] <= 14:  # one axis kept
            boxes[1, [0, 2]] = 14 - out_hw[0], out_hw[0]
        elif out_hw[1] <= 16:
            boxes[1, [1, 3]] = 16 - out_hw[1], out_hw[1]
        out = triton_resample.resample(torch.from_numpy(images).to(DEVICE), boxes, flips, out_hw, mode, channels)
        assert out.dtype == torch.uint8 and out.shape == (4, channels) + out_hw
        np.testing.assert_array_equal(out.cpu().numpy(), ref.resample(images, boxes, flips, out_hw, mode, channels))


def test_triton_equals_the_reference_at_extreme_scales(triton_resample):
    rng = np.random.default_rng(5)
    images, boxes, flips = _batch(rng, 2, 1, (48, 40))
    boxes[:] = [[0, 0, 48, 40], [6, 0, 5, 40]]  # scales 8 and 1/8
    for out_hw, mode in [((6, 5), "bicubic"), ((40, 5), "bilinear")]:
        out = triton_resample.resample(torch.from_numpy(images).to(DEVICE), boxes, flips, out_hw, mode)
        np.testing.assert_array_equal(out.cpu().numpy(), ref.resample(images, boxes, flips, out_hw, mode))
