"""What a newcomer types wrong, and what a long job meets: each a one-line error (exit 2) or a message
(exit 130), with nothing left behind (issue 16)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fdsl_gen import cli
from fdsl_gen.export import disk, writer
from fdsl_gen.io import atomic

runner = CliRunner()
SMALL = ["--size", "32", "--points", "2000"]


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def one_line_error(r, message: str) -> None:
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output


def console(monkeypatch, capsys, *args) -> tuple[int, str]:
    """(exit status, stderr) of the console entry point, as a shell would run it."""
    monkeypatch.setattr(sys, "argv", ["fdsl-gen", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return done.value.code, capsys.readouterr().err.strip()


def test_empty_out_is_an_error_not_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for command in (["render", "--db", "ofdb", "--categories", "2", *SMALL], ["search", "--db", "ofdb"],
                    ["preview", "--db", "ofdb", *SMALL]):
        code, err = console(monkeypatch, capsys, *command, "--out", "")
        assert code == 2 and err.startswith("error: ") and "empty path" in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,message", [
    (["--columns", "-3"], "--columns must be at least 1"),
    (["--categories", "5000"], "preview shows 1 to 256 categories"),
    (["--categories", "0"], "preview shows 1 to 256 categories"),
])
def test_preview_refuses_bad_sheets(tmp_path, args, message):
    one_line_error(invoke("preview", "--db", "ofdb", *SMALL, *args, "--out", tmp_path / "p.png"), message)
    assert not (tmp_path / "p.png").exists()


def test_preview_cells_carry_their_category(tmp_path):
    for labels in ([], ["--no-labels"]):
        r = invoke("preview", "--db", "ofdb", "--categories", 3, "--size", 48, "--points", 2000, *labels,
                   "--out", tmp_path / f"p{len(labels)}.png")
        assert r.exit_code == 0, r.output
    with_ids, plain = (np.asarray(Image.open(tmp_path / f"p{k}.png")) for k in (0, 1))
    assert with_ids.shape == plain.shape
    corner = (slice(2, 14), slice(2, 12))  # the first cell's top-left: the label "0" in yellow on black
    assert (with_ids[corner][..., 2] == 0).any() and (with_ids[corner][..., 0] > 200).any()
    assert not np.array_equal(with_ids[corner], plain[corner])
    # the originals' spelling of the category count sets the cells too (it was "given twice" for a moment)
    r = invoke("preview", "--db", "ofdb", "--numof_classes", 3, "--size", 48, "--points", 2000,
               "--out", tmp_path / "p2.png")
    assert r.exit_code == 0 and "3 categories" in r.output, r.output
    assert np.array_equal(np.asarray(Image.open(tmp_path / "p2.png")), with_ids)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="no /proc here")
def test_virtual_file_system_is_not_a_disk(tmp_path):
    one_line_error(invoke("render", "--db", "ofdb", "--categories", 2, *SMALL, "--out", "/proc/fdsl-x"),
                   "not on a disk")


def test_an_impossible_size_fails_at_once(tmp_path):
    r = invoke("render", "--db", "ofdb", "--categories", 1000, "--instances", 100_000_000, *SMALL,
               "--out", tmp_path / "huge")
    lines = [line for line in r.output.splitlines() if line.startswith("error: ")]
    assert r.exit_code == 2 and len(lines) == 1 and "not enough free space" in lines[0], r.output
    assert not (tmp_path / "huge").exists()


def test_a_foreign_folder_is_refused_unless_forced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("my own files")
    args = ["render", "--db", "ofdb", "--categories", 2, *SMALL, "--quiet", "--out", tmp_path / "mine"]
    one_line_error(invoke(*args), "not empty and holds no fdsl-gen dataset")
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    assert invoke(*args, "--force").exit_code == 0
    assert (tmp_path / "mine/00001/00001_00_count_0_flip0.png").exists()


def test_a_full_disk_is_one_line_and_leaves_no_temporaries(tmp_path, monkeypatch):
    real_open, calls = open, [0]

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            calls[0] += 1
            if calls[0] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

    monkeypatch.setattr(atomic, "open", lambda p, mode: Full(real_open(p, mode)), raising=False)
    out = tmp_path / "full"
    r = invoke("render", "--db", "ofdb", "--categories", 40, *SMALL, "--workers", 2, "--batch", 8, "--quiet",
               "--force", "--out", out)
    errors = [line for line in r.output.splitlines() if line.startswith("error: ")]
    assert r.exit_code == 2 and len(errors) == 1 and r.output.strip().splitlines()[-1] == errors[0], r.output
    assert "No space left on device" in errors[0] and "run the same command again to resume" in errors[0]
    on_disk = len(list(out.rglob("*.png")))
    assert 0 < on_disk < 40 and f"{on_disk} of 40 images written" in errors[0]  # what landed is counted
    assert not list(out.rglob(f"*{atomic.TMP_SUFFIX}"))
    monkeypatch.undo()
    r = invoke("render", "--db", "ofdb", "--categories", 40, *SMALL, "--quiet", "--out", out)
    assert r.exit_code == 0 and len(list(out.rglob("*.png"))) == 40


def test_interrupt_says_how_to_resume(tmp_path, monkeypatch, capsys):
    real, calls = writer._render_chunk, [0]

    def stop_on_third(*args):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(writer, "_render_chunk", stop_on_third)
    out = tmp_path / "int"
    code, err = console(monkeypatch, capsys, "render", "--db", "ofdb", "--categories", "12", *SMALL, "--batch", "4",
                        "--quiet", "--out", out)
    assert code == 130 and len(err.splitlines()) == 1, err
    on_disk = len(list(out.rglob("*.png")))
    assert err.startswith(f"interrupted: {on_disk} of 12 images written") and "run the same command again" in err
    assert on_disk < 12
    assert not list(out.rglob(f"*{atomic.TMP_SUFFIX}"))


def test_a_table_sets_the_default_category_count(tmp_path):
    assert invoke("search", "--db", "ofdb", "--categories", 5, "--out", tmp_path / "cats5").exit_code == 0
    r = invoke("render", "--db", "ofdb", "--table", tmp_path / "cats5", *SMALL, "--quiet", "--out", tmp_path / "d")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "d").rglob("*.png"))) == 5
    one_line_error(invoke("render", "--db", "ofdb", "--table", tmp_path / "cats5", "--categories", 6, *SMALL,
                          "--out", tmp_path / "e"), "has 5 categories, 6 were asked for")


def test_a_finished_dataset_says_it_is_complete(tmp_path):
    args = ["render", "--db", "ofdb", "--categories", 3, *SMALL, "--quiet", "--out", tmp_path / "d"]
    assert invoke(*args).exit_code == 0
    r = invoke(*args)
    assert r.exit_code == 0 and "already holds all 3 images" in r.output, r.output


def test_space_check_counts_what_is_left_on_resume(tmp_path, monkeypatch):
    out = tmp_path / "d"
    args = ["render", "--db", "ofdb", "--categories", 6, *SMALL, "--quiet", "--out", out]
    assert invoke(*args).exit_code == 0
    (out / "00002/00002_00_count_0_flip0.png").unlink()
    seen = []
    monkeypatch.setattr(writer, "check_space", lambda out, per, n, force, log: seen.append(n))
    assert invoke(*args).exit_code == 0
    assert seen == [1]


def test_check_writable_needs_a_name():
    with pytest.raises(Exception, match="empty"):
        disk.check_writable(Path(" "))
    assert os.path.isdir("/")


def test_version_list_and_help_read_well():
    from fdsl_gen import __version__

    r = invoke("--version")
    assert r.exit_code == 0 and r.output.strip() == f"fdsl-gen {__version__}"
    listing = invoke("list").output
    assert "--instances None" not in listing and "--instances 1000," in listing  # fractaldb's own count
    helps = runner.invoke(cli.app, ["render", "--help"], terminal_width=80).output
    assert "patch_colo\n" not in helps and "patch_color" in helps  # wrapped at spaces, not inside words
    assert "--time-search" in invoke("bench", "--help").output


def test_search_progress_counts_only_the_new_categories(monkeypatch, tmp_path):
    import io

    from tqdm import tqdm

    from fdsl_gen.databases.tables import cache

    class Progress:  # what the CLI's bar gets: told what is known, then one call per new category
        known_calls, steps = [], 0

        def known(self, k):
            self.known_calls.append(k)

        def __call__(self, n=1):
            self.steps += n

    class Table:
        def __init__(self, n):
            self.n_categories = n

        def save(self, path):
            pass

    def search(n, start, progress):
        for _ in range(n - start.n_categories):
            progress(1)
        return Table(n)

    monkeypatch.setattr(cache, "_known", lambda kind, name, shipped: Table(21_000))  # a shipped table
    monkeypatch.setattr(cache, "_cache_path", lambda name: tmp_path / "table")
    progress = Progress()
    table = cache.cached_table(Table, "test", 21_200, search, None, progress)
    assert progress.known_calls == [21_000] and progress.steps == 200 and table.n_categories == 21_200
    bar = cli.SearchProgress(tqdm(total=21_200, file=io.StringIO(), desc="search ofdb"))
    bar.known(21_000)
    assert bar.bar.total == 200 and "21,000 known" in bar.bar.desc
