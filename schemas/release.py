"""Checks over a whole release: each table against its model, then the invariants
of the contract that span tables (foreign keys, reconciliation with the inputs).

A failed check raises `ReleaseCheckFailed`, whose message lists the failing rows by
key, so the person reading a failed run sees what to fix.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from schemas.tables import MODELS, PRIMARY_KEYS, values

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
    checks = ReleaseChecks(tables["articles"], tables["sources"], input_records)
    texts = dict(zip(tables["articles"]["article_id"], tables["articles"]["text"]))
    for name in ("mentions", "quotes"):
        if name in tables:
            checks.spans(name, tables[name], texts)
    if "entities" in tables:
        checks.entities(tables["entities"])
    checks.raise_if_failed()


class SpanChecks:
    """The checks of chunks of mentions or quotes, each chunk holding all the rows of
    its articles: what failed, and what the checks with the entities table need from
    the chunks, kept per entity, never per row. Checks of separate chunks add up, in
    order (`update`), so chunks may be checked in other processes."""

    def __init__(self):
        self.failures: list[pd.DataFrame] = []
        self.mentions: Counter = Counter()  # per entity_id
        self.articles: Counter = Counter()  # per entity_id: articles whose mentions link to it
        self.first_mention: dict[str, str] = {}
        self.speakers: dict[tuple[str, str], str] = {}  # (entity_id, name) -> first quote_id

    def check(self, name: str, chunk: pd.DataFrame, texts: dict[str, str]) -> None:
        """Check a chunk of mentions or quotes; `texts` holds the text of its articles."""
        invariants = _span_checks(texts)
        if name == "quotes":
            invariants["speaker equals articles.text[speaker_start:speaker_end]"] = lambda df: pd.Series(
                [s is None or texts.get(a, "")[s:e] == w for a, s, e, w in zip(
                    *(values(df[c]) for c in ("article_id", "speaker_start", "speaker_end", "speaker")))],
                index=df.index)
            speakers = chunk[chunk["speaker_entity_id"].notna()]
            for entity_id, speaker_name, quote_id in zip(
                    *(values(speakers[c]) for c in ("speaker_entity_id", "speaker_name", "quote_id"))):
                self.speakers.setdefault((entity_id, speaker_name), quote_id)
        else:
            self.mentions.update(chunk.groupby("entity_id").size().to_dict())
            self.articles.update(chunk.groupby("entity_id")["article_id"].nunique().to_dict())
            for entity_id, mention_id in zip(values(chunk["entity_id"]), values(chunk["mention_id"])):
                self.first_mention.setdefault(entity_id, mention_id)
        self.failures.extend(_check_failures(name, chunk, invariants))

    def update(self, other: "SpanChecks") -> None:
        """Add the checks of later chunks."""
        self.failures.extend(other.failures)
        self.mentions.update(other.mentions)
        self.articles.update(other.articles)
        for entity_id, mention_id in other.first_mention.items():
            self.first_mention.setdefault(entity_id, mention_id)
        for pair, quote_id in other.speakers.items():
            self.speakers.setdefault(pair, quote_id)


class ReleaseChecks:
    """The checks of `validate_release` for a release whose mentions and quotes come a
    chunk at a time, as the build writes them (SpanChecks). A chunk is checked as it
    comes; the invariants across tables are checked with the entities table."""

    def __init__(self, articles: pd.DataFrame, sources: pd.DataFrame, input_records: int):
        self._failures: list[pd.DataFrame] = [
            *_check_failures("articles", articles, _article_invariants(sources)),
            *_check_failures("sources", sources, _source_invariants(set(articles["article_id"]), input_records))]
        self._spans = SpanChecks()

    def spans(self, name: str, chunk: pd.DataFrame, texts: dict[str, str]) -> None:
        """Check a chunk of mentions or quotes; `texts` holds the text of its articles."""
        self._spans.check(name, chunk, texts)

    def add_spans(self, checked: SpanChecks) -> None:
        """Keep the checks of chunks checked elsewhere, in the order of the chunks."""
        self._spans.update(checked)

    def unique_across_chunks(self, name: str, keys: pyarrow.ChunkedArray) -> None:
        """The keys of a whole table written a chunk at a time (each chunk checks its own)."""
        counts = keys.value_counts()
        repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values").to_pylist()
        if repeated:
            self._failures.append(_failure_rows(name, f"{PRIMARY_KEYS[name]} is unique across the table",
                                                PRIMARY_KEYS[name], repeated, repeated))

    def entities(self, entities: pd.DataFrame) -> None:
        """Check the entities table against the mentions and quotes checked so far."""
        known = dict(zip(entities["entity_id"], entities["name"]))
        spans = self._spans
        self._failures.extend(_check_failures("entities", entities, {
            "mentions equals the mentions linked to it (at least one)":
                lambda df: df["mentions"].astype(int) == df["entity_id"].map(lambda e: spans.mentions.get(e, 0)),
            "articles equals the articles it is mentioned in":
                lambda df: df["articles"].astype(int) == df["entity_id"].map(lambda e: spans.articles.get(e, 0)),
        }))
        dangling = sorted(e for e in spans.mentions if e not in known)
        if dangling:
            self._failures.append(_failure_rows("mentions", "entity_id resolves to an entity", "entity_id",
                                                [spans.first_mention[e] for e in dangling], dangling))
        misnamed = sorted((pair, quote_id) for pair, quote_id in spans.speakers.items()
                          if known.get(pair[0]) != pair[1])
        if misnamed:
            self._failures.append(_failure_rows(
                "quotes", "speaker_entity_id resolves to an entity, and speaker_name is its name",
                "speaker_name", [quote_id for _, quote_id in misnamed],
                [f"{entity_id}: {name}" for (entity_id, name), _ in misnamed]))

    def raise_if_failed(self) -> None:
        found = [f for f in self._failures + self._spans.failures if not f.empty]
        if found:
            raise ReleaseCheckFailed(pd.concat(found, ignore_index=True))


def _check_failures(name: str, df: pd.DataFrame, invariants: dict[str, Invariant]) -> list[pd.DataFrame]:
    """Where `df` fails table `name`'s model and the `invariants`."""
    schema = pa.DataFrameSchema(
        checks=[pa.Check(fn, name=description) for description, fn in invariants.items()])
    return [_schema_failures(_model_schema(name), name, df), _schema_failures(schema, name, df)]


@cache
def _model_schema(name: str) -> pa.DataFrameSchema:
    return MODELS[name].to_schema()


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


def _failure_rows(table: str, check: str, column: str | None, keys: list, cases: list) -> pd.DataFrame:
    return pd.DataFrame({"table": table, "check": check, "column": column, "key": keys,
                         "failure_case": [str(case) for case in cases]})


def _source_invariants(article_ids: set[str], input_records: int) -> dict[str, Invariant]:
    return {
        f"every input appears once: {input_records} inputs":
            lambda df: pd.Series(len(df) == input_records, index=df.index),
        "article_id resolves to an article":
            lambda df: df["article_id"].isna() | df["article_id"].isin(article_ids),
    }


def _article_invariants(sources: pd.DataFrame) -> dict[str, Invariant]:
    kept_source_of = dict(zip(sources["source_uri"], sources["article_id"]))
    status_of = dict(zip(sources["source_uri"], sources["status"]))
    duplicates_of = (sources[sources["status"] == "duplicate"]
                     .groupby("article_id").size().to_dict())
    return {
        "source_uri is an accepted source that became this article":
            lambda df: pd.Series(
                [status_of.get(uri) == "accepted" and kept_source_of.get(uri) == aid
                 for uri, aid in zip(df["source_uri"], df["article_id"])], index=df.index),
        "duplicates equals the duplicate sources pointing here":
            lambda df: df["duplicates"].astype(int) == df["article_id"].map(
                lambda aid: duplicates_of.get(aid, 0)),
        "content_sha256 is the sha256 of text":
            lambda df: df["content_sha256"] == df["text"].map(sha256_text),
    }


def _span_checks(texts: dict[str, str]) -> dict[str, Invariant]:
    """Checks of any table of spans (start, end, text) into articles.text."""

    def spans(df: pd.DataFrame) -> Iterator[tuple]:
        return zip(*(values(df[column]) for column in ("article_id", "start", "end")))

    return {
        "article_id resolves to an article": lambda df: df["article_id"].isin(set(texts)),
        "span lies inside its article":
            lambda df: pd.Series([a in texts and 0 <= s < e <= len(texts[a]) for a, s, e in spans(df)],
                                 index=df.index),
        "text equals articles.text[start:end]":
            lambda df: pd.Series([a in texts and texts[a][s:e] == t
                                  for (a, s, e), t in zip(spans(df), values(df["text"]))], index=df.index),
    }


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
