"""Launch configurations at 100,000+ images: the shape arithmetic of every CUDA launch, without rendering.

A recording runner stands in for the GPU: uploads and allocations are shapes only (100,000 images of
362² would need 13 GB), and every launch is checked against CUDA's grid limits (x < 2**31; y, z <=
65,535), the H100/H200's 227 KB of dynamic shared memory and 1,024 threads per block.
"""

from __future__ import annotations

import numpy as np
import pytest

from fdsl_gen.backends.cuda_runner import ALIGN, grid_limits, pack_layout

MAX_SHARED = 227 * 1024
N = 100_000


class Shape:
    """An array that is only a shape (and a dtype)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    def __getitem__(self, index: slice) -> "Shape":  # a slice along the first axis (pointer arithmetic)
        return Shape((len(range(self.shape[0])[index]), *self.shape[1:]), self.dtype)


class RecordingRunner:
    def __init__(self):
        self.launches = []
        self.uploads = 0

    def upload(self, *arrays):
        self.uploads += 1
        return [Shape(a.shape, a.dtype) for a in arrays]

    def constant(self, name, make):
        return Shape((0,), np.uint8)

    def empty(self, shape, dtype):
        return Shape(shape, dtype)

    def fill(self, array, value):
        pass

    def launch(self, key, name, grid, block, smem, signature, args):
        assert len(signature.split()) == len(args), name
        dims = grid_limits(grid)
        assert 1 <= block <= 1024 and 0 <= smem <= MAX_SHARED, (name, block, smem)
        self.launches.append((name, dims, block, smem))

    def result(self, array):
        return array


def test_grid_limits():
    assert grid_limits((N,)) == (N, 1, 1)
    assert grid_limits((2**31 - 1, 65535, 7)) == (2**31 - 1, 65535, 7)
    for bad in ((2**31,), (1, 65536), (0,), (5, 1, 70000)):
        with pytest.raises(ValueError):
            grid_limits(bad)


def test_packed_uploads_are_aligned():
    arrays = [np.zeros(3, np.uint8), np.zeros((2, 5), np.float64), np.zeros(0, np.int64), np.zeros(7, np.uint32)]
    offsets, total = pack_layout(arrays)
    assert all(off % ALIGN == 0 for off in offsets) and total % ALIGN == 0
    assert all(b - a >= arr.nbytes for a, b, arr in zip(offsets, offsets[1:] + [total], arrays))


@pytest.mark.parametrize("size,draw_type", [(362, "patch_gray"), (4096, "point_color"), (16, "patch_color")])
def test_ifs2d_at_100k_images(size, draw_type):
    from fdsl_gen.databases.ifs2d import render_cuda
    from fdsl_gen.databases.ifs2d.batch import IFSBatch, RenderSettings, pack_systems

    halves = np.array([[0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5], [0.5, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5]])
    packed, n_maps = pack_systems([halves])
    n = 200_000
    batch = IFSBatch(packed, n_maps, np.zeros(N, np.int64), np.zeros(N, np.int64), np.zeros((N, 2), np.uint32),
                     table_index=np.zeros(1, np.int64))
    traced = render_cuda.Traced(*(Shape((1,), np.float64) for _ in range(4)), np.ones(1, bool), n)
    runner = RecordingRunner()
    settings = RenderSettings(size=size, n_points=n, draw_type=draw_type, seed=0, patch_stream=1)
    out = render_cuda.render(batch, settings, runner=runner, traced=traced)
    assert out.shape == (N, 3 if "color" in draw_type else 1, size, size)
    raster = [launch for launch in runner.launches if launch[0].endswith("_raster")]
    n_bands, band_rows, smem = render_cuda.raster_grid(size, draw_type == "point_gray")
    assert len(raster) == 1 and raster[0][1][0] == N * n_bands  # (image, band) pairs on the grid's x
    assert n_bands * band_rows >= size and raster[0][3] == smem <= render_cuda.BAND_BYTES
    assert runner.uploads == 1  # one packed upload per render (constants aside)


def test_contours_at_100k_images():
    from fdsl_gen.databases.contours import render_cuda
    from fdsl_gen.databases.contours.batch import ContourBatch, ContourSettings

    full = lambda v, dtype=np.float64: np.full(N, v, dtype=dtype)  # noqa: E731
    batch = ContourBatch(vertices=full(1000, np.int64), orbits=full(200, np.int64), eta=full(4.0), c=full(0.1),
                         r0=full(60.0), sx=full(2.0), sy=full(2.0), xc=full(256.0), yc=full(256.0),
                         n1=full(7, np.int64), n2=full(13, np.int64), key=np.zeros((N, 2), np.uint32))
    runner = RecordingRunner()
    out = render_cuda.render(batch, ContourSettings(512, 0, 0, 256, 0, 1), runner=runner)
    assert out.shape == (N, 1, 512, 512) and runner.launches[0][1][0] == N and runner.uploads == 1


def test_ifs3d_at_100k_views():
    from fdsl_gen.databases.ifs3d import render_cuda
    from fdsl_gen.databases.ifs3d.batch import Settings3D, ViewBatch, pack_systems

    packed, n_maps = pack_systems([np.column_stack([np.eye(3).reshape(1, 9).repeat(2, 0) * 0.5,
                                                    np.array([[0, 0, 0], [0.5, 0.5, 0.5]]), [0.5, 0.5]])])
    batch = ViewBatch(packed, n_maps, np.zeros((1, 2), np.uint32), np.zeros(N, np.int64), np.zeros((N, 4, 4)),
                      model_index=np.zeros(1, np.int64))
    built = render_cuda.Models(Shape((1, 3, 9998), np.float32), Shape((1,), np.int32))
    for size in (224, 4096):
        for models in (None, built):  # the batch's own models, or a database's
            runner = RecordingRunner()
            settings = Settings3D(size=size, n_points=9999, seed=0, stream=1)
            out = render_cuda.render(batch, settings, runner=runner, models=models)
            assert out.shape == (N, 1, size, size)
            views = [launch for launch in runner.launches if launch[0].endswith("_views")]
            assert len(views) == 1 and views[0][1][0] == N and runner.uploads == (1 if models else 2)
