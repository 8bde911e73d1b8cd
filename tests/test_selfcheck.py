"""The self-check: `fdsl-gen selftest` on the CPU, and the cuda verdicts, their cache and the fallbacks.

The cuda path runs here on the host shim (`cuda_on_host`: the same kernels compiled for the CPU), so the
self-check's whole machinery is exercised without a GPU; a mismatch is planted by replacing the check.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import fdsl_gen
from fdsl_gen import selfcheck
from fdsl_gen.cli import app


@pytest.fixture
def fresh_verdicts(monkeypatch, tmp_path):
    """Empty in-memory and on-disk verdict caches; `auto` may pick cuda (the suite's FDSL_DEVICE=cpu lifted)."""
    monkeypatch.setenv("FDSL_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FDSL_DEVICE", raising=False)
    monkeypatch.setattr(selfcheck, "_verdicts", {})
    monkeypatch.setattr(selfcheck, "_warned", set())
    return tmp_path


def test_compare_names_the_first_difference():
    a = {"x": np.zeros((2, 3), np.uint8), "y": np.arange(4)}
    assert selfcheck.compare(a, {k: v.copy() for k, v in a.items()}) == ""
    b = {"x": a["x"].copy(), "y": np.array([0, 1, 7, 7])}
    assert selfcheck.compare(b, a) == "y: 2 of 4 values differ"
    assert "shape" in selfcheck.compare({"x": a["x"][:1], "y": a["y"]}, a)
    assert "shape" in selfcheck.compare({"y": a["y"]}, a)


def test_every_cpu_backend_is_exact_against_the_reference():
    rows = selfcheck.report()
    assert {r["database"] for r in rows} == {*fdsl_gen.list_databases(), selfcheck.AUGMENT}
    for r in rows:
        assert r["status"] in ("exact", "unavailable"), r
        if r["backend"] == "numba":
            assert r["status"] == "exact", r
        if r["status"] == "unavailable":
            assert r["detail"], r


def test_the_augmentation_check_compares_the_fast_path_with_the_reference():
    """The Triton/torch path (Triton's interpreter on CPU tensors here) equals the reference on the check batch."""
    fast, ref = selfcheck.augment_outputs("fast", "cpu"), selfcheck.augment_outputs("ref")
    assert set(fast) == set(ref) == {"resize/1", "resize/3", "augment/1", "augment/3"}
    assert selfcheck.compare(fast, ref) == ""
    ref["augment/3"][0, 0, 0, 0] ^= 1
    assert selfcheck.compare(fast, ref) == "augment/3: 1 of 41472 values differ"


def test_the_augmentation_verdict_is_made_once_and_trusted(fresh_verdicts, monkeypatch):
    """augment_trusted() runs the check (here on CPU tensors under the interpreter) once, then remembers it."""
    real = selfcheck.augment_outputs
    monkeypatch.setattr(selfcheck, "augment_outputs", lambda impl, device="cuda": real(impl, "cpu"))
    monkeypatch.setattr(selfcheck, "_device_id", lambda what: "host")
    assert selfcheck.augment_trusted()
    assert json.loads((fresh_verdicts / "selfcheck" / "augment-host.json").read_text())["status"] == "exact"
    monkeypatch.setattr(selfcheck, "check_augment", lambda: pytest.fail("checked twice"))
    assert selfcheck.augment_trusted()


def test_check_outputs_cover_renders_and_searches():
    cls = fdsl_gen.database_class("ofdb")
    out = cls.check_outputs("numba")
    assert "search" in out and sum(k.endswith("/fresh") for k in out) == len(cls.check_options)
    assert all(v.size and v.any() for v in out.values())  # nothing empty or blank


def test_cuda_is_trusted_after_its_check_and_the_verdict_is_cached(cuda_on_host, fresh_verdicts, monkeypatch):
    cls = fdsl_gen.database_class("rcdb")
    assert selfcheck.cuda_verdict(cls) == selfcheck.Verdict("exact")
    (stored,) = (fresh_verdicts / "selfcheck").glob("rcdb-*.json")
    assert json.loads(stored.read_text())["status"] == "exact"
    monkeypatch.setattr(selfcheck, "_verdicts", {})  # a new process: the verdict comes from the disk
    monkeypatch.setattr(selfcheck, "check", lambda *a: pytest.fail("the cached verdict was not used"))
    assert selfcheck.cuda_verdict(cls).status == "exact"
    db = fdsl_gen.get_database("rcdb", categories=3, size=96, start_pos=64, vertex_num=40)
    assert db.resolve_backend("auto") == "cuda" and db.resolve_backend("cuda") == "cuda"


def test_a_mismatch_falls_back_under_auto_and_is_an_error_when_asked(cuda_on_host, fresh_verdicts, monkeypatch):
    monkeypatch.setattr(selfcheck, "check", lambda *a: selfcheck.Verdict("mismatch", "0/written: 3 of 9 values differ"))
    db = fdsl_gen.get_database("ofdb", categories=2, size=64, points=4000)
    with pytest.warns(RuntimeWarning, match="cuda backend of ofdb does not reproduce"):
        assert db.resolve_backend("auto") == "numba"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per database and process
        assert db.resolve_backend("auto") == "numba"
    with pytest.raises(fdsl_gen.UsageError, match="cuda backend of ofdb does not reproduce.*--backend numba"):
        db.render_array([0], [0], backend="cuda")
    r = CliRunner().invoke(app, ["render", "--db", "ofdb", "--categories", "2", "--backend", "cuda", "--out",
                                 str(fresh_verdicts / "x")])
    assert r.exit_code == 2 and "ofdb" in r.output and not (fresh_verdicts / "x").exists()


def test_a_backend_that_cannot_run_is_unavailable_not_cached(cuda_on_host, fresh_verdicts, monkeypatch):
    def broken(backend):
        raise RuntimeError("no kernel image is available")

    cls = fdsl_gen.database_class("ofdb3d")
    monkeypatch.setattr(cls, "check_outputs", staticmethod(broken))
    verdict = selfcheck.cuda_verdict(cls)
    assert verdict.status == "unavailable" and "no kernel image" in verdict.detail
    assert not list((fresh_verdicts / "selfcheck").glob("ofdb3d-*.json"))


def test_selftest_command(monkeypatch, tmp_path):
    r = CliRunner().invoke(app, ["selftest", "--db", "visual_atom", "--json", str(tmp_path / "s.json")])
    assert r.exit_code == 0, r.output
    assert any(line.split()[:3] == ["visual_atom", "numba", "exact"] for line in r.output.splitlines())
    assert json.loads((tmp_path / "s.json").read_text())["rows"]
    monkeypatch.setattr(selfcheck, "check", lambda *a: selfcheck.Verdict("mismatch", "planted"))
    r = CliRunner().invoke(app, ["selftest", "--db", "visual_atom"])
    assert r.exit_code == 1 and "mismatch" in r.output
