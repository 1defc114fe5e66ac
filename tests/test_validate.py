"""Stage 5: the Pandera models and the invariants of the contract block bad tables."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.dedupe import deduplicate_exact, split_tables
from flows.ingest import discover_inputs
from flows.shard import prepare_shard
from schemas import ReleaseCheckFailed, arrow_schema, validate_release
from schemas.tables import MODELS

from conftest import SEEDS


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
