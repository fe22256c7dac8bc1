"""Benchmark `corpus model`: training time and suggestion throughput on synthetic gold.

Synthetic gold articles are generated deterministically (seeded): sentences built from word
lists, entity surface forms placed at known offsets, three articles per story, a stance per
target cued by the verbs of the sentences that name it, claims (reported figures) with
check-worthiness, and a few open disputes (a missing stance target, a missing claim range),
with CRLF line ends and an emoji now and then so offsets are exercised.

Every measurement runs in its own worker process (this script, `--worker ...`), so its peak
memory is its own: peak RSS is the worker's `VmHWM` from /proc/self/status (the high-water
mark of its resident set, models and articles included), and CPU is the worker's user +
system time (all threads), next to the wall time.

Training, at each `--sizes` (gold articles): the learned gazetteer, the spaCy NER
(`--epochs`, default 3; `--ner-sizes` limits the sizes it trains at, since it is the slow
one), the stance model and the claim model.

Prediction, on `--predict` fresh articles (default 10000; new stories, not in the gold) with
the models trained at the largest size: the gazetteer+dates baseline
(`rule_preannotator(config)` from corpus.toml's [preannotate]), each model alone, and the
whole suggestion (`Suggester.predict_many`: NER + learned gazetteer merged, stance, claims,
uncertainty; no story siblings, so no projection), in articles/s.

Each training is also done the plain way, with spaCy and scikit-learn calls written here and
no corpus_tools code (the same steps on the same gold: the floor), interleaved with ours.

    .venv/bin/python scripts/bench_model.py                       # 1k and 10k
    .venv/bin/python scripts/bench_model.py --quick               # 1k gold, 1 spaCy epoch
    .venv/bin/python scripts/bench_model.py --smoke               # tiny sizes (seconds)
    .venv/bin/python scripts/bench_model.py --sizes 1000,10000 --ner-sizes 1000 --json rows.json
    .venv/bin/python scripts/bench_model.py --report full.json; ... --render full.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _bench

REPO = Path(__file__).resolve().parent.parent

FILLER = (
    "the",
    "talks",
    "continued",
    "as",
    "officials",
    "met",
    "again",
    "while",
    "markets",
    "waited",
    "for",
    "news",
    "from",
    "the",
    "capital",
    "and",
    "analysts",
    "watched",
    "the",
    "region",
    "closely",
    "after",
    "a",
    "long",
    "week",
    "of",
    "meetings",
    "in",
    "which",
    "envoys",
    "weighed",
    "their",
    "options",
    "on",
    "trade",
    "energy",
    "security",
    "and",
    "aid",
)
ENTITIES = [
    ("Jens Stoltenberg", "PER"),
    ("Rob Malley", "PER"),
    ("Ali Bagheri Kani", "PER"),
    ("Amina Okafor", "PER"),
    ("Lars Eriksen", "PER"),
    ("NATO", "ORG"),
    ("the IAEA", "ORG"),
    ("Financial Times", "ORG"),
    ("Northbridge Wire", "ORG"),
    ("Harbour Authority", "ORG"),
    ("Kyiv", "GPE"),
    ("Tehran", "GPE"),
    ("Moscow", "GPE"),
    ("Doha", "GPE"),
    ("Valmora", "GPE"),
    ("the Black Sea", "LOC"),
    ("the Gulf", "LOC"),
    ("the Danube delta", "LOC"),
    ("Ukrainian", "NORP"),
    ("Houthi", "NORP"),
    ("last week", "DATE"),
    ("March 3, 2024", "DATE"),
    ("the 2015 nuclear deal", "EVENT"),
    ("Shahed-136 drones", "WEAPON"),
    ("cruise missiles", "WEAPON"),
]
TARGETS = [("united_states", "United States"), ("iran", "Iran"), ("russia", "Russia")]
STANCE_VERBS = {
    "favor": ["praised", "welcomed", "backed", "thanked"],
    "against": ["condemned", "accused", "sanctioned", "denounced"],
    "neutral": ["met", "discussed", "briefed", "called"],
}
CLAIM_NOUNS = ["drones", "missiles", "ships", "tonnes of grain", "kilograms of uranium"]
OPINIONS = ["the mood was calm", "talks felt useful", "the tone had changed", "hope remained"]


class Builder:
    """An article's text, its sentence spans and its labelled spans, built piece by piece."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.sentences: list[tuple[int, int]] = []
        self.entities: list[tuple[int, int, str]] = []
        self._start = 0

    def add(self, text: str, label: str | None = None) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        if label is not None:
            self.entities.append((start, self.length, label))
        return start, self.length

    def begin(self) -> None:
        self._start = self.length

    def end(self, sep: str) -> tuple[int, int]:
        span = (self._start, self.length)
        self.sentences.append(span)
        self.add(sep)
        return span

    @property
    def text(self) -> str:
        return "".join(self.parts)


def synth(i: int, rng: random.Random, *, gold: bool = True) -> Any:
    """One synthetic article (a GoldArticle when `gold`, else its Article)."""
    from corpus_tools import store
    from corpus_tools.model import Article, Claim, EntitySpan, Sentence, StanceJudgement
    from corpus_tools.models.data import GoldArticle

    b = Builder()
    stances: dict[str, str] = {}
    claims: list[tuple[int, int, str]] = []
    sentences_plan: list[tuple[str, Any]] = []
    for tid, name in TARGETS:
        label = rng.choice(["favor", "against", "neutral", "unrelated", "against", "neutral"])
        stances[tid] = label
        if label != "unrelated":
            # the cue is right most of the time (75%): a learnable but noisy signal
            cue = label if rng.random() < 0.75 else rng.choice(list(STANCE_VERBS))
            for _ in range(rng.randint(1, 2)):
                sentences_plan.append(("stance", (name, cue)))
    for _ in range(rng.randint(1, 3)):
        sentences_plan.append(("claim", rng.random() < 0.6))
    for _ in range(rng.randint(3, 6)):
        sentences_plan.append(("filler", None))
    rng.shuffle(sentences_plan)
    for k, (kind, arg) in enumerate(sentences_plan):
        b.begin()
        ent, label = rng.choice(ENTITIES)
        if kind == "stance":
            name, cue = arg
            b.add(ent[0].upper() + ent[1:], label)
            b.add(f" {rng.choice(STANCE_VERBS[cue])} ")
            b.add(name, "GPE")
            b.add(" " + " ".join(rng.choices(FILLER, k=rng.randint(4, 10))) + ".")
        elif kind == "claim":
            worthy = arg
            start = b.length
            b.add(ent[0].upper() + ent[1:], label)
            if worthy:
                b.add(f" said {rng.randint(2, 900)} {rng.choice(CLAIM_NOUNS)} were sent ")
            else:
                b.add(f" said {rng.choice(OPINIONS)} ")
            where, wlabel = rng.choice([e for e in ENTITIES if e[1] in ("GPE", "LOC")])
            b.add("to ")
            b.add(where, wlabel)
            b.add(".")
            claims.append((start, b.length, "check-worthy" if worthy else "not check-worthy"))
        else:
            words = rng.choices(FILLER, k=rng.randint(8, 16))
            b.add(" ".join(words[:4]).capitalize() + " ")
            b.add(ent, label)
            b.add(" " + " ".join(words[4:]) + ".")
            if rng.random() < 0.05:
                b.add(" 😀")
        b.end("\r\n" if k % 4 == 3 else " ")
    text = b.text
    aid = f"syn-{i:06d}"
    article = Article(
        article_id=aid,
        source="synthetic",
        outlet=f"outlet-{i % 7}",
        url=None,
        title=None,
        published=None,
        language="en",
        text=text,
        text_sha256=store.sha256_text(text),
        sentences=tuple(Sentence(s, e) for s, e in b.sentences),
        story_id=f"story-{i // 3:06d}",
    )
    if not gold:
        return article
    missing_stances: tuple[str, ...] = ()
    missing_claims: tuple[tuple[int, int], ...] = ()
    if rng.random() < 0.05:
        missing_stances = (rng.choice(TARGETS)[0],)
    if rng.random() < 0.05 and claims:
        s, e, _ = claims.pop()
        missing_claims = ((s, e),)
    return GoldArticle(
        article=article,
        entities=tuple(EntitySpan(s, e, lab, text[s:e]) for s, e, lab in b.entities),
        stances=tuple(
            StanceJudgement(t, lab)
            for t, lab in sorted(stances.items())
            if t not in missing_stances
        ),
        claims=tuple(Claim(s, e, text[s:e], cw, None) for s, e, cw in claims),
        missing_claims=missing_claims,
        missing_stances=missing_stances,
    )


def make_gold(n: int, seed: int) -> list[Any]:
    rng = random.Random(f"gold-{seed}")
    return [synth(i, rng) for i in range(n)]


def make_articles(n: int, seed: int) -> list[Any]:
    rng = random.Random(f"predict-{seed}")
    return [synth(10_000_000 + i, rng, gold=False) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# workers (each in its own process)


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB; ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def config() -> Any:
    from corpus_tools.config import load_config

    return load_config(REPO / "corpus.toml")


def warm_imports(what: str) -> None:
    """Import what a model needs before the clock starts (imports are a fixed cost, ~1 s for
    scikit-learn, that would blur the scaling)."""
    sklearn = [
        "scipy.optimize",
        "sklearn.calibration",
        "sklearn.feature_extraction.text",
        "sklearn.linear_model",
        "sklearn.model_selection",
    ]
    modules = {"ner": ["spacy", "spacy.training"], "stance": sklearn, "claims": sklearn}
    for name in modules.get(what, []):
        importlib.import_module(name)


def worker_train(what: str, size: int, out: Path, seed: int, epochs: int) -> dict[str, Any]:
    cfg = config()
    scheme = cfg.scheme
    gold = make_gold(size, seed)
    warm_imports(what)
    before = rss_mb()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    info: dict[str, Any] = {}
    if what == "gazetteer":
        from corpus_tools.models.gazetteer import LearnedGazetteer

        gaz = LearnedGazetteer.fit(gold)
        model: Any = gaz
        info = {
            "forms": len(gaz.forms),
            "unlabelled": sum(b - a for a, b in gaz.occurrences.values()),
        }
    elif what == "ner":
        from corpus_tools.models.ner import SpacyNer

        model = SpacyNer.train(gold, scheme.entity_labels, seed=seed, epochs=epochs)
        info = {"epochs": epochs, "examples": model.info.get("examples")}
    elif what == "stance":
        from corpus_tools.models.classify import StanceModel

        model = StanceModel.fit(
            gold,
            [t.id for t in scheme.stance_targets],
            scheme.stance_labels,
            seed=seed,
            target_names={t.id: t.name for t in scheme.stance_targets},
        )
        learned = {t: i for t, i in model.info["targets"].items() if i.get("model") == "logistic"}
        info = {
            "targets": len(learned),
            "calibration": {t: i.get("calibration") for t, i in learned.items()},
        }
    elif what == "claims":
        from corpus_tools.models.classify import ClaimModel

        model = ClaimModel.fit(gold, scheme.checkworthy, seed=seed)
        info = {
            "sentences": model.info["detector"]["sentences"],
            "calibration": model.info["detector"].get("calibration"),
        }
    else:
        raise SystemExit(f"unknown model {what}")
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    model.save(out)
    return {
        "model": what,
        "size": size,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "info": info,
    }


def worker_floor(what: str, size: int, seed: int, epochs: int) -> dict[str, Any]:
    """The same training written directly with spaCy / scikit-learn (no corpus_tools code;
    only the NER's model settings are read from it, so both train the same network)."""
    gold = make_gold(size, seed)
    plain = [
        {
            "text": g.article.text,
            "sentences": [(s.start, s.end) for s in g.article.sentences],
            "story": g.article.story_id,
            "entities": [(e.start, e.end, e.label) for e in g.entities],
            "stances": {s.target: s.label for s in g.stances},
            "claims": [(c.start, c.end, c.checkworthy) for c in g.claims],
            "missing_claims": list(g.missing_claims),
        }
        for g in gold
    ]
    del gold
    warm_imports(what)
    before = rss_mb()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    info = FLOORS[what](plain, seed, epochs)
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    return {
        "model": what,
        "size": size,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "info": info,
    }


def floor_gazetteer(items: list[dict[str, Any]], seed: int, epochs: int) -> dict[str, Any]:
    """Labels per surface form (whitespace runs as one space), then every form's whole-word
    occurrences (any whitespace between its words) found by one regex, longest first."""
    import re
    from collections import Counter

    counts: dict[str, Counter[str]] = {}
    for it in items:
        for s, e, lab in it["entities"]:
            form = " ".join(it["text"][s:e].split())
            counts.setdefault(form, Counter())[lab] += 1
    forms = sorted(counts, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, f.split())) for f in forms)
    pattern = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")
    seen: Counter[str] = Counter()
    for it in items:
        gold = {(s, e) for s, e, _ in it["entities"]}
        for m in pattern.finditer(it["text"]):
            if m.span() not in gold:
                seen[" ".join(m.group().split())] += 1
    return {"forms": len(counts), "unlabelled": sum(seen.values())}


def floor_ner(items: list[dict[str, Any]], seed: int, epochs: int) -> dict[str, Any]:
    """spaCy's own loop: blank("en"), the same beam_ner, one Example per sentence."""
    import random as rnd

    import spacy
    from spacy.training import Example, offsets_to_biluo_tags
    from spacy.util import fix_random_seed, minibatch

    from corpus_tools.models import ner as settings  # the network's settings only

    fix_random_seed(seed)
    nlp = spacy.blank("en")
    pipe: Any = nlp.add_pipe(
        "beam_ner",
        config={
            "model": settings.MODEL_CONFIG,
            "beam_width": settings.BEAM_WIDTH,
            "beam_density": settings.BEAM_DENSITY,
            "beam_update_prob": settings.BEAM_UPDATE_PROB,
        },
    )
    labels = sorted({lab for it in items for _, _, lab in it["entities"]})
    for label in labels:
        pipe.add_label(label)
    examples = []
    for it in items:
        text, ents = it["text"], it["entities"]
        for a, b in it["sentences"]:
            doc = nlp.make_doc(text[a:b])
            inside = [(s - a, e - a, lab) for s, e, lab in ents if a <= s and e <= b]
            tags = offsets_to_biluo_tags(doc, inside)
            examples.append(Example.from_dict(doc, {"entities": tags}))
    optimizer = nlp.initialize(lambda: examples)
    batch = min(32, max(8, len(examples) // 128))
    order_rng = rnd.Random(seed)
    for _ in range(epochs):
        order = list(examples)
        order_rng.shuffle(order)
        losses: dict[str, float] = {}
        for part in minibatch(order, size=batch):
            nlp.update(part, sgd=optimizer, drop=0.1, losses=losses)
    return {"examples": len(examples), "epochs": epochs}


def _plain_vectorizer() -> Any:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, max_features=50_000, dtype=np.float32
    )


def _plain_calibrated(x: Any, y: list[str], groups: list[str], seed: int) -> Any:
    """Logistic regression, sigmoid-calibrated on 3 story-grouped folds, one final fit."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    folds = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=seed)
    base = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    splits = list(folds.split(y, y, groups))
    model = CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)
    return model.fit(x, y)


def floor_stance(items: list[dict[str, Any]], seed: int, epochs: int) -> dict[str, Any]:
    """Per target: whole-text TF-IDF, TF-IDF of the sentences naming it, two mention cues,
    a calibrated logistic regression (one BLAS thread, as ours)."""
    import math
    import re

    import scipy.sparse as sp
    import sklearn
    from threadpoolctl import threadpool_limits

    names = dict(TARGETS)
    with (
        threadpool_limits(1),
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        full = _plain_vectorizer().fit_transform([it["text"] for it in items])
        focus: dict[str, list[tuple[str, int, float]]] = {}
        for t, name in names.items():
            pat = re.compile(r"(?<!\w)" + re.escape(name) + r"\w*", re.I)
            rows = []
            for it in items:
                text, sents = it["text"], it["sentences"]
                hits = [text[a:b] for a, b in sents if pat.search(text, a, b)]
                rows.append((" ".join(hits), len(pat.findall(text)), len(hits) / len(sents)))
            focus[t] = rows
        fvec = _plain_vectorizer().fit([f[0] for rows in focus.values() for f in rows if f[0]])
        fitted = 0
        for t in names:
            idx = [i for i, it in enumerate(items) if t in it["stances"]]
            y = [items[i]["stances"][t] for i in idx]
            f = [focus[t][i] for i in idx]
            cues = sp.csr_matrix([[math.log1p(m), share] for _, m, share in f], dtype="float32")
            x = sp.hstack([full[idx], fvec.transform([h for h, _, _ in f]), cues], format="csr")
            _plain_calibrated(x, y, [items[i]["story"] for i in idx], seed)
            fitted += 1
    return {"targets": fitted}


REPORTING = ("said", "says", "told", "according", "added", "stated", "claimed", "reported")


def _claim_x(vec: Any, texts: list[str], positions: list[float] | None, fit: bool) -> Any:
    import math
    import re

    import scipy.sparse as sp

    verbs = re.compile(r"\b(?:" + "|".join(REPORTING) + r")\b", re.I)
    x = vec.fit_transform(texts) if fit else vec.transform(texts)
    cues = [
        [
            float(any(ch.isdigit() for ch in t)),
            float('"' in t),
            float(verbs.search(t) is not None),
            math.log1p(len(t.split())) / 4.0,
        ]
        for t in texts
    ]
    if positions is not None:
        cues = [[*c, p] for c, p in zip(cues, positions, strict=True)]
    return sp.hstack([x, sp.csr_matrix(cues, dtype="float32")], format="csr")


def _solid(text: str, start: int, end: int) -> int:
    """Non-whitespace characters of text[start:end]."""
    return len("".join(text[start:end].split()))


def floor_claims(items: list[dict[str, Any]], seed: int, epochs: int) -> dict[str, Any]:
    """Sentences labelled by claim overlap, TF-IDF + cues, a calibrated logistic regression;
    out-of-fold probabilities (the same detector per story-grouped fold) for the F1.5
    threshold (sklearn's precision_recall_curve); a calibrated check-worthiness classifier."""
    import numpy as np
    import sklearn
    from sklearn.metrics import precision_recall_curve
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    texts: list[str] = []
    pos: list[float] = []
    y: list[str] = []
    groups: list[str] = []
    cw_texts: list[str] = []
    cw_y: list[str] = []
    cw_groups: list[str] = []
    for it in items:
        text, sents = it["text"], it["sentences"]
        for k, (a, b) in enumerate(sents):
            if any(a < me and ms < b for ms, me in it["missing_claims"]):
                continue
            positive = any(
                _solid(text, max(a, s), min(b, e)) >= 0.5 * _solid(text, s, e)
                for s, e, _ in it["claims"]
                if s < b and a < e
            )
            texts.append(text[a:b])
            pos.append(k / len(sents))
            y.append("1" if positive else "0")
            groups.append(it["story"])
        for s, e, cw in it["claims"]:
            cw_texts.append(text[s:e])
            cw_y.append(cw)
            cw_groups.append(it["story"])
    with (
        threadpool_limits(1),
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        _plain_calibrated(_claim_x(_plain_vectorizer(), texts, pos, True), y, groups, seed)
        oof = np.zeros(len(y))
        folds = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=seed)
        for train, held in folds.split(y, y, groups):
            vec = _plain_vectorizer()
            tr = [texts[i] for i in train]
            clf = _plain_calibrated(
                _claim_x(vec, tr, [pos[i] for i in train], True),
                [y[i] for i in train],
                [groups[i] for i in train],
                seed,
            )
            held_x = _claim_x(vec, [texts[i] for i in held], [pos[i] for i in held], False)
            oof[held] = clf.predict_proba(held_x)[:, list(clf.classes_).index("1")]
        precision, recall, cuts = precision_recall_curve([int(v) for v in y], oof)
        b2 = 1.5**2
        f = (1 + b2) * precision * recall / np.maximum(b2 * precision + recall, 1e-12)
        cut = float(cuts[int(np.argmax(f[:-1]))])
        cw_x = _claim_x(_plain_vectorizer(), cw_texts, None, True)
        _plain_calibrated(cw_x, cw_y, cw_groups, seed)
    return {"sentences": len(texts), "threshold": round(cut, 4), "claims": len(cw_texts)}


FLOORS = {
    "gazetteer": floor_gazetteer,
    "ner": floor_ner,
    "stance": floor_stance,
    "claims": floor_claims,
}


def worker_predict(what: str, n: int, models: Path, seed: int) -> dict[str, Any]:
    cfg = config()
    articles = make_articles(n, seed)
    count = 0

    if what == "rules":
        from corpus_tools.preannotate import rule_preannotator

        pre: Any = rule_preannotator(cfg)

        def run() -> int:
            return sum(len(pre.predict(a)) for a in articles)
    elif what == "gazetteer":
        from corpus_tools.models.gazetteer import LearnedGazetteer

        gaz = LearnedGazetteer.load(models)

        def run() -> int:
            return sum(len(gaz.predict(a)) for a in articles)
    elif what == "ner":
        from corpus_tools.models.ner import SpacyNer

        ner = SpacyNer.load(models)

        def run() -> int:
            return sum(len(spans) for spans in ner.predict_many(articles))
    elif what in ("stance", "stance-1by1"):
        from corpus_tools.models.classify import StanceModel

        stance = StanceModel.load(models)

        def run() -> int:
            if what == "stance":
                return sum(len(p) for p in stance.predict_many(articles))
            return sum(len(stance.predict(a)) for a in articles)
    elif what in ("claims", "claims-1by1"):
        from corpus_tools.models.classify import ClaimModel

        claims = ClaimModel.load(models)

        def run() -> int:
            if what == "claims":
                return sum(len(c) for c in claims.predict_many(articles))
            return sum(len(claims.predict(a)) for a in articles)
    elif what == "suggester":
        from corpus_tools.models.bundle import Bundle
        from corpus_tools.models.classify import ClaimModel, StanceModel
        from corpus_tools.models.gazetteer import LearnedGazetteer
        from corpus_tools.models.ner import SpacyNer
        from corpus_tools.models.suggest import Suggester

        has_ner = (models / "ner").is_dir()
        bundle = Bundle(
            path=models,
            version="bench",
            card={},
            gazetteer=LearnedGazetteer.load(models),
            ner=SpacyNer.load(models) if has_ner else None,
            stance=StanceModel.load(models),
            claims=ClaimModel.load(models),
        )
        suggester = Suggester(bundle, cfg)

        def run() -> int:
            return sum(len(s.prediction["result"]) for s in suggester.predict_many(articles))
    else:
        raise SystemExit(f"unknown predictor {what}")
    before = rss_mb()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    count = run()
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    return {
        "predictor": what,
        "articles": n,
        "outputs": count,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "articles_per_s": round(n / wall, 1) if wall else None,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# ---------------------------------------------------------------------------------------------
# the driver


PREDICTORS = (
    "rules",
    "gazetteer",
    "ner",
    "stance",
    "stance-1by1",
    "claims",
    "claims-1by1",
    "suggester",
)


def run_worker(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="gold articles to train on")
    parser.add_argument(
        "--ner-sizes",
        default=None,
        help='sizes to train spaCy at (default: all --sizes; "" for none)',
    )
    parser.add_argument("--predict", type=int, default=10_000, help="articles to predict")
    parser.add_argument(
        "--one-by-one",
        type=int,
        default=1000,
        help="articles to predict one call per article (stance-1by1, claims-1by1)",
    )
    parser.add_argument("--epochs", type=int, default=3, help="spaCy NER epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the plain spaCy / scikit-learn training"
    )
    parser.add_argument("--report", type=Path, help="also save the full report as JSON here")
    parser.add_argument("--render", type=Path, help="print the tables of a saved --report")
    _bench.add_args(parser)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.render:
        print(render(json.loads(args.render.read_text(encoding="utf-8"))))
        return

    if args.worker:
        kind, what, n, folder = args.worker
        if kind == "train":
            out = worker_train(what, int(n), Path(folder), args.seed, args.epochs)
        elif kind == "floor":
            out = worker_floor(what, int(n), args.seed, args.epochs)
        else:
            out = worker_predict(what, int(n), Path(folder), args.seed)
        print(json.dumps(out))
        return

    _bench.human_to_stderr(args.json)
    if args.smoke:
        sizes, ner_sizes, n_predict, epochs, one = [60, 120], [60], 200, 1, 100
    elif args.quick:  # bench_all's size: 1k gold articles, one spaCy epoch
        sizes, ner_sizes, n_predict, epochs, one = [1000], [1000], 1000, 1, 200
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        ner_arg = args.sizes if args.ner_sizes is None else args.ner_sizes
        ner_sizes = [int(s) for s in ner_arg.split(",") if s.strip()]  # "": no spaCy at all
        n_predict, epochs, one = args.predict, args.epochs, args.one_by_one
    seed = args.seed
    repeat = max(1, args.repeat)
    common = ["--seed", str(seed), "--epochs", str(epochs)]
    training: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    prediction: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        for size in sizes:
            folder = Path(tmp) / str(size)
            for what in ("gazetteer", "ner", "stance", "claims"):
                if what == "ner" and size not in ner_sizes:
                    continue
                ours_runs, floor_runs = [], []
                for _ in range(repeat):  # interleaved: ours, then the floor, K times
                    print(f"training {what} on {size:,} gold articles ...", file=sys.stderr)
                    ours_runs.append(run_worker("train", what, str(size), str(folder), *common))
                    if not args.no_floor:
                        print(f"  the same with plain {what} calls ...", file=sys.stderr)
                        floor_runs.append(run_worker("floor", what, str(size), "-", *common))
                training.append(_bench.median(ours_runs))
                if floor_runs:
                    floors.append(_bench.median(floor_runs))
        # the models of the largest size; spaCy's from the largest size it trained at
        trained_on = max(sizes)
        folder = Path(tmp) / str(trained_on)
        with_ner = [s for s in sizes if s in ner_sizes]
        ner_trained_on = max(with_ner) if with_ner else None
        if ner_trained_on is not None and ner_trained_on != trained_on:
            shutil.copytree(Path(tmp) / str(ner_trained_on) / "ner", folder / "ner")
        for what in PREDICTORS:
            if what == "ner" and not (folder / "ner").is_dir():
                continue
            n = min(one, n_predict) if what.endswith("-1by1") else n_predict
            print(f"predicting {n:,} articles with {what} ...", file=sys.stderr)
            runs = [
                run_worker("predict", what, str(n), str(folder), *common) for _ in range(repeat)
            ]
            prediction.append(_bench.median(runs))
    report = {
        "sizes": sizes,
        "ner_sizes": [s for s in ner_sizes if s in sizes],
        "ner_epochs": epochs,
        "predict_articles": n_predict,
        "models_trained_on": trained_on,
        "ner_trained_on": ner_trained_on,
        "seed": seed,
        "training": training,
        "floors": floors,
        "prediction": prediction,
        "memory": "peak RSS = the worker process's VmHWM (/proc/self/status), MB",
        "cpu": "user + system seconds of the worker process (all threads)",
    }
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(render(report))
    _bench.write_json(json_rows(report), args.json)


FLOOR_WHAT = {
    "gazetteer": "a Counter of lowercased surface forms' labels, one regex over the texts "
    "for their unlabelled occurrences",
    "ner": "spaCy's own loop: blank('en'), the same beam_ner network, one Example per "
    "sentence (offsets_to_biluo_tags), the same epochs, batches and dropout",
    "stance": "per target: TF-IDF of the text and of the sentences naming it, two cues, "
    "LogisticRegression in CalibratedClassifierCV (3 story-grouped folds)",
    "claims": "sentence TF-IDF + cues, calibrated LogisticRegression, the same detector per "
    "fold for out-of-fold P(claim), F1.5 threshold from precision_recall_curve, "
    "check-worthiness classifier",
}


def json_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_all rows: each training beside its plain floor; suggestions and batched
    prediction beside one call per article."""
    rows = []
    floors = {(f["model"], f["size"]): f for f in report.get("floors", [])}
    for t in report["training"]:
        floor = floors.get((t["model"], t["size"]))
        epochs = f" ({report['ner_epochs']} epoch(s))" if t["model"] == "ner" else ""
        mine, theirs = t.get("info") or {}, (floor or {}).get("info") or {}
        counts = "; ".join(
            f"{k}: ours {mine[k]}, floor {theirs[k]}"
            for k in ("forms", "unlabelled", "examples", "sentences", "targets")
            if k in mine and k in theirs
        )
        rows.append(
            _bench.row(
                bench="model",
                work=f"train {t['model']}{epochs} on {t['size']:,} gold articles",
                n=t["size"],
                unit="articles",
                ours=t,
                floor=None if floor is None else {**floor, "what": FLOOR_WHAT[t["model"]]},
                note=f"{counts + '; ' if counts else ''}imports before the clock; peak RSS "
                "includes the gold articles",
            )
        )
    pred = {p["predictor"]: p for p in report["prediction"]}
    n = report["predict_articles"]
    for what in ("stance", "claims"):
        batch, single = pred.get(what), pred.get(f"{what}-1by1")
        if batch is None or single is None:
            continue
        scale = n / single["articles"]
        rows.append(
            _bench.row(
                bench="model",
                work=f"{what} predictions for {n:,} new articles (predict_many)",
                n=n,
                unit="articles",
                ours=batch,
                floor=None,
                naive={
                    **single,
                    "wall_s": round(single["wall_s"] * scale, 2),
                    "cpu_s": round(single["cpu_s"] * scale, 2),
                    "what": f"one predict() call per article (timed on {single['articles']:,}, "
                    f"scaled ×{scale:g})",
                },
            )
        )
    if "suggester" in pred:
        s, rules = pred["suggester"], pred.get("rules")
        rate = f"{rules['articles'] / rules['cpu_s']:,.0f}" if rules and rules["cpu_s"] else "-"
        rows.append(
            _bench.row(
                bench="model",
                work=f"suggestions (NER + gazetteer, stance, claims) for {n:,} new articles",
                n=n,
                unit="articles",
                ours=s,
                floor=None,
                note=f"the rule pre-annotator (gazetteer + dates) does {rate} articles per "
                "CPU-second; peak RSS includes the models and articles",
            )
        )
    return rows


def render(report: dict[str, Any]) -> str:
    """The report as two plain-text tables."""
    lines = [
        f"Training on synthetic gold (spaCy NER: {report['ner_epochs']} epochs; CPU = user+sys"
        " of the worker, all threads; imports excluded)",
        f"{'model':<10} {'gold':>7} {'CPU s':>8} {'wall s':>8} {'wall s/1k':>10}"
        f" {'peak RSS MB':>12} {'floor CPU s':>12} {'floor MB':>9} {'CPU vs floor':>13}",
    ]
    floors = {(f["model"], f["size"]): f for f in report.get("floors", [])}
    for t in report["training"]:
        f = floors.get((t["model"], t["size"]))
        vs = (
            f" {f['cpu_s']:>12.2f} {f['peak_rss_mb']:>9.0f} {t['cpu_s'] / f['cpu_s']:>12.2f}x"
            if f and f["cpu_s"]
            else ""
        )
        lines.append(
            f"{t['model']:<10} {t['size']:>7,} {t['cpu_s']:>8.2f} {t['wall_s']:>8.2f}"
            f" {t['wall_s'] * 1000 / t['size']:>10.2f} {t['peak_rss_mb']:>12.0f}{vs}"
        )
    prediction = report["prediction"]
    lines += [
        "",
        f"Suggestions for {report['predict_articles']:,} new articles (models trained on "
        f"{report['models_trained_on']:,} gold articles, spaCy's on "
        f"{report['ner_trained_on'] or 0:,}; peak RSS = VmHWM of the worker, models and "
        "articles included)",
        f"{'predictor':<12} {'articles':>8} {'articles/s':>11} {'wall s':>8} {'CPU s':>8}"
        f" {'RSS before MB':>14} {'peak RSS MB':>12} {'time/article vs baseline':>25}",
    ]
    base = next((p for p in prediction if p["predictor"] == "rules"), None)
    for p in prediction:
        if p["predictor"] == "suggester" and not report["ner_trained_on"]:
            p = {**p, "predictor": "suggest-noNER"}
        ratio = (
            "baseline"
            if p is base
            else f"{base['articles_per_s'] / p['articles_per_s']:.1f}x"
            if base and p["articles_per_s"]
            else ""
        )
        lines.append(
            f"{p['predictor']:<12} {p['articles']:>8,} {p['articles_per_s']:>11,.0f}"
            f" {p['wall_s']:>8.2f} {p['cpu_s']:>8.2f} {p['rss_before_mb']:>14.0f}"
            f" {p['peak_rss_mb']:>12.0f} {ratio:>25}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
