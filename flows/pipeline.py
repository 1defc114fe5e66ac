"""The stages chained, without Prefect: the whole build in memory (for tests,
evaluation and benchmarks), and the pieces of the flow's dataset-wide steps that are
more than one stage (a shard of mentions and quotes linked, checked and made into rows).

The flow (flows.build) runs the same functions, a shard at a time, on the runtime's
executors and result cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow

from flows.release.writer import csv_text, to_arrow
from flows.stages.dedupe import deduplicate
from flows.stages.entities.aliases import load_aliases
from flows.stages.entities.linker import EntityLinker, LinkCounts, canonicalise
from flows.stages.ingest.discover import discover_inputs
from flows.stages.link import NLP_COLUMNS, attach_speakers, linked_tables
from flows.stages.mentions import extract_mentions
from flows.stages.parse import DEFAULT_MODEL, ModelNotFound, analyse_articles, load_pipeline
from flows.stages.prepare import prepare_shard
from flows.stages.quotes import extract_quotes
from schemas import MODELS, SpanChecks, arrow_schema, conform

# The NLP stages, in the order they run on each parsed article (quotes read the mentions).
NLP_EXTRACTORS = {"mentions": extract_mentions, "quotes": extract_quotes}


def build_tables(sources: list[str], model: str = DEFAULT_MODEL, alias_files: list[Path] = ()
                 ) -> dict[str, pd.DataFrame]:
    """Every table of a release for `sources`, by the same stage functions the flow
    chains, in this process."""
    shard = prepare_shard(discover_inputs([str(source) for source in sources]))
    tables, _stats = deduplicate(shard.records)
    return tables | analyse_tables(tables["articles"], model, alias_files)


def analyse_tables(articles: pd.DataFrame, model: str = DEFAULT_MODEL, alias_files: list[Path] = ()
                   ) -> dict[str, pd.DataFrame]:
    """mentions, entities and quotes of `articles`, in this process."""
    rows = analyse_articles(articles, NLP_EXTRACTORS, model)
    analysed = {name: pd.DataFrame(rows[name], columns=NLP_COLUMNS[name]) for name in NLP_EXTRACTORS}
    mentions, entities = canonicalise(analysed["mentions"], articles, load_aliases(list(alias_files)))
    quotes = attach_speakers(analysed["quotes"], mentions, dict(zip(entities["entity_id"], entities["name"])))
    return {"mentions": conform("mentions", mentions), "entities": conform("entities", entities),
            "quotes": conform("quotes", quotes)}


class LinkedShard(NamedTuple):
    counts: LinkCounts  # of the entities its mentions link to
    checks: SpanChecks
    rows: dict[str, tuple[pyarrow.Table, str]]  # mentions and quotes: rows to write, and as CSV


def linked_shard(linker: EntityLinker, chunk: list[tuple[str, str, dict[str, list[dict]]]]) -> LinkedShard:
    """The mentions and quotes of a chunk of whole articles, linked to their entities,
    checked, and as the release's files hold them."""
    tables, counts = linked_tables(linker, chunk)
    texts = {article_id: text for article_id, text, _ in chunk}
    checks, rows = SpanChecks(), {}
    for name, df in tables.items():
        checks.check(name, df, texts)
        table = to_arrow(name, df)
        rows[name] = (table, csv_text(table))
    return LinkedShard(counts, checks, rows)


def shards(items, size: int) -> list:
    """Consecutive slices of a list or DataFrame, `size` rows each."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def warm_up(model: str) -> None:
    """Load, once per process, what a build would otherwise load on first use: the
    spaCy model (a missing one is reported by the build itself) and the tables' Arrow
    schemas (Pandera imports dask.dataframe, when installed, to build the first: 1 s).
    The command line does it while Prefect's temporary server starts."""
    for model_class in MODELS.values():
        arrow_schema(model_class)
    try:
        load_pipeline(model)
    except ModelNotFound:
        pass
