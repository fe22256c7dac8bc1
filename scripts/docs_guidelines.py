"""Write or check the generated section of docs/guides/annotator.md: the scheme's labels, stance
values and claim attributes with their definitions and examples, rendered from corpus.toml's
[scheme] and [guidelines] by `corpus_tools.guidelines.markdown`, the function whose HTML twin is the
Label Studio project's instructions (`corpus ls push`).

    .venv/bin/python scripts/docs_guidelines.py --check   # exit 1 with a diff when stale
    .venv/bin/python scripts/docs_guidelines.py --write   # rewrite the block in place
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_tools import guidelines, store  # noqa: E402
from corpus_tools.config import load_config  # noqa: E402

PAGE = REPO / "docs" / "guides" / "annotator.md"
_BLOCK = re.compile(
    rf"(<!-- {re.escape(guidelines.BLOCK)} -->\n)(.*?)(<!-- /{re.escape(guidelines.BLOCK)} -->)",
    re.S,
)


def rendered(page: str, config_path: Path = REPO / "corpus.toml") -> str:
    """`page` with its generated block holding the current render (ValueError: no block)."""
    body = guidelines.markdown(guidelines.guide(load_config(config_path)))
    if not _BLOCK.search(page):
        raise ValueError(f"no <!-- {guidelines.BLOCK} --> block")
    return _BLOCK.sub(lambda m: f"{m[1]}\n{body}\n{m[3]}", page, count=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    ap.add_argument("--page", type=Path, default=PAGE)
    args = ap.parse_args()
    old = args.page.read_text(encoding="utf-8")
    new = rendered(old)
    if args.write:
        if new != old:
            store.atomic_write_bytes(args.page, new.encode("utf-8"))
        print(f"{args.page}: {'rewritten' if new != old else 'current'}")
        return 0
    if new != old:
        diff = difflib.unified_diff(
            old.splitlines(), new.splitlines(), "committed", "generated", lineterm=""
        )
        print(f"{args.page}: the generated guidelines are stale:", *diff, sep="\n")
        print("rewrite with: .venv/bin/python scripts/docs_guidelines.py --write")
        return 1
    print(f"{args.page}: current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
