"""3D IFS databases (ofdb3d, exfractaldb): the camera on hand-checked points, models, the search, statistics."""

import math

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.databases.ifs3d import camera, render_numba, render_ref
from fdsl_gen.databases.ifs3d.batch import Settings3D, pack_systems
from fdsl_gen.databases.ifs3d.search import Search3DConfig, candidates, run_search
from fdsl_gen.databases.ifs3d.weights import TYPO_ROW, weights_ins145
from fdsl_gen.errors import UsageError

from .conftest import SMALL_BY_DB

F = 1.0 / math.tan(math.radians(22.5))  # focal factor of the 45-degree field of view
VIEW0 = float(camera.fixed_view_angles(0, 0.0))  # 30 degrees


def lit(points, angle=VIEW0, size=224):
    img = render_ref.project(np.asarray(points, dtype=np.float32).T.copy(), camera.orbit_mvps(angle)[0], size)
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(img))}


def test_camera_on_hand_checked_points():
    # the origin is 4 units ahead: the centre of the window, pixel (112, 112)
    assert lit([[0, 0, 0]]) == {(112, 112)}
    # (0, 1, 0) lies on the turning axis: column 112 for every view, y_ndc = F / 4 -> (1 + 0.6036) * 112 = 179.6
    for k in range(12):
        assert lit([[0, 1, 0]], float(camera.fixed_view_angles(k, 1.0))) == {(179, 112)}  # row 0 is the bottom
    # one unit to the camera's right for view 0 (eye turned by 30 degrees): right = (sin 30, 0, cos 30)
    assert lit([[0.5, 0, math.sqrt(3) / 2]]) == {(112, 179)}
    # outside the view volume: dropped
    assert lit([[0, 3, 0]]) == set()


def test_window_positions_snap_to_a_256th_of_a_pixel():
    right = np.array([0.5, 0, math.sqrt(3) / 2])
    below_edge = (180 - 0.001) / 112 - 1  # window x = 179.999: snaps to 180.0
    assert lit([right * below_edge * 4 / F]) == {(112, 180)}
    clearly_below = (180 - 0.01) / 112 - 1  # window x = 179.99: stays in pixel 179
    assert lit([right * clearly_below * 4 / F]) == {(112, 179)}


def test_views_turn_about_y_with_the_jitter_quirk():
    assert camera.fixed_view_angles(3, 0.0) == pytest.approx(2 * math.pi * 3 / 12 + math.pi / 6)
    j = camera.jitter(0, "ofdb3d/jitter", np.arange(200), np.zeros(200, np.int64))
    assert j.min() >= -math.pi and j.max() < math.pi  # degrees: the originals' +-3.14 degree quirk
    quirk = camera.fixed_view_angles(0, math.pi) - camera.fixed_view_angles(0, 0.0)
    assert quirk == pytest.approx(math.radians(math.pi))


def test_normalisation_divides_the_sums_by_n_points():
    pts = np.array([[0.0, 1.0, 4.0]] * 3)
    q = render_ref.normalise(pts, 4)  # min 0, max 4: [-1, -0.5, 1]; centre = (-0.5) / 4
    np.testing.assert_array_equal(q, [[-0.875, -0.375, 1.125]] * 3)


def test_chaos_game_does_not_store_the_start():
    s = np.array([[0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 1.0, 2.0, 3.0, 1.0]])
    out = render_ref.chaos_game(s, np.full(4, 0.5))
    np.testing.assert_array_equal(out, [[1.0, 1.5, 1.75], [2.0, 3.0, 3.5], [3.0, 4.5, 5.25]])


def test_weights_ins145():
    w = weights_ins145()
    assert w.shape == (145, 12)
    assert w[0].tolist() == [0.4] + [1.0] * 11 and w[6].tolist() == [1.0] * 12
    assert w[13:25, 1].tolist() == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]
    assert w[TYPO_ROW, 8] == 0.6 and w[TYPO_ROW - 1, 8] == 1.5  # the released file's typo, kept
    assert (w == 1).all(axis=1).sum() == 1  # the identity appears once, in the a-block


def test_search_is_seeded_batch_free_and_checked_by_the_reference():
    cfg = Search3DConfig(seed=2, n_points=3000)
    a = run_search(cfg, 5, render_numba.evaluate, batch=256)
    b = run_search(cfg, 5, render_numba.evaluate, batch=37)
    assert a.digest() == b.digest() and a.width == 13
    settings = Settings3D(size=1, n_points=3000, seed=2, stream=fdsl_gen.rng.stream_id("ifs3d/search-points"))
    n = a.meta["candidates"]
    cands = candidates(2, 0, n)
    packed, n_maps = pack_systems(cands)
    keys = np.stack([np.arange(n), np.zeros(n, np.int64)], axis=1)
    ref = render_ref.evaluate(packed[:60], n_maps[:60], keys[:60], settings, 0.05)
    np.testing.assert_array_equal(render_numba.evaluate(packed, n_maps, keys, settings, 0.05)[:60], ref)
    accepted = [c for c, ok in zip(cands, render_numba.evaluate(packed, n_maps, keys, settings, 0.05)) if ok]
    assert [s.tolist() for s in accepted] == [a.system(k).tolist() for k in range(5)]


def test_candidate_law():
    cands = candidates(0, 0, 3000)
    n = np.array([len(c) for c in cands])
    assert n.min() == 2 and n.max() == 7 and np.bincount(n)[2:].min() > 400
    params = np.concatenate([c[:, :12] for c in cands])
    assert params.min() >= -1 and params.max() < 1 and abs(params.mean()) < 0.01
    assert all(np.isclose(c[:, 12].sum(), 1) for c in cands[:50])


def test_view_statistics_match_the_originals():
    """docs/spec/fractals.md §4.3: lit pixels 2.6-3.8 % per view on average, brightest/dimmest view ~1.4."""
    db = fdsl_gen.get_database("ofdb3d", categories=60, seed=1)
    imgs = db.render_array(np.repeat(np.arange(60), 12), np.tile(np.arange(12), 60))
    fill = (imgs > 0).mean(axis=(1, 2, 3)).reshape(60, 12)
    assert 0.022 < fill.mean() < 0.045, fill.mean()
    assert 1.15 < np.median(fill.max(1) / fill.min(1)) < 1.9
    assert set(np.unique(imgs)) <= {0, 255}


def test_models_and_instances():
    db = fdsl_gen.get_database("ofdb3d", categories=3)
    assert db.n_instances == 12 and db.relative_path(2, 11) == "000002/000002_00000_011.png"
    np.testing.assert_array_equal(db.model_system(1, 0)[:, 0], db.table().system(1)[:, 0] * 0.4)
    ex = fdsl_gen.get_database("exfractaldb", categories=3)
    assert ex.n_instances == 1740 and ex.relative_path(1, 5 * 12 + 7) == "000001/000001_00005_007.png"
    assert ex._instances(np.array([1]), np.array([5 * 12 + 7]), np.array([5 * 12 + 7]))[0].tolist() == [5]
    rnd = fdsl_gen.get_database("exfractaldb", categories=3, views="random")
    models, mvps = rnd._instances(np.array([0, 0, 0]), np.array([0, 145, 146]), np.array([0, 145, 146]))
    assert rnd.n_instances == 1000 and models.tolist() == [0, 0, 1] and not np.array_equal(mvps[0], mvps[1])
    # 3D-OFDB's view k of a category is ExFractalDB's model 0 view k only in geometry, not in draws
    assert db.table().digest() == ex.table().digest()


@pytest.mark.parametrize("key,options,message", [
    ("ofdb3d", {"instances": 13}, "12 views"), ("ofdb3d", {"search": "published"}, "unseeded"),
    ("exfractaldb", {"views": "spiral"}, "fixed or random"), ("ofdb3d", {"threshold": 2.0}, "threshold"),
])
def test_bad_3d_options(key, options, message):
    with pytest.raises(UsageError, match=message):
        fdsl_gen.get_database(key, **options)


def test_3d_table_round_trip(tmp_path):
    db = fdsl_gen.get_database("ofdb3d", categories=4, **SMALL_BY_DB["ofdb3d"])
    db.write_table(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["000000.csv", "000001.csv", "000002.csv", "000003.csv"]
    again = fdsl_gen.get_database("ofdb3d", categories=4, table=str(tmp_path / "000000.csv").rsplit("/", 1)[0])
    assert again.table().digest() == db.table().digest()
    with pytest.raises(UsageError, match="13"):
        fdsl_gen.get_database("ofdb", categories=4, table=str(tmp_path / "table.safetensors")).table()


def test_cuda_search_kernel_on_the_host_equals_numba():
    from fdsl_gen.backends.host_runner import HostRunner
    from fdsl_gen.databases.ifs3d import render_cuda

    settings = Settings3D(size=1, n_points=3000, seed=2, stream=fdsl_gen.rng.stream_id("ifs3d/search-points"))
    packed, n_maps = pack_systems(candidates(2, 0, 300))
    keys = np.stack([np.arange(300), np.zeros(300, np.int64)], axis=1)
    got = render_cuda.evaluate(packed, n_maps, keys, settings, 0.05, runner=HostRunner())
    expected = render_numba.evaluate(packed, n_maps, keys, settings, 0.05)
    assert expected.sum() >= 2
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("key", ["ofdb3d", "exfractaldb"])
def test_packed_model_systems_are_model_system_one_by_one(key):
    db = fdsl_gen.get_database(key, categories=5, **SMALL_BY_DB[key])
    cats, rows = np.array([0, 4, 2, 2]), np.array([0, 0, 3, 144 if key == "exfractaldb" else 0])
    packed, n_maps = db._model_systems(cats, rows)
    want, want_maps = pack_systems([db.model_system(int(c), int(m)) for c, m in zip(cats, rows)])
    np.testing.assert_array_equal(packed, want)
    np.testing.assert_array_equal(n_maps, want_maps)
