"""The validation run behind `corpus_tools.validate` (see the package's docstring): files and
tasks streamed, each task checked, findings gathered. Imported by the first use of the
package's names, so importing `corpus_tools.validate.formats` (the CLI's --help) costs none of
it."""

from __future__ import annotations

import gc
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import UsageError
from corpus_tools.exports import LOSSY, export_files, is_json_min_row
from corpus_tools.model import Article, Finding, Report
from corpus_tools.validate import articles as article_table
from corpus_tools.validate.checks import SemanticChecker, Utf16Fix, scan_emails
from corpus_tools.validate.keys import duplicate_keys, may_have_duplicates, shown
from corpus_tools.validate.reader import RawTask, read_tasks
from corpus_tools.validate.slugs import SLUGS, Where, pointer
from corpus_tools.validate.structure import StructureChecker

__all__ = ["SLUGS", "TaskSink", "load_article_hashes", "validate"]

STAT_KEYS = (
    "files",
    "tasks",
    "annotations",
    "cancelled",
    "drafts",
    "predictions",
    "regions",
    "invalid_tasks",
    "repaired",
)

TaskSink = Callable[[dict[str, Any], Where, bool], None]
"""Called with every task that parsed as an object: (task, where, no error findings)."""


def load_article_hashes(path: Path) -> dict[str, str]:
    """article_id -> text_sha256 from an articles table (only those two columns are read)."""
    return article_table.read_table(path)


def validate(
    *,
    config: CorpusConfig,
    paths: Iterable[Path],
    articles: Mapping[str, str] | Mapping[str, Article] | None = None,
    repair_utf16: bool = False,
    progress: bool = False,
) -> Report:
    """Validate exports at `paths` (files or folders); return every finding and the counts.

    `articles` maps article_id to its text_sha256 (or Article); by default it is read from
    build/articles.parquet when that exists. With `repair_utf16`, regions whose offsets are
    UTF-16 code units are rewritten to code points in their file (atomically, the original
    kept as `<file>.bak`); their findings are then reported as `info`.
    """
    return run(
        config=config,
        paths=paths,
        articles=articles,
        repair_utf16=repair_utf16,
        progress=progress,
    )


def run(
    *,
    config: CorpusConfig,
    paths: Iterable[Path],
    articles: Mapping[str, str] | Mapping[str, Article] | None = None,
    repair_utf16: bool = False,
    progress: bool = False,
    display: Callable[[Path], str] = str,
    sink: TaskSink | None = None,
) -> Report:
    """`validate`, plus how files are named in findings and a hook that sees every task."""
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder", path=str(p))
    report = Report(stats=dict.fromkeys(STAT_KEYS, 0))
    hashes = _article_hashes(config, articles, report)
    structure = StructureChecker(config)
    semantics = SemanticChecker(config, hashes)
    seen = _Seen(config)
    files = export_files(paths)
    lossy = _tables_in_folders(paths)
    for f in lossy:  # never read as tasks: each answered with one lossy-export finding
        report.stats["files"] += 1
        for _ in read_tasks(f, display(f), report.findings):
            pass
    if not files and not lossy:
        report.findings.append(
            Where(", ".join(str(p) for p in paths)).finding(
                "no-tasks", "no *.json or *.jsonl files"
            )
        )
    with _progress(progress, files) as advance, _gc_paused():
        for f in files:
            name = display(f)
            report.stats["files"] += 1
            fixes: list[tuple[RawTask, list[Utf16Fix]]] = []
            done = 0
            tasks_before, findings_before = report.stats["tasks"], len(report.findings)
            for item in read_tasks(f, name, report.findings):
                task_fixes = _validate_task(item, structure, semantics, seen, report, sink)
                if task_fixes is None:  # a lossy export: one finding for the file
                    report.findings.append(
                        Where(name, line=item.where.line).finding(
                            "lossy-export", f"{LOSSY['JSON-MIN']}: not read"
                        )
                    )
                    break
                if task_fixes and repair_utf16:
                    fixes.append((item, task_fixes))
                done += len(item.raw)
                advance(len(item.raw))
            if report.stats["tasks"] == tasks_before and len(report.findings) == findings_before:
                report.findings.append(Where(name).finding("no-tasks", "the file holds no tasks"))
            if fixes:
                _repair(f, fixes, report)
            advance(_size(f) - done)
    report.findings.sort(key=_order)
    return report


def _validate_task(
    item: RawTask,
    structure: StructureChecker,
    semantics: SemanticChecker,
    seen: _Seen,
    report: Report,
    sink: TaskSink | None,
) -> list[Utf16Fix] | None:
    """Check one raw task; its UTF-16 repairs, or None when it is a row of a JSON-MIN
    export (the file is then answered with one finding instead of one per row)."""
    where = item.where
    out = report.findings
    stats = report.stats
    try:
        task = orjson.loads(item.raw)
    except orjson.JSONDecodeError as exc:
        slug = "bad-encoding" if "UTF-8" in str(exc) else "not-json"
        out.append(where.finding(slug, f"task is not valid JSON: {exc}"))
        return []
    if not isinstance(task, dict):
        out.append(where.finding("not-a-task", f"a JSON {type(task).__name__}, not a task object"))
        return []
    if "data" not in task and is_json_min_row(task):
        return None
    stats["tasks"] += 1
    tid = task.get("id")
    if isinstance(tid, int | str) and not isinstance(tid, bool):
        where.task_id = tid
    before = len(out)
    if may_have_duplicates(item.raw, task):
        _duplicate_keys(item.raw, task, where, out)
    seen.check(task, where, out)
    if structure.is_valid(task):
        fixes = semantics.check_task(task, where, out, stats)
    else:
        stats["invalid_tasks"] += 1
        out.extend(structure.findings(task, where))
        fixes = semantics.check_task(
            task,
            where,
            out,
            stats,
            annotation_ok=structure.annotation_ok,
            result_ok=structure.result_ok,
            data_ok=structure.data_ok(task.get("data")),
        )
    if b"@" in item.raw:
        scan_emails(task, where, out)
    if len(out) > before and where.line is not None and b"\n" in item.raw:
        out[before:] = [_refine_line(f, item.raw, where.line) for f in out[before:]]
    if sink is not None:
        sink(task, where, not any(f.severity == "error" for f in out[before:]))
    return fixes


def _tables_in_folders(paths: list[Path]) -> list[Path]:
    """CSV and TSV files in the given folders (not in hidden ones): Label Studio's lossy
    exports, which the readers skip; validation says so instead of passing over them."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.suffix.lower() in (".csv", ".tsv")
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.is_file()
            )
    return out


def _duplicate_keys(raw: bytes, task: dict[str, Any], where: Where, out: list[Finding]) -> None:
    for path, key, values in duplicate_keys(raw):
        ann_id, rid = _ids_at(task, path)
        at = pointer(*path)
        out.append(
            where.finding(
                "duplicate-key",
                f"key {key!r} appears {len(values)} times in {at or '(task)'} "
                f"({', then '.join(shown(v) for v in values)})",
                pointer=at,
                annotation_id=ann_id,
                region_id=rid,
            )
        )


def _ids_at(task: dict[str, Any], path: list[str | int]) -> tuple[int | str | None, str | None]:
    """The annotation id and region id of the object at `path` in the (parsed) task."""
    if len(path) < 2 or path[0] != "annotations":
        return None, None
    try:
        ann = task["annotations"][path[1]]
        aid = ann.get("id")
        result = ann["result"][path[3]] if len(path) >= 4 and path[2] == "result" else None
    except (KeyError, IndexError, TypeError, AttributeError):
        return None, None
    ann_id = aid if isinstance(aid, int | str) and not isinstance(aid, bool) else None
    rid = result.get("id") if isinstance(result, dict) else None
    return ann_id, (rid if isinstance(rid, str) and rid else None)


_Place = tuple[str, int | None, int | str | None]  # file, line, task id


class _Seen:
    """Tasks (by id and by article) and annotation ids already read in this run.

    A task read twice (a UI export beside a pull of the same project, an article imported
    twice) would count its annotations twice in agreement and gold. Memory: ~46 MB for 100k
    tasks of two annotations (measured with tracemalloc).
    """

    def __init__(self, config: CorpusConfig) -> None:
        self.tasks: dict[int | str, _Place] = {}
        self.articles: dict[str | tuple[str, str], _Place] = {}
        self.annotations: dict[int | str, _Place] = {}
        names = config.scheme.names
        self.article_field = names.article_id_field
        # With one stance control, an article may have one task per target.
        self.target_field = names.stance_target_field if names.stance else None
        self.scheme = config.scheme

    def check(self, task: dict[str, Any], where: Where, out: list[Finding]) -> None:
        tid = where.task_id
        here = (where.file, where.line, tid)
        if tid is not None:
            first = self.tasks.get(tid)
            if first is not None:
                out.append(
                    where.finding(
                        "duplicate-task", f"task {tid} is read twice: it is also {_place(first)}"
                    )
                )
                return  # its annotations are the first copy's: one finding says it
            self.tasks[tid] = here
        data = task.get("data")
        article = data.get(self.article_field) if isinstance(data, dict) else None
        if isinstance(article, str):
            key: str | tuple[str, str] = article
            about = ""
            if self.target_field is not None:
                target = data.get(self.target_field)  # type: ignore[union-attr]
                known = self.scheme.target_id(target)  # "Iran" and "iran" are one target
                key = (article, known or (target if isinstance(target, str) else ""))
                about = f" on target {target!r}" if isinstance(target, str) else ""
            first = self.articles.get(key)
            if first is not None:
                out.append(
                    where.finding(
                        "duplicate-task",
                        f"article {article!r} has a second task{about}: it is also "
                        f"{_place(first)}; its annotations would count twice",
                        pointer=pointer("data", self.article_field),
                    )
                )
            else:
                self.articles[key] = here
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            return
        for i, ann in enumerate(annotations):
            aid = ann.get("id") if isinstance(ann, dict) else None
            if not isinstance(aid, int | str) or isinstance(aid, bool):
                continue
            first = self.annotations.get(aid)
            if first is None:
                self.annotations[aid] = here
                continue
            out.append(
                where.finding(
                    "duplicate-annotation-id",
                    f"annotation id {aid} is used twice: also in {_place(first)}",
                    pointer=pointer("annotations", i, "id"),
                    annotation_id=aid,
                )
            )


def _place(place: _Place) -> str:
    """`task 3 in export.json (line 12)`: where a task was first read, for messages."""
    file, line, tid = place
    what = f"task {tid}" if tid is not None else "a task"
    return f"{what} in {file}" + (f" (line {line})" if line is not None else "")


def _refine_line(f: Finding, raw: bytes, first_line: int) -> Finding:
    """In an indented file, move a region's (or data field's) finding to its own line."""
    at = -1
    if f.region_id is not None:
        m = re.search(rb'"id"\s*:\s*' + re.escape(orjson.dumps(f.region_id)), raw)
        at = m.start() if m else -1
    elif f.pointer and "/data/" in f.pointer:
        key = f.pointer.rsplit("/data/", 1)[1].split("/")[0]
        data = raw.find(b'"data"')
        at = raw.find(orjson.dumps(key), data) if data >= 0 else -1
    if at < 0:
        return f
    return replace(f, line=first_line + raw.count(b"\n", 0, at))


def _article_hashes(
    config: CorpusConfig,
    articles: Mapping[str, str] | Mapping[str, Article] | None,
    report: Report,
) -> dict[str, str] | None:
    if articles is not None:
        return {k: (v.text_sha256 if isinstance(v, Article) else v) for k, v in articles.items()}
    table = config.paths.articles_parquet
    if table.is_file():
        return article_table.article_hashes(table)  # the pairs kept from the last read, if current
    report.findings.append(
        Where(_rel(table, config.paths.root)).finding(
            "article-checks-skipped",
            "no articles table: unknown and stale articles not checked "
            "(each task's text is still checked against its text_sha256)",
        )
    )
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _repair(f: Path, fixes: list[tuple[RawTask, list[Utf16Fix]]], report: Report) -> None:
    """Rewrite UTF-16 offsets as code points in file `f`; keep the original as `f.bak`.

    The file is re-read whole (only files with findings are repaired): a JSON array or a
    task file is written back as indented JSON, JSONL as one compact task per line.
    """
    from corpus_tools.store import atomic_write_bytes, dump_json

    by_pointer = {item.where.prefix: fx for item, fx in fixes}
    by_line = {item.where.line: fx for item, fx in fixes}
    raw = f.read_bytes()
    if f.suffix == ".jsonl":
        lines = raw.split(b"\n")  # as the reader counts lines
        for lineno, task_fixes in by_line.items():
            if lineno is None:
                continue
            task = orjson.loads(lines[lineno - 1].removeprefix(b"\xef\xbb\xbf"))
            _apply(task, task_fixes)
            lines[lineno - 1] = orjson.dumps(task)
        new = b"\n".join(lines)
    else:
        doc = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        for prefix, task_fixes in by_pointer.items():
            _apply(doc[int(prefix[1:])] if prefix else doc, task_fixes)
        new = dump_json(doc)
    shutil.copy2(f, f.with_name(f.name + ".bak"))
    atomic_write_bytes(f, new)
    count = sum(len(fx) for _, fx in fixes)
    report.stats["repaired"] += count
    fixed_files = {item.where.file for item, _ in fixes}
    report.findings[:] = [
        _as_repaired(x) if x.slug == "utf16-offsets" and x.file in fixed_files else x
        for x in report.findings
    ]


def _as_repaired(f: Finding) -> Finding:
    return replace(f, severity="info", message=f.message + " (repaired)", hint=None)


def _apply(task: dict[str, Any], fixes: list[Utf16Fix]) -> None:
    for fx in fixes:
        value = task["annotations"][fx.annotation_index]["result"][fx.result_index]["value"]
        value["start"], value["end"] = fx.start, fx.end


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _order(f: Finding) -> tuple[Any, ...]:
    return (f.file or "", f.line or 0, f.pointer or "", _SEVERITY_ORDER[f.severity], f.slug)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Tasks are many small dicts freed at once: cyclic GC passes only cost time here."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _progress(show: bool, files: list[Path]) -> Iterator[Callable[[int], None]]:
    """A progress bar over the bytes of all files (on stderr, only when `show`)."""
    if not show:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("validating"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        job = bar.add_task("validate", total=sum(_size(f) for f in files))
        yield lambda n: bar.advance(job, n)


def _size(f: Path) -> int:
    try:
        return f.stat().st_size
    except OSError:
        return 0
