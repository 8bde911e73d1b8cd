"""The 2D IFS reference renderer on cases small enough to check by hand (docs/spec/fractals.md §1.3-1.5)."""

import numpy as np
import pytest

from fdsl_gen.databases.ifs2d import render_ref as ref
from fdsl_gen.databases.ifs2d.batch import RenderSettings
from fdsl_gen.databases.ifs2d.draw_constants import COLOR_TABLE, map_sequence


def system(*maps):
    return np.array(maps, dtype=np.float64)


def test_chaos_game_keeps_origin_and_uses_u_i_for_point_i_plus_1():
    s = system([0.5, 0, 0, 0.5, 1.0, -1.0, 1.0])
    xs, ys = ref.chaos_game(s, np.full(5, 0.3))
    np.testing.assert_array_equal(xs, [0, 1, 1.5, 1.75, 1.875])
    np.testing.assert_array_equal(ys, [0, -1, -1.5, -1.75, -1.875])


def test_map_choice_is_first_with_u_at_most_the_running_sum():
    s = system([0, 0, 0, 0, 1, 0, 0.25], [0, 0, 0, 0, 0, 1, 0.75])
    xs, ys = ref.chaos_game(s, np.array([0.25, 0.26, 0.1, 0.9, 0.0]))
    np.testing.assert_array_equal(np.c_[xs, ys], [[0, 0], [1, 0], [0, 1], [1, 0], [0, 1]])


def test_no_matching_map_repeats_the_previous_point():
    s = system([0, 0, 0, 0, 1, 0, 0.25], [0, 0, 0, 0, 0, 1, 0.5])  # running sum ends at 0.75
    xs, ys = ref.chaos_game(s, np.array([0.1, 0.9, 0.5, 0.0]))
    np.testing.assert_array_equal(np.c_[xs, ys], [[0, 0], [1, 0], [1, 0], [0, 1]])


def test_map_sequence_is_legacy_numpy_seed_100():
    np.testing.assert_array_equal(map_sequence(1000), np.random.RandomState(100).random_sample(1000))
    np.testing.assert_array_equal(map_sequence(10)[:10], map_sequence(1000)[:10])


def test_nan_rule_drops_100_rows_before_the_first_nan():
    xs = np.arange(300.0)
    ys = np.arange(300.0)
    xs[200:] = np.nan
    ys[201:] = np.nan
    rx, ry = ref.drop_nan_rows(xs, ys)
    np.testing.assert_array_equal(rx, np.arange(100.0))
    np.testing.assert_array_equal(ry, np.arange(100.0))


def test_nan_rule_y_first_then_on_the_shortened_arrays():
    xs = np.arange(300.0)
    ys = np.arange(300.0)
    ys[150:] = np.nan
    xs[151:] = np.nan
    rx, _ = ref.drop_nan_rows(xs, ys)  # x: first NaN at 151 -> rows 51..150 and 151.. go; y is then clean
    np.testing.assert_array_equal(rx, np.arange(51.0))


def test_nan_rule_wraps_negative_rows_like_np_delete():
    xs = np.arange(300.0)
    xs[50:] = np.nan
    rx, ry = ref.drop_nan_rows(xs, np.arange(300.0))  # rows -50..49 wrap to 250..299: nothing is left
    assert rx.size == 0 and ry.size == 0


def test_rescale_is_per_axis_with_pad_and_quirks():
    np.testing.assert_array_equal(ref.rescale_axis(np.array([0.0, 1.0, 2.0]), 362, 6), [6, 181, 356])
    np.testing.assert_array_equal(ref.rescale_axis(np.array([-1.0, 0.0, 1.0]), 362, 6), [6, 181, 356])
    # no negative value: no shift, so values can leave the canvas (only without the origin)
    np.testing.assert_array_equal(ref.rescale_axis(np.array([1.0, 2.0, 3.0]), 362, 6), [181, 356, 531])
    # +inf survives the NaN rule: inf / inf is NaN, cast to 0
    np.testing.assert_array_equal(ref.rescale_axis(np.array([0.0, 1.0, np.inf, 2.0]), 362, 6), [6, 6, 0, 6])


def test_uint16_cast_is_the_c_cast():
    v = np.array([np.nan, np.inf, -np.inf, 70000.7, -1.5, 3e9, 65535.9, 0.99])
    np.testing.assert_array_equal(ref.c_cast_uint16(v), [0, 0, 0, 4464, 65535, 0, 65535, 0])


def settings(draw_type="point_gray", size=16):
    return RenderSettings(size=size, n_points=10, draw_type=draw_type, seed=0, patch_stream=0)


@pytest.mark.parametrize("flip,row,col", [(0, 12, 2), (1, 3, 2), (2, 12, 13), (3, 3, 13)])
def test_point_flips(flip, row, col):
    img = ref.rasterize(np.array([2, 20], np.uint16), np.array([3, 3], np.uint16), settings(), None, flip)
    expected = np.zeros((1, 16, 16), np.uint8)
    expected[0, row, col] = 127  # the point at x = 20 is off the canvas and dropped
    np.testing.assert_array_equal(img, expected)


def test_patch_is_offset_msb_first_and_overwrites():
    px, py = np.array([2, 2], np.uint16), np.array([3, 3], np.uint16)
    first = ref.rasterize(px[:1], py[:1], settings("patch_gray"), np.array([0b100000001]), 1)
    assert set(zip(*np.nonzero(first[0]))) == {(4, 3), (6, 5)}  # cells (0, 0) and (2, 2) at (x + 1, y + 1)
    both = ref.rasterize(px, py, settings("patch_gray"), np.array([0b100000001, 0b000000001]), 1)
    assert set(zip(*np.nonzero(both[0]))) == {(6, 5)}  # the later patch's zero cell erased (4, 3)


def test_patch_is_clipped_at_the_border():
    img = ref.rasterize(np.array([14], np.uint16), np.array([0], np.uint16), settings("patch_gray"),
                        np.array([511]), 1)
    assert set(zip(*np.nonzero(img[0]))) == {(1, 15), (2, 15), (3, 15)}


def test_color_table_entries():
    assert tuple(COLOR_TABLE[0]) == (47, 47, 191)  # h = 0: (P, T, I)
    assert tuple(COLOR_TABLE[32]) == (47, 191, 119)  # h = 1: (P, I, Q), Q = 0.75 (1 - 0.75 * 0.5)
    img = ref.rasterize(np.array([2, 5], np.uint16), np.array([3, 3], np.uint16), settings("point_color"), None, 1)
    np.testing.assert_array_equal(img[:, 3, 2], COLOR_TABLE[0])
    np.testing.assert_array_equal(img[:, 3, 5], COLOR_TABLE[1])


def test_whole_pipeline_on_a_constant_map():
    s = system([0, 0, 0, 0, 1.0, 1.0, 1.0])  # every point after the origin is (1, 1)
    px, py = ref.points(s, map_sequence(50), 16, 6)
    assert set(zip(px.tolist(), py.tolist())) == {(6, 6), (10, 10)}
    img = ref.rasterize(px, py, settings(), None, 0)
    assert set(zip(*np.nonzero(img[0]))) == {(9, 6), (5, 10)}
