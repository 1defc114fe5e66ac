"""Writing a table: Parquet and CSV, the same rows, byte-stable, a chunk at a time."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import MODELS, arrow_schema

ROW_GROUP_ROWS = 10_000


PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "write_statistics": True,
                   "use_dictionary": True}


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Parquet and CSV for every table."""
    for name, df in sorted(tables.items()):
        with TableWriter(name, folder) as writer:
            writer.write(df)


class TableWriter:
    """One table's Parquet and CSV files, written a chunk of rows at a time. Parquet
    row groups hold `row_group_rows` rows each (the last one the rest), whatever the
    chunks, so the files are the same however the rows came."""

    def __init__(self, name: str, folder: Path, row_group_rows: int = ROW_GROUP_ROWS):
        self.name, self.rows, self._group_rows = name, 0, row_group_rows
        self._schema = arrow_schema(MODELS[name]).with_metadata(table_metadata(name))
        (folder / "csv").mkdir(parents=True, exist_ok=True)
        self._parquet = pq.ParquetWriter(folder / f"{name}.parquet", self._schema, **PARQUET_OPTIONS)
        self._csv_file = (folder / "csv" / f"{name}.csv").open("w", encoding="utf-8", newline="")
        csv.writer(self._csv_file, lineterminator="\r\n").writerow(self._schema.names)
        self._pending: list[pyarrow.Table] = []  # rows not yet in a row group
        self._written = 0

    def write(self, df: pd.DataFrame) -> None:
        self.write_table(to_arrow(self.name, df))

    def write_table(self, table: pyarrow.Table, csv_rows: str | None = None) -> None:
        """Append rows as to_arrow makes them; `csv_rows` is csv_text(table), when it
        was made elsewhere (in a forked process)."""
        self._csv_file.write(csv_text(table) if csv_rows is None else csv_rows)
        self._pending.append(table)
        self.rows += len(table)
        pending = self.rows - self._written
        if pending >= self._group_rows:
            whole = pending - pending % self._group_rows
            rows = pyarrow.concat_tables(self._pending)
            self._parquet.write_table(rows.slice(0, whole), row_group_size=self._group_rows)
            self._pending, self._written = [rows.slice(whole)], self._written + whole

    def close(self) -> None:
        rest = pyarrow.concat_tables(self._pending or [self._schema.empty_table()])
        if len(rest) or not self.rows:  # a table with no rows has one empty row group
            self._parquet.write_table(rest, row_group_size=self._group_rows)
        self._parquet.close()
        self._csv_file.close()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def to_arrow(name: str, df: pd.DataFrame) -> pyarrow.Table:
    table = pyarrow.Table.from_pandas(df, schema=arrow_schema(MODELS[name]), preserve_index=False)
    # Drop pandas' own metadata (it names the pandas version) for byte-stable files.
    return table.replace_schema_metadata(table_metadata(name))


def table_metadata(name: str) -> dict[str, str]:
    return {"newscorpus.table": name}


def csv_text(table: pyarrow.Table) -> str:
    """The rows of a table as its CSV file holds them (RFC 4180, lists as JSON arrays)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(zip(*(csv_column(column) for column in table.columns)))
    return out.getvalue()


def csv_column(column: pyarrow.ChunkedArray) -> list[str]:
    """One column's CSV fields, a column at a time: per value, in Python, only where
    Arrow's text differs from Python's (floats: "1" for 1.0; lists)."""
    if pyarrow.types.is_string(column.type):
        return pc.fill_null(column, "").to_pylist()
    if pyarrow.types.is_integer(column.type) or pyarrow.types.is_date32(column.type):
        return pc.fill_null(column.cast(pyarrow.string()), "").to_pylist()
    return [csv_value(value) for value in column.to_pylist()]


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def file_facts(path: Path) -> dict:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
