"""Stage 6: releases are complete, verifiable, versioned and byte-stable."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows.release.provenance import provenance
from flows.stages.dedupe import deduplicate_exact, split_tables
from flows.stages.ingest.discover import discover_inputs
from flows.release.layout import releases
from flows.release.publish import classify_change, publish_release
from flows.release.writer import PARQUET_OPTIONS, TableWriter, csv_column, csv_value, to_arrow
from flows.stages.prepare import merge_stats, prepare_shard

from conftest import SEEDS, build_tables


def seed_tables(*sources) -> tuple[dict[str, pd.DataFrame], dict]:
    shard = prepare_shard(discover_inputs([str(s) for s in (sources or [SEEDS])]))
    tables = split_tables(deduplicate_exact(shard.records))
    return tables, provenance(tables, merge_stats([shard]))


def publish(tables, info, output):
    return publish_release(tables, output, info)


def test_first_release_layout_and_checksums(tmp_path):
    result = publish(*seed_tables(), tmp_path)
    assert result.changed and result.version == "v1.0.0" and result.change == "first"
    assert (tmp_path / "LATEST").read_text() == "v1.0.0\n"
    names = sorted(p.relative_to(result.path).as_posix() for p in result.path.rglob("*") if p.is_file())
    top = sorted({name.split("/")[0] for name in names})
    assert top == ["CHANGELOG.md", "README.md", "SHA256SUMS", "articles.parquet", "csv",
                   "datapackage.json", "manifest.json", "plots", "quality", "sources.parquet"]
    assert {"csv/articles.csv", "csv/sources.csv", "quality/index.html", "quality/results.json",
            "plots/articles_by_outlet.png"} <= set(names)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=result.path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["version"] == "v1.0.0" and manifest["previous_version"] is None
    assert manifest["counts"] == {"articles": 5, "sources": 5}
    assert manifest["files"]["articles.parquet"]["bytes"] == (result.path / "articles.parquet").stat().st_size
    assert manifest["inputs"] == 5 and len(manifest["input_snapshot_sha256"]) == 64
    assert manifest["stages"]["clean"]["removed photo caption"] == 2


def test_dataset_card_states_contents_rejections_and_measured_quality(tmp_path):
    from flows.release.measured import measured_quality as recorded

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "blank.txt").write_text("   \n", encoding="utf-8")
    tables, info = seed_tables(SEEDS, tmp_path / "in")
    result = publish(tables, info | {"quality": recorded()}, tmp_path / "out")
    card = (result.path / "README.md").read_text(encoding="utf-8")
    assert card.startswith("# newscorpus v1.0.0\n")
    assert "| `articles` | 5 | one row per distinct article |" in card
    assert "5 accepted, 0 duplicate, 1 rejected of 6 inputs (read as 5 plain texts)." in card
    reason = tables["sources"].set_index("status").loc["rejected", "reason"].split(":")[0]
    assert f"- {reason}: 1" in card
    quotes = recorded()["quotes, confirmation"]["coverage 30%"]
    assert f"| quotes, blind set | 215 quotes in 25 articles | {quotes['quotes']['precision']:.3f}" in card
    assert f"someone unnamed, described as the gold describes them) for {quotes['speaker accuracy']:.1%}" \
        in " ".join(card.split())
    assert "| `word_count` | int32 | words in text |" in card
    assert "README.md" in (result.path / "SHA256SUMS").read_text()


def test_parquet_and_csv_hold_the_same_rows(tmp_path):
    result = publish(*seed_tables(), tmp_path)
    articles = pq.read_table(result.path / "articles.parquet")
    assert articles.schema.field("word_count").type == "int32"
    assert articles.column_names[0] == "article_id"
    assert articles.column("article_id").to_pylist() == sorted(articles.column("article_id").to_pylist())
    raw_csv = (result.path / "csv" / "articles.csv").read_bytes()
    assert raw_csv.startswith(b"article_id,title,text,") and b"\r\n" in raw_csv
    from_csv = pd.read_csv(result.path / "csv" / "articles.csv", keep_default_na=False)
    assert from_csv["text"].tolist() == articles.column("text").to_pylist()
    assert from_csv["published_date"].tolist().count("2017-06-04") == 1


def test_same_inputs_give_byte_identical_files(tmp_path):
    first = publish(*seed_tables(), tmp_path / "a")
    second = publish(*seed_tables(), tmp_path / "b")
    for path in ("articles.parquet", "sources.parquet", "csv/articles.csv", "manifest.json", "README.md"):
        assert (first.path / path).read_bytes() == (second.path / path).read_bytes(), path


def test_a_relative_output_folder_gives_the_same_release(tmp_path, monkeypatch):
    # `newscorpus build --output releases` names a folder relative to where it runs.
    absolute = publish(*seed_tables(), tmp_path / "absolute")
    monkeypatch.chdir(tmp_path)
    relative = publish(*seed_tables(), Path("relative"))
    names = sorted(p.relative_to(absolute.path).as_posix() for p in absolute.path.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path / relative.path).as_posix()
                           for p in (tmp_path / relative.path).rglob("*") if p.is_file())
    for name in names:
        assert (absolute.path / name).read_bytes() == (tmp_path / relative.path / name).read_bytes(), name


def test_unchanged_build_writes_nothing_and_changed_rows_bump_minor(tmp_path, bbc):
    assert publish(*seed_tables(), tmp_path).version == "v1.0.0"
    again = publish(*seed_tables(), tmp_path)
    assert not again.changed and again.version == "v1.0.0"
    assert releases(tmp_path) == [(1, 0, 0)]
    grown = publish(*seed_tables(SEEDS, bbc / "politics"), tmp_path)
    assert grown.version == "v1.1.0" and grown.change == "minor"
    assert json.loads((grown.path / "manifest.json").read_text())["previous_version"] == "v1.0.0"
    assert (tmp_path / "LATEST").read_text() == "v1.1.0\n"
    assert (tmp_path / "v1.0.0" / "SHA256SUMS").is_file()  # the old release is untouched


def test_change_classes():
    base = {"schema": {"articles": [{"name": "a", "type": "string"}]},
            "files": {"articles.parquet": {"sha256": "1"}}, "code_version": {"x": 1}}
    assert classify_change(None, base) == "first"
    assert classify_change(base, dict(base)) == "none"
    assert classify_change(base, {**base, "code_version": {"x": 2}}) == "patch"
    assert classify_change(base, {**base, "files": {"articles.parquet": {"sha256": "2"}}}) == "minor"
    added = {"articles": [{"name": "a", "type": "string"}, {"name": "b", "type": "int32"}]}
    assert classify_change(base, {**base, "schema": added}) == "minor"
    retyped = {"articles": [{"name": "a", "type": "int32"}]}
    assert classify_change(base, {**base, "schema": retyped}) == "major"
    assert classify_change(base, {**base, "schema": {}}) == "major"


def test_a_failure_while_writing_leaves_no_half_release(tmp_path):
    tables, info = seed_tables()
    assert publish(tables, info, tmp_path).version == "v1.0.0"
    more, more_info = seed_tables(SEEDS, SEEDS / "002_655390921e1c2ba6.txt")
    more["sources"]["similarity"] = "not a number"  # sources is written after articles
    with pytest.raises(Exception):
        publish(more, more_info, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "LATEST", "v1.0.0"]
    assert not list(tmp_path.glob(".building-*"))
    assert (tmp_path / "LATEST").read_text() == "v1.0.0\n"


def test_leftovers_of_a_killed_build_are_cleared_and_never_count(tmp_path):
    (tmp_path / ".building-killed").mkdir(parents=True)
    (tmp_path / ".building-killed" / "articles.parquet").write_bytes(b"partial")
    (tmp_path / "v9.0.0").mkdir()  # no manifest: not a release
    result = publish(*seed_tables(), tmp_path)
    assert result.version == "v1.0.0"
    assert not (tmp_path / ".building-killed").exists()


def test_a_failed_critical_expectation_blocks_the_release(tmp_path):
    from flows.release.expectations import QualityCheckFailed

    tables, info = seed_tables()
    publish(tables, info, tmp_path)
    kept = tables["articles"]["article_id"].iloc[:2]
    collapsed = {"articles": tables["articles"][tables["articles"]["article_id"].isin(kept)],
                 "sources": tables["sources"][tables["sources"]["article_id"].isin(kept)]}
    with pytest.raises(QualityCheckFailed, match="articles") as failure:
        publish(collapsed, info, tmp_path)
    assert releases(tmp_path) == [(1, 0, 0)]
    assert (tmp_path / "LATEST").read_text() == "v1.0.0\n"
    assert not list(tmp_path.glob(".building-*"))
    report = tmp_path / "quality-of-blocked-build" / "index.html"
    assert report.is_file() and str(report) in str(failure.value)


def test_a_table_written_a_chunk_at_a_time_is_the_same_file(tmp_path):
    mentions = build_tables(SEEDS)["mentions"]
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


def test_csv_fields_made_a_column_at_a_time_are_those_of_each_value():
    """Strings, integers and dates go through Arrow a column at a time; the fields must
    be those of formatting value by value (nulls empty, dates ISO, lists as JSON)."""
    tables = build_tables(SEEDS)
    # The seeds name every speaker: one quote without a speaker span, for null integers.
    tables["quotes"].loc[0, ["speaker", "speaker_start", "speaker_end"]] = None
    kinds = set()
    for name, df in tables.items():
        table = to_arrow(name, df)
        for column in table.columns:
            assert csv_column(column) == [csv_value(value) for value in column.to_pylist()], name
            kinds.add((str(column.type), column.null_count > 0))
    assert {("int32", True), ("date32[day]", True), ("string", True), ("list<item: string>", False),
            ("double", True)} <= kinds
