"""The published replay of the released RCDB and VisualAtom scripts (`search="published"`).

docs/spec/contours.md §2.7. The original is launched as N processes; process p seeds Python's `random`
with p + 1 and writes categories [p*per, (p+1)*per), per = floor(C / N) (VisualAtom: + start_class in
the folder names), drawing everything (category parameters, then per instance its orbits' grays and
noise, then the next instance's values) from that one stream. Categories N*per .. C-1 are never
written by the original; they are left out here.

The stream is scanned lazily, process by process and a category at a time (numba, sequential, cheap:
the noise words are only twisted past, see `mt19937.skip`). The scan records every category's
parameters, every instance's re-drawn values (VisualAtom: centre; RCDB: radius, stretch, centre) and
the generator state at each category's instance 0. A render then walks from there to the instances it
needs (a cursor per category makes in-order writing linear) and hands each image its MT19937 state, so
that the renders themselves are independent and run in parallel.

Instance values, one row per instance: (r0, sx, sy, yc, xc); VisualAtom keeps its category's r0, sx, sy.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from ...backends.numba_parallel import parallel_jit
from . import mt19937 as mt
from .batch import RCDB

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = parallel_jit  # launched under one lock: see backends.numba_parallel

CATEGORY_INTS = ("vertices", "orbits", "r0", "n1", "n2")  # cat_int columns (RCDB: r0 of instance 0, n1 = n2 = 0)
CATEGORY_FLOATS = ("eta", "c", "sx", "sy")  # cat_float columns (RCDB: instance 0's stretch)
INSTANCE_COLUMNS = ("r0", "sx", "sy", "yc", "xc")  # the per-instance row
MAX_CURSORS = 4096  # categories whose last walked-to state is kept
# where (radius_min, size, start_pos, gray_hi) sit in the `ints` of `_category`, for RCDB and VisualAtom
_WALK_INTS = {True: (2, 3, 4, 5), False: (4, 9, 10, 11)}


@_jit
def _next_instance(st, rcdb, q, n_orbits, gray_hi, size, pos, rmin, oval, row):
    """Pass over one instance's orbits (gray, then 2q uniforms each), then draw the next instance's values."""
    for _ in range(n_orbits):
        mt.randint(st, 0, gray_hi)
        mt.skip(st, 4 * q)
    if rcdb:
        row[1] = mt.uniform(st, 1.0, oval)
        row[2] = mt.uniform(st, 1.0, oval)
        row[0] = mt.randint(st, rmin, rmin + 100)
    row[3] = (size + mt.randint(st, -pos, pos)) / 2
    row[4] = (size + mt.randint(st, -pos, pos)) / 2


@_jit
def _category(st, rcdb, ints, floats, cat_int, cat_float, rows, snap):
    """One category from the stream at st: its parameters, every instance's row [I, 5], snap = state at instance 0.

    ints: RCDB (vertex_num, line_num_min, radius_min, size, start_pos, gray_hi, then zeros);
    VisualAtom (vmin, vmax, lmin, lmax, rmin, n1min, n1max, n2min, n2max, size, start_pos, gray_hi).
    floats: (perlin_min, line_width, oval_rate). The draws in the script's order (§2.7).
    """
    pmin, lw, oval = floats[0], floats[1], floats[2]
    n1 = 0
    n2 = 0
    if rcdb:
        vmax, lmin, rmin, size, pos, gray_hi = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5]
        while True:
            q = np.int64(mt.expovariate(st, 0.01))
            if 2 < q <= vmax:
                break
        n_orbits = mt.randint(st, lmin, lmin + 199)
        eta = mt.uniform(st, pmin, pmin + 4.0)
        c = mt.uniform(st, 0.0, lw)
        r0 = mt.randint(st, rmin, rmin + 100)
    else:
        rmin, size, pos, gray_hi = ints[4], ints[9], ints[10], ints[11]
        q = mt.randint(st, ints[0], ints[1])
        n_orbits = mt.randint(st, ints[2], ints[3])
        eta = mt.uniform(st, pmin, pmin + 4.0)
        c = mt.uniform(st, 0.0, lw)
        r0 = mt.randint(st, rmin, rmin + 50)
        n1 = mt.randint(st, ints[5], ints[6])
        while True:  # terminates: the database refuses a range where n2 must equal a non-zero n1
            n2 = mt.randint(st, ints[7], ints[8])
            if n2 != n1 or n1 == 0:
                break
    sx = mt.uniform(st, 1.0, oval)
    sy = mt.uniform(st, 1.0, oval)
    row = np.empty(5)
    row[0] = r0
    row[1] = sx
    row[2] = sy
    row[3] = (size + mt.randint(st, -pos, pos)) / 2
    row[4] = (size + mt.randint(st, -pos, pos)) / 2
    cat_int[0] = q
    cat_int[1] = n_orbits
    cat_int[2] = r0
    cat_int[3] = n1
    cat_int[4] = n2
    cat_float[0] = eta
    cat_float[1] = c
    cat_float[2] = sx
    cat_float[3] = sy
    snap[:] = st
    for i in range(rows.shape[0]):
        rows[i] = row
        _next_instance(st, rcdb, q, n_orbits, gray_hi, size, pos, rmin, oval, row)


@_pjit
def _walk(starts, first, q, n_orbits, targets, group_end, rcdb, rmin, size, pos, gray_hi, oval, out):
    """Per group g (one category) in parallel: from state starts[g] at instance first[g], the states at its
    sorted target instances targets[group_end[g-1] : group_end[g]] into the same rows of out [T, 625]."""
    for g in nb.prange(starts.shape[0]):
        st = starts[g].copy()
        row = np.empty(5)
        i = first[g]
        for j in range(group_end[g - 1] if g > 0 else 0, group_end[g]):
            while i < targets[j]:
                _next_instance(st, rcdb, q[g], n_orbits[g], gray_hi, size, pos, rmin, oval, row)
                i += 1
            out[j] = st


class Replay:
    """One launch of a released script (N processes, C categories, I instances), scanned as far as asked."""

    def __init__(self, kind: int, processes: int, categories: int, instances: int, ints, floats):
        self.rcdb = kind == RCDB
        self.processes, self.per, self.instances = processes, categories // processes, instances
        self.n_categories = processes * self.per
        self._ints = np.zeros(12, dtype=np.int64)
        self._ints[: len(ints)] = ints
        self._floats = np.asarray(floats, dtype=np.float64)
        rmin, size, pos, gray_hi = (int(self._ints[i]) for i in _WALK_INTS[self.rcdb])
        self._walk_args = (self.rcdb, rmin, size, pos, gray_hi, float(self._floats[2]))
        self.cat_int = np.zeros((self.n_categories, len(CATEGORY_INTS)), dtype=np.int64)  # [C, 5]
        self.cat_float = np.zeros((self.n_categories, len(CATEGORY_FLOATS)))  # [C, 4]
        self.rows = np.zeros((self.n_categories, instances, len(INSTANCE_COLUMNS)))  # [C, I, 5]
        self.snaps = np.zeros((self.n_categories, mt.STATE_WORDS), dtype=np.uint32)  # [C, 625]
        self._state = [mt.seeded_state(p + 1) for p in range(processes)]  # each at its next unscanned category
        self._scanned = [0] * processes  # categories scanned per process
        self._cursor: dict[int, tuple[int, np.ndarray]] = {}  # category -> (instance, its state)
        self._lock = threading.Lock()

    def _scan_process(self, p: int, upto: int, progress) -> None:
        """Scan process p's categories until `upto` of them are known."""
        while self._scanned[p] < upto:
            k = p * self.per + self._scanned[p]
            _category(self._state[p], self.rcdb, self._ints, self._floats, self.cat_int[k], self.cat_float[k],
                      self.rows[k], self.snaps[k])
            self._scanned[p] += 1
            if progress:
                progress(1)

    def ensure(self, categories=None, progress=None) -> None:
        """Scan until these categories (all if None) are known; processes run in parallel (numba, no GIL)."""
        if categories is None:
            need = {p: self.per for p in range(self.processes)}
        else:
            need = {}
            for k in np.unique(np.asarray(categories, dtype=np.int64)).tolist():
                p = k // self.per
                need[p] = max(need.get(p, 0), k - p * self.per + 1)
        with self._lock:
            todo = [(p, n) for p, n in need.items() if self._scanned[p] < n]
            if len(todo) <= 1 or nb.get_num_threads() == 1:
                for p, n in todo:
                    self._scan_process(p, n, progress)
                return
            lock = threading.Lock()
            locked = (lambda n: _locked(lock, progress, n)) if progress else None
            with ThreadPoolExecutor(min(len(todo), nb.get_num_threads())) as pool:
                list(pool.map(lambda t: self._scan_process(t[0], t[1], locked), todo))

    def category_values(self, category_ids: np.ndarray) -> dict:
        """{name: [B] array} of these categories' parameters (scanned on demand)."""
        self.ensure(category_ids)
        return {**{n: self.cat_int[category_ids, j] for j, n in enumerate(CATEGORY_INTS)},
                **{n: self.cat_float[category_ids, j] for j, n in enumerate(CATEGORY_FLOATS)}}

    def instance_values(self, category_ids: np.ndarray, instance_ids: np.ndarray) -> dict:
        """{name: [B] float64} of these instances' r0, sx, sy, yc, xc (scanned on demand)."""
        self.ensure(category_ids)
        rows = self.rows[category_ids, instance_ids]  # [B, 5]
        return {n: rows[:, j].copy() for j, n in enumerate(INSTANCE_COLUMNS)}

    def states(self, category_ids: np.ndarray, instance_ids: np.ndarray) -> np.ndarray:
        """uint32 [B, 625]: the stream state of each image just before its first orbit's gray."""
        if category_ids.shape[0] == 0:
            return np.empty((0, mt.STATE_WORDS), dtype=np.uint32)
        self.ensure(category_ids)
        order = np.lexsort((instance_ids, category_ids))
        cats, insts = category_ids[order], instance_ids[order]
        bounds = np.flatnonzero(np.diff(cats)) + 1
        group_end = np.append(bounds, cats.shape[0]).astype(np.int64)
        group_cat = cats[group_end - 1]
        out = np.empty((cats.shape[0], mt.STATE_WORDS), dtype=np.uint32)
        with self._lock:
            starts = self.snaps[group_cat].copy()
            first = np.zeros(group_cat.shape[0], dtype=np.int64)
            for g, (k, lo) in enumerate(zip(group_cat.tolist(), np.append(0, bounds).tolist())):
                at = self._cursor.get(k)
                if at is not None and at[0] <= insts[lo]:  # continue from the last walk in this category
                    first[g], starts[g] = at
            _walk(starts, first, self.cat_int[group_cat, 0], self.cat_int[group_cat, 1], insts, group_end,
                  *self._walk_args, out)
            if len(self._cursor) > MAX_CURSORS:
                self._cursor.clear()
            for k, j in zip(group_cat.tolist(), (group_end - 1).tolist()):
                self._cursor[k] = (int(insts[j]), out[j].copy())
        result = np.empty_like(out)
        result[order] = out
        return result


def _locked(lock, progress, n: int) -> None:
    with lock:
        progress(n)
