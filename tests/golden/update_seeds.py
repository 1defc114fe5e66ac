"""Regenerate the golden files of the seeds from the current code: seeds.json (cleaning
and normalising), seeds_mentions.json, seeds_entities.json and seeds_quotes.json.

Run it only after reading the diff it produces: each golden file is the reviewed,
expected output for the real seed articles, and tests/stages/test_golden.py fails when
the code departs from it.

    .venv/bin/python tests/golden/update_seeds.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flows.stages.clean import clean_text
from flows.stages.ingest.discover import discover_inputs
from flows.stages.ingest.read import read_input
from flows.stages.normalise.fields import article_fields

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "seeds"
# The columns each golden file keeps of a span table's rows; ids are hashes of these.
MENTION_FIELDS = ["start", "end", "text", "label", "sentence", "entity"]
QUOTE_FIELDS = ["start", "end", "kind", "text", "speaker", "speaker_start", "speaker_end", "cue",
                "speaker_name", "speaker_description"]


def expected_output() -> dict:
    golden = {}
    for item in discover_inputs([str(SEEDS)]):
        clean = clean_text(read_input(item).text)
        fields = article_fields(clean)
        golden[item.source_uri] = {
            "title": fields["title"],
            "published_date": fields["published_date"] and fields["published_date"].isoformat(),
            "dateline": fields["dateline"],
            "outlet": fields["outlet"],
            "language": fields["language"],
            "word_count": fields["word_count"],
            "paragraphs": clean.paragraphs,
        }
    return golden


def plain(value):
    """A JSON value: None for null, Python ints for numpy's."""
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def spans_by_source(tables: dict[str, pd.DataFrame], spans: pd.DataFrame, fields: list[str]) -> dict:
    """`fields` of each span, by the source_uri of its article, in text order."""
    uri_of = dict(zip(tables["articles"]["article_id"], tables["articles"]["source_uri"]))
    rows = spans.assign(source_uri=spans["article_id"].map(uri_of)).sort_values(
        ["source_uri", "start", "end"], kind="stable")
    return {uri: [{field: plain(row[field]) for field in fields} for _, row in group.iterrows()]
            for uri, group in rows.groupby("source_uri", sort=True)}


def mentions_by_source(tables: dict[str, pd.DataFrame]) -> dict:
    names = dict(zip(tables["entities"]["entity_id"], tables["entities"]["name"]))
    mentions = tables["mentions"].assign(entity=tables["mentions"]["entity_id"].map(names))
    return spans_by_source(tables, mentions, MENTION_FIELDS)


def quotes_by_source(tables: dict[str, pd.DataFrame]) -> dict:
    return spans_by_source(tables, tables["quotes"], QUOTE_FIELDS)


def entity_rows(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Each entity, by label and name."""
    entities = tables["entities"].sort_values(["label", "name"], kind="stable")
    return [{"name": row["name"], "label": row["label"], "aliases": sorted(row["aliases"]),
             "mentions": plain(row["mentions"]), "articles": plain(row["articles"])}
            for _, row in entities.iterrows()]


def analysis_files(tables: dict[str, pd.DataFrame]) -> dict[str, object]:
    """The golden files of the NLP stages, by file name, from the seeds' tables."""
    return {"seeds_mentions.json": mentions_by_source(tables),
            "seeds_entities.json": entity_rows(tables),
            "seeds_quotes.json": quotes_by_source(tables)}


def as_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    from flows.pipeline import build_tables

    files = {"seeds.json": expected_output(), **analysis_files(build_tables([str(SEEDS)]))}
    for name, data in files.items():
        (HERE / name).write_text(as_json(data), encoding="utf-8")
