"""The docs' "Adopt an existing Label Studio project" block, run as written.

The block is taken from docs/adopt.md (after `<!-- adopt-commands -->`) and run by bash from the
repository root, with a private HOME (the pseudonym key and the `datasets` cache go there) and
TMPDIR (`mktemp -d` puts the adopted corpus there), so nothing outside the test's folder moves.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def readme_block(marker: str) -> str:
    """The bash block that follows `marker` in docs/adopt.md."""
    text = (REPO / "docs" / "adopt.md").read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r"\n```bash\n(.*?)\n```", text, re.S)
    assert found, f"no bash block after {marker} in docs/adopt.md"
    return found.group(1)


@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "activate").is_file(), reason="no .venv")
def test_adopt_commands_run_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block("<!-- adopt-commands -->")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    # load_dataset's DatasetDict of the stance config: 5 rows over the splits.
    assert "DatasetDict" in proc.stdout
    rows = [int(n) for n in re.findall(r"num_rows: (\d+)", proc.stdout)]
    assert sum(rows) == 5, proc.stdout[-2000:]
    (adopted,) = tmp_path.glob("*/adopted")
    assert (adopted / "dist" / "0.1.0" / "manifest.json").is_file()
    assert (home / ".config" / "corpus-pseudonym.key").is_file()
    # The export's e-mails are nowhere in what the commands wrote.
    for f in adopted.rglob("*"):
        if f.is_file():
            assert b"example.org" not in f.read_bytes(), f
