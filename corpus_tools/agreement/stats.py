"""Agreement coefficients as vectorised numpy over per-unit sufficient statistics.

Every coefficient here is a ratio of sums over units (items rated by several coders), so a
bootstrap resample is a weighted sum: draw multinomial weights over *clusters* (articles),
multiply, and recompute. Resampling articles rather than single units keeps the dependence
between units of one article (its tokens, its stance targets) inside each resample.

Inputs are `counts`: an (units × categories) integer matrix, `counts[u, c]` = how many coders
put unit `u` in category `c` (Krippendorff's "values by units" table). Units coded by fewer
than two coders carry no pairable information and are ignored where the coefficient says so.

Checked in tests against the `krippendorff` package, scikit-learn's `cohen_kappa_score`,
statsmodels' `fleiss_kappa`, and worked examples from the literature.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Estimate:
    """A coefficient with its bootstrap percentile interval (None when undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0

    def to_dict(self) -> dict[str, float | int | None]:
        """Full precision: rounding is for tables and Markdown, never for machines."""
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# --- the coefficients, written once over summed statistics --------------------------------
# Each `*_stats` turns per-unit counts into columns that are summed over units; each
# `*_from_sums` turns (possibly many rows of) sums into the coefficient.


def alpha_stats(counts: IntArray) -> FloatArray:
    """Per-unit columns for nominal Krippendorff's α: [m_u, agreeing pairs o_cc, n_uc...]."""
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    pairable = m >= 2
    denom = np.where(pairable, m - 1, 1.0)
    agree = np.where(pairable, (c * (c - 1)).sum(axis=1) / denom, 0.0)
    nc = np.where(pairable[:, None], c, 0.0)
    return np.column_stack([np.where(pairable, m, 0.0), agree, nc])


def alpha_from_sums(s: FloatArray) -> FloatArray:
    """α = 1 − (n−1)·(n − Σ o_cc) / (n² − Σ n_c²)  (nominal metric, Krippendorff 2011)."""
    s = np.atleast_2d(s)
    n, occ, nc = s[:, 0], s[:, 1], s[:, 2:]
    de = n * n - (nc * nc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(de > 0, 1.0 - (n - 1) * (n - occ) / de, np.nan)


def fleiss_stats(counts: IntArray) -> FloatArray:
    """Per-unit columns for Fleiss' κ and percent agreement: [1, P_u, n_u, n_uc...].

    Units with fewer than two ratings are left out. With a varying number of ratings per
    unit this is the usual generalisation (P_u per unit, category shares over all ratings);
    with a constant number it is exactly Fleiss (1971).
    """
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    ok = m >= 2
    denom = np.where(ok, m * (m - 1), 1.0)
    p_u = np.where(ok, ((c * c).sum(axis=1) - m) / denom, 0.0)
    return np.column_stack([ok.astype(np.float64), p_u, np.where(ok, m, 0.0), c * ok[:, None]])


def fleiss_from_sums(s: FloatArray) -> FloatArray:
    s = np.atleast_2d(s)
    units, p_sum, ratings, nc = s[:, 0], s[:, 1], s[:, 2], s[:, 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = p_sum / units
        share = nc / ratings[:, None]
        pe = (share * share).sum(axis=1)
        return np.where((units > 0) & (pe < 1), (p_bar - pe) / (1 - pe), np.nan)


def percent_from_sums(s: FloatArray) -> FloatArray:
    """Mean pairwise agreement per unit (the P̄ of Fleiss), from `fleiss_stats` sums."""
    s = np.atleast_2d(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[:, 0] > 0, s[:, 1] / s[:, 0], np.nan)


def ac1_stats(counts: IntArray) -> FloatArray:
    """Per-unit columns for Gwet's AC1: [pairable, p_u, rated, n_uc/m_u...] (Gwet 2008, 2014).

    Observed agreement over units with two or more ratings; the category shares π_c over
    every unit rated at least once, as in Gwet's handbook and the irrCAC package.
    """
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    ok = m >= 2
    rated = m >= 1
    denom = np.where(ok, m * (m - 1), 1.0)
    p_u = np.where(ok, (c * (c - 1)).sum(axis=1) / denom, 0.0)
    share = c / np.where(rated, m, 1.0)[:, None]
    return np.column_stack([ok.astype(np.float64), p_u, rated.astype(np.float64), share])


def ac1_from_sums(s: FloatArray, q: int) -> FloatArray:
    s = np.atleast_2d(s)
    pairable, p_sum, rated, shares = s[:, 0], s[:, 1], s[:, 2], s[:, 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = p_sum / pairable
        pi = shares / rated[:, None]
        pe = (pi * (1 - pi)).sum(axis=1) / max(q - 1, 1)
        return np.where((pairable > 0) & (pe < 1), (pa - pe) / (1 - pe), np.nan)


def cohen_stats(a: IntArray, b: IntArray, q: int) -> FloatArray:
    """Per-item columns for Cohen's κ of two coders: [1, agree, onehot(a)..., onehot(b)...]."""
    eye = np.eye(q, dtype=np.float64)
    return np.column_stack([np.ones(len(a)), (a == b).astype(np.float64), eye[a], eye[b]])


def cohen_from_sums(s: FloatArray, q: int) -> FloatArray:
    s = np.atleast_2d(s)
    n, agree, ma, mb = s[:, 0], s[:, 1], s[:, 2 : 2 + q], s[:, 2 + q :]
    with np.errstate(divide="ignore", invalid="ignore"):
        po = agree / n
        pe = (ma * mb).sum(axis=1) / (n * n)
        return np.where((n > 0) & (pe < 1), (po - pe) / (1 - pe), np.nan)


def f1_from_sums(s: FloatArray) -> FloatArray:
    """F1 of two coders' spans from sums [matched, |A| + |B|]: 2·matched / (|A| + |B|)."""
    s = np.atleast_2d(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[:, 1] > 0, 2 * s[:, 0] / s[:, 1], np.nan)


# --- bootstrap ----------------------------------------------------------------------------


def cluster_sums(stats: FloatArray, clusters: IntArray, n_clusters: int) -> FloatArray:
    """Sum per-unit statistic rows into one row per cluster (article)."""
    out = np.empty((n_clusters, stats.shape[1]), dtype=np.float64)
    for c in range(stats.shape[1]):
        out[:, c] = np.bincount(clusters, weights=stats[:, c], minlength=n_clusters)
    return out


Statistic = Callable[[FloatArray], FloatArray]
Block = tuple[FloatArray, Statistic, int | None]  # per-unit stats, statistic, reported n


def estimate_many(
    blocks: Sequence[Block], clusters: IntArray, *, bootstrap: int, seed: int
) -> list[Estimate]:
    """Several statistics over the same units and clusters, sharing each bootstrap resample.

    Each block is (per-unit columns, statistic of summed columns, n to report). The clusters
    (articles) are resampled with replacement `bootstrap` times, in chunks whose memory is
    (chunk × clusters) whatever the number of resamples; the interval is the 2.5th-97.5th
    percentile of the finite resampled values.
    """
    if not blocks:
        return []
    rows = int(clusters.shape[0])
    counts = [rows if n is None else n for _, _, n in blocks]
    if rows == 0:
        return [Estimate(None, n=0) for _ in blocks]
    widths = [b[0].shape[1] for b in blocks]
    offsets = np.cumsum([0, *widths])
    uniq, inv = np.unique(clusters, return_inverse=True)
    k = len(uniq)
    per_cluster = cluster_sums(np.hstack([b[0] for b in blocks]), inv.astype(np.int64), k)
    total = per_cluster.sum(axis=0)
    points = [
        _finite(float(fn(total[offsets[i] : offsets[i + 1]])[0]))
        for i, (_, fn, _) in enumerate(blocks)
    ]
    live = [i for i, p in enumerate(points) if p is not None]
    if bootstrap <= 0 or k < 2 or not live:
        return [Estimate(p, n=c) for p, c in zip(points, counts, strict=True)]
    boots: dict[int, list[FloatArray]] = {i: [] for i in live}
    for weights in resamples(k, bootstrap, seed):
        sums = weights.astype(np.float64) @ per_cluster
        for i in live:
            boots[i].append(blocks[i][1](sums[:, offsets[i] : offsets[i + 1]]))
    tail = (1 - CONFIDENCE) / 2 * 100
    out = []
    for i, (p, c) in enumerate(zip(points, counts, strict=True)):
        vals = np.concatenate(boots[i]) if i in boots else np.zeros(0)
        vals = vals[np.isfinite(vals)]
        if p is None or vals.size == 0:
            out.append(Estimate(p, n=c))
            continue
        low, high = np.percentile(vals, [tail, 100 - tail])
        out.append(Estimate(p, float(low), float(high), n=c))
    return out


def estimate(
    stats: FloatArray,
    clusters: IntArray,
    statistic: Statistic,
    *,
    bootstrap: int,
    seed: int,
    n: int | None = None,
) -> Estimate:
    """One statistic with its cluster-bootstrap interval (see `estimate_many`)."""
    return estimate_many([(stats, statistic, n)], clusters, bootstrap=bootstrap, seed=seed)[0]


CACHE_CELLS = 50_000_000  # resample matrices up to this many cells are kept (uint8: 50 MB)


def resamples(k: int, bootstrap: int, seed: int) -> Iterator[npt.NDArray[Any]]:
    """The `bootstrap` resamples of `k` clusters for `seed`, in chunks of rows.

    The same (k, bootstrap, seed) always gives the same resamples, so the figures of one
    report share them; small ones are generated once and kept (as uint8 counts).
    """
    if k * bootstrap <= CACHE_CELLS:
        yield from _cached_resamples(k, bootstrap, seed)
    else:
        yield from _generate_resamples(k, bootstrap, seed)


@functools.lru_cache(maxsize=4)
def _cached_resamples(k: int, bootstrap: int, seed: int) -> tuple[npt.NDArray[np.uint8], ...]:
    return tuple(
        np.minimum(w, 255).astype(np.uint8) for w in _generate_resamples(k, bootstrap, seed)
    )


def _generate_resamples(k: int, bootstrap: int, seed: int) -> Iterator[npt.NDArray[Any]]:
    rng = np.random.default_rng(seed)
    chunk = max(1, min(bootstrap, 2_000_000 // k))
    done = 0
    while done < bootstrap:
        size = min(chunk, bootstrap - done)
        yield resample_weights(rng, size, k)
        done += size


def resample_weights(rng: np.random.Generator, size: int, k: int) -> npt.NDArray[Any]:
    """`size` bootstrap resamples of `k` clusters as counts: row r, column c = times drawn."""
    draws = rng.integers(0, k, size=(size, k)) + (np.arange(size) * k)[:, None]
    return np.bincount(draws.ravel(), minlength=size * k).reshape(size, k)


def counts_from_codes(codes: IntArray, q: int) -> IntArray:
    """(units × coders) codes with −1 for missing → (units × q) counts."""
    units = codes.shape[0]
    rows, cols = np.nonzero(codes >= 0)
    flat = rows * q + codes[rows, cols]
    return np.bincount(flat, minlength=units * q).reshape(units, q).astype(np.int64)
