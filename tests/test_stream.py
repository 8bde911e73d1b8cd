"""FDSLStream and its sampling plan: determinism, coverage over ranks and workers, resume, memory, torchrun."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import fdsl_gen
from fdsl_gen import FDSLStream, UsageError
from fdsl_gen.sampling import Permutation, Plan

from .conftest import SMALL_BY_DB

SMALL = {"categories": 5, "batch_size": 3, "image_size": 24}


def small_stream(db="ofdb", **kw) -> FDSLStream:
    options = {**SMALL_BY_DB.get(db, {}), **SMALL, **kw}
    return FDSLStream(db, **options)


def drain(stream, n=None):
    out = []
    for x, y in stream:
        out.append((x.clone(), y.clone()))
        if len(out) == n:  # stop before asking for another batch: the state counts delivered batches
            break
    return out


# -- the plan -------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 64, 1000, 4097])
def test_permutation_is_a_bijection_per_epoch(n):
    a = Permutation(n, seed=3, epoch=0)(np.arange(n))
    assert sorted(a.tolist()) == list(range(n))
    # each position's image is a function of that position alone: any order or subset of queries agrees
    order = np.random.default_rng(n).permutation(n)
    assert np.array_equal(Permutation(n, seed=3, epoch=0)(order), a[order])
    if n >= 17:
        assert not np.array_equal(a, Permutation(n, seed=3, epoch=1)(np.arange(n)))
        assert not np.array_equal(a, Permutation(n, seed=4, epoch=0)(np.arange(n)))


@pytest.mark.parametrize("world,batch,drop_last", [(1, 4, False), (2, 3, False), (3, 5, False), (2, 3, True)])
def test_epoch_covers_every_sample_once_over_ranks(world, batch, drop_last):
    n_cat, n_inst = 7, 5
    plans = [Plan(n_cat, n_inst, 9, batch, r, world, drop_last=drop_last) for r in range(world)]
    steps = {p.steps for p in plans}
    assert len(steps) == 1  # every rank the same number of batches: no DDP hang
    seen, positions = [], []
    for p in plans:
        for s in range(p.steps):
            cats, insts, draws = p.samples(s)
            keep = p.positions(s) < n_cat * n_inst  # the padding wraps around
            seen += list(zip(cats[keep].tolist(), insts[keep].tolist()))
            positions += p.positions(s).tolist()
    assert len(positions) == len(set(positions))
    if drop_last:
        assert len(seen) == len(set(seen)) == (n_cat * n_inst) // (world * batch) * world * batch
    else:
        assert sorted(seen) == [(c, i) for c in range(n_cat) for i in range(n_inst)]


def test_resume_at_another_world_size_sees_the_remaining_positions():
    n = 6 * 4
    first = [Plan(6, 4, 1, 2, r, 3) for r in range(3)]  # 2 global steps of 6 = positions [0, 12)
    done = sorted(p for plan in first for s in range(2) for p in plan.positions(s).tolist())
    assert done == list(range(12))
    later = [Plan(6, 4, 1, 5, r, 2, start=12) for r in range(2)]
    rest = sorted(p for plan in later for s in range(plan.steps) for p in plan.positions(s).tolist() if p < n)
    assert rest == list(range(12, n))


def test_repeated_augmentation_uses_each_index_repeat_times():
    plan = Plan(4, 3, 2, 6, repeats=3)
    cats, insts, draws = plan.samples(0)
    pairs = list(zip(cats.tolist(), insts.tolist()))
    assert pairs[0] == pairs[1] == pairs[2] and pairs[3] == pairs[4] == pairs[5] and pairs[0] != pairs[3]
    assert len(set(draws.tolist())) == 6  # each use its own augmentation


def test_infinite_plan_draws_in_range_and_differs_by_rank():
    a = Plan(10, 4, 0, 8, 0, 2, finite=False)
    b = Plan(10, 4, 0, 8, 1, 2, finite=False)
    assert a.steps is None
    ca, ia, da = a.samples(5)
    cb, _, db = b.samples(5)
    assert ca.max() < 10 and ia.max() < 4 and not set(da.tolist()) & set(db.tolist())


# -- the stream ------------------------------------------------------------------------------------

@pytest.mark.parametrize("db", fdsl_gen.list_databases())
def test_stream_is_deterministic_for_every_database(db):
    a = drain(small_stream(db, seed=4, augment="ofdb"), 2)
    b = drain(small_stream(db, seed=4, augment="ofdb"), 2)
    assert len(a) == 2
    for (xa, ya), (xb, yb) in zip(a, b):
        assert xa.shape == (3, 3, 24, 24) and xa.dtype == torch.float32 and ya.dtype == torch.int64
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    c = drain(small_stream(db, seed=5, augment="ofdb"), 1)
    assert not torch.equal(a[0][0], c[0][0])


def test_stream_covers_an_epoch_and_moves_to_the_next():
    stream = small_stream(categories=5, batch_size=2)
    assert len(stream) == 3
    labels = torch.cat([y for _, y in drain(stream)]).tolist()
    assert sorted(labels[:5]) == [0, 1, 2, 3, 4] and len(labels) == 6
    assert stream.state_dict()["epoch"] == 1 and stream.epoch == 1
    second = torch.cat([y for _, y in drain(stream)]).tolist()
    assert sorted(second[:5]) == [0, 1, 2, 3, 4] and second != labels


def test_dataloader_workers_split_the_steps_without_changing_them():
    reference = drain(small_stream(categories=8, batch_size=2))
    stream = small_stream(categories=8, batch_size=2)
    # numba's OpenMP pool already runs in this process: fork-started workers would be unsafe
    loaded = [(x, y) for x, y in DataLoader(stream, batch_size=None, num_workers=2, multiprocessing_context="spawn")]
    assert len(loaded) == len(reference) == 4
    for (xa, ya), (xb, yb) in zip(reference, loaded):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_loader_keeps_the_state_with_workers_and_resumes_exactly():
    whole = drain(small_stream(categories=9, batch_size=2))
    stream = small_stream(categories=9, batch_size=2)
    head = []
    for k, batch in enumerate(stream.loader(num_workers=2)):
        head.append(batch)
        if k == 1:
            break
    state = stream.state_dict()
    assert state["position"] == 4 and state["epoch"] == 0
    resumed = small_stream(categories=9, batch_size=2)
    resumed.load_state_dict(state)
    tail = drain(resumed)
    assert len(head) + len(tail) == len(whole)
    for (xa, ya), (xb, yb) in zip(whole, head + tail):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_resume_after_a_world_size_change_gives_the_uninterrupted_samples():
    whole = drain(small_stream(categories=12, batch_size=2))  # world 1: positions 0, 1 | 2, 3 | ...
    by_position = {2 * s + j: x[j] for s, (x, _) in enumerate(whole) for j in range(2)}
    ranks = [small_stream(categories=12, batch_size=1, rank=r, world_size=2) for r in range(2)]
    got = {}
    for r, stream in enumerate(ranks):
        for s, (x, _) in enumerate(drain(stream, 2)):
            got[2 * s + r] = x[0]
    resumed = small_stream(categories=12, batch_size=4)
    resumed.load_state_dict(ranks[0].state_dict())
    assert resumed.position == 4
    for s, (x, _) in enumerate(drain(resumed)):
        for j in range(4):
            got[4 + 4 * s + j] = x[j]
    for p in range(12):
        assert torch.equal(got[p], by_position[p]), p


def test_augmentation_is_drawn_per_sample():
    stream = small_stream(categories=1, batch_size=6, augment="ofdb", finite=False)
    x, y = drain(stream, 1)[0]
    assert y.tolist() == [0] * 6
    flat = x.reshape(6, -1)
    assert len({tuple(row.tolist()) for row in flat}) == 6  # the same category, six different images
    from fdsl_gen.augment import params
    p = params.draw(0, np.arange(64), (362, 362), stream.augment)
    assert len({tuple(b) for b in p.boxes.tolist()}) > 50
    assert 0 < p.flips[:, 0].mean() < 1 and 0 < p.flips[:, 1].mean() < 1
    assert (p.erase[:, 2] > 0).any() and (p.erase[:, 2] == 0).any()
    assert (p.ops >= 0).any() and (p.ops == -1).any()


def test_stream_output_options():
    stream = small_stream(augment={"preset": "deit", "dtype": "bfloat16", "channels_last": True})
    x, _ = drain(stream, 1)[0]
    assert x.dtype == torch.bfloat16 and x.is_contiguous(memory_format=torch.channels_last)
    gray = small_stream(augment={"preset": "none", "channels": 1})
    assert drain(gray, 1)[0][0].shape == (3, 1, 24, 24)


def test_stream_rejects_bad_input():
    with pytest.raises(UsageError):
        small_stream(augment="imagenet")
    with pytest.raises(UsageError):
        small_stream(rank=2, world_size=2)
    with pytest.raises(UsageError):
        small_stream(augment={"preset": "ofdb", "hflip": 2.0})
    other = small_stream(seed=1)
    with pytest.raises(UsageError):
        small_stream().load_state_dict(other.state_dict())


def test_memory_stays_flat_over_a_long_run():
    stream = small_stream(categories=3, batch_size=4, augment="ofdb", finite=False, size=64, points=500)
    it = iter(stream)
    for _ in range(30):  # warm-up: numba compilation, caches
        next(it)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(400):
        next(it)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 2_000_000, f"{grown} bytes kept after 1,600 images"


def test_two_process_torchrun_shards_one_epoch(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    script = Path(__file__).with_name("_stream_rank.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           str(tmp_path)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    assert ranks[0]["images"].shape[0] == ranks[1]["images"].shape[0] == 3  # ceil(21 / 8)
    single = FDSLStream("rcdb", categories=7, instances=3, batch_size=8, image_size=24, size=96, start_pos=64,
                         vertex_num=40, seed=5)
    reference = drain(single)
    ref_by_position = {8 * s + j: x[j].numpy() for s, (x, _) in enumerate(reference) for j in range(8)}
    positions = np.concatenate([r["positions"].reshape(-1) for r in ranks])
    assert sorted(positions.tolist()) == list(range(24))
    for r in ranks:
        for s in range(3):
            for j in range(4):
                assert np.array_equal(r["images"][s, j], ref_by_position[int(r["positions"][s, j])])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("db", fdsl_gen.list_databases())
def test_cuda_stream_matches_the_cpu_stream(db):
    cpu = drain(small_stream(db, augment="ofdb", device="cpu", batch_size=8), 2)
    gpu_stream = small_stream(db, augment="ofdb", device="cuda", batch_size=8)
    gpu = drain(gpu_stream, 2)
    assert gpu_stream.backend == "cuda"
    for (xc, yc), (xg, yg) in zip(cpu, gpu):
        assert xg.is_cuda and yg.is_cuda and torch.equal(yc, yg.cpu())
        assert torch.equal(xc, xg.cpu())  # every stage is exact: render, resample, RandAugment, normalisation


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("db", ["fractaldb", "ofdb", "onepfrac"])
def test_cuda_small_image_stream_matches_the_cpu(db):
    """The trainer's small-image path on the GPU: a 64-px canvas and the `small` preset, as on the CPU."""
    streams = [FDSLStream(db, categories=5, batch_size=8, image_size=32, augment="small", canvas=64, seed=3,
                          device=device) for device in ("cpu", "cuda")]
    cpu, gpu = (drain(s, 2) for s in streams)
    assert streams[1].backend == "cuda" and streams[1].db.config.size == 64
    for (xc, yc), (xg, yg) in zip(cpu, gpu):
        assert xg.is_cuda and xg.shape == (8, 3, 32, 32) and torch.equal(yc, yg.cpu())
        assert torch.equal(xc, xg.cpu())


@pytest.mark.parametrize("db", fdsl_gen.list_databases())
def test_a_variant_redraws_the_render_randomness(db):
    d = fdsl_gen.get_database(db, categories=2, **SMALL_BY_DB.get(db, {}))
    plain = d.render_array([1, 1], [0, 0])
    fresh = d.render_array([1, 1], [0, 0], variants=[7, 8])
    assert np.array_equal(d.render_array([1], [0], variants=[7])[0], fresh[0])  # a pure function of the variant
    assert not np.array_equal(fresh[0], fresh[1]) and not np.array_equal(plain[0], fresh[0])
    with pytest.raises(UsageError):
        d.render_array([1, 1], [0, 0], variants=[7])


def test_a_published_replay_streams_its_written_instances():
    options = {**SMALL_BY_DB["visual_atom"], "search": "published", "processes": 1, "instances": 2}
    stream = FDSLStream("visual_atom", categories=3, batch_size=2, image_size=24, augment="none", **options)
    assert not stream.fresh
    db = stream.db
    cats, insts, _ = stream.plan().samples(0)
    from fdsl_gen.augment import params as augment_params
    from fdsl_gen.augment.pipeline import augment
    expected = augment(db.render_array(cats, insts), augment_params.draw(0, stream.plan().samples(0)[2],
                                                                          db.image_shape[1:], stream.augment),
                       stream.augment)
    assert torch.equal(drain(stream, 1)[0][0], expected)
    with pytest.raises(UsageError):
        drain(FDSLStream("visual_atom", categories=3, batch_size=2, image_size=24, fresh=True, **options), 1)
