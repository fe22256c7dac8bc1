"""Figures quoted in the docs, generated from the sample corpus, and checked.

    .venv/bin/python scripts/docs_figures.py --check     # exit 1 naming each stale block
    .venv/bin/python scripts/docs_figures.py --write     # rewrite the stale blocks in place
    .venv/bin/python scripts/docs_figures.py --print     # the generated text of every block

A block is the text between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in README.md
or docs/**/*.md. On its own lines the markers hold whole lines (a table, a paragraph, a fenced
block); on one line they hold inline text (a figure inside a sentence). Every block's text comes
from the tool run on a scratch copy of the repository's sample corpus (corpus.toml, articles/,
annotations/, schemas/, adjudication/): `corpus ingest`, `corpus agree --format markdown` and
`--json`, `corpus adjudicate --json`, `corpus check` (and `corpus check --json` with the stance
gate raised to 0.9, for the example of a failed gate). Nothing else on the page is touched.

NAMEs (see BLOCKS): ingest-counts, agree-stance, agree-entities, agree-tokens-claims,
adjudicate-counts, gate-example, check-output. A block of an unknown NAME, or a marker left
open, is an error (exit 2). `--write` replaces each file atomically, and only when it changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS_PARTS = ("articles", "annotations", "schemas", "adjudication")
WIDTH = 100  # prose is wrapped as the pages are
MARKER = re.compile(r"<!-- figures:([a-z0-9-]+) -->(.*?)<!-- /figures:\1 -->", re.DOTALL)
OPEN = re.compile(r"<!-- (/?)figures:([a-z0-9-]+) -->")
GATE_EXAMPLE_THRESHOLD = 0.9


class FiguresError(Exception):
    """A page's markers are malformed (exit 2)."""


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """What the tool printed on the scratch copy of the sample corpus."""

    ingest: dict[str, Any]
    agree: dict[str, Any]
    agree_markdown: str
    adjudicate: dict[str, Any]
    check_text: str
    gate_message: str


def _corpus_command() -> list[str]:
    script = Path(sys.executable).parent / "corpus"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from corpus_tools.cli import main; main()"]


def _run(root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CORPUS_CONFIG", "COLUMNS")}
    proc = subprocess.run(
        [*_corpus_command(), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in ok:
        raise RuntimeError(
            f"corpus {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def copy_sample(dest: Path, repo: Path = REPO) -> Path:
    """The repository's sample corpus, copied to `dest` (which must not exist)."""
    dest.mkdir(parents=True)
    shutil.copy2(repo / "corpus.toml", dest / "corpus.toml")
    for part in CORPUS_PARTS:
        if (repo / part).is_dir():
            shutil.copytree(repo / part, dest / part)
    return dest


def measure(repo: Path = REPO) -> Measured:
    """Run the tool on a scratch copy of the sample corpus and keep what it printed."""
    with tempfile.TemporaryDirectory(prefix="docs-figures-") as tmp:
        root = copy_sample(Path(tmp) / "corpus", repo)
        ingest = json.loads(_run(root, "ingest", "--json"))
        agree = json.loads(_run(root, "agree", "--json"))
        agree_md = _run(root, "agree", "--format", "markdown")
        adjudicate = json.loads(_run(root, "adjudicate", "--json"))
        check_text = _run(root, "check", ok=(0, 1))
        toml = root / "corpus.toml"
        text, n = re.subn(
            r"(?m)^min_alpha_stance\s*=.*$",
            f"min_alpha_stance = {GATE_EXAMPLE_THRESHOLD}",
            toml.read_text(encoding="utf-8"),
        )
        if n != 1:
            raise RuntimeError("corpus.toml: no single `min_alpha_stance =` line in [gates]")
        toml.write_text(text, encoding="utf-8")
        raised = json.loads(_run(root, "check", "--json", ok=(1,)))
    messages = [
        f["message"]
        for part in ("validation", "schemas", "gates")
        for f in raised[part]["findings"]
        if f["slug"] == "gate-alpha-stance"
    ]
    if len(messages) != 1:
        raise RuntimeError(f"expected one gate-alpha-stance finding, got {messages}")
    return Measured(ingest, agree, agree_md, adjudicate, check_text, messages[0])


# --- the blocks -----------------------------------------------------------------------------


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _est(e: dict[str, Any]) -> str:
    if e["value"] is None:
        return "n/a"
    if e["low"] is None or e["high"] is None:
        return _f(e["value"])
    return f"{_f(e['value'])} [{_f(e['low'])}, {_f(e['high'])}]"


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, break_long_words=False, break_on_hyphens=False))


def md_table(markdown: str, heading: str) -> list[str]:
    """The first table (header, rule, rows) under `### heading` of `corpus agree`'s Markdown."""
    lines = markdown.splitlines()
    try:
        start = lines.index(f"### {heading}")
    except ValueError:
        raise RuntimeError(f"corpus agree --format markdown has no '### {heading}'") from None
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("### "):
            break
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def block_ingest_counts(m: Measured) -> str:
    """`corpus ingest` on the sample: inputs, articles, stories, duplicates."""
    r = m.ingest
    dup = r["duplicates"]
    return (
        f"{r['inputs']} inputs, {r['articles']} articles, {r['stories']} stories, "
        f"{dup} duplicate{'s' if dup != 1 else ''}"
    )


def block_agree_stance(m: Measured) -> str:
    """The stance table of `corpus agree --format markdown`, as printed (every target)."""
    return "\n".join(md_table(m.agree_markdown, "Stance"))


def block_agree_entities(m: Measured) -> str:
    """The entities table of `corpus agree --format markdown`, abridged: all labels, the label
    with the most spans, and the two with the lowest exact F1 (rows in the tool's order of
    spans, most first); the header and cells as printed."""
    header, rule, *rows = md_table(m.agree_markdown, "Entities")
    overall = [r for r in rows if _cells(r)[0] == "all labels"]
    labels = [r for r in rows if _cells(r)[0] != "all labels"]

    def spans(r: str) -> int:
        return int(_cells(r)[1])

    def exact(r: str) -> float:
        v = _cells(r)[2].split(" ")[0]
        return float("inf") if v == "n/a" else float(v)

    keep = {max(labels, key=spans)} | set(sorted(labels, key=exact)[:2])
    chosen = sorted((r for r in labels if r in keep), key=spans, reverse=True)
    return "\n".join([header, rule, *overall, *chosen])


def block_agree_tokens_claims(m: Measured) -> str:
    """Token-level α, the claims' span F1 and check-worthiness, in a sentence or three."""
    e, c = m.agree["entities"], m.agree["claims"]
    kappa, pct, ac1 = c["checkworthy_kappa"], c["checkworthy_percent"], c["checkworthy_ac1"]
    text = (
        f"Token level: Krippendorff's α = {_est(e['token_alpha'])} over {e['tokens']} tokens. "
        f"Claims: span F1 {_f(c['overall']['exact_f1']['value'])} exact, "
        f"{_f(c['overall']['overlap_f1']['value'])} overlap. On check-worthiness of the "
        f"{c['matched']} matched pairs κ = {_f(kappa['value'])} while agreement is "
        f"{_f(pct['value'])} and AC1 {_f(ac1['value'])}"
    )
    paradox = (
        kappa["value"] is not None
        and pct["value"] is not None
        and kappa["value"] < 0.2
        and pct["value"] >= 0.8
    )
    text += ": one answer dominates (the κ paradox)." if paradox else "."
    return _wrap(text)


# how items are decided, the way `corpus adjudicate` goes down its rules (others after these)
DECISION_ORDER = (
    "ground_truth",
    "adjudicated",
    "unanimous",
    "majority",
    "single",
    "tie",
    "disputed",
)


def block_adjudicate_counts(m: Measured) -> str:
    """`corpus adjudicate` on the sample: gold records, open disputes, decisions per layer."""
    a = m.adjudicate
    stats: dict[str, int] = a["stats"]
    layers = []
    for layer in ("stance", "entities", "claims"):
        found = {k.split(".", 1)[1]: n for k, n in stats.items() if k.startswith(layer + ".")}
        order = [d for d in DECISION_ORDER if d in found] + sorted(set(found) - set(DECISION_ORDER))
        parts = [f"{found[d]} {d}" for d in order if found[d]]
        layers.append(f"{layer} {', '.join(parts) or 'none'}")
    return _wrap(
        f"{a['articles']} gold records and {a['open_disputes']} open disputes in "
        f"{a['dispute_tasks']} dispute tasks (items decided: {'; '.join(layers)})."
    )


def block_gate_example(m: Measured) -> str:
    """The finding `corpus check` gives when the stance gate is raised to 0.9 (inline code)."""
    return f"`{m.gate_message}`"


def block_check_output(m: Measured) -> str:
    """`corpus check` on the sample, as printed when stdout is not a terminal."""
    return "```text\n" + m.check_text.rstrip("\n") + "\n```"


BLOCKS: dict[str, Callable[[Measured], str]] = {
    "ingest-counts": block_ingest_counts,
    "agree-stance": block_agree_stance,
    "agree-entities": block_agree_entities,
    "agree-tokens-claims": block_agree_tokens_claims,
    "adjudicate-counts": block_adjudicate_counts,
    "gate-example": block_gate_example,
    "check-output": block_check_output,
}


def generate(m: Measured) -> dict[str, str]:
    """Every block's text."""
    return {name: make(m) for name, make in BLOCKS.items()}


# --- the pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stale:
    """A block whose text differs from the generated one."""

    file: str
    line: int
    name: str
    have: str
    want: str


def pages(repo: Path = REPO) -> list[Path]:
    """README.md and docs/**/*.md (those that exist), in a stable order."""
    out = [repo / "README.md"] if (repo / "README.md").exists() else []
    docs = repo / "docs"
    if docs.is_dir():
        out += sorted(p for p in docs.rglob("*.md") if p.is_file())
    return out


def _check_markers(text: str, where: str) -> None:
    """Every opening marker closed by its own name before the next one opens."""
    open_name: str | None = None
    open_line = 0
    for mo in OPEN.finditer(text):
        closing, name = mo.group(1) == "/", mo.group(2)
        line = text.count("\n", 0, mo.start()) + 1
        if not closing:
            if open_name is not None:
                raise FiguresError(
                    f"{where}:{open_line}: figures:{open_name} is not closed before "
                    f"figures:{name} opens (line {line})"
                )
            if name not in BLOCKS:
                raise FiguresError(
                    f"{where}:{line}: unknown figures block {name!r} (known: {', '.join(BLOCKS)})"
                )
            open_name, open_line = name, line
        elif name != open_name:
            raise FiguresError(f"{where}:{line}: /figures:{name} closes nothing")
        else:
            open_name = None
    if open_name is not None:
        raise FiguresError(f"{where}:{open_line}: figures:{open_name} is never closed")


def _body(current: str, text: str) -> str:
    """The generated `text` laid out like the `current` body: own lines or inline."""
    return f"\n{text}\n" if current.startswith("\n") else text


def render(text: str, blocks: dict[str, str], where: str) -> tuple[str, list[Stale]]:
    """`text` with every block's body replaced by the generated one, and the stale blocks."""
    _check_markers(text, where)
    stale: list[Stale] = []

    def sub(mo: re.Match[str]) -> str:
        name, current = mo.group(1), mo.group(2)
        want = _body(current, blocks[name])
        if current != want:
            line = text.count("\n", 0, mo.start()) + 1
            stale.append(Stale(where, line, name, current.strip("\n"), want.strip("\n")))
        return f"<!-- figures:{name} -->{want}<!-- /figures:{name} -->"

    return MARKER.sub(sub, text), stale


def _shown(path: Path, repo: Path) -> str:
    try:
        return path.relative_to(repo).as_posix()
    except ValueError:
        return str(path)


def _diff(s: Stale) -> Iterator[str]:
    import difflib

    yield from difflib.unified_diff(
        s.have.splitlines(), s.want.splitlines(), "in the page", "generated", lineterm="", n=1
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 naming each stale block")
    mode.add_argument("--write", action="store_true", help="rewrite stale blocks in place")
    mode.add_argument("--print", action="store_true", help="print every generated block")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="repository root (default: this one)"
    )
    parser.add_argument(
        "files", nargs="*", type=Path, help="pages to check (default: README.md, docs/**/*.md)"
    )
    args = parser.parse_args(argv)
    from corpus_tools.store import atomic_write_text  # the toolkit's own atomic replace

    repo = args.repo.resolve()
    blocks = generate(measure(repo))
    if args.print:
        for name, text in blocks.items():
            print(f"<!-- figures:{name} -->\n{text}\n<!-- /figures:{name} -->\n")
        return 0
    files = [f.resolve() for f in args.files] or pages(repo)
    all_stale: list[Stale] = []
    try:
        for path in files:
            text = path.read_text(encoding="utf-8")
            new, stale = render(text, blocks, _shown(path, repo))
            all_stale += stale
            if args.write and new != text:
                atomic_write_text(path, new)
    except FiguresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for s in all_stale:
        verb = "rewrote" if args.write else "stale"
        print(f"{s.file}:{s.line}: {verb} figures:{s.name}")
        if not args.write:
            for line in _diff(s):
                print("    " + line)
    if args.check and all_stale:
        print(
            f"{len(all_stale)} stale figures block(s): run "
            "`.venv/bin/python scripts/docs_figures.py --write` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
