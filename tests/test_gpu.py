"""On a CUDA GPU (marker `gpu`): the cuda backend at full size against numba, searches, export, packaging.

Skipped elsewhere with the backend probe's reason; the same kernels run on the CPU in test_parity.py.
"""

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.backends import unavailable_reason

REASON = unavailable_reason("cuda")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(REASON is not None, reason=f"cuda: {REASON}")]


@pytest.mark.parametrize("key", fdsl_gen.list_databases())
def test_cuda_equals_numba_at_native_size(key):
    db = fdsl_gen.get_database(key, categories=32, seed=5)
    rng = np.random.default_rng(0)
    cats = rng.integers(0, 32, 48)
    insts = rng.integers(0, db.n_instances, 48)
    gpu = db.render(cats, insts, backend="cuda")
    assert gpu.is_cuda
    np.testing.assert_array_equal(gpu.cpu().numpy(), db.render_array(cats, insts, backend="numba"))


def test_cuda_alone_equals_inside_a_batch():
    db = fdsl_gen.get_database("visual_atom", categories=8)
    batch = db.render_array(np.arange(8), 3, backend="cuda")
    for k in (0, 5):
        np.testing.assert_array_equal(db.render_array(k, 3, backend="cuda")[0], batch[k])


def test_cuda_searches_equal_numba():
    from fdsl_gen.databases.ifs2d import render_cuda as r2c
    from fdsl_gen.databases.ifs2d import render_numba as r2n
    from fdsl_gen.databases.ifs2d.search import SearchConfig, run_search
    from fdsl_gen.databases.ifs3d import render_cuda as r3c
    from fdsl_gen.databases.ifs3d import render_numba as r3n
    from fdsl_gen.databases.ifs3d.search import Search3DConfig
    from fdsl_gen.databases.ifs3d.search import run_search as run_search_3d

    assert run_search(SearchConfig(), 20, r2c.point_fill_counts).digest() == \
        run_search(SearchConfig(), 20, r2n.point_fill_counts).digest()
    cfg = SearchConfig(mode="native", seed=3)
    assert run_search(cfg, 20, r2c.point_fill_counts).digest() == run_search(cfg, 20, r2n.point_fill_counts).digest()
    cfg3 = Search3DConfig(seed=3)
    assert run_search_3d(cfg3, 20, r3c.evaluate).digest() == run_search_3d(cfg3, 20, r3n.evaluate).digest()


def test_render_to_disk_with_cuda(tmp_path):
    from fdsl_gen.export.writer import ExportOptions, export

    db = fdsl_gen.get_database("ofdb", categories=64)
    export(db, ExportOptions(out=tmp_path / "g", backend="cuda"), progress=False, log=lambda *_: None)
    export(db, ExportOptions(out=tmp_path / "c", backend="numba"), progress=False, log=lambda *_: None)
    for p in (tmp_path / "c").rglob("*.png"):
        assert (tmp_path / "g" / p.relative_to(tmp_path / "c")).read_bytes() == p.read_bytes()


@pytest.mark.parametrize("key", fdsl_gen.list_databases())
def test_renders_and_the_stream_never_wait_for_the_gpu(key):
    """After `prepare`, a render and the stream only queue work: any hidden synchronisation raises here."""
    import torch

    from .conftest import SMALL_BY_DB

    db = fdsl_gen.get_database(key, categories=16, **SMALL_BY_DB[key])
    assert db.prepare("cuda") == "cuda"
    stream = fdsl_gen.FDSLStream(db, batch_size=8, image_size=32, augment="ofdb", device="cuda", backend="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        images = db.render(np.arange(8) % 16, np.zeros(8, np.int64), backend="cuda", variants=np.arange(8))
        batches = [x for _, (x, _) in zip(range(3), stream)]
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert images.is_cuda and all(x.is_cuda and x.shape == (8, 3, 32, 32) for x in batches)
    expected = db.render_array(np.arange(8) % 16, np.zeros(8, np.int64), backend="numba", variants=np.arange(8))
    np.testing.assert_array_equal(images.cpu().numpy(), expected)


def test_the_self_check_trusts_cuda_here():
    from fdsl_gen import selfcheck

    for key in fdsl_gen.list_databases():
        verdict = selfcheck.cuda_verdict(fdsl_gen.database_class(key))
        assert verdict.status == "exact", f"{key}: {verdict}"
