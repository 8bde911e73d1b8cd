"""What each 2D IFS database renders for an instance, where the original puts it, and its parameter laws."""

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.databases.tables.ifs import IFSTable
from fdsl_gen.databases.ifs2d.weights import weights_table
from fdsl_gen.databases.onepfrac.params import perturbation, sample_base
from fdsl_gen.errors import UsageError

from .conftest import SMALL


def test_weights_tables_equal_the_original_files():
    w = weights_table("0.4")
    assert w.shape == (25, 6)
    assert w[:5, 0].tolist() == [0.2, 0.6, 1.0, 1.4, 1.8]  # the a-block keeps the identity row
    assert w[5:9, 1].tolist() == [0.2, 0.6, 1.4, 1.8] and np.all(w[5:9, [0, 2, 3, 4, 5]] == 1)
    assert w[21:, 5].tolist() == [0.2, 0.6, 1.4, 1.8]
    assert weights_table("0.5")[0, 0] == 0.01 and weights_table("0.0125")[1, 0] == 0.9875
    with pytest.raises(UsageError):
        weights_table("0.7")


def test_fractaldb_instances_and_file_names():
    db = fdsl_gen.get_database("fractaldb", categories=2)
    assert db.n_instances == 1000
    names = {db.relative_path(1, i) for i in range(1000)}
    assert len(names) == 1000
    assert db.relative_path(1, 0) == "00001/00001_00_count_0_flip0.png"
    assert db.relative_path(1, 999) == "00001/00001_24_count_9_flip3.png"
    assert db.relative_path(1, 4 * 13 + 2) == "00001/00001_01_count_3_flip2.png"  # (row 1, redraw 3) * 4 + 2
    assert fdsl_gen.get_database("fractaldb", categories=2, draw_type="point_gray").n_instances == 100


def test_fractaldb_instance_renders():
    db = fdsl_gen.get_database("fractaldb", categories=2, **SMALL)
    imgs = db.render_array([0] * 8, [0, 1, 2, 3, 4, 5, 6, 7])
    base = imgs[0]
    np.testing.assert_array_equal(imgs[1], base[:, ::-1])  # flip1 flips top-bottom again
    np.testing.assert_array_equal(imgs[2], base[:, :, ::-1])
    np.testing.assert_array_equal(imgs[3], base[:, ::-1, ::-1])
    assert not np.array_equal(imgs[4], base)  # redraw 1: same points, other patch patterns
    # point mode: the 10 redraws of a row would be identical, so there is one redraw per row
    points = fdsl_gen.get_database("fractaldb", categories=2, draw_type="point_gray", **SMALL)
    a, b = points.render_array([0, 0], [0, 4])  # rows 0 and 1
    assert not np.array_equal(a, b)


def test_weights_scale_the_parameters_and_keep_p():
    db = fdsl_gen.get_database("fractaldb", categories=3)
    s = db.table().system(2)
    row7 = db._system(2, 7)  # weights row 7: b x 1.4
    np.testing.assert_array_equal(row7[:, 1], s[:, 1] * 1.4)
    np.testing.assert_array_equal(np.delete(row7, 1, axis=1), np.delete(s, 1, axis=1))


def test_ofdb_is_fractaldb_with_a_times_0_2():
    ofdb = fdsl_gen.get_database("ofdb", categories=3, **SMALL)
    fdb = fdsl_gen.get_database("fractaldb", categories=3, **SMALL)
    assert ofdb.table().digest() == fdb.table().digest()
    s = ofdb._system(1, 0)
    np.testing.assert_array_equal(s[:, 0], fdb.table().system(1)[:, 0] * 0.2)
    assert ofdb.n_instances == 1 and ofdb.relative_path(7, 0) == "00007/00007_00_count_0_flip0.png"
    # same points and flip0 as FractalDB's instance 0, but its own patch stream
    assert not np.array_equal(ofdb.render_array(1, 0), fdb.render_array(1, 0))
    pts_o = fdsl_gen.get_database("ofdb", categories=3, draw_type="point_gray", **SMALL).render_array(1, 0)
    pts_f = fdsl_gen.get_database("fractaldb", categories=3, draw_type="point_gray", **SMALL).render_array(1, 0)
    np.testing.assert_array_equal(pts_o, pts_f)


def test_onepfrac_base_follows_the_svd_law():
    for seed in range(20):
        base, alpha = sample_base(seed, 2, 3.5)
        assert 3.4 <= alpha <= 3.6
        total = 0.0
        for a, b, c, d, *_ in base:
            sv = np.linalg.svd(np.array([[a, b], [c, d]]), compute_uv=False)
            assert sv[0] <= 1 + 1e-12
            total += sv[0] + 2 * sv[1]
        assert abs(total - alpha) < 1e-9  # sigma-factor = sum(s1 + 2 s2)
        assert np.all(np.abs(base[:, 4:6]) <= 1) and np.isclose(base[:, 6].sum(), 1)


def test_onepfrac_perturbation_law():
    f = np.stack([perturbation(0, k, 0, 2, 0.1) for k in range(2000)])
    assert f.min() >= 0.9 and f.max() <= 1.1
    assert abs(f.mean() - 1.0) < 0.002 and abs(f.var() - 0.2**2 / 12) < 0.0003


def test_onepfrac_classes_pass_the_fill_test_and_keep_base_p():
    db = fdsl_gen.get_database("onepfrac", categories=12, size=128, points=20000)
    table = db.table()
    imgs = db.render_array(np.arange(12), 0)
    assert np.all((imgs > 1).mean(axis=(1, 2, 3)) > 0.05)
    for k in range(12):
        np.testing.assert_array_equal(table.system(k)[:, 6], table.base[:, 6])
        ratio = table.system(k)[:, :6] / table.base[:, :6]
        assert np.all(np.abs(ratio - 1) <= 0.1 + 1e-12)
    assert db.relative_path(7, 0) == "07/07_07_count_0_flip0.png"
    # a larger table starts with the smaller one (classes are independent)
    bigger = fdsl_gen.get_database("onepfrac", categories=20, size=128, points=20000).table()
    np.testing.assert_array_equal(bigger.factors[:12], table.factors)


def test_table_files_round_trip(tmp_path):
    db = fdsl_gen.get_database("fractaldb", categories=5)
    db.write_table(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["00000.csv", "00001.csv"]
    from_csv = IFSTable.read_csv_dir(tmp_path)
    compact = IFSTable.load(tmp_path / "table.safetensors")
    assert from_csv.digest() == compact.digest() == db.table_digest()
    again = fdsl_gen.get_database("ofdb", categories=5, table=str(tmp_path), **SMALL)
    np.testing.assert_array_equal(again.render_array(3, 0),
                                  fdsl_gen.get_database("ofdb", categories=5, **SMALL).render_array(3, 0))


@pytest.mark.parametrize("options,message", [
    ({"categories": 0}, "categories"), ({"size": 8}, "size"), ({"draw_type": "blob"}, "draw type"),
    ({"search": "other"}, "search"), ({"seed": -1}, "seed"), ({"points": 1}, "points"),
    ({"instances": 1001}, "instances"), ({"table": "/nonexistent/table"}, "does not exist"),
])
def test_bad_options_are_usage_errors(options, message):
    with pytest.raises(UsageError, match=message):
        db = fdsl_gen.get_database("fractaldb", **options)
        db.table()


def test_render_rejects_out_of_range_ids():
    db = fdsl_gen.get_database("ofdb", categories=3, **SMALL)
    with pytest.raises(UsageError, match="category ids"):
        db.render_array([3], [0])
    with pytest.raises(UsageError, match="instance ids"):
        db.render_array([0], [1])


def test_tables_with_negative_probabilities_are_refused(tmp_path):
    (tmp_path / "00000.csv").write_text("0.5,0,0,0.5,0,0,1.2\n0.5,0,0,0.5,1,1,-0.2\n")
    with pytest.raises(UsageError, match="non-negative"):
        fdsl_gen.get_database("ofdb", categories=1, table=str(tmp_path)).table()
