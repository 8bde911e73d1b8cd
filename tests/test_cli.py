"""The command line: every command through typer's runner, errors as one line with status 2, and a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import fdsl_gen
from fdsl_gen.backends import unavailable_reason
from fdsl_gen.cli import app
from fdsl_gen.errors import UsageError

GOLDEN = Path(__file__).parent / "golden" / "fractaldb_1k_csv"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_list_names_databases_and_backends():
    r = invoke("list")
    assert r.exit_code == 0
    for text in ("fractaldb", "ofdb", "onepfrac", "1p-frac", "backend numba  ", "backend cuda", "triton   per-pixel"):
        assert text in r.output


def test_search_writes_the_published_csvs(tmp_path):
    r = invoke("search", "--db", "FractalDB", "--categories", 3, "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "00001.csv").read_text() == (GOLDEN / "00001.csv").read_text()
    assert (tmp_path / "table.safetensors").exists() and not (tmp_path / "00003.csv").exists()


def test_search_native_mode(tmp_path):
    from fdsl_gen import get_database
    from fdsl_gen.databases.tables.ifs import IFSTable

    for seed in (3, 4):
        r = invoke("search", "--db", "ofdb", "--categories", 2, "--search", "native", "--seed", seed,
                   "--fill-rate", 0.1, "--out", tmp_path / f"s{seed}")
        assert r.exit_code == 0, r.output
        assert sorted(p.name for p in (tmp_path / f"s{seed}").glob("*.csv")) == ["00000.csv", "00001.csv"]
    # the CLI's options reach the search: its CSVs are the library's table for that seed and fill rate
    table = get_database("ofdb", categories=2, search="native", seed=3, fill_rate=0.1).table()
    written = IFSTable.read_csv_dir(tmp_path / "s3")
    for k in range(2):
        np.testing.assert_allclose(written.system(k), table.system(k), rtol=0, atol=1e-15)
    assert not np.array_equal(IFSTable.read_csv_dir(tmp_path / "s4").system(0), written.system(0))


def test_render_and_preview(tmp_path):
    r = invoke("render", "--db", "1p-frac", "--categories", 4, "--size", 64, "--points", 5000, "--out",
               tmp_path / "d", "--quiet")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["00", "01", "02", "03", "classes.txt",
                                                                   "manifest.json", "table.safetensors"]
    assert (tmp_path / "d/02/02_02_count_0_flip0.png").exists()
    r = invoke("preview", "--db", "ofdb", "--categories", 6, "--size", 32, "--points", 3000, "--out",
               tmp_path / "p.png")
    assert r.exit_code == 0, r.output
    sheet = np.asarray(Image.open(tmp_path / "p.png"))
    assert sheet.shape == (2 * 34 + 2, 3 * 34 + 2, 3)


def test_bench_json(tmp_path):
    r = invoke("bench", "--db", "ofdb", "--backend", "numba", "--size", 32, "--points", 2000, "--batch", 4,
               "--repeats", 2, "--json", tmp_path / "b.json")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "b.json").read_text())
    (row,) = doc["rows"]
    assert (row["database"], row["backend"], row["size"], row["points"], row["batch"], row["repeats"]) == \
        ("ofdb", "numba", 32, 2000, 4, 2)
    assert 0 < row["min_img_s"] <= row["median_img_s"] <= row["max_img_s"]
    assert row["per_thread_img_s"] == pytest.approx(row["median_img_s"] / row["threads"])
    assert doc["machine"]["versions"]["numpy"]


@pytest.mark.parametrize("args,message", [
    (["render", "--db", "nope", "--out", "{tmp}/x"], "unknown database 'nope'"),
    (["render", "--db", "ofdb", "--categories", 0, "--out", "{tmp}/x"], "categories must be"),
    (["render", "--db", "ofdb", "--size", 4, "--out", "{tmp}/x"], "size must be between"),
    (["render", "--db", "ofdb", "--out", "{tmp}/file/x"], "not writable"),
    (["render", "--db", "ofdb", "--png-compress", 12, "--out", "{tmp}/x"], "png compression"),
    (["render", "--db", "ofdb", "--channels", 2, "--out", "{tmp}/x"], "channels must be 1 or 3"),
    (["render", "--db", "ofdb", "--workers", 0, "--out", "{tmp}/x"], "workers must be at least 1"),
    (["render", "--db", "ofdb", "--draw-type", "patch_color", "--channels", 1, "--out", "{tmp}/x"], "colour"),
    (["render", "--db", "ofdb", "--backend", "gpu9", "--out", "{tmp}/x"], "unknown backend"),
    pytest.param(["render", "--db", "ofdb", "--backend", "cuda", "--out", "{tmp}/x"], "cuda cannot run here",
                 marks=pytest.mark.skipif(unavailable_reason("cuda") is None, reason="cuda runs here")),
    (["render", "--db", "onepfrac", "--search", "published", "--out", "{tmp}/x"], "only --search native"),
    (["preview", "--db", "ofdb", "--out", "{tmp}/p.jpg"], ".png"),
    (["search", "--db", "fractaldb", "--sigma", 3, "--out", "{tmp}/x"], "no option --sigma"),
])
def test_user_errors_are_one_line_with_status_2(tmp_path, args, message):
    (tmp_path / "file").write_text("not a folder")
    r = invoke(*[a.format(tmp=tmp_path) if isinstance(a, str) else a for a in args])
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output
    assert not (tmp_path / "x").exists()


def test_console_script_errors(tmp_path):
    for args in (["render", "--db", "nope", "--out", str(tmp_path / "x")],
                 ["render", "--db", "ofdb", "--categories", "many", "--out", str(tmp_path / "x")]):
        r = subprocess.run([sys.executable, "-m", "fdsl_gen.cli", *args], capture_output=True, text=True)
        assert r.returncode == 2
        assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr + r.stdout


def test_console_script_renders(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", "--db", "fractaldb", "--categories", "1",
                        "--instances", "8", "--size", "48", "--points", "3000", "--out", str(tmp_path / "f"),
                        "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "wrote 8 images" in r.stdout and "backend numba" in r.stdout
    assert len(list((tmp_path / "f/00000").glob("*.png"))) == 8


def test_contour_databases_through_the_cli(tmp_path):
    r = invoke("render", "--db", "RCDB", "--categories", 2, "--instances", 2, "--size", 96, "--start_pos", 64,
               "--vertex_num", 30, "--background", "black", "--out", tmp_path / "rc", "--quiet")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "rc").iterdir()) == ["classes.txt", "image", "manifest.json",
                                                                    "param", "table.safetensors"]
    assert (tmp_path / "rc/classes.txt").read_text() == "image/00000\nimage/00001\n"
    assert (tmp_path / "rc/image/00001/00001_0001.png").exists() and (tmp_path / "rc/param/00001.csv").exists()
    doc = json.loads((tmp_path / "rc/manifest.json").read_text())
    assert doc["identity"]["background"] == "black" and doc["identity"]["vertex_num"] == 30
    r = invoke("render", "--db", "visual_atom", "--numof_classes", 2, "--numof_instances", 1, "--size", 96,
               "--start-pos", 64, "--vertex-num-max", 300, "--out", tmp_path / "va", "--quiet")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "va/params.csv").exists()
    assert len(list((tmp_path / "va").rglob("vertex_*_instance_0000.png"))) == 2
    r = invoke("search", "--db", "rcdb", "--categories", 3, "--out", tmp_path / "s")
    assert r.exit_code == 0 and len(list((tmp_path / "s/param").glob("*.csv"))) == 3
    fdsl_gen.get_database("rcdb", categories=3).write_table(tmp_path / "lib")  # what the library writes
    for path in (tmp_path / "lib").rglob("*"):
        if path.is_file():
            assert (tmp_path / "s" / path.relative_to(tmp_path / "lib")).read_bytes() == path.read_bytes(), path
    r = invoke("preview", "--db", "visual_atom", "--categories", 4, "--out", tmp_path / "va.png")
    assert r.exit_code == 0 and np.asarray(Image.open(tmp_path / "va.png")).shape == (2 * 514 + 2, 2 * 514 + 2, 3)
    r = invoke("bench", "--db", "rcdb", "--backend", "numba", "--batch", 4, "--repeats", 1,
               "--json", tmp_path / "b.json")
    assert r.exit_code == 0, r.output
    (row,) = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert row["database"] == "rcdb" and row["points"] is None and row["batch"] == 4 and row["size"] == 512
    assert 0 < row["min_img_s"] <= row["median_img_s"] <= row["max_img_s"]


@pytest.mark.parametrize("args,message", [
    (["render", "--db", "rcdb", "--vertex_num", "many", "--out", "{tmp}/x"], "--vertex_num expects an integer"),
    (["render", "--db", "visual_atom", "--wobble", 3, "--out", "{tmp}/x"], "has no option --wobble"),
    (["render", "--db", "visual_atom", "--line_num_max", "--out", "{tmp}/x"], "--line_num_max needs a value"),
    # one option under two spellings, and the command's own option misspelt (issue 17: one parser)
    (["render", "--db", "rcdb", "--size", 96, "--image_size", 128, "--out", "{tmp}/x"],
     "size is given twice (--size and --image_size)"),
    (["render", "--db", "ofdb", "--rate", 0.3, "--fill_rate", 0.2, "--out", "{tmp}/x"],
     "fill_rate is given twice (--rate and --fill_rate)"),
    (["render", "--db", "ofdb", "-n", 2, "--numof_classes", 3, "--out", "{tmp}/x"],
     "categories is given twice (--categories and --numof_classes)"),
    (["render", "--db", "ofdb", "--png_compress", 3, "--out", "{tmp}/x"],
     "--png_compress: this command's option is spelled --png-compress"),
])
def test_database_option_errors(tmp_path, args, message):
    r = invoke(*[a.format(tmp=tmp_path) if isinstance(a, str) else a for a in args])
    assert r.exit_code == 2 and r.output.startswith("error: ") and message in r.output, r.output
    assert not (tmp_path / "x").exists()


def test_the_originals_spellings_reach_the_database():
    from fdsl_gen.databases.ofdb3d import OFDB3D
    from fdsl_gen.options import database_options

    tokens = ["--numof_classes", "7", "--img_size=96", "--variance", "0.1", "--point-num", "500"]
    assert database_options(OFDB3D, {"seed": 3, "size": None}, tokens) == {
        "seed": 3, "categories": 7, "size": 96, "threshold": 0.1, "points": 500}


@pytest.mark.parametrize("name,value", [("FDSL_DEVICE", "gpu"), ("FDSL_GPU_TABLE_GB", "lots"),
                                        ("FDSL_GPU_TABLE_GB", "-1"), ("FDSL_GPU_TABLE_GB", "nan")])
def test_environment_errors(tmp_path, monkeypatch, name, value):
    from fdsl_gen import _env

    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=name):
        _env.default_device() if name == "FDSL_DEVICE" else _env.gpu_table_bytes()
    if name == "FDSL_DEVICE":  # `auto` reads it: one line and status 2, nothing written
        r = invoke("render", "--db", "ofdb", "--categories", 1, "--out", tmp_path / "x", "--quiet")
        assert r.exit_code == 2 and r.output.startswith("error: FDSL_DEVICE") and not (tmp_path / "x").exists()


def test_bench_model_without_the_toolchain_is_a_usage_error(monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import sass

    def missing():
        raise FileNotFoundError("nvcc was not found (the CUDA toolkit)")

    monkeypatch.setattr(sass, "nvcc", missing)
    r = invoke("bench", "--model")
    assert r.exit_code == 2 and r.output.startswith("error: ") and "nvcc was not found" in r.output, r.output


def test_3d_databases_through_the_cli(tmp_path):
    r = invoke("render", "--db", "3d-ofdb", "--categories", 2, "--size", 64, "--point_num", 3000,
               "--out", tmp_path / "o3", "--quiet")
    assert r.exit_code == 0, r.output
    files = sorted(p.relative_to(tmp_path / "o3").as_posix() for p in (tmp_path / "o3").rglob("*.png"))
    assert len(files) == 24 and files[0] == "000000/000000_00000_000.png" and files[-1] == "000001/000001_00000_011.png"
    r = invoke("search", "--db", "exfractaldb", "--categories", 2, "--variance", 0.05, "--out", tmp_path / "s3")
    assert r.exit_code == 0 and sorted(p.name for p in (tmp_path / "s3").glob("*.csv")) == ["000000.csv", "000001.csv"]
    assert len((tmp_path / "s3/000000.csv").read_text().splitlines()[0].split(",")) == 13
    r = invoke("bench", "--db", "ofdb3d", "--backend", "numba", "--batch", 4, "--repeats", 1, "--time-search", 2,
               "--json", tmp_path / "b.json")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["search_rows"][0]["categories"] == 2 and doc["search_rows"][0]["candidates"] >= 2


def test_render_with_resize(tmp_path):
    r = invoke("render", "--db", "ofdb", "--categories", 2, "--resize", 40, "--resize-mode", "bilinear",
               "--out", tmp_path / "rz", "--quiet")
    assert r.exit_code == 0, r.output
    img = Image.open(tmp_path / "rz/00001/00001_00_count_0_flip0.png")
    assert img.size == (40, 40)
    ident = json.loads((tmp_path / "rz/manifest.json").read_text())["identity"]
    assert ident["resize"] == 40 and ident["resize_mode"] == "bilinear"
    r = invoke("render", "--db", "ofdb", "--categories", 2, "--resize", 3, "--out", tmp_path / "bad")
    assert r.exit_code == 2 and "resize must be" in r.output
