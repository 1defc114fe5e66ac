"""The release's table files: Parquet and CSV written a chunk at a time are the files
of the whole table, and CSV fields are those of each value."""

from __future__ import annotations

import pyarrow.parquet as pq

from flows.release.writer import PARQUET_OPTIONS, TableWriter, csv_column, csv_value, to_arrow


def test_a_table_written_a_chunk_at_a_time_is_the_same_file(seed_tables, tmp_path):
    mentions = seed_tables["mentions"]
    whole = tmp_path / "whole.parquet"
    pq.write_table(to_arrow("mentions", mentions), whole, row_group_size=50, **PARQUET_OPTIONS)
    written = []
    for rows_per_chunk in (len(mentions), 50, 7):
        folder = tmp_path / str(rows_per_chunk)
        with TableWriter("mentions", folder, row_group_rows=50) as writer:
            for start in range(0, len(mentions), rows_per_chunk):
                writer.write(mentions.iloc[start:start + rows_per_chunk])
        written.append([(folder / path).read_bytes() for path in ("mentions.parquet", "csv/mentions.csv")])
    assert written[0] == written[1] == written[2]
    assert written[0][0] == whole.read_bytes()
    groups = pq.ParquetFile(tmp_path / "7" / "mentions.parquet").metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == \
        [50] * (len(mentions) // 50) + [len(mentions) % 50]
    with TableWriter("mentions", tmp_path / "none"):
        pass
    pq.write_table(to_arrow("mentions", mentions.iloc[:0]), whole, **PARQUET_OPTIONS)
    assert (tmp_path / "none" / "mentions.parquet").read_bytes() == whole.read_bytes()
    assert pq.read_table(whole).num_rows == 0


def test_csv_fields_made_a_column_at_a_time_are_those_of_each_value(seed_tables):
    """Strings, integers and dates go through Arrow a column at a time; the fields must
    be those of formatting value by value (nulls empty, dates ISO, lists as JSON)."""
    # The seeds name every speaker: one quote without a speaker span, for null integers.
    seed_tables["quotes"].loc[0, ["speaker", "speaker_start", "speaker_end"]] = None
    kinds = set()
    for name, df in seed_tables.items():
        table = to_arrow(name, df)
        for column in table.columns:
            assert csv_column(column) == [csv_value(value) for value in column.to_pylist()], name
            kinds.add((str(column.type), column.null_count > 0))
    assert {("int32", True), ("date32[day]", True), ("string", True), ("list<item: string>", False),
            ("double", True)} <= kinds
