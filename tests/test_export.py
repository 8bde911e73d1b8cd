"""Writing datasets: the originals' layout, webdataset shards, same bytes every time, resume after a kill."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fdsl_gen
from fdsl_gen.errors import UsageError
from fdsl_gen.export import writer
from fdsl_gen.export.writer import ExportOptions, export

from .conftest import SMALL


def tree_digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def run_export(db, out, **kw):
    return export(db, ExportOptions(out=out, **kw), progress=False, log=lambda *_: None)


def test_imagefolder_layout_and_manifest(tmp_path):
    db = fdsl_gen.get_database("fractaldb", categories=2, instances=12, **SMALL)
    result = run_export(db, tmp_path / "fdb")
    assert result["images"] == 24
    pngs = sorted((tmp_path / "fdb").rglob("*.png"))
    assert len(pngs) == 24
    assert (tmp_path / "fdb/00001/00001_00_count_2_flip3.png").exists()
    img = np.asarray(Image.open(pngs[0]))
    assert img.shape == (64, 64, 3) and np.all(img[..., 0] == img[..., 1])
    np.testing.assert_array_equal(img[..., 0], db.render_array(0, 0)[0, 0])
    doc = json.loads((tmp_path / "fdb/manifest.json").read_text())
    assert doc["complete"] and doc["identity"]["database"] == "fractaldb"
    assert doc["identity"]["table_sha256"] == db.table_digest()
    assert (tmp_path / "fdb/table.safetensors").exists()


def test_same_bytes_whatever_the_threads_and_batches(tmp_path):
    db = fdsl_gen.get_database("ofdb", categories=20, instances=2, **SMALL)
    run_export(db, tmp_path / "a", workers=1, batch=3)
    run_export(db, tmp_path / "b", workers=2, batch=16)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_webdataset_shards(tmp_path):
    db = fdsl_gen.get_database("ofdb", categories=5, instances=2, **SMALL)
    run_export(db, tmp_path / "w", format="webdataset", shard_size=4)
    run_export(db, tmp_path / "w2", format="webdataset", shard_size=4, batch=3)
    shards = sorted(p.name for p in (tmp_path / "w").glob("*.tar"))
    assert shards == ["SHARDS-000000.tar", "SHARDS-000001.tar", "SHARDS-000002.tar"]
    assert tree_digest(tmp_path / "w") == tree_digest(tmp_path / "w2")
    with tarfile.open(tmp_path / "w/SHARDS-000001.tar") as tar:
        names = tar.getnames()
        assert names[:2] == ["00002_00_count_0_flip0.png", "00002_00_count_0_flip0.cls"]
        assert tar.extractfile(names[1]).read() == b"2"


def test_resume_skips_what_exists_and_refuses_another_dataset(tmp_path):
    db = fdsl_gen.get_database("ofdb", categories=6, **SMALL)
    out = tmp_path / "o"
    run_export(db, out)
    victim = out / "00003/00003_00_count_0_flip0.png"
    good = victim.read_bytes()
    victim.unlink()
    (out / "00004/.00004_00_count_0_flip0.png.1.fdsl-tmp").write_bytes(b"partial")
    assert run_export(db, out)["images"] == 1
    assert victim.read_bytes() == good and not list(out.rglob("*.fdsl-tmp"))
    other = fdsl_gen.get_database("ofdb", categories=6, seed=1, **SMALL)
    with pytest.raises(UsageError, match="different dataset .*seed"):
        run_export(other, out)


def test_refuses_when_the_disk_is_too_small(tmp_path, monkeypatch):
    monkeypatch.setattr(writer.shutil, "disk_usage", lambda p: os.statvfs_result((0,) * 10)._replace()
                        if False else type("U", (), {"free": 1000})())
    db = fdsl_gen.get_database("ofdb", categories=6, **SMALL)
    with pytest.raises(UsageError, match="not enough free space"):
        run_export(db, tmp_path / "full")
    assert not (tmp_path / "full").exists()
    run_export(db, tmp_path / "forced", force=True)
    assert len(list((tmp_path / "forced").rglob("*.png"))) == 6


def test_killed_render_resumes_without_loss_or_duplication(tmp_path):
    args = ["--db", "ofdb", "--categories", "1500", "--size", "64", "--points", "100000", "--quiet", "--workers", "1"]
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(list(out.rglob("*.png"))) < 50:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(list(out.rglob("*.png")))
    if written >= 1500:
        pytest.skip("the render finished before it could be killed")
    assert written >= 50
    assert not json.loads((out / "manifest.json").read_text())["complete"]
    subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(out)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(clean)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed, fresh = tree_digest(out), tree_digest(clean)
    assert resumed.keys() == fresh.keys()
    assert [k for k in resumed if resumed[k] != fresh[k]] == []
    assert len(list(out.rglob("*.png"))) == 1500 and not list(out.rglob("*.fdsl-tmp"))
    assert json.loads((out / "manifest.json").read_text())["complete"]


def test_ranks_split_categories_and_complete_together(tmp_path, monkeypatch):
    db = fdsl_gen.get_database("ofdb", categories=7, **SMALL)
    out = tmp_path / "ranks"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert run_export(db, out)["images"] == 3  # categories 1, 3, 5
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["00001", "00003", "00005"]
    assert not json.loads((out / "manifest.json").read_text())["complete"]
    monkeypatch.setenv("RANK", "0")
    assert run_export(db, out)["images"] == 4
    assert json.loads((out / "manifest.json").read_text())["complete"]
    assert not [p for p in out.iterdir() if p.name.startswith(".fdsl")]
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    single = tmp_path / "single"
    run_export(db, single)
    assert tree_digest(out) == tree_digest(single)
