"""`agree`: how far annotators agree, per layer, per label, per annotator pair.

Input is validated `Annotation` records (cancelled ones are ignored; when one annotator has
several annotations of an article, the latest by `updated_at`, then annotation id, counts).
When stance is asked with one control and the target in each task's data (an adopted
project's config), an article may have one task per target: an annotator's stance answers
are then taken per target from their latest annotation that answered it, the spans from their
latest annotation; a target nobody was asked about for an article is no item (not missing).

- stance: nominal Krippendorff's α, Fleiss' κ, percent agreement (mean pairwise agreement per
  item), Gwet's AC1, Cohen's κ per annotator pair; per target and overall (all (article,
  target) items pooled). A layer is flagged `skewed` when one label holds ≥ 75% of the
  ratings: κ and α are then depressed by their chance term and AC1 is the figure to read.
- entities: pairwise span F1 (exact; overlap = same label and shared characters, one-to-one),
  per label and overall, micro-averaged over all annotator pairs on shared articles; and a
  chance-corrected figure at token level: nominal α over tokens, each token labelled with the
  entity label covering it or `O` (needs the article texts).
- claims: span F1 (exact / overlap), Cohen's κ on check-worthiness over overlap-matched claim
  pairs, and claimant agreement (share of matched pairs with the same claimant, compared
  case- and space-insensitively, among pairs where at least one names a claimant).
- per annotator: articles done, agreement with the others, labels used and how far their
  label shares are from everyone else's (total variation distance), outlier flag.
- confusion matrices per layer, as symmetric coincidence counts over annotator pairs.

Every interval is a 95% percentile bootstrap over articles (`bootstrap` resamples, `seed`).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

import numpy as np

from corpus_tools.agreement import spans as sp
from corpus_tools.agreement import stats as st
from corpus_tools.agreement.report import (
    ALL,
    AgreementReport,
    AnnotatorFigures,
    ClaimAgreement,
    Confusion,
    EntityAgreement,
    PairFigure,
    SpanFigures,
    StanceFigures,
)
from corpus_tools.agreement.stats import Estimate
from corpus_tools.config import CorpusConfig
from corpus_tools.constants import AGREEMENT_BOOTSTRAP, AGREEMENT_SEED
from corpus_tools.model import Annotation, Article, StanceJudgement

SKEW_SHARE = 0.75
OUTSIDE = "O"
NONE = "(none)"

# --- selection ------------------------------------------------------------------------------


def latest_per_annotator(
    annotations: Sequence[Annotation], *, per_target: bool = False
) -> tuple[dict[str, dict[str, Annotation]], int]:
    """{article_id: {annotator: annotation}} keeping the latest; and how many were dropped.

    `per_target` (stance asked with one control, the target in each task's data: see
    `stance_per_task`): an article may have one task per target, so an annotator's answers
    on the targets of their other tasks of the article are kept beside the latest annotation's
    spans (per target, the latest annotation that answered it). An older annotation whose
    every answer was superseded still counts as dropped.
    """
    by_article: dict[str, dict[str, Annotation]] = defaultdict(dict)
    every: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
    dropped = 0
    for ann in annotations:
        if ann.was_cancelled:
            continue
        every[ann.article_id, ann.annotator].append(ann)
        cur = by_article[ann.article_id].get(ann.annotator)
        if cur is None:
            by_article[ann.article_id][ann.annotator] = ann
            continue
        dropped += 1
        if _order_key(ann) > _order_key(cur):
            by_article[ann.article_id][ann.annotator] = ann
    if per_target:
        for (art, who), anns in every.items():
            if len(anns) < 2:
                continue
            latest: dict[str, tuple[Annotation, StanceJudgement]] = {}
            for ann in anns:
                for s in ann.stances:
                    if s.target not in latest or _order_key(ann) > _order_key(latest[s.target][0]):
                        latest[s.target] = (ann, s)
            base = by_article[art][who]
            used = {id(a) for a, _ in latest.values()} - {id(base)}
            dropped -= len(used)
            stances = tuple(latest[t][1] for t in sorted(latest))
            by_article[art][who] = replace(base, stances=stances)
    return {k: by_article[k] for k in sorted(by_article)}, dropped


def stance_per_task(config: CorpusConfig) -> bool:
    """Whether each task asks stance on the one target its data names (`[scheme.names]
    stance`): an annotator then answers a target only in the tasks that ask it, and the
    article's other targets are not asked (never missing, disputed or negative)."""
    return config.scheme.names.stance is not None


def _order_key(a: Annotation) -> tuple[str, int]:
    return (a.source.updated_at or "", a.source.annotation_id or -1)


# --- the measurement ------------------------------------------------------------------------


def agree(
    *,
    config: CorpusConfig,
    annotations: Sequence[Annotation],
    articles: Mapping[str, Article] | None = None,
    bootstrap: int = AGREEMENT_BOOTSTRAP,
    seed: int = AGREEMENT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> AgreementReport:
    """Measure inter-annotator agreement on every layer of the scheme.

    `progress(done, total)` is called after each of the 4 stages (stance, entities, claims,
    annotators and confusion), for a progress bar.
    """
    step = progress or (lambda done, total: None)
    scheme = config.scheme
    per_target = stance_per_task(config)
    by_article, dropped = latest_per_annotator(annotations, per_target=per_target)
    annotators = tuple(sorted({a for anns in by_article.values() for a in anns}))
    art_ids = list(by_article)
    art_index = {a: i for i, a in enumerate(art_ids)}
    coder_index = {a: i for i, a in enumerate(annotators)}
    notes: list[str] = []
    if dropped:
        notes.append(f"{dropped} older duplicate annotation(s) by the same annotator ignored")
    multi = sum(1 for anns in by_article.values() if len(anns) >= 2)
    if multi == 0:
        notes.append("no article has two or more annotators: agreement cannot be measured")

    stance = _stance(
        scheme.stance_labels,
        [t.id for t in scheme.stance_targets],
        by_article,
        art_index,
        coder_index,
        annotators,
        bootstrap,
        seed,
    )
    step(1, 4)
    entities, ent_pair_sums = _entities(
        scheme.entity_labels, by_article, art_index, articles, bootstrap, seed, notes
    )
    step(2, 4)
    claims, claim_pair_sums, cw_conf = _claims(
        scheme.checkworthy, by_article, art_index, bootstrap, seed
    )
    step(3, 4)
    per_annotator = _per_annotator(by_article, annotators, ent_pair_sums, claim_pair_sums)
    confusion = (
        _stance_confusion(scheme.stance_labels, by_article),
        _entity_confusion(scheme.entity_labels, by_article),
        cw_conf,
    )
    step(4, 4)
    return AgreementReport(
        annotations=sum(len(v) for v in by_article.values()),
        articles=len(by_article),
        multi_annotated=multi,
        annotators=annotators,
        stance=stance,
        entities=entities,
        claims=claims,
        per_annotator=per_annotator,
        confusion=confusion,
        bootstrap=bootstrap,
        seed=seed,
        notes=tuple(notes),
    )


def _stance(
    labels: Sequence[str],
    targets: Sequence[str],
    by_article: Mapping[str, Mapping[str, Annotation]],
    art_index: Mapping[str, int],
    coder_index: Mapping[str, int],
    annotators: Sequence[str],
    bootstrap: int,
    seed: int,
) -> tuple[StanceFigures, ...]:
    q = len(labels)
    label_code = {lab: i for i, lab in enumerate(labels)}
    n_art, n_cod = len(art_index), len(coder_index)
    codes = np.full((len(targets), n_art, n_cod), -1, dtype=np.int64)
    t_index = {t: i for i, t in enumerate(targets)}
    for art, anns in by_article.items():
        for coder, ann in anns.items():
            for s in ann.stances:
                if s.target in t_index and s.label in label_code:
                    codes[t_index[s.target], art_index[art], coder_index[coder]] = label_code[
                        s.label
                    ]
    out = [
        _stance_figures(
            ALL,
            codes.reshape(len(targets) * n_art, n_cod),  # -1 fails when nothing was rated
            np.tile(np.arange(n_art), len(targets)),
            q,
            annotators,
            bootstrap,
            seed,
        )
    ]
    for t, i in t_index.items():
        out.append(_stance_figures(t, codes[i], np.arange(n_art), q, annotators, bootstrap, seed))
    return tuple(out)


def _stance_figures(
    target: str,
    codes: st.IntArray,
    clusters: st.IntArray,
    q: int,
    annotators: Sequence[str],
    bootstrap: int,
    seed: int,
) -> StanceFigures:
    rated = (codes >= 0).sum(axis=1)
    keep = rated >= 1
    codes, clusters, rated = codes[keep], clusters[keep], rated[keep]
    counts = st.counts_from_codes(codes, q)
    pairable = rated >= 2
    n_items = int(pairable.sum())
    totals = counts.sum(axis=0)
    share = float(totals.max() / totals.sum()) if totals.sum() else None

    blocks: list[st.Block] = [
        (st.alpha_stats(counts), st.alpha_from_sums, n_items),
        (fleiss_s := st.fleiss_stats(counts), st.fleiss_from_sums, n_items),
        (fleiss_s, st.percent_from_sums, n_items),
        (st.ac1_stats(counts), lambda s: st.ac1_from_sums(s, q), n_items),
    ]
    pair_ids: list[tuple[int, int, int]] = []
    for i, j in itertools.combinations(range(len(annotators)), 2):
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        if not both.any():
            continue
        a, b = np.where(both, codes[:, i], 0), np.where(both, codes[:, j], 0)
        rows = st.cohen_stats(a, b, q) * both[:, None]
        blocks.append((rows, lambda s: st.cohen_from_sums(s, q), int(both.sum())))
        pair_ids.append((i, j, int(both.sum())))
    alpha, fleiss, percent, ac1, *kappas = st.estimate_many(
        blocks, clusters, bootstrap=bootstrap, seed=seed
    )
    pairs = [
        PairFigure(annotators[i], annotators[j], n, kappa)
        for (i, j, n), kappa in zip(pair_ids, kappas, strict=True)
    ]
    return StanceFigures(
        target=target,
        items=n_items,
        ratings=int(rated.sum()),
        alpha=alpha,
        fleiss_kappa=fleiss,
        percent=percent,
        ac1=ac1,
        pairs=tuple(pairs),
        skewed=share is not None and share >= SKEW_SHARE,
        top_label_share=share,
    )


PairSums = dict[tuple[str, str], list[float]]  # (a, b) -> [matched, |A| + |B|]


def _entities(
    labels: Sequence[str],
    by_article: Mapping[str, Mapping[str, Annotation]],
    art_index: Mapping[str, int],
    articles: Mapping[str, Article] | None,
    bootstrap: int,
    seed: int,
    notes: list[str],
) -> tuple[EntityAgreement, PairSums]:
    label_ids = {lab: i for i, lab in enumerate(labels)}
    nl = len(labels)
    # rows per (pair, article): [exact, overlap, |A|+|B|] overall then per label
    rows: list[list[float]] = []
    clusters: list[int] = []
    pair_rows: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    spans_total = Counter[str]()
    for art, anns in by_article.items():
        coders = sorted(anns)
        spans = {c: [(e.start, e.end, e.label) for e in anns[c].entities] for c in coders}
        bags = {c: Counter(spans[c]) for c in coders}
        label_use = {c: Counter(lab for _, _, lab in spans[c]) for c in coders}
        for c in coders:
            spans_total.update(label_use[c])
        for ca, cb in itertools.combinations(coders, 2):
            a, b = spans[ca], spans[cb]
            common = bags[ca] & bags[cb]
            exact = sum(common.values())
            over = sp.overlap_match(a, b)
            row = [0.0] * (3 * (nl + 1))
            row[0], row[1], row[2] = exact, len(over), len(a) + len(b)
            for lab, n in (label_use[ca] + label_use[cb]).items():
                if lab in label_ids:
                    row[3 * (label_ids[lab] + 1) + 2] += n
            for k, n in common.items():
                if k[2] in label_ids:
                    row[3 * (label_ids[k[2]] + 1)] += n
            for i, _ in over:
                if a[i][2] in label_ids:
                    row[3 * (label_ids[a[i][2]] + 1) + 1] += 1
            rows.append(row)
            clusters.append(art_index[art])
            pair_rows[(ca, cb)].append((art_index[art], float(exact), float(len(a) + len(b))))
    stats = np.asarray(rows, dtype=np.float64).reshape(-1, 3 * (nl + 1))
    cl = np.asarray(clusters, dtype=np.int64)

    names = [ALL, *labels]
    blocks: list[st.Block] = []
    for idx in range(len(names)):
        base = 3 * idx
        blocks.append((stats[:, [base, base + 2]], st.f1_from_sums, None))
        blocks.append((stats[:, [base + 1, base + 2]], st.f1_from_sums, None))
    ests = st.estimate_many(blocks, cl, bootstrap=bootstrap, seed=seed)
    figs = [
        SpanFigures(
            name,
            sum(spans_total.values()) if name == ALL else spans_total[name],
            ests[2 * idx],
            ests[2 * idx + 1],
        )
        for idx, name in enumerate(names)
    ]
    overall, per_label = figs[0], tuple(figs[1:])
    pairs: list[PairFigure] = []
    pair_sums: PairSums = {}
    for (ca, cb), prow in sorted(pair_rows.items()):
        arr = np.asarray(prow, dtype=np.float64)
        e = st.estimate(
            arr[:, 1:], arr[:, 0].astype(np.int64), st.f1_from_sums, bootstrap=bootstrap, seed=seed
        )
        pairs.append(PairFigure(ca, cb, len(prow), e))
        pair_sums[(ca, cb)] = [float(arr[:, 1].sum()), float(arr[:, 2].sum())]
    token_alpha, n_tokens = _token_alpha(
        label_ids, by_article, art_index, articles, bootstrap, seed, notes
    )
    return (
        EntityAgreement(overall, per_label, tuple(pairs), token_alpha, n_tokens),
        pair_sums,
    )


def _token_alpha(
    label_ids: Mapping[str, int],
    by_article: Mapping[str, Mapping[str, Annotation]],
    art_index: Mapping[str, int],
    articles: Mapping[str, Article] | None,
    bootstrap: int,
    seed: int,
    notes: list[str],
) -> tuple[Estimate, int]:
    if articles is None:
        notes.append("token-level entity α not computed: no article texts given")
        return Estimate(None), 0
    q = len(label_ids) + 1
    todo: list[tuple[int, str, list[list[tuple[int, int, int]]]]] = []
    missing = 0
    stale = 0
    for art, anns in by_article.items():
        if len(anns) < 2:
            continue
        article = articles.get(art)
        if article is None:
            missing += 1
            continue
        if any(a.text_sha256 not in (None, article.text_sha256) for a in anns.values()):
            stale += 1  # made on another text: offsets would point elsewhere
            continue
        versions = [
            sorted(
                (e.start, e.end, label_ids[e.label] + 1)
                for e in anns[coder].entities
                if e.label in label_ids
            )
            for coder in sorted(anns)
        ]
        todo.append((art_index[art], article.text, versions))
    rows: list[st.FloatArray] = []
    clusters: list[st.IntArray] = []
    n_tokens = 0
    for batch in _batches(todo, max_chars=500_000):
        sums, ids, n = _token_alpha_sums(batch, q)
        rows.append(sums)
        clusters.append(ids)
        n_tokens += n
    if missing:
        notes.append(f"token-level entity α: {missing} article(s) not in the articles table")
    if stale:
        notes.append(
            f"token-level entity α: {stale} article(s) skipped, annotated on another text "
            "(text_sha256 differs; see `corpus validate`)"
        )
    if n_tokens == 0:
        return Estimate(None), 0
    est = st.estimate(
        np.vstack(rows),
        np.concatenate(clusters),
        st.alpha_from_sums,
        bootstrap=bootstrap,
        seed=seed,
        n=n_tokens,
    )
    return est, n_tokens


TokenJob = tuple[int, str, list[list[tuple[int, int, int]]]]  # article index, text, versions


def _batches(todo: list[TokenJob], *, max_chars: int) -> Iterator[list[TokenJob]]:
    batch: list[TokenJob] = []
    size = 0
    for job in todo:
        batch.append(job)
        size += len(job[1]) + 1
        if size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _token_alpha_sums(batch: list[TokenJob], q: int) -> tuple[st.FloatArray, st.IntArray, int]:
    """Per-article sums of α statistics over tokens, for many articles in one pass.

    The texts are joined with line breaks (tokens never contain whitespace, so none crosses
    an article boundary) and tokenized once; coder k of each article fills column k.
    """
    offsets = np.cumsum([0] + [len(text) + 1 for _, text, _ in batch[:-1]])
    starts, ends = sp.tokenize("\n".join(text for _, text, _ in batch))
    if len(starts) == 0:
        return np.zeros((0, q + 2)), np.zeros(0, dtype=np.int64), 0
    tok_article = np.searchsorted(offsets, starts, side="right") - 1
    n_coders = np.asarray([len(v) for _, _, v in batch])
    width = int(n_coders.max())
    codes = np.full((len(starts), width), -1, dtype=np.int64)
    for k in range(width):
        spans = [
            (off + s, off + e, c)
            for (_, _, versions), off in zip(batch, offsets.tolist(), strict=True)
            if k < len(versions)
            for s, e, c in versions[k]
        ]
        column = sp.token_codes(starts, ends, spans)
        codes[:, k] = np.where(n_coders[tok_article] > k, column, -1)
    stats = st.alpha_stats(st.counts_from_codes(codes, q))
    per_article = st.cluster_sums(stats, tok_article.astype(np.int64), len(batch))
    ids = np.asarray([i for i, _, _ in batch], dtype=np.int64)
    has_tokens = per_article[:, 0] > 0  # an article without tokens is no cluster
    return per_article[has_tokens], ids[has_tokens], len(starts)


def _norm_claimant(c: str | None) -> str | None:
    return " ".join(c.casefold().split()) if c else None


def _claims(
    checkworthy: Sequence[str],
    by_article: Mapping[str, Mapping[str, Annotation]],
    art_index: Mapping[str, int],
    bootstrap: int,
    seed: int,
) -> tuple[ClaimAgreement, PairSums, Confusion]:
    q = len(checkworthy)
    cw_code = {c: i for i, c in enumerate(checkworthy)}
    rows: list[list[float]] = []
    clusters: list[int] = []
    cw_a: list[int] = []
    cw_b: list[int] = []
    cw_cl: list[int] = []
    cl_rows: list[float] = []
    cl_cl: list[int] = []
    pair_sums: PairSums = defaultdict(lambda: [0.0, 0.0])
    conf = np.zeros((q + 1, q + 1), dtype=np.int64)  # last row/col: matched but unlabelled
    n_spans = 0
    matched = 0
    for art, anns in by_article.items():
        coders = sorted(anns)
        n_spans += sum(len(anns[c].claims) for c in coders)
        for ca, cb in itertools.combinations(coders, 2):
            a, b = anns[ca].claims, anns[cb].claims
            sa = [(c.start, c.end, "") for c in a]
            sb = [(c.start, c.end, "") for c in b]
            over = sp.overlap_match(sa, sb)
            rows.append([sp.exact_matches(sa, sb), len(over), len(a) + len(b)])
            clusters.append(art_index[art])
            ps = pair_sums[(ca, cb)]
            ps[0] += len(over)
            ps[1] += len(a) + len(b)
            matched += len(over)
            for i, j in over:
                x = cw_code.get(a[i].checkworthy or "", q)
                y = cw_code.get(b[j].checkworthy or "", q)
                conf[x, y] += 1
                conf[y, x] += 1
                if x < q and y < q:
                    cw_a.append(x)
                    cw_b.append(y)
                    cw_cl.append(art_index[art])
                ka, kb = _norm_claimant(a[i].claimant), _norm_claimant(b[j].claimant)
                if ka or kb:
                    cl_rows.append(float(ka == kb))
                    cl_cl.append(art_index[art])
    stats = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    cl = np.asarray(clusters, dtype=np.int64)
    overall = SpanFigures(
        ALL,
        n_spans,
        st.estimate(stats[:, [0, 2]], cl, st.f1_from_sums, bootstrap=bootstrap, seed=seed),
        st.estimate(stats[:, [1, 2]], cl, st.f1_from_sums, bootstrap=bootstrap, seed=seed),
    )
    # κ as asked; percent agreement and AC1 beside it, since one answer usually dominates
    pair_counts = st.counts_from_codes(np.column_stack([cw_a, cw_b]).astype(np.int64), q)
    kappa, percent, ac1 = st.estimate_many(
        [
            (
                st.cohen_stats(
                    np.asarray(cw_a, dtype=np.int64), np.asarray(cw_b, dtype=np.int64), q
                ),
                lambda s: st.cohen_from_sums(s, q),
                None,
            ),
            (st.fleiss_stats(pair_counts), st.percent_from_sums, None),
            (st.ac1_stats(pair_counts), lambda s: st.ac1_from_sums(s, q), None),
        ],
        np.asarray(cw_cl, dtype=np.int64),
        bootstrap=bootstrap,
        seed=seed,
    )
    if cl_rows:
        claimant = st.estimate(
            np.column_stack([np.ones(len(cl_rows)), np.asarray(cl_rows)]),
            np.asarray(cl_cl, dtype=np.int64),
            lambda s: np.atleast_2d(s)[:, 1] / np.atleast_2d(s)[:, 0],
            bootstrap=bootstrap,
            seed=seed,
        )
    else:
        claimant = Estimate(None)
    labels = (*checkworthy, NONE)
    confusion = Confusion("checkworthy", labels, tuple(tuple(int(v) for v in r) for r in conf))
    agreement = ClaimAgreement(overall, matched, kappa, percent, ac1, claimant)
    return agreement, dict(pair_sums), confusion


def _stance_confusion(
    labels: Sequence[str], by_article: Mapping[str, Mapping[str, Annotation]]
) -> Confusion:
    idx = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for anns in by_article.values():
        per_target: dict[str, list[int]] = defaultdict(list)
        for ann in anns.values():
            for s in ann.stances:
                if s.label in idx:
                    per_target[s.target].append(idx[s.label])
        for vals in per_target.values():
            for x, y in itertools.combinations(vals, 2):
                m[x, y] += 1
                m[y, x] += 1
    return Confusion("stance", tuple(labels), tuple(tuple(int(v) for v in r) for r in m))


def _entity_confusion(
    labels: Sequence[str], by_article: Mapping[str, Mapping[str, Annotation]]
) -> Confusion:
    """Spans matched by overlap whatever their label; unmatched ones against `(none)`."""
    idx = {lab: i for i, lab in enumerate(labels)}
    none = len(labels)
    m = np.zeros((none + 1, none + 1), dtype=np.int64)
    for anns in by_article.values():
        coders = sorted(anns)
        for ca, cb in itertools.combinations(coders, 2):
            a = [(e.start, e.end, e.label) for e in anns[ca].entities]
            b = [(e.start, e.end, e.label) for e in anns[cb].entities]
            over = sp.overlap_match(a, b, same_label=False)
            for i, j in over:
                x, y = idx.get(a[i][2], none), idx.get(b[j][2], none)
                m[x, y] += 1
                m[y, x] += 1
            for k in set(range(len(a))) - {i for i, _ in over}:
                x = idx.get(a[k][2], none)
                m[x, none] += 1
                m[none, x] += 1
            for k in set(range(len(b))) - {j for _, j in over}:
                y = idx.get(b[k][2], none)
                m[y, none] += 1
                m[none, y] += 1
    return Confusion("entities", (*labels, NONE), tuple(tuple(int(v) for v in r) for r in m))


def _per_annotator(
    by_article: Mapping[str, Mapping[str, Annotation]],
    annotators: Sequence[str],
    ent_pairs: PairSums,
    claim_pairs: PairSums,
) -> tuple[AnnotatorFigures, ...]:
    done = Counter[str]()
    ent_labels: dict[str, Counter[str]] = defaultdict(Counter)
    stance_labels: dict[str, Counter[str]] = defaultdict(Counter)
    st_agree: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for anns in by_article.values():
        by_target: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for coder, ann in anns.items():
            done[coder] += 1
            ent_labels[coder].update(e.label for e in ann.entities)
            stance_labels[coder].update(s.label for s in ann.stances)
            for s in ann.stances:
                by_target[s.target].append((coder, s.label))
        for votes in by_target.values():
            for (c1, l1), (c2, l2) in itertools.combinations(votes, 2):
                for c in (c1, c2):
                    st_agree[c][0] += float(l1 == l2)
                    st_agree[c][1] += 1

    def f1_of(pairs: PairSums, who: str) -> float | None:
        tp = sum(v[0] for k, v in pairs.items() if who in k)
        tot = sum(v[1] for k, v in pairs.items() if who in k)
        return 2 * tp / tot if tot else None

    rows: list[tuple[str, float | None, float | None, float | None]] = []
    for who in annotators:
        sa = st_agree.get(who)
        rows.append(
            (
                who,
                sa[0] / sa[1] if sa and sa[1] else None,
                f1_of(ent_pairs, who),
                f1_of(claim_pairs, who),
            )
        )
    reasons: dict[str, list[str]] = defaultdict(list)
    for col, name in ((1, "stance agreement"), (2, "entity F1"), (3, "claim F1")):
        vals: dict[str, float | None] = {r[0]: r[col] for r in rows}  # type: ignore[misc]
        for who, why in _outliers(vals, name).items():
            reasons[who].append(why)
    ent_shift = _label_shift(ent_labels, annotators)
    st_shift = _label_shift(stance_labels, annotators)
    for shifts, name in ((ent_shift, "entity label use"), (st_shift, "stance label use")):
        for who, why in _outliers(shifts, name, higher_is_worse=True).items():
            reasons[who].append(why)
    return tuple(
        AnnotatorFigures(
            annotator=who,
            articles=done[who],
            stance_agreement=sa,
            entity_f1=ef,
            claim_f1=cf,
            entity_labels=dict(ent_labels[who]),
            stance_labels=dict(stance_labels[who]),
            entity_label_shift=ent_shift.get(who),
            stance_label_shift=st_shift.get(who),
            outlier=bool(reasons.get(who)),
            outlier_reasons=tuple(reasons.get(who, ())),
        )
        for who, sa, ef, cf in rows
    )


def _label_shift(
    used: Mapping[str, Counter[str]], annotators: Sequence[str]
) -> dict[str, float | None]:
    """Total variation distance between an annotator's label shares and everyone else's."""
    out: dict[str, float | None] = {}
    for who in annotators:
        mine = used.get(who, Counter())
        rest: Counter[str] = Counter()
        for other in annotators:
            if other != who:
                rest.update(used.get(other, Counter()))
        a, b = sum(mine.values()), sum(rest.values())
        if not a or not b:
            out[who] = None
            continue
        # in label order: summing in set order would make the last bits of the figure depend
        # on PYTHONHASHSEED
        labels = sorted(set(mine) | set(rest))
        out[who] = 0.5 * sum(abs(mine[k] / a - rest[k] / b) for k in labels)
    return out


def _outliers(
    values: Mapping[str, float | None], name: str, *, higher_is_worse: bool = False
) -> dict[str, str]:
    """Annotators whose figure lies far from the others' median, on the bad side (needs ≥ 3).

    Far: more than max(0.1, 2 × 1.4826 × MAD) beyond the median of the *other* annotators,
    so one bad annotator cannot hide by dragging the median along.
    """
    vals = {k: float(v) for k, v in values.items() if v is not None}
    if len(vals) < 3:
        return {}
    out = {}
    for who, v in vals.items():
        others = np.asarray([x for k, x in vals.items() if k != who])
        med = float(np.median(others))
        mad = float(np.median(np.abs(others - med))) * 1.4826
        margin = max(0.1, 2 * mad)
        if (v > med + margin) if higher_is_worse else (v < med - margin):
            out[who] = f"{name} {v:.2f} vs the others' median {med:.2f}"
    return out
