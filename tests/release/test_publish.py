"""Stage 6: releases are complete, verifiable, versioned and byte-stable."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows.release.layout import releases
from flows.release.publish import RemovalsRefused, classify_change, publish_release
from tests.helpers import SEEDS, prepared_tables, publish


def test_first_release_layout_and_checksums(prepared_release):
    result = prepared_release
    assert result.changed and result.version == "v1.0.0" and result.change == "first"
    assert (result.path.parent / "LATEST").read_text() == "v1.0.0\n"
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
    tables, info = prepared_tables(SEEDS, tmp_path / "in")
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


def test_parquet_and_csv_hold_the_same_rows(prepared_release):
    result = prepared_release
    articles = pq.read_table(result.path / "articles.parquet")
    assert articles.schema.field("word_count").type == "int32"
    assert articles.column_names[0] == "article_id"
    assert articles.column("article_id").to_pylist() == sorted(articles.column("article_id").to_pylist())
    raw_csv = (result.path / "csv" / "articles.csv").read_bytes()
    assert raw_csv.startswith(b"article_id,title,text,") and b"\r\n" in raw_csv
    from_csv = pd.read_csv(result.path / "csv" / "articles.csv", keep_default_na=False)
    assert from_csv["text"].tolist() == articles.column("text").to_pylist()
    assert from_csv["published_date"].tolist().count("2017-06-04") == 1


def test_same_inputs_give_byte_identical_files(prepared_release, tmp_path):
    first = prepared_release
    second = publish(*prepared_tables(), tmp_path / "b")
    for path in ("articles.parquet", "sources.parquet", "csv/articles.csv", "manifest.json", "README.md"):
        assert (first.path / path).read_bytes() == (second.path / path).read_bytes(), path


def test_a_relative_output_folder_gives_the_same_release(prepared_release, tmp_path, monkeypatch):
    # `newscorpus build --output releases` names a folder relative to where it runs.
    absolute = prepared_release
    monkeypatch.chdir(tmp_path)
    relative = publish(*prepared_tables(), Path("relative"))
    names = sorted(p.relative_to(absolute.path).as_posix() for p in absolute.path.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path / relative.path).as_posix()
                           for p in (tmp_path / relative.path).rglob("*") if p.is_file())
    for name in names:
        assert (absolute.path / name).read_bytes() == (tmp_path / relative.path / name).read_bytes(), name


def test_unchanged_build_writes_nothing_and_changed_rows_bump_minor(tmp_path, bbc):
    assert publish(*prepared_tables(), tmp_path).version == "v1.0.0"
    again = publish(*prepared_tables(), tmp_path)
    assert not again.changed and again.version == "v1.0.0"
    assert releases(tmp_path) == [(1, 0, 0)]
    grown = publish(*prepared_tables(SEEDS, bbc / "politics"), tmp_path)
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
    tables, info = prepared_tables()
    assert publish(tables, info, tmp_path).version == "v1.0.0"
    more, more_info = prepared_tables(SEEDS, SEEDS / "002_655390921e1c2ba6.txt")
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
    result = publish(*prepared_tables(), tmp_path)
    assert result.version == "v1.0.0"
    assert not (tmp_path / ".building-killed").exists()


def test_a_failed_critical_expectation_blocks_the_release(tmp_path):
    from flows.release.expectations import ExpectationsFailed

    tables, info = prepared_tables()
    publish(tables, info, tmp_path)
    kept = tables["articles"]["article_id"].iloc[:2]
    collapsed = {"articles": tables["articles"][tables["articles"]["article_id"].isin(kept)],
                 "sources": tables["sources"][tables["sources"]["article_id"].isin(kept)]}
    with pytest.raises(ExpectationsFailed, match="articles") as failure:
        publish(collapsed, info, tmp_path)
    assert releases(tmp_path) == [(1, 0, 0)]
    assert (tmp_path / "LATEST").read_text() == "v1.0.0\n"
    assert not list(tmp_path.glob(".building-*"))
    report = tmp_path / "quality-of-blocked-build" / "index.html"
    assert report.is_file() and str(report) in str(failure.value)


def test_a_release_that_lacks_inputs_of_the_previous_one_is_refused_unless_allowed(tmp_path):
    """`make run` after a build of the seeds and one more file: the next release would
    silently drop that file's article; it must say so and publish only when allowed."""
    fewer = tmp_path / "seeds"
    fewer.mkdir()
    kept = sorted(SEEDS.glob("*.txt"))[1:]
    for path in kept:
        shutil.copy(path, fewer / path.name)
    output = tmp_path / "out"
    first = publish(*prepared_tables(), output)
    tables, info = prepared_tables(fewer)
    with pytest.raises(RemovalsRefused, match=r"^v1.1.0 would remove 1 source, 1 article that v1.0.0 had: "
                                              r".*seeds/000_b06237d64b3f50aa.txt.*--allow-removals"):
        publish_release(tables, output, info)
    assert releases(output) == [(1, 0, 0)] and (output / "LATEST").read_text() == "v1.0.0\n"
    assert not list(output.glob(".building-*"))
    allowed = publish_release(tables, output, info, allow_removals=True)
    assert allowed.version == "v1.1.0" and allowed.removals == {"sources": 1, "articles": 1} and list(allowed.removals)[0] == "sources"
    assert first.removals == {}


def test_the_cards_citation_is_one_a_citation_manager_reads(tmp_path):
    import bibtexparser

    from flows.release.provenance import citation

    tables, info = prepared_tables()
    cited = citation(tables["articles"], "A Newsroom", "https://data.example.org/newscorpus")
    assert cited == {"author": "A Newsroom", "url": "https://data.example.org/newscorpus", "year": 2017}
    result = publish_release(tables, tmp_path, info | {"citation": cited})
    card = (result.path / "README.md").read_text(encoding="utf-8")
    entries = bibtexparser.loads(card.split("```bibtex\n")[1].split("```")[0]).entries
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["ENTRYTYPE"], entry["author"], entry["year"], entry["version"], entry["url"]) == (
        "misc", "A Newsroom", "2017", "1.0.0", "https://data.example.org/newscorpus")
    assert entry["title"].endswith("release v1.0.0")
