"""Names and defaults that the library uses and the CLI's help shows, in a module that imports
nothing heavy: `corpus ls push --help` shows the environment variables without loading the Label
Studio client, `corpus serve --help` the address without loading the server."""

from __future__ import annotations

from typing import Literal

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
ENV_PSEUDONYM_KEY = "CORPUS_PSEUDONYM_KEY"

SERVE_HOST = "127.0.0.1"
SERVE_PORT = 9090

# `corpus ingest` input formats (chosen by extension, or forced with --format).
Format = Literal["txt", "html", "jsonl", "csv", "labelstudio", "warc", "articles"]
FORMATS: tuple[Format, ...] = ("txt", "html", "jsonl", "csv", "labelstudio", "warc", "articles")

# Where `corpus ingest` and `corpus sample` run (--engine): this machine, or Ray Data.
Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")

# `corpus sample` (--strata, --allocation; `[sample]` in corpus.toml).
SAMPLE_STRATA = ("outlet", "language", "year", "month", "week", "day")
SAMPLE_ALLOCATIONS = ("proportional", "equal")

# Bootstrap resamples (over articles) for every 95% interval of an agreement figure, and its
# seed: `corpus agree`, the gates of `corpus check` and a release card's agreement section use
# the same, so one figure has one interval wherever it is shown.
AGREEMENT_BOOTSTRAP = 1000
AGREEMENT_SEED = 0
