"""`SplitWriter` builds each row group column by column (issue 13); the files are the bytes the
earlier `pa.Table.from_pylist` of dict rows gave, for every config's shapes: nulls, empty
lists, structs, lists of structs, more than one row group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.config import load_config
from corpus_tools.errors import DataError
from corpus_tools.release.features import CONFIGS, features_for, label_lists
from corpus_tools.release.parquet import (
    ROWS_PER_CHUNK,
    ROWS_PER_GROUP,
    SplitWriter,
    check_label_ranges,
)

REPO = Path(__file__).resolve().parent.parent


def as_dict(value: Any, typ: pa.DataType) -> Any:
    """A positional row value (tuples for structs) as the dict form from_pylist takes."""
    if pa.types.is_list(typ):
        return [as_dict(v, typ.value_type) for v in value]
    if pa.types.is_struct(typ):
        return {typ.field(i).name: as_dict(v, typ.field(i).type) for i, v in enumerate(value)}
    return value


def sample_value(typ: pa.DataType, i: int, names: int) -> Any:
    """A value of `typ` for row `i`: some nulls, some empty lists, ids within `names`."""
    if pa.types.is_list(typ):
        return [sample_value(typ.value_type, i + k, names) for k in range(i % 4)]
    if pa.types.is_struct(typ):
        return tuple(sample_value(typ.field(k).type, i + k, names) for k in range(typ.num_fields))
    if i % 7 == 3:
        return None
    if pa.types.is_string(typ):
        return f"value {i} 😀" if i % 2 else "e\u0301"
    if pa.types.is_boolean(typ):
        return i % 3 == 0
    if pa.types.is_floating(typ):
        return i / 8
    return i % names  # ints and class ids


def reference_file(path: Path, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
    """The writer before issue 13: from_pylist of dict rows, one row group per 2000 rows."""
    with pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
    ) as writer:
        for i in range(0, len(rows), ROWS_PER_GROUP):
            table = pa.Table.from_pylist(rows[i : i + ROWS_PER_GROUP], schema=schema)
            writer.write_table(table, row_group_size=ROWS_PER_GROUP)


@pytest.mark.parametrize("config", CONFIGS)
def test_columnar_rows_give_the_bytes_of_dict_rows(config: str, tmp_path: Path) -> None:
    labels = label_lists(load_config(REPO / "corpus.toml").scheme)
    features = features_for(config, labels)  # type: ignore[arg-type]
    writer = SplitWriter(tmp_path / "ours.parquet", features)
    schema = writer.schema
    rows = [
        tuple(sample_value(f.type, i, 2) for f in schema) for i in range(ROWS_PER_GROUP * 2 + 17)
    ]
    for row in rows:
        writer.add_row(*row)
    writer.close()
    dicts = [{f.name: as_dict(v, f.type) for f, v in zip(schema, row, strict=True)} for row in rows]
    reference_file(tmp_path / "reference.parquet", schema, dicts)
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "reference.parquet").read_bytes()
    assert writer.num_examples == len(rows)
    expected_bytes = sum(
        pa.Table.from_pylist(dicts[i : i + ROWS_PER_GROUP], schema=schema).nbytes
        for i in range(0, len(dicts), ROWS_PER_GROUP)
    )
    assert writer.num_bytes == expected_bytes  # the card's dataset_size
    assert pq.ParquetFile(tmp_path / "ours.parquet").metadata.num_row_groups == 3


def test_a_class_id_outside_the_names_is_refused(tmp_path: Path) -> None:
    labels = label_lists(load_config(REPO / "corpus.toml").scheme)
    features = features_for("stance", labels)
    writer = SplitWriter(tmp_path / "s.parquet", features)
    writer.add_row("a", "iran", "Iran", "text", len(labels["stance"]), "unanimous")
    with pytest.raises(DataError, match="class id out of range"):
        writer.flush()
    table = pa.table({"label": pa.array([0], pa.int64())})
    check_label_ranges(table, {"label": features["label"]})


@pytest.mark.parametrize("config", CONFIGS)
def test_rows_converted_in_chunks_give_the_bytes_of_one_conversion(
    config: str, tmp_path: Path
) -> None:
    """Buffered rows become Arrow arrays every ROWS_PER_CHUNK rows (memory) and are
    concatenated at flush: the same bytes and sizes when a chunk has only empty lists and
    no nulls, the next only nulls, and the row group ends inside a chunk."""
    labels = label_lists(load_config(REPO / "corpus.toml").scheme)
    features = features_for(config, labels)  # type: ignore[arg-type]
    writer = SplitWriter(tmp_path / "ours.parquet", features)
    schema = writer.schema

    def value(typ: pa.DataType, i: int) -> Any:
        if i < ROWS_PER_CHUNK:  # no nulls, empty lists
            return [] if pa.types.is_list(typ) else sample_value(typ, 1, 2)
        if i < 2 * ROWS_PER_CHUNK and not pa.types.is_list(typ):
            return None if not pa.types.is_struct(typ) else sample_value(typ, 3, 2)
        return sample_value(typ, i, 2)

    rows = [tuple(value(f.type, i) for f in schema) for i in range(ROWS_PER_GROUP + 150)]
    for row in rows:
        writer.add_row(*row)
    writer.close()
    dicts = [{f.name: as_dict(v, f.type) for f, v in zip(schema, row, strict=True)} for row in rows]
    reference_file(tmp_path / "reference.parquet", schema, dicts)
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "reference.parquet").read_bytes()
    assert writer.num_bytes == sum(
        pa.Table.from_pylist(dicts[i : i + ROWS_PER_GROUP], schema=schema).nbytes
        for i in range(0, len(dicts), ROWS_PER_GROUP)
    )
