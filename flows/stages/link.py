"""Link: each mention to its canonical entity, each quote to its speaker's entity.

Runs a chunk of whole articles at a time, once the dataset's entities are known
(flows.stages.entities), on the rows the NLP stages stored for them.
"""

from __future__ import annotations

from operator import itemgetter

import pandas as pd

from flows.stages.entities.linker import EntityLinker, LinkCounts, mention_rows
from flows.stages.mentions import MENTION_COLUMNS
from flows.stages.quotes import QUOTE_COLUMNS
from schemas import conform

# The columns of each NLP stage's rows.
NLP_COLUMNS = {"mentions": MENTION_COLUMNS, "quotes": QUOTE_COLUMNS}


def linked_tables(linker: EntityLinker, chunk: list[tuple[str, str, dict[str, list[dict]]]]
                  ) -> tuple[dict[str, pd.DataFrame], LinkCounts]:
    """The mentions and quotes of a chunk of whole articles ((article_id, text, each
    NLP stage's rows)), linked to their entities, as the release holds them, and what
    was linked."""
    counts, entity_ids = LinkCounts(), []
    for _, text, rows in chunk:
        mentions = mention_rows(rows["mentions"])
        linked = linker.link(mentions, text)
        counts.add(mentions, linked)
        entity_ids.extend(linked)
    analysed = {name: pd.DataFrame.from_records([itemgetter(*columns)(row) for _, _, rows in chunk
                                                 for row in rows[name]], columns=columns)
                for name, columns in NLP_COLUMNS.items()}
    mentions = linker.linked(analysed["mentions"], entity_ids)
    quotes = attach_speakers(analysed["quotes"], mentions, linker.names)
    return {"mentions": conform("mentions", mentions), "quotes": conform("quotes", quotes)}, counts


def attach_speakers(quotes: pd.DataFrame, mentions: pd.DataFrame,
                    entity_names: dict[str, str]) -> pd.DataFrame:
    """Fill `speaker_entity_id` and `speaker_name` from each quote's referent mention
    (in `mentions`, linked to their entities, whose names are `entity_names`)."""
    entity_of = {(a, s, e): entity for a, s, e, entity in zip(
        mentions["article_id"], mentions["start"], mentions["end"], mentions["entity_id"])}
    quotes = quotes.copy()
    quotes["speaker_entity_id"] = [
        entity_of.get((a, int(s), int(e))) if pd.notna(s) else None
        for a, s, e in zip(quotes["article_id"], quotes["referent_start"], quotes["referent_end"])]
    quotes["speaker_name"] = quotes["speaker_entity_id"].map(entity_names)
    return quotes.drop(columns=["referent_start", "referent_end"])
