"""The compiled kernel of story clustering: intersection sizes of sorted uint32 sets (numba).

Imported only when ingest has candidate pairs to check (numba takes ~0.2 s to import and the
kernel is compiled once, then cached beside this module or in numba's user cache folder); the
kernel is loaded at import, without numba's scipy probe (see `_load`).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit


def _intersections(
    sets: np.ndarray, starts: np.ndarray, lengths: np.ndarray, i: np.ndarray, j: np.ndarray
) -> np.ndarray:  # pragma: no cover (compiled)
    """The kernel (compiled by numba below).

    set_i is put in an open-addressing hash table (linear probing, at most 1/8 full, each
    slot holding the value and the group that stored it, so it is never cleared), rebuilt only
    when i changes (the pairs come sorted by i); then each value of set_j is looked up:
    |set_j| probes per pair instead of a merge of |set_i| + |set_j| steps. The values are
    hashes: their low bits index the table. The sets are unique, so each value of set_j
    matches at most once.
    """
    out = np.empty(len(i), np.int64)
    largest = 0
    for k in range(len(i)):
        largest = max(largest, lengths[i[k]])
    size = 16
    while size < 8 * largest:
        size *= 2
    table = np.zeros(size, np.int64)  # (group << 32) | value; group 0 marks nothing
    group = 0
    mask = 0
    prev = -1
    for k in range(len(i)):
        a = i[k]
        if a != prev:
            prev = a
            group += 1
            size = 16
            while size < 8 * lengths[a]:
                size *= 2
            mask = size - 1
            for p in range(starts[a], starts[a] + lengths[a]):
                x = np.int64(sets[p])
                h = x & mask
                while (table[h] >> 32) == group:
                    h = (h + 1) & mask
                table[h] = (group << 32) | x
        tag = group << 32
        count = 0
        b = starts[j[k]]
        for p in range(b, b + lengths[j[k]]):
            x = np.int64(sets[p])
            h = x & mask
            e = table[h]
            while (e >> 32) == group:
                if e == tag | x:
                    count += 1
                    break
                h = (h + 1) & mask
                e = table[h]
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


def _load() -> None:
    """Load the kernel now, without scipy.

    On its first call numba loads its numpy support, which probes for a BLAS by importing
    `scipy.linalg` (~0.2 s of CPU, half of the first call; scipy is not otherwise imported by
    ingest). The kernel needs no BLAS, so the probe is made to fail here, once, at import: the
    name is blocked in `sys.modules` during the call and unblocked after, so scipy imports
    normally later. (In this process numba-compiled code then uses its BLAS-free `np.dot`.)
    """
    name = None if "scipy.linalg" in sys.modules else "scipy.linalg"
    if name is not None and "scipy" not in sys.modules:
        name = "scipy"
    if name is not None:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        sets = np.zeros(2, np.uint32)
        sets.flags.writeable = False  # the sets are read through a read-only memory map
        one = np.zeros(1, np.int64)
        intersections(sets, one, one + 1, one, one)
    finally:
        if name is not None and sys.modules.get(name, 0) is None:
            del sys.modules[name]


_load()
