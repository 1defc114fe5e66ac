"""What several test modules share: where the seeds and the real corpora are, and the
builds and releases the tests make of them. Fixtures are in conftest.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flows.release.provenance import provenance
from flows.release.publish import publish_release
from flows.stages.dedupe import deduplicate_exact, split_tables
from flows.stages.ingest.discover import discover_inputs
from flows.stages.prepare import merge_stats, prepare_shard

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
CORPORA = PROJECT.parent / "shared" / "corpora"
# The data files of a release, compared byte for byte between builds.
DATA_FILES = ["articles.parquet", "sources.parquet", "mentions.parquet", "entities.parquet",
              "quotes.parquet"]


def corpus(name: str) -> Path:
    """A real corpus, read in place; the test is skipped when it is absent."""
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip(f"real corpus {name!r} not found at {path} (../shared/corpora is absent)")
    return path


def build_tables(*sources, alias_files=()) -> dict:
    """Every table of a release for `sources`, by the flow's stage functions without Prefect."""
    from flows.pipeline import build_tables as build

    return build(list(sources), alias_files=list(alias_files))


def analysed_tables(articles, alias_files=()) -> dict:
    """mentions, entities and quotes of `articles`."""
    from flows.pipeline import analyse_tables

    return analyse_tables(articles, alias_files=list(alias_files))


def copy_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A copy a test may change without changing what other tests read."""
    return {name: df.copy() for name, df in tables.items()}


def articles_of(*sources) -> pd.DataFrame:
    """The articles of `sources`, prepared and exactly deduplicated (no NLP)."""
    shard = prepare_shard(discover_inputs([str(s) for s in sources]))
    return split_tables(deduplicate_exact(shard.records))["articles"]


def entity_tables(articles: pd.DataFrame, alias_files=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mentions, entities) of `articles`."""
    tables = analysed_tables(articles, alias_files)
    return tables["mentions"], tables["entities"]


def prepared_tables(*sources) -> tuple[dict[str, pd.DataFrame], dict]:
    """articles and sources of `sources` (the seeds by default) with their provenance:
    a release without the NLP tables, quick to build."""
    shard = prepare_shard(discover_inputs([str(s) for s in (sources or [SEEDS])]))
    tables = split_tables(deduplicate_exact(shard.records))
    return tables, provenance(tables, merge_stats([shard]))


def publish(tables, info, output):
    """publish_release, its arguments in the order prepared_tables gives them."""
    return publish_release(tables, output, info)


def same_data(first: Path, second: Path) -> bool:
    """Do two releases hold byte-identical data files?"""
    return all((first / f).read_bytes() == (second / f).read_bytes() for f in DATA_FILES)
