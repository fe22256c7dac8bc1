"""Benchmark `corpus agree` on synthetic annotations beside independent implementations.

    .venv/bin/python scripts/bench_agree.py [--tasks 10000] [--annotators 3] [--bootstrap 1000]
    .venv/bin/python scripts/bench_agree.py --quick --repeat 3 --json rows.json   # 2,000 tasks

Every measurement runs in its own subprocess on the same seeded data (generated in the child,
not timed), so each peak RSS is that measurement's own. Measurements:

- baseline            generate the data only (imports + records: the floor every row pays)
- ours/stance-point   our α, Fleiss κ, AC1, Cohen κ per pair on the stance matrix, no bootstrap
                      (stance rows: timing starts once the (coders × items) matrix is built)
- indep/stance-point  the same figures from `krippendorff`, statsmodels and scikit-learn
- ours/stance-boot    our stance figures with `--bootstrap` resamples (intervals)
- indep/alpha-boot    naive bootstrap: `krippendorff.alpha` recomputed on resamples (timed
                      on --naive resamples, scaled to --bootstrap)
- ours/agree-all      the whole `agree()` (stance, entities incl. token-level α, claims,
                      annotators, confusion) with `--bootstrap` resamples

The figures from both sides are compared and printed; a mismatch exits 1. Each measurement
reports wall and CPU time (user + system) and its peak RSS (VmHWM); with `--repeat K` all run
interleaved K times and medians are shown. Rows for scripts/bench_all.py (`--json`): the point
figures against the independent libraries (the floor), the bootstrap against the naive one,
and the whole `agree()`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _bench

REPO = Path(__file__).resolve().parent.parent
WORDS = [
    "the",
    "minister",
    "said",
    "talks",
    "in",
    "the",
    "capital",
    "would",
    "resume",
    "next",
    "week",
    "while",
    "drones",
    "struck",
    "the",
    "port",
    "and",
    "officials",
    "denied",
    "any",
    "agreement",
    "on",
    "sanctions",
    "or",
    "the",
    "nuclear",
    "deal",
]


def generate(n_tasks: int, n_coders: int, seed: int = 0) -> tuple[list[Any], dict[str, Any]]:
    """Annotations of `n_tasks` articles by `n_coders` annotators who mostly agree."""
    import numpy as np

    from corpus_tools.config import load_config
    from corpus_tools.model import (
        Annotation,
        AnnotationSource,
        Article,
        Claim,
        EntitySpan,
        StanceJudgement,
    )

    cfg = load_config(REPO / "corpus.toml")
    labels = cfg.scheme.stance_labels
    ent_labels = cfg.scheme.entity_labels
    targets = [t.id for t in cfg.scheme.stance_targets]
    rng = np.random.default_rng(seed)
    anns: list[Any] = []
    arts: dict[str, Any] = {}
    skew = np.array([0.55, 0.2, 0.2, 0.05])
    for i in range(n_tasks):
        aid = f"art-{i:06d}"
        words = rng.choice(WORDS, 400)
        text = " ".join(words)
        arts[aid] = Article(aid, "synthetic", None, None, None, None, "en", text, "0" * 64)
        starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
        picks = np.sort(rng.choice(400, 15, replace=False))
        gold_ents = [
            (int(starts[k]), int(starts[k]) + len(words[k]), ent_labels[k % len(ent_labels)])
            for k in picks
        ]
        gold_st = rng.choice(len(labels), len(targets), p=skew)
        claim_at = int(starts[200])
        for c in range(n_coders):
            ents = []
            for s, e, lab in gold_ents:
                r = rng.random()
                if r < 0.08:
                    continue  # missed
                if r < 0.13:
                    lab = ent_labels[int(rng.integers(len(ent_labels)))]
                if r > 0.95:
                    e = e + 1 + len(words[0])  # boundary disagreement
                ents.append(EntitySpan(s, e, lab, text[s:e]))
            st = [
                StanceJudgement(
                    t,
                    labels[int(g)]
                    if rng.random() < 0.8
                    else labels[int(rng.integers(len(labels)))],
                )
                for t, g in zip(targets, gold_st, strict=True)
            ]
            claims = (
                Claim(
                    claim_at,
                    claim_at + 60 + (c % 2) * 5,
                    text[claim_at : claim_at + 60],
                    "check-worthy" if rng.random() < 0.85 else "not check-worthy",
                    "the minister" if rng.random() < 0.7 else None,
                ),
            )
            anns.append(
                Annotation(
                    aid,
                    f"ann-{c}",
                    AnnotationSource(i, i * n_coders + c, None),
                    tuple(ents),
                    tuple(st),
                    claims,
                )
            )
    return anns, arts


def stance_matrix(anns: list[Any], labels: tuple[str, ...]) -> Any:
    """(coders × items) stance codes 1..q, items = (article, target), for the references."""
    import numpy as np

    coders = sorted({a.annotator for a in anns})
    items: dict[tuple[str, str], int] = {}
    for a in anns:
        for s in a.stances:
            items.setdefault((a.article_id, s.target), len(items))
    m = np.full((len(coders), len(items)), np.nan)
    ci = {c: i for i, c in enumerate(coders)}
    for a in anns:
        for s in a.stances:
            m[ci[a.annotator], items[(a.article_id, s.target)]] = labels.index(s.label) + 1
    return m


def child(name: str, n_tasks: int, n_coders: int, bootstrap: int, naive: int) -> dict[str, Any]:
    import gc

    import numpy as np

    from corpus_tools.config import load_config

    cfg = load_config(REPO / "corpus.toml")
    gc.freeze()
    anns, arts = generate(n_tasks, n_coders)
    q = len(cfg.scheme.stance_labels)
    figures: dict[str, float] = {}
    clock = _bench.Clock()
    if name == "baseline":
        pass
    elif name in ("ours/stance-point", "ours/stance-boot"):
        from corpus_tools.agreement import stats as S

        m = stance_matrix(anns, cfg.scheme.stance_labels)
        clock = _bench.Clock()  # the coefficients, not the data preparation
        b = bootstrap if name.endswith("boot") else 0
        codes = np.where(np.isnan(m.T), -1, m.T - 1).astype(np.int64)
        counts = S.counts_from_codes(codes, q)
        clusters = np.arange(codes.shape[0]) // len(cfg.scheme.stance_targets)
        fs = S.fleiss_stats(counts)
        blocks: list[Any] = [
            (S.alpha_stats(counts), S.alpha_from_sums, None),
            (fs, S.fleiss_from_sums, None),
            (S.ac1_stats(counts), lambda s: S.ac1_from_sums(s, q), None),
        ]
        names = ["alpha", "fleiss", "ac1"]
        for i in range(n_coders):
            for j in range(i + 1, n_coders):
                blocks.append(
                    (
                        S.cohen_stats(codes[:, i], codes[:, j], q),
                        lambda s: S.cohen_from_sums(s, q),
                        None,
                    )
                )
                names.append(f"cohen {i}-{j}")
        ests = S.estimate_many(blocks, clusters, bootstrap=b, seed=0)
        figures.update({k: e.value or 0.0 for k, e in zip(names, ests, strict=True)})
    elif name == "indep/stance-point":
        import krippendorff
        from sklearn.metrics import cohen_kappa_score
        from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

        m = stance_matrix(anns, cfg.scheme.stance_labels)
        warm = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 2.0]])  # first calls load lazy imports
        krippendorff.alpha(reliability_data=warm, level_of_measurement="nominal")
        fleiss_kappa(aggregate_raters(warm.T.astype(int))[0])
        cohen_kappa_score(warm[0], warm[1])
        clock = _bench.Clock()
        figures["alpha"] = float(
            krippendorff.alpha(reliability_data=m, level_of_measurement="nominal")
        )
        table, _ = aggregate_raters(m.T.astype(int))
        figures["fleiss"] = float(fleiss_kappa(table))
        for i in range(n_coders):
            for j in range(i + 1, n_coders):
                figures[f"cohen {i}-{j}"] = float(cohen_kappa_score(m[i], m[j]))
    elif name == "indep/alpha-boot":
        import krippendorff

        m = stance_matrix(anns, cfg.scheme.stance_labels)
        clock = _bench.Clock()
        per = len(cfg.scheme.stance_targets)
        rng = np.random.default_rng(0)
        vals = []
        for _ in range(naive):
            pick = rng.integers(0, n_tasks, n_tasks)
            cols = (pick[:, None] * per + np.arange(per)).ravel()
            vals.append(
                krippendorff.alpha(reliability_data=m[:, cols], level_of_measurement="nominal")
            )
        figures["alpha_low"], figures["alpha_high"] = map(float, np.percentile(vals, [2.5, 97.5]))
    elif name == "ours/agree-all":
        from corpus_tools.agreement import agree

        rep = agree(config=cfg, annotations=anns, articles=arts, bootstrap=bootstrap, seed=0)
        s = rep.stance_overall()
        figures["alpha"] = s.alpha.value or 0.0
        figures["alpha_low"] = s.alpha.low or 0.0
        figures["alpha_high"] = s.alpha.high or 0.0
        figures["entity_f1"] = rep.entities.overall.exact_f1.value or 0.0
        figures["token_alpha"] = rep.entities.token_alpha.value or 0.0
    else:
        raise SystemExit(f"unknown measurement {name}")
    measured = clock.figures()
    return {
        "name": name,
        **measured,
        "seconds": measured["wall_s"],
        "peak_mb": measured["peak_rss_mb"],
        "figures": figures,
    }


NAMES = (
    "baseline",
    "ours/stance-point",
    "indep/stance-point",
    "ours/stance-boot",
    "indep/alpha-boot",
    "ours/agree-all",
)
QUICK_TASKS = 2000


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--tasks", str(args.tasks)]
    cmd += ["--annotators", str(args.annotators), "--bootstrap", str(args.bootstrap)]
    cmd += ["--naive", str(args.naive)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--annotators", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--naive", type=int, default=50, help="naive bootstrap resamples timed")
    _bench.add_args(ap)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(
            json.dumps(child(args.child, args.tasks, args.annotators, args.bootstrap, args.naive))
        )
        return 0
    _bench.human_to_stderr(args.json)
    if args.quick and args.tasks == ap.get_default("tasks"):
        args.tasks = QUICK_TASKS
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in NAMES}
    for _ in range(max(1, args.repeat)):  # interleaved: each repeat runs every measurement
        for name in NAMES:
            runs[name].append(run_child(name, args))
    rows = {name: _bench.median(runs[name]) for name in NAMES}
    for name in NAMES:  # the median's figures under the human output's names
        rows[name]["seconds"] = rows[name]["wall_s"]
        rows[name]["peak_mb"] = rows[name]["peak_rss_mb"]
    scale = args.bootstrap / args.naive
    naive_boot = rows["indep/alpha-boot"]
    naive_boot["seconds_scaled"] = naive_boot["seconds"] * scale
    base = rows["baseline"]
    print(f"{args.tasks} tasks × {args.annotators} annotators, bootstrap {args.bootstrap}")
    print(
        f"{'measurement':22} {'seconds':>9} {'CPU s':>8} {'tasks/s':>10} {'peak MB':>8} "
        f"{'MB over base':>12}"
    )
    for name in NAMES:
        r = rows[name]
        sec = r.get("seconds_scaled", r["seconds"])
        cpu = r["cpu_s"] * (scale if "seconds_scaled" in r else 1)
        tps = f"{args.tasks / sec:10.0f}" if name != "baseline" else f"{'-':>10}"
        note = f"  (timed {args.naive}, ×{scale:g})" if "seconds_scaled" in r else ""
        if name == "baseline":
            note = "  (imports + data in memory; nothing timed)"
        print(
            f"{name:22} {sec:9.3f} {cpu:8.3f} {tps} {r['peak_mb']:8.0f} "
            f"{r['peak_mb'] - base['peak_mb']:12.0f}{note}"
        )
    ours_p, ind_p = rows["ours/stance-point"], rows["indep/stance-point"]
    ours_b, ind_b = rows["ours/stance-boot"], rows["indep/alpha-boot"]
    print(f"point figures: ours / independent CPU = {ours_p['cpu_s'] / ind_p['cpu_s']:.3f}")
    print(
        f"bootstrap CIs: ours (α, κ×pairs, Fleiss, AC1) / naive α only = "
        f"{ours_b['cpu_s'] / (ind_b['cpu_s'] * scale):.4f} (CPU)"
    )
    bad = []
    for k, v in ind_p["figures"].items():
        mine = ours_p["figures"].get(k)
        ok = mine is not None and abs(mine - v) < 1e-9
        print(f"  {k:12} ours {mine:.6f}  independent {v:.6f}  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            bad.append(k)
    lo, hi = (
        rows["ours/agree-all"]["figures"]["alpha_low"],
        rows["ours/agree-all"]["figures"]["alpha_high"],
    )
    nlo, nhi = ind_b["figures"]["alpha_low"], ind_b["figures"]["alpha_high"]
    print(
        f"  α 95% CI ours [{lo:.4f}, {hi:.4f}]  naive ({args.naive} resamples) "
        f"[{nlo:.4f}, {nhi:.4f}]"
    )
    _bench.write_json(json_rows(args, rows, scale, bad), args.json)
    return 1 if bad else 0


def json_rows(
    args: argparse.Namespace, rows: dict[str, dict[str, Any]], scale: float, bad: list[str]
) -> list[dict[str, Any]]:
    """The bench_all rows: point figures beside the independent libraries, bootstrap
    intervals beside the naive bootstrap, and the whole `agree()`."""
    size = f"{args.tasks:,} tasks × {args.annotators} annotators"
    pairs = args.annotators * (args.annotators - 1) // 2
    base_mb = rows["baseline"]["peak_rss_mb"]
    naive = dict(rows["indep/alpha-boot"])
    naive["wall_s"] = round(naive["wall_s"] * scale, 4)
    naive["cpu_s"] = round(naive["cpu_s"] * scale, 4)
    agreeing = "all agree to 1e-9" if not bad else f"MISMATCH: {', '.join(bad)}"
    return [
        _bench.row(
            bench="agree",
            work=f"stance α, Fleiss κ, AC1, Cohen κ ({pairs} pairs), {size}",
            n=args.tasks,
            unit="tasks",
            ours=rows["ours/stance-point"],
            floor={
                **rows["indep/stance-point"],
                "what": "krippendorff.alpha, statsmodels fleiss_kappa, sklearn "
                "cohen_kappa_score on the same matrix (no AC1)",
            },
            note=f"figures: {agreeing}; timed from the built matrix; peak includes the "
            f"data ({base_mb:.0f} MB with nothing computed)",
        ),
        _bench.row(
            bench="agree",
            work=f"the same with {args.bootstrap:,} bootstrap resamples (95% CIs), {size}",
            n=args.tasks,
            unit="tasks",
            ours=rows["ours/stance-boot"],
            floor=None,
            naive={
                **naive,
                "what": f"krippendorff.alpha recomputed per resample (α only; timed on "
                f"{args.naive}, scaled ×{scale:g})",
            },
            note="resampling articles (clusters of targets)",
        ),
        _bench.row(
            bench="agree",
            work=f"corpus agree: every figure (stance, entities incl. token α, claims, "
            f"annotators, confusion), {args.bootstrap:,} resamples, {size}",
            n=args.tasks,
            unit="tasks",
            ours=rows["ours/agree-all"],
            floor=None,
            note="no independent library computes the whole report",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
