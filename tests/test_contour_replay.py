"""The published replay of the released RCDB and VisualAtom scripts, against Python's own `random`, the
`noise` package and Pillow's `ImageDraw.line`, driven as docs/spec/contours.md §2.7 describes the scripts."""

import csv
import io
import random

import numba as nb
import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.databases.contours import mt19937 as mt
from fdsl_gen.databases.contours import render_numba
from fdsl_gen.databases.contours.noise import GRADIENT
from fdsl_gen.errors import UsageError

from ._contour_scripts import noise, original_rcdb, original_visual_atom

# -- the stream ---------------------------------------------------------------------------------------


@nb.njit
def _numba_draws(st, kind, a, b, n):
    """n draws of one kind (0 random, 1 uniform(a, b), 2 randint(a, b), 3 expovariate(a)) with the numba functions."""
    out = np.empty(n)
    for j in range(n):
        if kind == 0:
            out[j] = mt.random(st)
        elif kind == 1:
            out[j] = mt.uniform(st, a, b)
        elif kind == 2:
            out[j] = mt.randint(st, np.int64(a), np.int64(b))
        else:
            out[j] = mt.expovariate(st, a)
    return out


def _python_draws(r, kind, a, b, n):
    call = [lambda: r.random(), lambda: r.uniform(a, b), lambda: r.randint(int(a), int(b)),
            lambda: r.expovariate(a)][kind]
    return [call() for _ in range(n)]


def _stream_draws(s, kind, a, b, n):
    call = [s.random, lambda: s.uniform(a, b), lambda: s.randint(int(a), int(b)), lambda: s.expovariate(a)][kind]
    return [call() for _ in range(n)]


def test_seeded_state_is_pythons():
    for seed in (1, 2, 21, 40):
        version, state, _ = random.Random(seed).getstate()
        assert mt.seeded_state(seed).tolist() == list(state)


# randint(0, 255): k = 9, half the words rejected; 0..256 (RCDB's gray), centres, n = 1, n = 2**31 (k = 32)
CALLS = [(0, 0, 0), (1, 0, 10000), (1, 1.0, 2.0), (1, 0.0, 0.1), (2, 0, 255), (2, 0, 256), (2, -512, 512),
         (2, 200, 1000), (2, 5, 5), (2, 0, 2**31 - 1), (2, 0, 2**31), (3, 0.01, 0)]


@pytest.mark.parametrize("kind,a,b", CALLS)
def test_draws_equal_pythons_random(kind, a, b):
    n = 20_000
    for seed in (1, 7):
        expected = _python_draws(random.Random(seed), kind, a, b, n)
        st = mt.seeded_state(seed)
        assert _numba_draws(st, kind, a, b, n).tolist() == expected
        assert _stream_draws(mt.WordStream(mt.seeded_state(seed)), kind, a, b, n) == expected
        r = random.Random(seed)  # both leave the stream at the same place
        _python_draws(r, kind, a, b, n)
        assert _numba_draws(st, 0, 0, 0, 3).tolist() == [r.random() for _ in range(3)]


def test_interleaved_draws_and_bulk_words():
    r, st, stream = random.Random(3), mt.seeded_state(3), mt.WordStream(mt.seeded_state(3))
    for j in range(3000):
        kind, a, b = CALLS[j % len(CALLS)]
        expected = _python_draws(r, kind, a, b, 1 + j % 3)
        assert _numba_draws(st, kind, a, b, 1 + j % 3).tolist() == expected
        assert _stream_draws(stream, kind, a, b, 1 + j % 3) == expected
    words = np.array([r.getrandbits(32) for _ in range(5000)], dtype=np.uint32)
    skipped = st.copy()
    bulk = np.empty(5000, dtype=np.uint32)
    mt.fill(st, bulk)
    np.testing.assert_array_equal(bulk, words)
    np.testing.assert_array_equal(stream.words(5000), words)
    mt.skip(skipped, 1234)
    assert mt.word(skipped) == words[1234]


def test_replay_noise_equals_the_noise_package():
    """P(uniform(0, 10000)) from two words, as the replay kernel computes it, incl. positions rounding to 10000.0f."""
    rng = np.random.default_rng(4)
    words = rng.integers(0, 2**32, 2 * 20_000, dtype=np.uint64).astype(np.uint32)
    words[:8] = [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFF00, 0, 0, 0, 0xFFFFFFE0, 0xFFFFFFC0]  # r -> 1 and r = 0
    out = np.empty(words.shape[0] // 2, dtype=np.float32)
    render_numba._replay_noise(words, 0, out.shape[0], GRADIENT, out)
    expected = [noise.pnoise1(10000 * mt.random_of(words[2 * v], words[2 * v + 1])) for v in range(out.shape[0])]
    assert out.astype(np.float64).tolist() == expected
    assert out[0] == 0.0 and np.float32(10000 * mt.random_of(words[0], words[1])) == 10000.0


VA_FLAGS = dict(size=112, vertex_num_min=20, vertex_num_max=60, line_num_min=1, line_num_max=25, perlin_min=0,
                line_width=0.1, radius_min=0, oval_rate=2, start_pos=24, nami_1_min=0, nami_1_max=20, nami_2_min=0,
                nami_2_max=20, start_class=0)
RCDB_FLAGS = dict(size=128, vertex_num=30, perlin_min=0, line_width=0.1, radius_min=0, line_num_min=1, oval_rate=2,
                  start_pos=24)
VA_CASES = [  # (flags, processes, categories, instances, also check ref)
    ({}, 2, 6, 2, True),
    ({"nami_1_max": 2, "nami_2_min": 1, "nami_2_max": 3, "start_class": 5, "vertex_num_min": 3, "vertex_num_max": 9},
     2, 7, 3, True),
    ({"size": 128, "perlin_min": 1, "line_width": 0.5, "radius_min": 0, "oval_rate": 3, "start_pos": 0,
      "line_num_min": 5, "line_num_max": 15, "nami_1_min": 3, "nami_1_max": 3}, 3, 6, 2, False),
]
RCDB_CASES = [
    ({}, 2, 6, 2, True),
    ({"size": 256, "line_num_min": 20, "radius_min": 10, "start_pos": 0, "background": "black", "perlin_min": 1,
      "oval_rate": 3, "line_width": 0.5}, 3, 7, 2, False),
]


def _database(key, flags, processes, categories, instances):
    options = {k: v for k, v in flags.items() if not (k == "start_class" and v == 0)}
    return fdsl_gen.get_database(key, search="published", processes=processes, categories=categories,
                                 instances=instances, **options)


def _check_images(db, written, first_class, backends):
    cats = np.repeat(np.arange(db.n_categories), db.n_instances)
    insts = np.tile(np.arange(db.n_instances), db.n_categories)
    background = db.settings().background
    drawn = [np.mean(image[..., 0] != background) for _, _, images in written.values() for image in images]
    assert np.mean(drawn) > 0.05  # the flags keep most atoms on the small canvas: the comparison means something
    for backend in backends:
        order = np.random.default_rng(0).permutation(cats.shape[0])  # any order, any grouping: same images
        ours = np.empty((cats.shape[0], 1, db.config.size, db.config.size), dtype=np.uint8)
        ours[order] = db.render_array(cats[order], insts[order], backend=backend)
        for b, (k, i) in enumerate(zip(cats.tolist(), insts.tolist())):
            theirs = written[k + first_class][2][i]
            assert np.array_equal(theirs[..., 0], theirs[..., 1]) and np.array_equal(theirs[..., 0], theirs[..., 2])
            np.testing.assert_array_equal(ours[b, 0], theirs[..., 0], err_msg=f"{backend}: category {k}, instance {i}")


@pytest.mark.parametrize("flags,processes,categories,instances,with_ref", VA_CASES)
def test_visual_atom_replay_equals_the_script(flags, processes, categories, instances, with_ref, tmp_path):
    f = {**VA_FLAGS, **flags, "categories": categories, "instances": instances}
    written = {}
    for thread in range(processes):
        written.update(original_visual_atom(f, processes, thread))
    db = _database("visual_atom", {**VA_FLAGS, **flags}, processes, categories, instances)
    assert db.n_categories == len(written) == processes * (categories // processes)
    _check_images(db, written, f["start_class"], ("numba", "ref") if with_ref else ("numba",))
    db.write_table(tmp_path)  # the tables: what the script drew
    rows = list(csv.reader(io.StringIO((tmp_path / "params.csv").read_text())))
    assert rows[0] == ["class", "vertices", "orbits", "eta", "c", "r0", "n1", "n2", "sx", "sy"]
    for row in rows[1:]:
        params = written[int(row[0])][0]
        assert [float(v) for v in row[1:]] == [params[name] for name in rows[0][1:]]
    rows = list(csv.reader(io.StringIO((tmp_path / "instances.csv").read_text())))
    assert rows[0] == ["class", "instance", "yc", "xc"] and len(rows) == 1 + db.n_categories * instances
    for cls, i, yc, xc in rows[1:]:
        assert (float(yc), float(xc)) == written[int(cls)][1][int(i)]
    q = written[f["start_class"] + 1][0]["vertices"]
    assert db.relative_path(1, 1) == f"{f['start_class'] + 1:05d}/vertex_{q:04d}_instance_0001.png"


@pytest.mark.parametrize("flags,processes,categories,instances,with_ref", RCDB_CASES)
def test_rcdb_replay_equals_the_script(flags, processes, categories, instances, with_ref, tmp_path):
    f = {**RCDB_FLAGS, **flags, "categories": categories, "instances": instances}
    written = {}
    for thread in range(processes):
        written.update(original_rcdb(f, processes, thread))
    db = _database("rcdb", {**RCDB_FLAGS, **flags}, processes, categories, instances)
    assert db.n_categories == len(written)
    _check_images(db, written, 0, ("numba", "ref") if with_ref else ("numba",))
    db.write_table(tmp_path)
    for cls, (param_csv, _, _) in written.items():
        assert (tmp_path / f"param/{cls:05d}.csv").read_bytes() == param_csv
    rows = list(csv.reader(io.StringIO((tmp_path / "instances.csv").read_text())))
    assert rows[0] == ["class", "instance", "r0", "sx", "sy", "yc", "xc"]
    for row in rows[1:]:
        r0, sx, sy, yc, xc = written[int(row[0])][1][int(row[1])]
        assert row[2:] == [str(r0), str(sx), str(sy), str(yc), str(xc)]


@pytest.mark.parametrize("key", ["visual_atom", "rcdb"])
def test_replay_at_the_launchers_settings(key):
    """512², the launchers' flags, the last of 20 / 40 processes too (RCDB: grays up to 256, drawn as 255)."""
    processes = 20 if key == "visual_atom" else 40
    db = fdsl_gen.get_database(key, search="published", categories=processes, instances=2)
    assert db.config.processes == processes
    f = {**{k: v for k, v in db.config.__dict__.items()}, "categories": processes, "instances": 2}
    original = original_visual_atom if key == "visual_atom" else original_rcdb
    for thread in (0, processes - 1):
        written = original(f, processes, thread)
        images = db.render_array([thread, thread], [0, 1], backend="numba")
        for i in (0, 1):
            np.testing.assert_array_equal(images[i, 0], written[thread][2][i][..., 0])


# -- launch checks -----------------------------------------------------------------------------------


def test_tail_categories_are_left_out_with_a_warning(caplog):
    with caplog.at_level("WARNING"):
        db = fdsl_gen.get_database("rcdb", search="published", processes=3, categories=8, instances=2, size=64)
    assert db.n_categories == 6
    assert [r.getMessage() for r in caplog.records if "left out" in r.getMessage()] and "6..7" in caplog.text
    with pytest.raises(UsageError, match=r"\[0, 5\]"):
        db.render_array([6], [0], backend="numba")
    caplog.clear()
    fdsl_gen.get_database("rcdb", search="published", processes=3, categories=9, instances=2, size=64)
    assert "left out" not in caplog.text


@pytest.mark.parametrize("key,options,message", [
    ("visual_atom", {"search": "exact"}, "search must be native or published"),
    ("rcdb", {"search": "published", "processes": 0}, "processes must be at least 1"),
    ("visual_atom", {"search": "published", "processes": 30, "categories": 20}, "at least processes"),
    ("rcdb", {"search": "published", "size": 97}, "even size"),
    ("visual_atom", {"start_class": 3}, "published only"),
    ("visual_atom", {"search": "published", "nami_1_max": 4, "nami_2_min": 4, "nami_2_max": 4}, "never ends"),
])
def test_bad_replay_options(key, options, message):
    with pytest.raises(UsageError, match=message):
        fdsl_gen.get_database(key, **options)


def test_replay_refuses_gpu_and_fresh_draws():
    db = fdsl_gen.get_database("visual_atom", search="published", processes=1, categories=2, instances=2, size=64)
    assert db.resolve_backend("auto") == "numba" and db.published_backends == ("numba", "ref")
    with pytest.raises(UsageError, match="replays on numba or ref"):
        db.resolve_backend("cuda")
    with pytest.raises(UsageError, match="need --search native"):
        db.render_array([0], [0], backend="numba", variants=[3])


@pytest.mark.parametrize("key", ["visual_atom", "rcdb"])
def test_published_replay_through_the_cli(key, tmp_path):
    """`fdsl-gen render --search published --processes 1` writes, at the original's paths, the script's images."""
    from PIL import Image
    from typer.testing import CliRunner

    from fdsl_gen.cli import app

    flags, original = (VA_FLAGS, original_visual_atom) if key == "visual_atom" else (RCDB_FLAGS, original_rcdb)
    f = {**flags, "categories": 5, "instances": 3}
    options = [arg for name, value in flags.items() if not (name == "start_class" and value == 0)
               for arg in (f"--{name}", str(value))]
    r = CliRunner().invoke(app, ["render", "--db", key, "--search", "published", "--processes", "1", "--categories",
                                 "5", "--instances", "3", *options, "--quiet", "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    written = original(f, 1, 0)
    db = fdsl_gen.get_database(key, search="published", processes=1, categories=5, instances=3,
                               **{k: v for k, v in flags.items() if not (k == "start_class" and v == 0)})
    assert len(list((tmp_path / "d").rglob("*.png"))) == 15
    for k in range(5):
        for i in range(3):
            png = np.asarray(Image.open(tmp_path / "d" / db.relative_path(k, i)))
            np.testing.assert_array_equal(png, written[k][2][i], err_msg=f"category {k}, instance {i}")
    # the parameter files: those of the library's write_table (compared with the script above), RCDB's the script's
    db.write_table(tmp_path / "t")
    tables = sorted(p.relative_to(tmp_path / "t") for p in (tmp_path / "t").rglob("*.csv"))
    assert len(tables) == (6 if key == "rcdb" else 2)
    for name in tables:
        assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "t" / name).read_bytes(), name
    for k in range(5 if key == "rcdb" else 0):
        assert (tmp_path / "d" / f"param/{k:05d}.csv").read_bytes() == written[k][0]
