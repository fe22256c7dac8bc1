"""Inter-annotator agreement: coefficients, the report, its Markdown, plots and quality gates.

`agree(...)` measures; `render_markdown(report)` writes the dataset card's section;
`plot(report, out_dir)` draws PNGs; `gate_findings(...)` turns corpus.toml `[gates]` into
findings for `corpus check`.
"""

from __future__ import annotations

from corpus_tools.agreement.core import AgreementReport, agree
from corpus_tools.agreement.gates import gate_findings
from corpus_tools.agreement.markdown import render_markdown
from corpus_tools.agreement.plots import plot

__all__ = ["AgreementReport", "agree", "gate_findings", "plot", "render_markdown"]
