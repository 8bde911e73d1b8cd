"""The contour primitives: the noise function and the 1-px line, against hand values and the originals' libraries."""

import noise  # a declared test dependency: the originals' library (an import error fails, never skips)
import numpy as np
import pytest
from PIL import Image, ImageDraw

from fdsl_gen.databases.contours import render_numba, render_ref
from fdsl_gen.databases.contours.noise import GRADIENT, PERM, pnoise1


def test_permutation_table_is_perlins():
    assert sorted(PERM.tolist()) == list(range(256))
    assert PERM[:8].tolist() == [151, 160, 137, 91, 90, 15, 131, 13] and PERM[-3:].tolist() == [61, 156, 180]
    assert GRADIENT[0] == 8 and GRADIENT[1] == 1 and GRADIENT[2] == -1  # 151 -> 7+1, 160 -> 0+1, 137: bit 3 set


@pytest.mark.parametrize("u,expected", [
    (0.0, 0.0), (17.0, 0.0), (10000.0, 0.0),  # lattice points: t = 0
    (0.5, 0.4 * (0.25 * 8 - 0.25 * 1)),  # gradients 8 and 1, fade(0.5) = 0.5
    (1.5, 0.4 * 0.5),  # gradients 1 and -1: a = 0.5, b = 0.5
    (255.5, 0.4 * (2.5 + 0.5 * (-4 - 2.5))),  # cell 255 wraps to cell 0: gradients 5 and 8
    (1023.5, 0.4 * (2.5 + 0.5 * (-4 - 2.5))),  # 1023 mod 1024 -> 255, 1024 mod 1024 -> 0
    (1024.5, 0.4 * (0.25 * 8 - 0.25 * 1)),
    (9999.5, 0.4 * (1 + 0.5 * (0.5 - 1))),  # 9999 mod 1024 = 783 -> cell 15: gradients 2 and -1
])
def test_noise_hand_values(u, expected):
    assert pnoise1(u) == np.float32(expected)


def _float32_formula(u: float) -> np.float32:
    """An independent scalar float32 evaluation of the §1.6 formula, one operation at a time."""
    f = np.float32
    x = f(u)
    fl = f(np.floor(x))
    i, ii = int(fl) % 1024 & 255, (int(fl) % 1024 + 1) % 1024 & 255
    t = f(x - fl)
    fade = f(f(f(f(t * t) * t)) * f(f(t * f(f(t * f(6)) - f(15))) + f(10)))
    grad = lambda h, v: f(f(-1.0 if h & 8 else (h & 7) + 1.0) * v)  # noqa: E731
    a, b = grad(PERM[i], t), grad(PERM[ii], f(t - f(1)))
    return f(f(a + f(fade * f(b - a))) * f(0.4))


def test_noise_equals_the_formula_and_numba():
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.uniform(0, 10000, 3000), np.arange(0, 10001, 97.0),
                        np.nextafter(np.arange(1.0, 300.0), 0), 10000 - rng.uniform(0, 1e-3, 20)])
    ours = pnoise1(u)
    np.testing.assert_array_equal(ours, np.array([_float32_formula(v) for v in u], dtype=np.float32))
    numba = np.array([render_numba._pnoise1(np.float32(v), GRADIENT) for v in u], dtype=np.float32)
    np.testing.assert_array_equal(numba, ours)


def test_noise_equals_the_noise_package():
    rng = np.random.default_rng(1)
    u = np.concatenate([rng.uniform(0, 10000, 20000), np.arange(0, 10001, 0.25)])
    expected = np.array([noise.pnoise1(float(v)) for v in u])  # float32 widened to double, as the originals see it
    np.testing.assert_array_equal(pnoise1(u).astype(np.float64), expected)


def test_noise_marginal():
    rng = np.random.default_rng(2)
    p = pnoise1(rng.uniform(0, 10000, 200_000)).astype(np.float64)
    assert abs(p.mean()) < 0.003 and abs(p.std() - 0.329) < 0.003
    assert p.min() >= -0.953 and p.max() <= 0.953 and p.max() > 0.94
    assert abs(np.mean(np.abs(p) < 0.095) - 0.42) < 0.01  # strongly peaked at 0


def _pillow_line(a, size):
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).line(((a[0], a[1]), (a[2], a[3])), fill=255, width=1)
    return np.asarray(img) > 0


def test_lines_equal_pillow():
    rng = np.random.default_rng(3)
    size = 48
    for trial in range(3000):
        a = rng.uniform(-30, 80, 4) if trial % 2 else rng.integers(-30, 80, 4).astype(float)
        ref = np.zeros((size, size), bool)
        for x, y in render_ref.line_pixels(*(int(v) for v in a)):
            if 0 <= x < size and 0 <= y < size:
                ref[y, x] = True
        fast = np.zeros((size, size), np.uint8)
        render_numba._segment(fast, *(int(v) for v in a), np.uint8(1))
        expected = _pillow_line(a, size)
        np.testing.assert_array_equal(ref, expected, err_msg=str(a))
        np.testing.assert_array_equal(fast > 0, expected, err_msg=str(a))


def test_line_endpoints_truncate_toward_zero():
    assert render_ref.line_pixels(int(-0.9), int(1.9), int(2.5), int(1.2)) == [(0, 1), (1, 1), (2, 1)]
    assert render_ref.line_pixels(3, 3, 3, 3) == [(3, 3)]
