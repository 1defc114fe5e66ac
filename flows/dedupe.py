"""Stage 4, deduplicate: fold inputs that carry the same article into one.

Exact duplicates are texts that are equal once case, whitespace and the style of
quotation marks are set aside. Of each group one input is kept, chosen by a fixed
order (earliest date, then the most metadata, then the smallest source URI), so
reruns keep the same one; the others become `duplicate` rows of `sources`.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from schemas import conform

QUOTE_STYLES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
})
METADATA_COLUMNS = ["title", "published_date", "outlet", "url", "dateline"]


def article_id_for(source_uri: str) -> str:
    """Stable id of the article kept from `source_uri`."""
    return hashlib.sha256(f"newscorpus/article/{source_uri}".encode()).hexdigest()[:16]


def exact_key(text: str) -> str:
    folded = re.sub(r"\s+", " ", text.translate(QUOTE_STYLES).casefold()).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def deduplicate_exact(records: pd.DataFrame) -> pd.DataFrame:
    """Add `status`, `article_id`, `reason` and `similarity` to every record.

    `records` has one row per input: `source_uri`, `reason` (set when ingest or
    cleaning rejected it) and, for usable ones, the article columns.
    """
    records = records.copy()
    usable = records["reason"].isna()
    records["status"] = "rejected"
    records["article_id"] = None
    records["similarity"] = None
    candidates = records[usable].assign(
        _key=lambda df: df["text"].map(exact_key),
        _missing=lambda df: df[METADATA_COLUMNS].isna().sum(axis=1),
        _undated=lambda df: df["published_date"].isna(),
    )
    # After this sort the first row of each key group is the one kept.
    candidates = candidates.sort_values(
        ["_key", "_undated", "published_date", "_missing", "source_uri"], na_position="last")
    kept = candidates.drop_duplicates("_key")
    kept_of_key = dict(zip(kept["_key"], kept["source_uri"]))
    titles = dict(zip(kept["source_uri"], kept["title"]))
    for index, key, uri in zip(candidates.index, candidates["_key"], candidates["source_uri"]):
        kept_uri = kept_of_key[key]
        records.at[index, "article_id"] = article_id_for(kept_uri)
        if uri == kept_uri:
            records.at[index, "status"] = "accepted"
        else:
            records.at[index, "status"] = "duplicate"
            records.at[index, "reason"] = f"exact duplicate of {kept_uri}" + (
                "" if records.at[index, "title"] == titles[kept_uri] else " (same text, other title)")
            records.at[index, "similarity"] = 1.0
    return records


def split_tables(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The `articles` and `sources` tables from deduplicated records."""
    accepted = records[records["status"] == "accepted"]
    folded = records.loc[records["status"] == "duplicate", "article_id"].value_counts()
    articles = accepted.assign(duplicates=accepted["article_id"].map(folded).fillna(0).astype(int))
    return {
        "articles": conform("articles", articles),
        "sources": conform("sources", records),
    }
