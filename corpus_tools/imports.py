"""`corpus ls import`: a Label Studio export file, written as `corpus ls pull` writes a project.

A team that adopts the toolkit (issue 12) often has no server the CI can reach, only the
exports it downloaded from Label Studio: the sync JSON export (`completed_by` is the user's
numeric id), the snapshot export (`completed_by` is the user object, with the e-mail and names:
personal data), JSONL of tasks, or several such files. `import_export` writes their tasks under
`annotations/<slug>/tasks/` with the pull's own writer (`labelstudio.task_folder`: tasks
cleaned by `clean_task`, allow-listed keys, annotators as pseudonyms, one file per task named
by `task_filename`) and a `_project.json` whose `source` is `label-studio-export`, so
validation, agreement, adjudication and release read an imported folder as a pulled one.

Pseudonyms are the pull's: `ann-` + HMAC-SHA256(key, lowercased e-mail) when the export
carries the user's e-mail (a snapshot export), which is exactly what a pull of the same project
with the same key writes for that user. When the export carries only the user's id (a sync
export), the identity is `user-id:<id>`, as a pull uses for a user without an e-mail: such an
annotator gets another pseudonym than a pull (which knows the e-mail) would give them, so
import snapshot exports where pulled and imported annotations meet. E-mails, names and
usernames are read only to compute pseudonyms (in memory) and never written or returned.

The folder is replaced atomically (`labelstudio.TreeWriter`), and not at all when it holds
annotations the export lacks (the pull's refusal, `labelstudio.refuse_deletions`) unless
`allow_deletions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError, UsageError
from corpus_tools.labelstudio import PseudonymKey, Pseudonyms, slugify, task_folder

Progress = Callable[[int, int], None]

SOURCE = "label-studio-export"


def _user_email(user: Any) -> tuple[int, str] | None:
    """(id, e-mail) of a user object as a snapshot export gives it; None for a bare id."""
    if not isinstance(user, dict):
        return None
    uid, email = user.get("id"), user.get("email")
    if isinstance(uid, int) and not isinstance(uid, bool) and isinstance(email, str) and email:
        return uid, email
    return None


def _emails(task: dict[str, Any], into: dict[int, str]) -> None:
    """Collect the e-mails of the users a task's annotations and drafts name (in memory only)."""
    users = [a.get("completed_by") for a in task.get("annotations") or [] if isinstance(a, dict)]
    users += [d.get("user") for d in task.get("drafts") or [] if isinstance(d, dict)]
    for user in users:
        found = _user_email(user)
        if found is not None:
            into.setdefault(*found)


def _tasks(files: list[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, task) for every task of the export files, streamed; a DataError names the
    file (and line) of the first thing that is not a task (a JSON-MIN or CSV export too)."""
    from corpus_tools.exports import iter_raw_tasks

    for loc, task in iter_raw_tasks(files):
        yield loc.file, task


def import_export(
    *,
    config: CorpusConfig,
    paths: list[Path],
    pseudonym_key: PseudonymKey,
    project_title: str | None = None,
    out: Path | None = None,
    allow_deletions: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the tasks and annotations of Label Studio export files as a pull would.

    `paths`: export files (JSON array, one task object, JSONL) or folders of them. The folder
    is `(out or [paths] annotations)/<slug>`, the slug being `slugify(project_title)` or else
    the first export file's stem. Reads the exports twice (streamed): once for the users'
    e-mails, so a user's pseudonym does not depend on where their e-mail first appears, then
    to write. Returns what `labelstudio.pull` returns (without the server's fields) plus
    `exports`, the file names read.

    Raises UsageError (exit 2) for a missing file or an unwritable folder, DataError (exit 1)
    for an export that cannot be read, holds no task or holds one task id twice, and for an
    import that would drop annotations the folder holds (unless `allow_deletions`).
    """
    from corpus_tools.exports import export_files

    if not paths:
        raise UsageError("no export file given", hint="Name the Label Studio export to import.")
    for p in paths:
        if not Path(p).exists():
            raise UsageError(
                f"{p}: no such file or folder",
                path=str(p),
                hint="Give the JSON export downloaded from Label Studio (Export -> JSON).",
            )
    files = export_files([Path(p) for p in paths])
    if not files:
        raise UsageError(
            f"no .json or .jsonl export in {', '.join(str(p) for p in paths)}",
            hint="Give the JSON export downloaded from Label Studio (Export -> JSON).",
        )
    title = project_title or Path(paths[0]).stem
    slug = slugify(title)
    target = (out or config.paths.annotations) / slug

    emails: dict[int, str] = {}
    seen: dict[Any, str] = {}
    projects: set[Any] = set()
    total = 0
    for name, task in _tasks(files):
        tid = task.get("id")
        if tid is not None:
            if tid in seen:
                raise DataError(
                    f"task {tid} is in the export twice ({seen[tid]} and {name}); "
                    "nothing was written",
                    path=name,
                    hint="Import one export of a project at a time (a sync or a snapshot "
                    "export, not both).",
                )
            seen[tid] = name
        projects.add(task.get("project"))
        _emails(task, emails)
        total += 1
    if total == 0:
        raise DataError(
            f"no task in {', '.join(str(f) for f in files)}; nothing was written",
            path=str(files[0]),
            hint="Export the project with its tasks (download all tasks).",
        )
    seen.clear()
    who = Pseudonyms(emails, pseudonym_key.key)
    emails.clear()

    with task_folder(target, who, config.scheme, "import") as folder:
        for _name, raw in _tasks(files):
            folder.add(raw)
            if progress:
                progress(folder.tasks, total)
        folder.check(allow_deletions)
        project_ids = sorted(p for p in projects if isinstance(p, int))
        meta = {
            "source": SOURCE,
            "exports": [f.name for f in files],
            "project_id": project_ids[0] if len(project_ids) == 1 else None,
            "title": title,
            **folder.counts(),
            "pseudonyms": {
                "scheme": "ann- + first 10 hex of HMAC-SHA256(key, lowercased email); "
                "user-id:<id> instead of the email when the export has only the id",
                "key": pseudonym_key.source,
            },
            "layout": "one Label Studio task per file under tasks/, named <article_id>.json",
        }
        written = folder.commit(meta)
    return {
        "dir": str(target),
        "exports": meta["exports"],
        "project_id": meta["project_id"],
        **written,
    }
