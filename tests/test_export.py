"""Writing datasets: the originals' layout, webdataset shards, same bytes every time, resume after a kill."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import fdsl_gen
from fdsl_gen.errors import UsageError
from fdsl_gen.export import disk, writer
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


def test_classes_file_gives_the_category_order(tmp_path):
    # 1p-frac's folders are 00..99, 100: alphabetically, 100 comes before 99
    db = fdsl_gen.get_database("onepfrac", categories=101, size=32, points=2000)
    run_export(db, tmp_path / "p")
    lines = (tmp_path / "p/classes.txt").read_text().splitlines()
    assert lines[:2] == ["00", "01"] and lines[99:] == ["99", "100"]
    folders = sorted(p.name for p in (tmp_path / "p").iterdir() if p.is_dir())
    assert folders.index("100") < folders.index("99")  # what a plain ImageFolder would number
    for k, folder in enumerate(lines):
        assert len(list((tmp_path / "p" / folder).glob("*.png"))) == 1 and folder == f"{k:02d}"


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
    samples = wds_samples(tmp_path / "w")
    assert sorted(samples) == sorted(f"{c:05d}/{c:05d}_00_count_{i}_flip0" for c in range(5) for i in range(2))
    for key, files in samples.items():
        assert int(files["cls"]) == int(key[:5])
        np.testing.assert_array_equal(np.asarray(Image.open(files["png"]))[..., 0],
                                      db.render_array(int(key[:5]), int(key.split("_")[3]))[0, 0])
    first = [k for k in samples if samples[k]["shard"] == "SHARDS-000000.tar"]
    assert len({k[:5] for k in first}) > 2  # a seeded shuffle: shards are not runs of one category
    doc = json.loads((tmp_path / "w/manifest.json").read_text())
    assert doc["identity"]["order"] == "shuffled"


def wds_samples(root: Path) -> dict:
    """{key: {"png": file, "cls": text, "shard": name}} read as webdataset groups them (key = the path up to
    the first dot of the file name); a key seen twice fails, as it does in webdataset."""
    import io

    samples = {}
    for shard in sorted(root.glob("*.tar")):
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                folder, _, name = member.name.rpartition("/")
                key, ext = (f"{folder}/" if folder else "") + name.split(".", 1)[0], name.split(".", 1)[1]
                entry = samples.setdefault(key, {"shard": shard.name})
                assert ext not in entry and entry["shard"] == shard.name, f"duplicate sample {key} in {shard.name}"
                data = tar.extractfile(member).read()
                entry[ext] = io.BytesIO(data) if ext == "png" else data.decode()
    return samples


def test_webdataset_keys_are_unique_when_file_names_repeat(tmp_path):
    # VisualAtom names its files by vertex count, which categories share (here 4 categories, 2 counts)
    db = fdsl_gen.get_database("visual_atom", categories=4, instances=2, vertex_num_min=40, vertex_num_max=41,
                               line_num_max=3)
    names = {Path(db.relative_path(c, 0)).name for c in range(4)}
    assert len(names) < 4  # the clash this test is about
    run_export(db, tmp_path / "va", format="webdataset", shard_size=3)
    samples = wds_samples(tmp_path / "va")
    assert len(samples) == 8 and sorted(int(s["cls"]) for s in samples.values()) == [0, 0, 1, 1, 2, 2, 3, 3]


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
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda p: SimpleNamespace(free=1000))
    db = fdsl_gen.get_database("ofdb", categories=6, **SMALL)
    with pytest.raises(UsageError, match="not enough free space"):
        run_export(db, tmp_path / "full")
    assert not (tmp_path / "full").exists()
    run_export(db, tmp_path / "forced", force=True)
    assert len(list((tmp_path / "forced").rglob("*.png"))) == 6


KILLED_AT_BATCH = """
import os, signal, sys
from fdsl_gen.export import writer
from fdsl_gen.cli import main
real, calls = writer._render_chunk, [0]
def render_then_die(*args):
    calls[0] += 1
    if calls[0] == 6:  # the size sample, then 4 batches rendered: SIGKILL, no clean-up of any kind
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)
writer._render_chunk = render_then_die
sys.argv = ["fdsl-gen", "render", *sys.argv[1:]]
main()
"""


def test_killed_render_resumes_without_loss_or_duplication(tmp_path):
    args = ["--db", "ofdb", "--categories", "600", "--size", "64", "--points", "20000", "--batch", "32", "--quiet",
            "--workers", "2"]
    out = tmp_path / "killed"
    env = {**os.environ, "FDSL_DEVICE": "cpu"}
    killed = subprocess.run([sys.executable, "-c", KILLED_AT_BATCH, *args, "--out", str(out)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    written = len(list(out.rglob("*.png")))
    assert 0 < written <= 4 * 32  # what the pool finished before the kill
    assert not json.loads((out / "manifest.json").read_text())["complete"]
    subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(out)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(clean)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed, fresh = tree_digest(out), tree_digest(clean)
    assert resumed.keys() == fresh.keys()
    assert [k for k in resumed if resumed[k] != fresh[k]] == []
    assert len(list(out.rglob("*.png"))) == 600 and not list(out.rglob("*.fdsl-tmp"))
    assert json.loads((out / "manifest.json").read_text())["complete"]


def test_a_rank_removes_only_its_own_leftovers(tmp_path):
    from fdsl_gen.io.atomic import remove_stale_temporaries, temporary_name

    target = tmp_path / "00001/00001_00_count_0_flip0.png"
    target.parent.mkdir()
    files = {rank: temporary_name(target, rank) for rank in (0, 1, 5)}
    legacy = target.with_name(f".{target.name}.123.fdsl-tmp")  # an older version's name
    for f in (*files.values(), legacy):
        f.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path, rank=1, world=2) == 1  # its own only
    assert not files[1].exists() and files[0].exists() and files[5].exists() and legacy.exists()
    assert remove_stale_temporaries(tmp_path, rank=0, world=2) == 3  # its own, rank 5 (gone) and the legacy one
    assert not list(tmp_path.rglob("*.fdsl-tmp"))


def test_ranks_writing_at_the_same_time(tmp_path):
    # two torchrun-like ranks at once, each starting by removing stale temporaries while the other writes
    out = tmp_path / "both"
    args = [sys.executable, "-m", "fdsl_gen.cli", "render", "--db", "ofdb", "--categories", "24", "--size", "48",
            "--points", "3000", "--batch", "2", "--workers", "2", "--quiet", "--out", str(out)]
    env = {**os.environ, "WORLD_SIZE": "2", "FDSL_DEVICE": "cpu"}
    procs = [subprocess.Popen(args, env={**env, "RANK": str(r)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for r in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert len(list(out.rglob("*.png"))) == 24 and not list(out.rglob("*.fdsl-tmp"))
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
