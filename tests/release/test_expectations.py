"""The quality report: Great Expectations over real tables, critical failures block,
the others are reported, and the report is byte-stable."""

from __future__ import annotations

import json
import re
import math
import subprocess
import sys

import pandas as pd
import pytest

from flows.release.expectations import ExpectationsFailed, check_expectations
from schemas import ReleaseCheckFailed
from tests.helpers import PROJECT, copy_tables


@pytest.fixture(scope="module")
def seed_report(built_seeds, tmp_path_factory):
    """One run over the seeds, from an empty working folder that must stay empty."""
    folder, workdir = tmp_path_factory.mktemp("release"), tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        summary = check_expectations(copy_tables(built_seeds), None, folder)
    assert list(workdir.iterdir()) == []
    return summary, folder


def with_table(tables: dict[str, pd.DataFrame], name: str, df: pd.DataFrame) -> dict:
    return {**tables, name: df}


def files_of(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_seed_tables_pass_and_leave_a_readable_report(seed_report):
    summary, folder = seed_report
    assert summary["failed"] == []
    assert summary["passed"] == summary["expectations"] >= 20
    assert [p.name for p in folder.iterdir()] == ["quality"]
    report = folder / "quality"
    assert sorted(p.name for p in report.iterdir()) == ["index.html", "results.json"]
    index = (report / "index.html").read_text(encoding="utf-8")
    # One page that reads offline: nothing fetched from elsewhere, no script.
    assert "http://" not in index and "https://" not in index and "<script" not in index
    sections = re.findall(r'<h2 id="(\w+)">', index)
    assert sections == ["articles", "sources", "mentions", "entities", "quotes"]
    for table in sections:
        assert f'<a href="#{table}">{table}</a>' in index
    assert index.count('<td class="passed">passed</td>') == summary["expectations"]
    assert f"{summary['expectations']} expectations: {summary['passed']} passed, 0 failed (0 critical)" in index
    quotes_section = index[index.index('<h2 id="quotes">'):]
    assert "quote_id is unique" in quotes_section and "at least 50% of quotes have a resolved speaker" \
        in quotes_section
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert sorted(results) == ["articles", "entities", "mentions", "quotes", "sources"]
    assert sum(len(r["results"]) for r in results.values()) == summary["expectations"]
    config = results["quotes"]["results"][1]["expectation_config"]
    assert config["type"] == "expect_column_values_to_be_unique"
    assert config["meta"]["critical"] is True and config["severity"] == "critical"


def test_same_tables_give_a_byte_identical_report(seed_tables, seed_report, tmp_path):
    _, first = seed_report
    check_expectations(seed_tables, None, tmp_path)
    again = files_of(tmp_path / "quality")
    assert again["results.json"] == files_of(first / "quality")["results.json"]
    # The page too.
    assert again == files_of(first / "quality")
    text = again["results.json"].decode()
    assert str(tmp_path) not in text and "run_time" not in text and '"id"' not in text


def test_a_duplicated_quote_id_blocks_and_still_writes_the_report(seed_tables, tmp_path):
    quotes = seed_tables["quotes"]
    doubled = pd.concat([quotes, quotes.iloc[[0]]], ignore_index=True)
    with pytest.raises(ExpectationsFailed) as failed:
        check_expectations(with_table(seed_tables, "quotes", doubled), None, tmp_path)
    error = failed.value
    assert isinstance(error, ReleaseCheckFailed)
    assert "quotes.quote_id: expected quote_id is unique" in str(error)
    assert quotes["quote_id"].iloc[0] in str(error)
    assert error.failures[["table", "check", "column"]].values.tolist() == [
        ["quotes", "expect_column_values_to_be_unique", "quote_id"]]
    assert error.report == tmp_path / "quality" / "index.html" and error.report.is_file()
    results = json.loads((tmp_path / "quality" / "results.json").read_text(encoding="utf-8"))
    assert results["quotes"]["success"] is False


def test_an_article_count_collapse_blocks(seed_tables, tmp_path):
    articles = len(seed_tables["articles"])
    with pytest.raises(ExpectationsFailed) as failed:
        check_expectations(seed_tables, {"articles": 2 * articles + 1}, tmp_path)
    assert f"- articles: expected at least {articles + 1} rows" in str(failed.value)
    assert f"observed {articles}" in str(failed.value)
    # Exactly half the previous count is still acceptable.
    assert check_expectations(seed_tables, {"articles": 2 * articles}, tmp_path)["failed"] == []


def test_derived_table_shrinking_is_reported_without_blocking(seed_tables, tmp_path):
    mentions = len(seed_tables["mentions"])
    summary = check_expectations(seed_tables, {"mentions": 3 * mentions}, tmp_path)
    assert summary["failed"] == [{
        "table": "mentions", "expectation": "expect_table_row_count_to_be_between",
        "column": None, "expected": f"at least {math.ceil(3 * mentions / 2):,} rows",
        "critical": False, "observed": mentions}]


def test_few_resolved_speakers_are_reported_without_blocking(seed_tables, tmp_path):
    quotes = seed_tables["quotes"]
    unresolved = quotes.assign(
        speaker_entity_id=quotes["speaker_entity_id"].where(quotes.index < 3, None),
        speaker_name=quotes["speaker_name"].where(quotes.index < 3, None))
    summary = check_expectations(with_table(seed_tables, "quotes", unresolved), None, tmp_path)
    [failure] = summary["failed"]
    assert failure["table"] == "quotes" and failure["column"] == "speaker_entity_id"
    assert failure["critical"] is False
    assert failure["observed"] == unresolved["speaker_entity_id"].notna().mean() < 0.5
    assert summary["passed"] == summary["expectations"] - 1


def test_importing_the_module_does_not_import_great_expectations():
    probe = "import sys, flows.release.expectations; print('great_expectations' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT,
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
