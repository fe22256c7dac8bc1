"""Figures quoted in the docs are generated and checked (issue 15, point 3).

`scripts/docs_figures.py --check` on the repository's own pages passes (a block whose figures
went stale fails it); on a scratch repository it names the stale block, `--write` fixes only
the text between the markers, and malformed markers are refused. The generated figures are
compared with `corpus agree --json` at full precision, rounded independently (Decimal), and the
terminal and Markdown renderings of `corpus agree` must print every figure the same way.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO, copy_sample

SCRIPT = REPO / "scripts" / "docs_figures.py"
NUM = re.compile(r"-?\d+\.\d{3}")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_figures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_figures"] = module
    spec.loader.exec_module(module)
    return module


figures = _load()


def _corpus(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    import os

    e = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CORPUS_CONFIG")}
    e.update(env or {})
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "corpus"), *args],
        cwd=root,
        env=e,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.stdout


def _round3(x: float) -> str:
    """An independent rounding: the exact binary value, half to even, three decimals."""
    return str(Decimal(x).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN))


@pytest.fixture(scope="module")
def measured() -> Any:
    return figures.measure(REPO)


@pytest.fixture(scope="module")
def blocks(measured: Any) -> dict[str, str]:
    return figures.generate(measured)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_sample(tmp_path_factory.mktemp("figures") / "corpus")
    _corpus(root, "ingest", "-q")
    return root


@pytest.fixture(scope="module")
def report(sample: Path) -> dict[str, Any]:
    return json.loads(_corpus(sample, "agree", "--json"))


def test_repository_pages_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _figures_of(e: dict[str, Any]) -> list[str]:
    return [_round3(e[k]) for k in ("value", "low", "high")]


def test_stance_block_is_the_report_rounded(blocks: dict[str, str], report: dict[str, Any]) -> None:
    header, _, *rows = blocks["agree-stance"].splitlines()
    assert header.startswith("| target | items | Krippendorff's α")
    by_target = {"all targets" if s["target"] == "*" else s["target"]: s for s in report["stance"]}
    assert [r.split("|")[1].strip() for r in rows] == list(by_target)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        s = by_target[cells[0]]
        assert int(cells[1]) == s["items"]
        want = [x for k in ("alpha", "fleiss_kappa", "percent", "ac1") for x in _figures_of(s[k])]
        assert NUM.findall(" ".join(cells[2:])) == want


def test_entities_block_is_abridged_by_its_rule(
    blocks: dict[str, str], report: dict[str, Any]
) -> None:
    _, _, *rows = blocks["agree-entities"].splitlines()
    labels = report["entities"]["labels"]
    most = max(labels, key=lambda f: f["spans"])["label"]
    lowest = sorted(labels, key=lambda f: f["exact_f1"]["value"])[:2]
    expected = [
        "*",
        *sorted(
            {most} | {f["label"] for f in lowest},
            key=lambda name: -next(f["spans"] for f in labels if f["label"] == name),
        ),
    ]
    shown = [r.split("|")[1].strip() for r in rows]
    assert shown == ["all labels" if x == "*" else x for x in expected]
    every = {f["label"]: f for f in [report["entities"]["overall"], *labels]}
    for row, name in zip(rows, expected, strict=True):
        f = every[name]
        want = _figures_of(f["exact_f1"]) + _figures_of(f["overlap_f1"])
        assert NUM.findall(row) == want
        assert f"| {f['spans']} |" in row


def test_prose_blocks_are_the_report_rounded(
    blocks: dict[str, str], report: dict[str, Any], measured: Any
) -> None:
    e, c = report["entities"], report["claims"]
    text = " ".join(blocks["agree-tokens-claims"].split())
    assert NUM.findall(text) == [
        *_figures_of(e["token_alpha"]),
        _round3(c["overall"]["exact_f1"]["value"]),
        _round3(c["overall"]["overlap_f1"]["value"]),
        _round3(c["checkworthy_kappa"]["value"]),
        _round3(c["checkworthy_percent"]["value"]),
        _round3(c["checkworthy_ac1"]["value"]),
    ]
    assert f"over {e['tokens']} tokens" in text and f"the {c['matched']} matched pairs" in text
    adj = measured.adjudicate
    counts = " ".join(blocks["adjudicate-counts"].split())
    assert counts.startswith(f"{adj['articles']} gold records and {adj['open_disputes']} open")
    for key, n in adj["stats"].items():
        layer, how = key.split(".", 1)
        if layer != "disputes" and n:
            assert re.search(rf"{layer} [^;]*\b{n} {how}\b", counts), (key, counts)
    # the gate example: a real finding of `corpus check` with the raised gate
    gate = blocks["gate-example"]
    overall = next(s for s in report["stance"] if s["target"] == "*")["alpha"]["value"]
    assert gate.startswith(f"`stance: Krippendorff's α (all targets) = {_round3(overall)} ")
    assert gate.endswith("is below the gate min_alpha_stance = 0.9`")
    ing = measured.ingest
    assert blocks["ingest-counts"].startswith(f"{ing['inputs']} inputs, {ing['articles']} articles")
    assert "gates" in blocks["check-output"] and blocks["check-output"].startswith("```text\n")


def _terminal_rows(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if line and line[0] not in "│┏┡└┃" and not line.startswith(" "):
            title = line.split(" (")[0].split(":")[0].strip()
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            rows[f"{title}/{cells[0]}"] = NUM.findall(" ".join(cells[1:]))
    return rows


def _markdown_rows(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("### "):
            title = line[4:]
        elif line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[f"{title}/{cells[0]}"] = NUM.findall(" ".join(cells[1:]))
    return rows


def test_terminal_and_markdown_round_every_figure_the_same(
    sample: Path, report: dict[str, Any]
) -> None:
    term = _terminal_rows(_corpus(sample, "agree", env={"COLUMNS": "260"}))
    md = _markdown_rows(_corpus(sample, "agree", "--format", "markdown"))
    compared = 0
    for key, nums in term.items():
        if key.split("/")[0] in ("Stance", "Entities"):
            assert md[key] == nums, (key, nums, md.get(key))
            compared += len(nums)
    # the claims table: the same figures in the same order
    t_claims = [n for k, v in term.items() if k.startswith("Claims/") for n in v]
    m_claims = [n for k, v in md.items() if k.startswith("Claims/") for n in v]
    assert t_claims == m_claims and t_claims
    compared += len(t_claims)
    assert compared >= 4 * 3 * 4 + 9 * 6  # every stance and entity figure was seen
    # and both are the full-precision figures rounded once
    c = report["claims"]
    keys = ("checkworthy_kappa", "checkworthy_percent", "checkworthy_ac1", "claimant_agreement")
    want = _figures_of(c["overall"]["exact_f1"]) + _figures_of(c["overall"]["overlap_f1"])
    assert t_claims == want + [x for k in keys for x in _figures_of(c[k])]


@pytest.mark.parametrize(
    "value", [0.57549, 0.5755, 0.5754999999, 0.0005, -0.0885, 0.9995, 1 / 3, 2 / 3, -0.2255]
)
def test_renderers_round_once(value: float) -> None:
    """The double rounding of issue 15 (0.576 vs 0.575): both renderers format the same
    full-precision Estimate, and agree with an independent rounding."""
    from corpus_tools.agreement.markdown import fmt
    from corpus_tools.agreement.stats import Estimate
    from corpus_tools.cli.agree import _fmt

    e = Estimate(value, value - 0.1, value + 0.1, 10)
    assert e.to_dict()["value"] == value  # JSON keeps full precision
    want = f"{_round3(value)} [{_round3(value - 0.1)}, {_round3(value + 0.1)}]"
    assert fmt(e) == _fmt(e.to_dict()) == want


PAGE = """# Title

Intro text stays.

<!-- figures:agree-stance -->
| target | items | Krippendorff's α | Fleiss' κ | % agreement | Gwet's AC1 |
| --- | ---: | --- | --- | --- | --- |
| united_states | 15 | 0.294 [-0.207, 0.640] | stale |
<!-- /figures:agree-stance -->

The gate: e.g. <!-- figures:gate-example -->`old message`<!-- /figures:gate-example -->. End.
"""


def _scratch_repo(tmp_path: Path, page: str) -> Path:
    repo = copy_sample(tmp_path / "repo")
    (repo / "README.md").write_text(page, encoding="utf-8")
    (repo / "docs" / "guides").mkdir(parents=True)
    (repo / "docs" / "guides" / "g.md").write_text("no blocks\n", encoding="utf-8")
    return repo


def _script(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_names_the_stale_block_and_write_fixes_it(
    tmp_path: Path, blocks: dict[str, str]
) -> None:
    repo = _scratch_repo(tmp_path, PAGE)
    r = _script(repo, "--check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "README.md:5: stale figures:agree-stance" in r.stdout
    assert "README.md:11: stale figures:gate-example" in r.stdout
    assert "-0.207" in r.stdout  # the diff shows what is stale
    assert (repo / "README.md").read_text(encoding="utf-8") == PAGE  # --check writes nothing

    r = _script(repo, "--write")
    assert r.returncode == 0, r.stdout + r.stderr
    text = (repo / "README.md").read_text(encoding="utf-8")
    # only the bodies changed: the rest of the page is as it was, the inline block inline
    assert text == (
        PAGE.split("<!-- figures:agree-stance -->")[0]
        + f"<!-- figures:agree-stance -->\n{blocks['agree-stance']}\n<!-- /figures:agree-stance -->"
        + "\n\nThe gate: e.g. <!-- figures:gate-example -->"
        + blocks["gate-example"]
        + "<!-- /figures:gate-example -->. End.\n"
    )
    assert not list(repo.glob(".README.md.*"))
    r = _script(repo, "--check")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("<!-- figures:nope -->x<!-- /figures:nope -->\n", "unknown figures block 'nope'"),
        ("<!-- figures:agree-stance -->\nx\n", "figures:agree-stance is never closed"),
        ("x<!-- /figures:gate-example -->\n", "closes nothing"),
    ],
)
def test_malformed_markers_are_refused(tmp_path: Path, page: str, message: str) -> None:
    text, _ = figures.render("ok", {}, "x.md")  # no blocks: nothing to do
    assert text == "ok"
    with pytest.raises(figures.FiguresError, match=re.escape(message)):
        figures.render(page, {name: "" for name in figures.BLOCKS}, "README.md")
