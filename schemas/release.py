"""Checks over a whole release: each table against its model, then the invariants
of the contract that span tables (foreign keys, reconciliation with the inputs).

A failed check raises `ReleaseCheckFailed`, whose message lists the failing rows by
key, so the person reading a failed run sees what to fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa

from schemas.tables import MODELS, PRIMARY_KEYS

Invariant = Callable[[pd.DataFrame], pd.Series]
ROWS_SHOWN_PER_CHECK = 5


class ReleaseCheckFailed(Exception):
    """A release failed validation; `failures` has one row per failing value."""

    def __init__(self, failures: pd.DataFrame):
        self.failures = failures
        super().__init__(format_failures(failures))


def format_failures(failures: pd.DataFrame) -> str:
    lines = [f"{len(failures)} failing values; nothing was published:"]
    for (table, check), rows in failures.groupby(["table", "check"], sort=True):
        shown = ", ".join(
            f"{key} ({column}={case!r})" if column else str(key)
            for key, column, case in rows[["key", "column", "failure_case"]]
            .head(ROWS_SHOWN_PER_CHECK).itertuples(index=False)
        )
        more = len(rows) - ROWS_SHOWN_PER_CHECK
        lines.append(f"- {table}: {check}: {len(rows)} rows: {shown}"
                     + (f" and {more} more" if more > 0 else ""))
    return "\n".join(lines)


def validate_release(tables: dict[str, pd.DataFrame], input_records: int) -> None:
    """Raise ReleaseCheckFailed unless every table and invariant holds."""
    failures = [_model_failures(name, df) for name, df in tables.items()]
    for name, invariants in _invariants(tables, input_records).items():
        schema = pa.DataFrameSchema(
            checks=[pa.Check(fn, name=description) for description, fn in invariants.items()])
        failures.append(_schema_failures(schema, name, tables[name]))
    found = pd.concat([f for f in failures if not f.empty] or [_no_failures()], ignore_index=True)
    if not found.empty:
        raise ReleaseCheckFailed(found)


def _model_failures(name: str, df: pd.DataFrame) -> pd.DataFrame:
    return _schema_failures(MODELS[name].to_schema(), name, df)


def _schema_failures(schema: pa.DataFrameSchema, name: str, df: pd.DataFrame) -> pd.DataFrame:
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        key = PRIMARY_KEYS[name]
        keys = [df[key].iloc[i] if pd.notna(i) and key in df else None
                for i in cases["index"].map(_position(df))]
        return pd.DataFrame({
            "table": name,
            "check": cases["check"].astype(str),
            "column": cases["column"].astype(object).where(cases["column"].notna(), None),
            "key": keys,
            "failure_case": cases["failure_case"].astype(str),
        })
    return _no_failures()


def _position(df: pd.DataFrame) -> Callable[[object], object]:
    positions = {label: i for i, label in enumerate(df.index)}
    return lambda label: positions.get(label)


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame(columns=["table", "check", "column", "key", "failure_case"])


def _invariants(tables: dict[str, pd.DataFrame], input_records: int) -> dict[str, dict[str, Invariant]]:
    articles, sources = tables["articles"], tables["sources"]
    article_ids = set(articles["article_id"])
    texts = dict(zip(articles["article_id"], articles["text"]))
    kept_source_of = dict(zip(sources["source_uri"], sources["article_id"]))
    status_of = dict(zip(sources["source_uri"], sources["status"]))
    duplicates_of = (sources[sources["status"] == "duplicate"]
                     .groupby("article_id").size().to_dict())
    checks = {
        "sources": {
            f"every input appears once: {input_records} inputs":
                lambda df: pd.Series(len(df) == input_records, index=df.index),
            "article_id resolves to an article":
                lambda df: df["article_id"].isna() | df["article_id"].isin(article_ids),
        },
        "articles": {
            "source_uri is an accepted source that became this article":
                lambda df: pd.Series(
                    [status_of.get(uri) == "accepted" and kept_source_of.get(uri) == aid
                     for uri, aid in zip(df["source_uri"], df["article_id"])], index=df.index),
            "duplicates equals the duplicate sources pointing here":
                lambda df: df["duplicates"].astype(int) == df["article_id"].map(
                    lambda aid: duplicates_of.get(aid, 0)),
            "content_sha256 is the sha256 of text":
                lambda df: df["content_sha256"] == df["text"].map(sha256_text),
        },
    }
    if "mentions" in tables:
        checks["mentions"] = _span_checks(texts) | {
            "entity_id resolves to an entity":
                lambda df: df["entity_id"].isin(set(tables["entities"]["entity_id"])),
        }
        mentions = tables["mentions"]
        counts = mentions.groupby("entity_id").size().to_dict()
        spread = mentions.groupby("entity_id")["article_id"].nunique().to_dict()
        checks["entities"] = {
            "mentions equals the mentions linked to it (at least one)":
                lambda df: df["mentions"].astype(int) == df["entity_id"].map(lambda e: counts.get(e, 0)),
            "articles equals the articles it is mentioned in":
                lambda df: df["articles"].astype(int) == df["entity_id"].map(lambda e: spread.get(e, 0)),
        }
    if "quotes" in tables:
        entities = tables["entities"]
        name_of = dict(zip(entities["entity_id"], entities["name"]))
        checks["quotes"] = _span_checks(texts) | {
            "speaker equals articles.text[speaker_start:speaker_end]":
                lambda df: pd.Series(
                    [pd.isna(s) or texts.get(a, "")[int(s):int(e)] == w for a, s, e, w in zip(
                        df["article_id"], df["speaker_start"], df["speaker_end"], df["speaker"])],
                    index=df.index),
            "speaker_entity_id resolves to an entity, and speaker_name is its name":
                lambda df: pd.Series(
                    [pd.isna(e) or name_of.get(e) == n
                     for e, n in zip(df["speaker_entity_id"], df["speaker_name"])], index=df.index),
        }
    return checks


def _span_checks(texts: dict[str, str]) -> dict[str, Invariant]:
    """Checks of any table of spans (start, end, text) into articles.text."""

    def span_text(df: pd.DataFrame) -> list[str | None]:
        return [texts[a][int(s):int(e)] if a in texts else None
                for a, s, e in zip(df["article_id"], df["start"], df["end"])]

    return {
        "article_id resolves to an article": lambda df: df["article_id"].isin(set(texts)),
        "span lies inside its article":
            lambda df: pd.Series([a in texts and 0 <= int(s) < int(e) <= len(texts[a])
                                  for a, s, e in zip(df["article_id"], df["start"], df["end"])],
                                 index=df.index),
        "text equals articles.text[start:end]":
            lambda df: pd.Series([t == expected for t, expected in zip(df["text"], span_text(df))],
                                 index=df.index),
    }


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
