"""The compiled kernel of story clustering: intersection sizes of sorted uint32 sets (numba).

Imported only when ingest has candidate pairs to check (numba takes ~0.2 s to import and the
kernel is compiled once, then cached beside this module or in numba's user cache folder).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def _intersections(
    sets: np.ndarray, starts: np.ndarray, lengths: np.ndarray, i: np.ndarray, j: np.ndarray
) -> np.ndarray:  # pragma: no cover (compiled)
    """The kernel (compiled by numba below)."""
    out = np.empty(len(i), np.int64)
    for k in range(len(i)):
        a = starts[i[k]]
        a_end = a + lengths[i[k]]
        b = starts[j[k]]
        b_end = b + lengths[j[k]]
        count = 0
        while a < a_end and b < b_end:  # a merge without branches on the values
            x = sets[a]
            y = sets[b]
            count += x == y
            a += x <= y
            b += y <= x
        out[k] = count
    return out


try:  # cached beside this module, or in numba's user cache folder
    _kernel = njit(cache=True, nogil=True)(_intersections)
except RuntimeError:  # no writable cache folder: compiled on first use in each process
    _kernel = njit(nogil=True)(_intersections)


def intersections(
    sets: np.ndarray, starts: np.ndarray, lengths: np.ndarray, i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    """|set_i & set_j| for each pair (i, j), where set_k is sets[starts[k]:starts[k] +
    lengths[k]], sorted and unique."""
    out: np.ndarray = _kernel(
        sets,
        starts.astype(np.int64),
        lengths.astype(np.int64),
        i.astype(np.int64),
        j.astype(np.int64),
    )
    return out
