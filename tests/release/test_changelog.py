"""CHANGELOG.md and `newscorpus diff`: rows added, removed and changed by key, and
schema changes, between real releases."""

from __future__ import annotations

import contextlib
import io

import pytest

from flows.cli import main
from flows.release.changelog import diff_schema, diff_table
from flows.release.publish import publish_release
from flows.release.writer import write_tables
from tests.helpers import prepared_tables, publish


@pytest.fixture(scope="module")
def changed_release(tmp_path_factory):
    """v1.0.0 of the seeds, then v1.1.0 with one article retitled and one input gone;
    tests only read them."""
    output = tmp_path_factory.mktemp("output")
    tables, info = prepared_tables()
    first = publish(tables, info, output)
    articles, sources = tables["articles"].copy(), tables["sources"].copy()
    gone = articles["article_id"].iloc[0]
    articles = articles[articles["article_id"] != gone].reset_index(drop=True)
    sources = sources[sources["article_id"] != gone].reset_index(drop=True)
    retitled = articles["article_id"].iloc[0]
    articles.loc[0, "title"] = "A corrected headline"
    second = publish_release({"articles": articles, "sources": sources}, output, info, allow_removals=True)
    return first, second, gone, retitled


def test_changelog_counts_rows_by_key_and_keeps_history(changed_release):
    first, second, gone, retitled = changed_release
    assert (first.version, second.version) == ("v1.0.0", "v1.1.0")
    changelog = (second.path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog\n\n## v1.1.0 (since v1.0.0)\n")
    assert "| articles | 0 | 1 | 1 | 3 |" in changelog
    assert "| sources | 0 | 1 | 0 | 4 |" in changelog
    assert f"- articles removed: `{gone}`" in changelog
    assert f"- articles changed: `{retitled}`" in changelog
    assert "No schema changes." in changelog
    # The first release's entry follows, so every release carries the whole history.
    assert changelog.index("## v1.1.0") < changelog.index("## v1.0.0\n\nFirst release: articles 5, sources 5 rows.")
    assert "CHANGELOG.md" in (second.path / "SHA256SUMS").read_text()


def test_diff_command_prints_the_changelog_entry(changed_release):
    _first, second, _gone, _retitled = changed_release
    output = second.path.parent
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["diff", "v1.0.0", "v1.1.0", "--output", str(output)]) == 0
    entry = printed.getvalue()
    changelog = (second.path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert entry.startswith("## v1.1.0 (since v1.0.0)") and entry in changelog
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        assert main(["diff", "v0.9.0", "--output", str(output)]) == 1
    assert "no release v0.9.0" in errors.getvalue()


def test_schema_changes_name_the_columns():
    old = [{"name": "a", "type": "string"}, {"name": "b", "type": "int32"}, {"name": "c", "type": "string"}]
    new = [{"name": "a", "type": "string"}, {"name": "b", "type": "int64"}, {"name": "d", "type": "string"}]
    assert diff_schema(old, new) == {"added columns": ["d"], "removed columns": ["c"],
                                     "retyped columns": ["b: int32 -> int64"]}
    assert diff_schema(old, old) == {}


def test_a_nullable_integer_column_that_gains_its_first_null_changes_no_other_row(seed_tables, tmp_path):
    """pandas reads an integer column with no null as int and with one as float: the
    same value 5 and 5.0 must not make every row of the table "changed"."""
    quotes = seed_tables["quotes"]
    assert quotes["speaker_start"].notna().all() and len(quotes) > 10  # no null yet
    unattributed = quotes.copy()
    unattributed.loc[0, ["speaker", "speaker_start", "speaker_end", "speaker_entity_id", "speaker_name"]] = None
    old, new = tmp_path / "old", tmp_path / "new"
    write_tables({"quotes": quotes}, old)
    write_tables({"quotes": unattributed}, new)
    counts = diff_table(old / "quotes.parquet", new / "quotes.parquet", "quote_id")
    assert (counts["added"], counts["removed"], counts["changed"], counts["unchanged"]) == (0, 0, 1, len(quotes) - 1)
    assert counts["examples"] == {"changed": [quotes["quote_id"].iloc[0]]}
