"""Parquet writing for releases: one file per (config, split), in row groups, label-checked.

Settings are fixed (zstd level 3, dictionary encoding, statistics, format 2.6) and pyarrow
writes no timestamps, so the same rows give byte-identical files. The schema carries the
`huggingface` metadata of the config's `datasets.Features`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tools.errors import DataError

if TYPE_CHECKING:
    from datasets import Features

ROWS_PER_GROUP = 2000


def _class_arrays(arr: Any, feature: Any, path: str) -> Iterator[tuple[str, Any, int]]:
    from datasets import ClassLabel, List

    if isinstance(feature, ClassLabel):
        yield path, arr, feature.num_classes
    elif isinstance(feature, List):
        yield from _class_arrays(pc.list_flatten(arr), feature.feature, f"{path}[]")
    elif isinstance(feature, dict):
        for key, sub in feature.items():
            yield from _class_arrays(pc.struct_field(arr, key), sub, f"{path}.{key}")


def check_label_ranges(table: pa.Table, features: Features) -> None:
    """Raise DataError if a ClassLabel column holds an id outside its names.

    `datasets` loads such a file silently and fails only later in `int2str`.
    """
    for name, feature in features.items():
        for path, arr, n in _class_arrays(table.column(name), feature, name):
            mm = pc.min_max(arr).as_py()
            lo, hi = mm["min"], mm["max"]
            if lo is not None and (lo < 0 or hi >= n):
                raise DataError(
                    f"{path}: class id out of range [{lo}, {hi}] for {n} labels",
                    hint="A label is missing from the scheme; fix corpus.toml or the data.",
                )


class SplitWriter:
    """One (config, split) Parquet file written in row groups, with its running counts."""

    def __init__(self, path: Path, features: Features) -> None:
        self.path = path
        self.features = features
        self.schema: pa.Schema = features.arrow_schema
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(
            path,
            self.schema,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            version="2.6",
        )
        self.rows: list[dict[str, Any]] = []
        self.num_examples = 0
        self.num_bytes = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= ROWS_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        check_label_ranges(table, self.features)
        self.writer.write_table(table, row_group_size=ROWS_PER_GROUP)
        self.num_examples += table.num_rows
        self.num_bytes += table.nbytes
        self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()
