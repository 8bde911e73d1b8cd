"""RandAugment: the NumPy reference against Pillow itself (what timm runs), the torch batch against the reference.

Equality is exact everywhere: Pillow is deterministic for every op here, and the torch path is meant to give the
reference's bits on CPU and CUDA alike.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance, ImageOps

from fdsl_gen.augment import randaugment_ref as ref
from fdsl_gen.augment import randaugment_torch as rat

SIZES = [(17, 23), (32, 32), (64, 48)]  # (H, W)
MAGNITUDES = [0.0, 1.3, 4.0, 7.7, 9.0, 10.0]


def pillow_op(image: np.ndarray, op: int, arg: float, fill) -> np.ndarray:
    """What timm 0.4.12 calls for `op` on the PIL version of image [C, H, W] (C = 1: "L", C = 3: "RGB")."""
    mode = "L" if image.shape[0] == 1 else "RGB"
    im = Image.fromarray(image[0] if mode == "L" else image.transpose(1, 2, 0), mode)
    kw = {"resample": Image.BICUBIC, "fillcolor": fill[0] if mode == "L" else tuple(fill)}
    w, h = im.size
    name = ref.OPS[op]
    if name == "posterize":
        # Pillow >= 10 refuses 0 bits; the table timm's Pillow built for it keeps no bit at all.
        bits = int(arg)
        out = im if bits >= 8 else im.point([0] * 256 * len(mode)) if bits == 0 else ImageOps.posterize(im, bits)
    elif name == "solarize_add":
        out = im.point([min(255, i + int(arg)) if i < 128 else i for i in range(256)] * len(mode))
    else:
        out = {
            "auto_contrast": lambda: ImageOps.autocontrast(im),
            "equalize": lambda: ImageOps.equalize(im),
            "invert": lambda: ImageOps.invert(im),
            "rotate": lambda: im.rotate(arg, **kw),
            "solarize": lambda: ImageOps.solarize(im, arg),
            "color": lambda: ImageEnhance.Color(im).enhance(arg),
            "contrast": lambda: ImageEnhance.Contrast(im).enhance(arg),
            "brightness": lambda: ImageEnhance.Brightness(im).enhance(arg),
            "sharpness": lambda: ImageEnhance.Sharpness(im).enhance(arg),
            "shear_x": lambda: im.transform(im.size, Image.AFFINE, (1, arg, 0, 0, 1, 0), **kw),
            "shear_y": lambda: im.transform(im.size, Image.AFFINE, (1, 0, 0, arg, 1, 0), **kw),
            "translate_x": lambda: im.transform(im.size, Image.AFFINE, (1, 0, arg * w, 0, 1, 0), **kw),
            "translate_y": lambda: im.transform(im.size, Image.AFFINE, (1, 0, 0, 0, 1, arg * h), **kw),
        }[name]()
    a = np.asarray(out)
    return a[None] if mode == "L" else a.transpose(2, 0, 1)


def sample_images(c: int, h: int, w: int, seed: int) -> dict[str, np.ndarray]:
    """Random and edge-case uint8 images [C, H, W]."""
    rng = np.random.default_rng(seed)
    cases = {
        "random": rng.integers(0, 256, (c, h, w)),
        "constant": np.full((c, h, w), 173),
        "two_valued": np.where(rng.random((c, h, w)) < 0.3, 40, 211),
        "dark": rng.integers(0, 90, (c, h, w)),
        "gradient": (np.add.outer(np.arange(h), 3 * np.arange(w)) % 256)[None].repeat(c, 0),
    }
    single = np.zeros((c, h, w))
    single[:, h // 3, w // 2] = [200, 90, 255][:c]
    cases["single_pixel"] = single
    return {k: v.astype(np.uint8) for k, v in cases.items()}


def op_args(op: int) -> list[float]:
    """The op's arguments over its magnitude range, both signs where timm negates."""
    args = {float(ref.op_argument(op, m, neg)) for m in MAGNITUDES for neg in (False, True)}
    return sorted(args)


@pytest.mark.parametrize("channels", [1, 3], ids=["L", "RGB"])
@pytest.mark.parametrize("op", range(len(ref.OPS)), ids=ref.OPS)
def test_reference_equals_pillow(op, channels):
    fill = (124, 116, 104)[:channels]  # timm: round(255 * IMAGENET mean)
    checked = 0
    for seed, (h, w) in enumerate(SIZES):
        for kind, image in sample_images(channels, h, w, seed).items():
            for arg in op_args(op):
                got = ref.apply_op(image, op, arg, fill)
                assert got.dtype == np.uint8 and got.shape == image.shape
                np.testing.assert_array_equal(got, pillow_op(image, op, arg, fill), err_msg=f"{kind} {h}x{w} {arg}")
                checked += 1
    assert checked >= 3 * 6


@pytest.mark.parametrize("channels", [1, 3])
def test_equalize_table_overflow_is_clipped_like_pillow(channels):
    # 100 zeros, one pixel at each of 1..254, five at 255: step 1, so the raw table climbs to 354.
    row = np.array([0] * 100 + list(range(1, 255)) + [255] * 5, np.uint8)
    image = np.stack([row, row[::-1], np.roll(row, 7)][:channels])[:, None, :]
    lut = ref.equalize_lut(image[0])  # raw entry for value v >= 1: 100 + (v - 1), so 299 at 200
    assert lut[155] == 254 and lut[200] == 255 and lut.max() == 255
    np.testing.assert_array_equal(ref.apply_op(image, ref.INDEX["equalize"], 0.0, (0,) * channels),
                                  pillow_op(image, ref.INDEX["equalize"], 0.0, (0,) * channels))


@pytest.mark.parametrize("angle", [0.0, -0.0, 90.0, 180.0, 270.0, -90.0, 360.0, 1e-17, -1e-17, 123.4])
def test_rotation_matrix_matches_pillows_shortcuts(angle):
    # Pillow transposes at 0/90/180/270 degrees; the reference's matrix must land on the same pixels.
    image = sample_images(3, 24, 24, 7)["random"]
    np.testing.assert_array_equal(ref.apply_op(image, ref.INDEX["rotate"], angle, (1, 2, 3)),
                                  pillow_op(image, ref.INDEX["rotate"], angle, (1, 2, 3)))


def random_batch(channels: int, h: int, w: int, seed: int):
    """A batch mixing every op in both layers, with -1 skips, edge-case images and random magnitudes."""
    rng = np.random.default_rng(seed)
    n_ops = len(ref.OPS)
    b = 3 * n_ops + 6
    images = rng.integers(0, 256, (b, channels, h, w)).astype(np.uint8)  # [B, C, H, W]
    for i, image in enumerate(sample_images(channels, h, w, seed).values()):
        images[i] = image
    ops = np.stack([rng.permutation(np.resize(np.arange(-1, n_ops), b)) for _ in range(2)], axis=1)  # [B, 2]
    magnitude = np.clip(rng.normal(9.0, 0.5, ops.shape), 0.0, 10.0)
    magnitude[:4] = [[0.0, 10.0], [10.0, 0.0], [9.0, 9.0], [10.0, 10.0]]
    args = ref.op_argument(ops, magnitude, rng.random(ops.shape) < 0.5)  # [B, 2]
    fill = tuple(int(v) for v in rng.integers(0, 256, channels))
    return images, ops, args, fill


def devices():
    cuda = pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                                                           reason="no CUDA GPU")])
    return ["cpu", cuda]


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("channels", [1, 3], ids=["L", "RGB"])
@pytest.mark.parametrize("hw", [(17, 23), (32, 32)], ids=["17x23", "32x32"])
def test_torch_equals_reference(channels, hw, device):
    images, ops, args, fill = random_batch(channels, *hw, seed=channels + hw[0])
    for layer in range(2):
        assert set(ops[:, layer]) == set(range(-1, len(ref.OPS)))
    expected = ref.apply(images, ops, args, fill)
    assert not np.array_equal(expected, images)
    source = torch.from_numpy(images).to(device)
    got = rat.apply(source, torch.from_numpy(ops), torch.from_numpy(args), fill)
    assert got.device == source.device and got.dtype == torch.uint8 and got.data_ptr() != source.data_ptr()
    np.testing.assert_array_equal(source.cpu().numpy(), images)  # the input is left alone
    got = got.cpu().numpy()
    mismatched = [(i, tuple(ops[i])) for i in range(len(images)) if not np.array_equal(got[i], expected[i])]
    assert not mismatched, f"image, ops: {mismatched}"


def test_torch_whole_batch_one_op_and_numpy_inputs():
    # Every image on one op (the no-gather path), ops/args as NumPy, then a layer skipped by all.
    images = sample_images(3, 20, 26, 3)
    batch = np.stack(list(images.values()))
    for op in range(len(ref.OPS)):
        ops = np.array([[op, -1]] * len(batch))
        args = ref.op_argument(ops, np.linspace(0.0, 10.0, ops.size).reshape(ops.shape), np.arange(ops.size)
                               .reshape(ops.shape) % 2 == 1)
        expected = ref.apply(batch, ops, args, (124, 116, 104))
        got = rat.apply(torch.from_numpy(batch), ops, args, (124, 116, 104)).numpy()
        np.testing.assert_array_equal(got, expected, err_msg=ref.OPS[op])


def test_reference_apply_order_and_skips():
    image = sample_images(1, 17, 23, 1)["random"][None]
    inv, post = ref.INDEX["invert"], ref.INDEX["posterize"]
    once = ref.apply_op(ref.apply_op(image[0], inv, 0.0, (0,)), post, 2.0, (0,))
    np.testing.assert_array_equal(ref.apply(image, [[inv, post]], [[0.0, 2.0]], (0,))[0], once)
    np.testing.assert_array_equal(ref.apply(image, [[-1, -1]], [[0.0, 0.0]], (0,)), image)
    assert not np.array_equal(once, ref.apply(image, [[post, inv]], [[2.0, 0.0]], (0,))[0])


def test_op_argument_by_hand():
    i = ref.INDEX
    # magnitude 9: (9 / 10) * range, the sign flipped only for the ops timm negates
    expect9 = {"rotate": 27.0, "posterize": 1.0, "solarize": 26.0, "solarize_add": 99.0, "color": 1.81,
               "contrast": 1.81, "brightness": 1.81, "sharpness": 1.81, "shear_x": 0.27, "shear_y": 0.27,
               "translate_x": 0.405, "translate_y": 0.405, "auto_contrast": 0.0, "equalize": 0.0, "invert": 0.0}
    expect9_neg = dict(expect9, rotate=-27.0, color=0.19, contrast=0.19, brightness=0.19, sharpness=0.19,
                       shear_x=-0.27, shear_y=-0.27, translate_x=-0.405, translate_y=-0.405)
    expect0 = dict.fromkeys(expect9, 0.0) | {"posterize": 4.0, "solarize": 256.0, "color": 1.0, "contrast": 1.0,
                                              "brightness": 1.0, "sharpness": 1.0}
    expect10 = {"rotate": 30.0, "posterize": 0.0, "solarize": 0.0, "solarize_add": 110.0, "color": 1.9,
                "contrast": 1.9, "brightness": 1.9, "sharpness": 1.9, "shear_x": 0.3, "shear_y": 0.3,
                "translate_x": 0.45, "translate_y": 0.45, "auto_contrast": 0.0, "equalize": 0.0, "invert": 0.0}
    expect10_neg = dict(expect10, rotate=-30.0, color=0.1, contrast=0.1, brightness=0.1, sharpness=0.1,
                        shear_x=-0.3, shear_y=-0.3, translate_x=-0.45, translate_y=-0.45)
    ops = np.array([i[n] for n in ref.OPS])
    for m, neg, expect in [(9.0, False, expect9), (9.0, True, expect9_neg), (0.0, False, expect0),
                           (0.0, True, expect0), (10.0, False, expect10), (10.0, True, expect10_neg)]:
        got = ref.op_argument(ops, m, np.full(len(ops), neg))
        assert got.dtype == np.float64 and got.shape == ops.shape
        np.testing.assert_allclose(got, [expect[n] for n in ref.OPS], rtol=1e-12, atol=1e-15, err_msg=f"{m} {neg}")
    # integer levels are exact; the rest are timm's own float expressions, bit for bit
    got = ref.op_argument(ops, 9.0, np.zeros(len(ops), bool))
    assert got[i["posterize"]] == 1 and got[i["solarize"]] == 26 and got[i["solarize_add"]] == 99
    assert got[i["rotate"]] == (9.0 / 10.0) * 30.0 and got[i["color"]] == 1.0 + (9.0 / 10.0) * 0.9
    # vectorised over arrays of any shape, -1 (a skipped layer) giving 0
    grid = ref.op_argument(np.array([[i["rotate"], -1], [i["solarize"], i["shear_y"]]]), np.array([[10.0, 5.0],
                           [5.0, 5.0]]), np.array([[True, True], [True, False]]))
    np.testing.assert_allclose(grid, [[-30.0, 0.0], [128.0, 0.15]], rtol=1e-15)
