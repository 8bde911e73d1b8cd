"""Rendering from other processes and threads: a plain DataLoader with forked workers after the parent has
rendered, and renders from several Python threads at once (numba's fork-safe layer, `numba_parallel`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

FORKED_LOADER = """
    import numba, torch
    from torch.utils.data import DataLoader
    import fdsl_gen
    stream = fdsl_gen.FDSLStream("ofdb", categories=8, batch_size=2, image_size=32, augment="none", device="cpu",
                                 size=64, points=2000)
    first = next(iter(stream))  # the parent renders: numba's thread pool has run here
    stream = fdsl_gen.FDSLStream("ofdb", categories=8, batch_size=2, image_size=32, augment="none", device="cpu",
                                 size=64, points=2000)
    batches = list(DataLoader(stream, batch_size=None, num_workers=2))  # fork, the DataLoader's default here
    labels = sorted(int(k) for _, y in batches for k in y)
    assert labels == list(range(8)), labels
    print("ok", numba.threading_layer())
"""

THREADS = """
    import threading
    import numpy as np
    import fdsl_gen
    db = fdsl_gen.get_database("ofdb", categories=16, size=64, points=2000)
    want = db.render_array(np.arange(16), 0, "numba")
    errors = []
    def work():
        try:
            for _ in range(10):
                assert (db.render_array(np.arange(16), 0, "numba") == want).all()
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    print("ok")
"""


FORKED_AFTER_OPENMP = """
    import numpy as np
    from torch.utils.data import DataLoader
    import fdsl_gen
    fdsl_gen.get_database("ofdb", categories=4, size=64, points=2000).render_array(np.arange(4), 0, "numba")
    stream = fdsl_gen.FDSLStream("ofdb", categories=8, batch_size=2, image_size=32, augment="none", device="cpu",
                                 size=64, points=2000)
    try:
        list(DataLoader(stream, batch_size=None, num_workers=2))
    except Exception as exc:
        print("refused:", exc)
    assert len(list(stream.loader(num_workers=2))) == 4  # the way it names works
"""


def run_script(source: str, layer: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    env.update({"FDSL_DEVICE": "cpu", **({"NUMBA_THREADING_LAYER": layer} if layer else {})})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True,
                          timeout=600, env=env)


def test_plain_dataloader_forks_workers_after_the_parent_rendered():
    proc = run_script(FORKED_LOADER)
    assert proc.returncode == 0 and proc.stdout.startswith("ok workqueue"), proc.stderr[-2000:]


def test_a_worker_forked_after_openmp_gets_an_error_not_an_abort():
    proc = run_script(FORKED_AFTER_OPENMP)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if "refused:" not in proc.stdout:  # numba's default layer here is fork-safe: nothing to refuse
        pytest.skip("numba's default threading layer here is not GNU OpenMP")
    assert "stream.loader(num_workers=k)" in proc.stdout and "forked after numba's OpenMP" in proc.stdout


@pytest.mark.parametrize("layer", ["workqueue", None])
def test_renders_from_several_threads_at_once(layer):
    proc = run_script(THREADS, layer)  # workqueue aborts on concurrent launches: the launch lock prevents them
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stderr[-2000:]


# -- FDSLDataset: map-style, for torchvision/timm pipelines ---------------------------------------------

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, DistributedSampler  # noqa: E402

from fdsl_gen import FDSLDataset, get_database  # noqa: E402
from fdsl_gen.errors import UsageError  # noqa: E402

SMALL = dict(size=48, points=2000)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """A torchvision-style transform (PIL in, float tensor out) without torchvision."""
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float().div(255)


def test_dataset_items_are_the_written_instances():
    ds = FDSLDataset("fractaldb", categories=3, instances=4, **SMALL)
    db = get_database("fractaldb", categories=3, instances=4, **SMALL)
    assert len(ds) == 12 and ds.locate(7) == (1, 3) and ds.locate(-1) == (2, 3)
    image, label = ds[7]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (48, 48) and label == 1
    np.testing.assert_array_equal(np.asarray(image)[..., 0], db.render_array(1, 3)[0, 0])
    assert np.array_equal(np.asarray(ds[7][0]), np.asarray(image))  # deterministic per index
    tensor, _ = FDSLDataset("fractaldb", categories=3, instances=4, output="tensor", channels=1, **SMALL)[7]
    assert tensor.dtype == torch.uint8 and tensor.shape == (1, 48, 48)
    with pytest.raises(IndexError):
        ds[12]
    with pytest.raises(UsageError, match="renders on the CPU"):
        FDSLDataset("ofdb", categories=2, backend="cuda", **SMALL)


DATASET_FORKED = """
    import numpy as np, torch
    from torch.utils.data import DataLoader
    import fdsl_gen
    to_tensor = lambda im: torch.from_numpy(np.asarray(im).copy())
    ds = fdsl_gen.FDSLDataset("ofdb", categories=10, instances=2, transform=to_tensor, size=48, points=2000)
    first = ds[0][0]  # the main process renders first
    images, labels = zip(*DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="fork"))
    assert torch.cat(labels).tolist() == [k // 2 for k in range(20)]
    assert torch.equal(torch.cat(images)[0], first)
    print("ok")
"""


def test_dataset_in_a_dataloader_with_forked_workers():
    # a fresh process, as a training script is: the dataset, made first, chose the fork-safe layer
    proc = run_script(DATASET_FORKED)
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stderr[-2000:]


def test_dataset_in_a_dataloader_with_spawned_workers():
    ds = FDSLDataset("ofdb", categories=10, instances=2, transform=to_tensor, **SMALL)
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    images, labels = zip(*loader)
    images, labels = torch.cat(images), torch.cat(labels)
    assert images.shape == (20, 3, 48, 48) and images.dtype == torch.float32
    assert labels.tolist() == [k // 2 for k in range(20)]
    single = torch.stack([ds[i][0] for i in range(20)])
    assert torch.equal(images, single)  # workers render what the main process would


def test_dataset_with_a_distributed_sampler_covers_each_index_once():
    ds = FDSLDataset("ofdb", categories=7, transform=to_tensor, **SMALL)
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=3, drop_last=False)
        loader = DataLoader(ds, batch_size=3, sampler=sampler, num_workers=1, multiprocessing_context="spawn")
        for images, labels in loader:
            assert torch.equal(images[0], ds[int(labels[0])][0])  # instance 0 of each category
            seen += labels.tolist()
    assert len(seen) == 8 and sorted(set(seen)) == list(range(7))  # 7 indices padded to 8 over 2 ranks
