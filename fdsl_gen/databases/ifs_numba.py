"""The map choice both IFS families' numba chaos games share (docs/spec/fractals.md §1.3, §4.1).

A point takes map j, the first whose running probability sum reaches u (no map when u exceeds them all:
the point repeats). The sums are accumulated in map order as the references do, and the index is counted
without a branch (the sums never decrease), so random map choices cost no mispredictions.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)


@_jit
def running_sums(system, n_maps, column):
    """[n_maps] float64: the running sums of system[:n_maps, column] (the maps' probabilities), in map order."""
    cum = np.empty(n_maps)
    total = 0.0
    for j in range(n_maps):
        total += system[j, column]
        cum[j] = total
    return cum


@_jit
def map_index(cum, u, n_maps):
    """How many running sums lie below u: the chosen map, or n_maps when none is reached."""
    j = 0
    for k in range(n_maps):
        j += u > cum[k]
    return j
