"""Stage 5: the Pandera models and the invariants of the contract block bad tables."""

from __future__ import annotations

import pandas as pd
import pyarrow
import pytest

from flows.stages.dedupe import deduplicate_exact, split_tables
from flows.stages.ingest.discover import discover_inputs
from flows.stages.prepare import prepare_shard
from schemas import PRIMARY_KEYS, ReleaseCheckFailed, ReleaseChecks, arrow_schema, validate_release
from schemas.tables import MODELS
from tests.helpers import SEEDS


@pytest.fixture()
def tables() -> dict[str, pd.DataFrame]:
    return split_tables(deduplicate_exact(prepare_shard(discover_inputs([str(SEEDS)])).records))


def failing_checks(tables, inputs=5) -> pd.DataFrame:
    with pytest.raises(ReleaseCheckFailed) as failed:
        validate_release(tables, inputs)
    return failed.value.failures


def test_seed_tables_pass(tables):
    validate_release(tables, 5)


def test_arrow_schema_follows_the_models():
    assert arrow_schema(MODELS["articles"]).names[:3] == ["article_id", "title", "text"]
    assert str(arrow_schema(MODELS["articles"]).field("word_count").type) == "int32"
    assert not arrow_schema(MODELS["sources"]).field("status").nullable


def test_duplicate_key_and_bad_values_are_reported_by_row(tables):
    articles = tables["articles"]
    articles.loc[1, "article_id"] = articles.loc[0, "article_id"]
    articles.loc[2, "language"] = "English"
    failures = failing_checks(tables)
    assert set(failures["column"].dropna()) >= {"article_id", "language"}
    assert "English" in set(failures["failure_case"])
    assert "nothing was published" in str(ReleaseCheckFailed(failures))


def test_sources_must_reconcile_with_inputs(tables):
    failures = failing_checks(tables, inputs=6)
    assert failures["check"].str.contains("every input appears once: 6 inputs").any()


def test_dangling_article_id_and_unexplained_rejection(tables):
    sources = tables["sources"]
    sources.loc[0, "article_id"] = "0123456789abcdef"
    sources.loc[1, "status"] = "rejected"
    failures = failing_checks(tables)
    checks = set(failures["check"])
    assert "article_id resolves to an article" in checks
    assert "rejected_rows_explain_themselves" in checks
    assert sources.loc[0, "source_uri"] in set(failures["key"])


def test_text_and_its_hash_must_agree(tables):
    tables["articles"].loc[3, "text"] = "Edited after hashing."
    failures = failing_checks(tables)
    assert "content_sha256 is the sha256 of text" in set(failures["check"])


def chunked_failures(tables: dict[str, pd.DataFrame], articles_per_chunk: int) -> set[tuple[str, str]]:
    """(table, check) of what fails when mentions and quotes are checked as the build
    writes them, a few whole articles at a time."""
    articles = tables["articles"]
    checks = ReleaseChecks(articles, tables["sources"], 5)
    texts = dict(zip(articles["article_id"], articles["text"]))
    for name in ("mentions", "quotes"):
        for start in range(0, len(articles), articles_per_chunk):
            ids = articles["article_id"].iloc[start:start + articles_per_chunk]
            checks.spans(name, tables[name][tables[name]["article_id"].isin(ids)], {a: texts[a] for a in ids})
        checks.unique_across_chunks(name, pyarrow.chunked_array([tables[name][PRIMARY_KEYS[name]].tolist()]))
    checks.entities(tables["entities"])
    try:
        checks.raise_if_failed()
    except ReleaseCheckFailed as failed:
        return set(zip(failed.failures["table"], failed.failures["check"]))
    return set()


def whole_failures(tables: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    return set(zip(*(failing_checks(tables)[c] for c in ("table", "check"))))


def test_checking_a_few_articles_at_a_time_finds_what_checking_whole_tables_finds(seed_tables):
    validate_release(seed_tables, 5)
    assert chunked_failures(seed_tables, 2) == set()
    broken = {name: df.copy() for name, df in seed_tables.items()}
    mentions, quotes, entities = broken["mentions"], broken["quotes"], broken["entities"]
    first, last = mentions.index[0], mentions.index[-1]
    assert mentions.loc[first, "article_id"] != mentions.loc[last, "article_id"]
    mentions.loc[last, "mention_id"] = mentions.loc[first, "mention_id"]  # in another chunk
    mentions.loc[first + 1, "start"] += 1  # its text no longer what the span holds
    entities.loc[0, "mentions"] += 1
    named = quotes["speaker_name"].notna().idxmax()
    quotes.loc[named, "speaker_name"] = "Someone Else"
    span = ("mentions", "text equals articles.text[start:end]")
    counted = ("entities", "mentions equals the mentions linked to it (at least one)")
    speaker = ("quotes", "speaker_entity_id resolves to an entity, and speaker_name is its name")
    assert whole_failures(broken) >= {span, counted, speaker, ("mentions", "field_uniqueness")}
    assert chunked_failures(broken, 2) >= {span, counted, speaker,
                                           ("mentions", "mention_id is unique across the table")}
