"""One root exception with structured attributes; the CLI maps each type to a message and an
exit code (DESIGN contract 8: 0 ok, 1 the data failed a check, 2 usage or configuration)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2


class CorpusError(Exception):
    """Root of every error the toolkit raises on purpose."""

    exit_code: int = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        task_id: int | str | None = None,
        annotation_id: int | str | None = None,
        region_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.task_id = task_id
        self.annotation_id = annotation_id
        self.region_id = region_id

    def location(self) -> str:
        """Where the problem is, as `file, task 3, annotation 7, region n1` (empty if unknown)."""
        parts = []
        if self.path:
            parts.append(str(self.path))
        if self.task_id is not None:
            parts.append(f"task {self.task_id}")
        if self.annotation_id is not None:
            parts.append(f"annotation {self.annotation_id}")
        if self.region_id is not None:
            parts.append(f"region {self.region_id}")
        return ", ".join(parts)


class ConfigError(CorpusError):
    """corpus.toml (or another configuration input) is missing or invalid."""

    exit_code = EXIT_USAGE


class UsageError(CorpusError):
    """The command was called in a way that cannot work (bad option, missing input)."""

    exit_code = EXIT_USAGE


class DataError(CorpusError):
    """The data itself failed a check (bad article, bad annotation, stale task)."""

    exit_code = EXIT_DATA


class LabelStudioError(CorpusError):
    """The Label Studio server is unreachable, refuses our key, or lacks the project."""

    exit_code = EXIT_USAGE


class PublishError(CorpusError):
    """Publishing was refused: the version exists, the parent is stale, or the target fails."""

    exit_code = EXIT_USAGE
