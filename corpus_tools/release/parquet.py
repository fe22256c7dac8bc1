"""Parquet writing for releases: one file per (config, split), in row groups, label-checked.

Settings are fixed (zstd level 3, dictionary encoding, statistics, format 2.6) and pyarrow
writes no timestamps, so the same rows give byte-identical files. The schema carries the
`huggingface` metadata of the config's `datasets.Features`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tools.errors import DataError

if TYPE_CHECKING:
    from datasets import Features

ROWS_PER_GROUP = 2000
# Buffered rows are turned into Arrow arrays every this many rows (concatenated at flush): a
# row group waiting for its rows holds compact Arrow buffers, not Python objects, so a
# release's memory does not depend on how full the 15 writers' row groups are.
ROWS_PER_CHUNK = 100


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
    """One (config, split) Parquet file written in row groups, with its running counts.

    Rows are buffered column by column (`add_row`, values in schema order) and each row group
    is built as Arrow arrays directly: a list column keeps its lengths and one flat list of
    items, a struct is a tuple in field order (transposed at flush). No dict per row or per
    span is made, and pyarrow converts flat lists instead of nested Python objects. Every
    ROWS_PER_CHUNK rows the buffered values become Arrow arrays, concatenated into one array
    per column at flush (the same row group as building it at once).
    """

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
        self.buffered = 0
        self.num_examples = 0
        self.num_bytes = 0
        self._columns: list[_Column] = [_Column(f.type) for f in self.schema]
        self._adders = [c.add for c in self._columns]

    def add_row(self, *values: Any) -> None:
        """One row: a value per column in schema order (a list column's value is a sequence,
        of tuples in field order when its items are structs; a struct's is a tuple)."""
        for add, value in zip(self._adders, values, strict=True):
            add(value)
        self.buffered += 1
        if self.buffered >= ROWS_PER_GROUP:
            self.flush()
        elif self.buffered % ROWS_PER_CHUNK == 0:
            for c in self._columns:
                c.spill()

    def flush(self) -> None:
        if not self.buffered:
            return
        table = pa.Table.from_arrays([c.array() for c in self._columns], schema=self.schema)
        check_label_ranges(table, self.features)
        self.writer.write_table(table, row_group_size=ROWS_PER_GROUP)
        self.num_examples += table.num_rows
        self.num_bytes += table.nbytes
        self.buffered = 0
        for c in self._columns:
            c.clear()

    def close(self) -> None:
        self.flush()
        self.writer.close()


class _Column:
    """The buffered values of one column (see `SplitWriter`)."""

    def __init__(self, typ: pa.DataType) -> None:
        self.type = typ
        self.chunks: list[pa.Array] = []  # values already converted (`spill`)
        self.items: list[Any] = []  # values, or a list column's items, flat
        self.lengths: list[int] = []  # a list column's lengths per row
        self.is_list = pa.types.is_list(typ)
        self.add = self._add_list if self.is_list else self.items.append

    def _add_list(self, value: Sequence[Any]) -> None:
        self.items.extend(value)
        self.lengths.append(len(value))

    def spill(self) -> None:
        """Convert the buffered values to an Arrow array, kept until `array`."""
        self.chunks.append(self._convert())
        self.items.clear()
        self.lengths.clear()

    def array(self) -> pa.Array:
        """Every value since `clear`, as one array."""
        if not self.chunks:
            return self._convert()
        if self.items or self.lengths:
            self.spill()
        return pa.concat_arrays(self.chunks)

    def _convert(self) -> pa.Array:
        if not self.is_list:
            return _plain_array(self.items, self.type)
        offsets = pa.array([0, *itertools.accumulate(self.lengths)], pa.int32())
        items = _plain_array(self.items, self.type.value_type)
        return pa.ListArray.from_arrays(offsets, items, type=self.type)

    def clear(self) -> None:
        self.chunks.clear()
        self.items.clear()
        self.lengths.clear()


def _plain_array(values: list[Any], typ: pa.DataType) -> pa.Array:
    """An array of non-list values; a struct's values are tuples in field order."""
    if not pa.types.is_struct(typ):
        return pa.array(values, type=typ)
    fields = [typ.field(i) for i in range(typ.num_fields)]
    columns = list(zip(*values, strict=True)) if values else [() for _ in fields]
    children = [_plain_array(list(c), f.type) for c, f in zip(columns, fields, strict=True)]
    return pa.StructArray.from_arrays(children, fields=fields)
