"""Crop + resample + flip + normalise: the reference on known cases, the Triton kernel against it.

Without a GPU the Triton kernel runs in Triton's interpreter (TRITON_INTERPRET=1, set in conftest.py), at
tiny sizes. Float outputs follow the house rule: at most twice as far from the float64 reference as the
same computation in plain float32.
"""

import numpy as np
import pytest
import torch

from fdsl_gen.augment import resample_ref as ref

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (3, 1, 20, 24)).astype(np.uint8)
BOXES = np.array([[2, 3, 15, 18], [0, 0, 20, 24], [5, 1, 9, 22]])
FLIPS = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_reference_identity_constant_and_flips(mode):
    full = np.tile([0, 0, 20, 24], (3, 1))
    none = np.zeros((3, 2), bool)
    np.testing.assert_array_equal(ref.resample(IMAGES, full, none, (20, 24), mode, out_dtype=np.uint8), IMAGES)
    flat = np.full((1, 1, 20, 24), 77, np.uint8)
    out = ref.resample(flat, BOXES[:1], none[:1], (7, 9), mode, out_dtype=np.float64)
    np.testing.assert_allclose(out * 255.0, 77.0, rtol=1e-12)
    plain = ref.resample(IMAGES, BOXES, none, (8, 10), mode)
    flipped = ref.resample(IMAGES, BOXES, FLIPS, (8, 10), mode)
    np.testing.assert_array_equal(flipped[0], plain[0][:, :, ::-1])
    np.testing.assert_array_equal(flipped[1], plain[1][:, ::-1, :])
    np.testing.assert_array_equal(flipped[2], plain[2][:, ::-1, ::-1])


def test_reference_weights_follow_pillows_filters():
    w = ref.axis_weights(0, 8, 4, "bilinear", 8)  # shrink by 2: a triangle twice as wide
    np.testing.assert_allclose(w[0, :3], np.array([0.75, 0.75, 0.25]) / 1.75)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    wc = ref.axis_weights(0, 4, 8, "bicubic", 4)  # enlarge by 2: Keys a = -0.5, support 2
    # output 1: centre 0.75, source pixels 0..2 at distances -0.25, 0.75, 1.75 (pixel centres at +0.5)
    taps = ref.filter_weight(np.array([-0.25, 0.75, 1.75]), "bicubic")
    np.testing.assert_allclose(wc[1, :3], taps / taps.sum())
    assert wc[1, 3] == 0.0


def test_reference_normalisation_and_gray_to_three_channels():
    out = ref.resample(IMAGES, BOXES, FLIPS, (6, 6), "bilinear", channels=3, mean=[0.5, 0.4, 0.3], std=[0.5, 0.2, 0.1])
    raw = ref.resample(IMAGES, BOXES, FLIPS, (6, 6), "bilinear", out_dtype=np.float64)[:, 0] * 255.0
    for c, (m, s) in enumerate(zip([0.5, 0.4, 0.3], [0.5, 0.2, 0.1])):
        np.testing.assert_allclose(out[:, c], ((raw / 255.0 - m) / s).astype(np.float32), rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def triton_resample():
    pytest.importorskip("triton", reason="triton is not installed")
    from fdsl_gen.augment import resample_triton

    return resample_triton


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("out_hw", [(8, 10), (26, 28)])
def test_triton_matches_the_reference(triton_resample, mode, out_hw):
    kw = dict(channels=3, mean=[0.5] * 3, std=[0.5] * 3)
    exact = ref.resample(IMAGES, BOXES, FLIPS, out_hw, mode, out_dtype=np.float64, **kw)
    plain32 = ref.resample(IMAGES, BOXES, FLIPS, out_hw, mode, compute=np.float32, out_dtype=np.float64, **kw)
    got = triton_resample.resample(torch.from_numpy(IMAGES), BOXES, FLIPS, out_hw, mode, **kw).numpy()
    assert np.abs(got - exact).max() <= 2 * np.abs(plain32 - exact).max() + 1e-6
    u8 = triton_resample.resample(torch.from_numpy(IMAGES), BOXES, FLIPS, out_hw, mode, out_dtype=torch.uint8)
    diff = np.abs(u8.numpy().astype(int) - ref.resample(IMAGES, BOXES, FLIPS, out_hw, mode, out_dtype=np.uint8))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_triton_dtypes_and_channels_last(triton_resample):
    images = torch.from_numpy(RNG.integers(0, 256, (2, 3, 12, 12)).astype(np.uint8))
    boxes, flips = np.tile([1, 2, 10, 9], (2, 1)), np.zeros((2, 2), bool)
    a = triton_resample.resample(images, boxes, flips, (6, 6), "bilinear", out_dtype=torch.float16,
                                 channels_last=True)
    assert a.dtype == torch.float16 and a.is_contiguous(memory_format=torch.channels_last)
    b = triton_resample.resample(images, boxes, flips, (6, 6), "bilinear")
    np.testing.assert_allclose(a.float().numpy(), b.numpy(), atol=2e-3)
    np.testing.assert_allclose(b.numpy(), ref.resample(images.numpy(), boxes, flips, (6, 6), "bilinear"), atol=1e-5)
