"""Prepare: the per-article stages (ingest, clean, normalise) run over one shard of inputs.

A shard is the unit of work the flow hands to one task: a list of input files in,
one record per input record out (one for a text file, one per record of a JSON or
WARC collection), plus counts of what every stage did (datatrove-style statistics,
kept in the manifest).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from flows.stages.clean import clean_text
from flows.stages.ingest.decode import Rejected, decode, require_article_length, require_words
from flows.stages.ingest.discover import InputError, InputFile
from flows.stages.ingest.formats import FIELD_KEYS, RawRecord
from flows.stages.ingest.read import read_records
from flows.stages.normalise.fields import article_fields

RECORD_COLUMNS = ["source_uri", "raw_sha256", "reason", "title", "text", "published_date",
                  "outlet", "url", "dateline", "authors", "crawl_date", "language", "word_count",
                  "content_sha256", "section", "tags"]
# Below this probability the language model is guessing (tables of figures: about 0.06).
LANGUAGE_CONFIDENCE = 0.5
# What a structured record (JSON, web page) says of itself wins over what the text says.
GIVEN_FIELDS = ["title", "published_date", "outlet", "url", "dateline", "authors", "crawl_date", "section",
                "tags"]


@dataclass
class ShardResult:
    records: pd.DataFrame
    stats: Counter = field(default_factory=Counter)
    # What the stages did for each record, in the order of `records` (kept in the cache).
    input_stats: list[Counter] = field(default_factory=list)
    # Which input each record came from, in order: (input source_uri, records of it).
    inputs: list[tuple[str, int]] = field(default_factory=list)

    def by_input(self) -> dict[str, list[tuple[dict, Counter]]]:
        """The (row, stats) of each record, grouped by the input it came from."""
        pairs = list(zip(self.records.to_dict("records"), self.input_stats))
        grouped, start = {}, 0
        for uri, count in self.inputs:
            grouped[uri] = pairs[start:start + count]
            start += count
        return grouped


def prepare_shard(inputs: list[InputFile], keys: dict[str, list[str]] = FIELD_KEYS) -> ShardResult:
    prepared = [prepare_input(item, keys) for item in inputs]
    pairs = [pair for records in prepared for pair in records]
    result = shard_result([row for row, _ in pairs], [stats for _, stats in pairs])
    result.inputs = [(item.source_uri, len(records)) for item, records in zip(inputs, prepared)]
    return result


def shard_result(rows: list[dict], input_stats: list[Counter]) -> ShardResult:
    return ShardResult(pd.DataFrame(rows, columns=RECORD_COLUMNS), sum(input_stats, Counter()),
                       input_stats)


def prepare_input(item: InputFile, keys: dict[str, list[str]] = FIELD_KEYS) -> list[tuple[dict, Counter]]:
    """Each record of one input (an article's fields, or the reason it was rejected)
    and what each stage did to it."""
    prepared = [prepare_record(record) for record in read_records(item, keys)]
    _agree_languages([row for row, _ in prepared])
    for row, stats in prepared:
        if row["reason"] is None:
            stats[f"normalise.language {row['language']}"] += 1
    return prepared


def _agree_languages(rows: list[dict]) -> None:
    """A record too short or too numeric for its language to tell ("Shr 27 cts vs 39
    cts / Net 481,189 vs 697,381") takes the language most records of its collection
    are confidently in: a table of figures in a Reuters wire file is not Slovenian."""
    texts = [row for row in rows if row["reason"] is None]
    confident = Counter(row["language"] for row in texts if row["language_probability"] >= LANGUAGE_CONFIDENCE)
    if confident:
        usual = confident.most_common(1)[0][0]
        for row in texts:
            if row["language_probability"] < LANGUAGE_CONFIDENCE:
                row["language"] = usual
    for row in texts:
        del row["language_probability"]


def prepare_record(record: RawRecord) -> tuple[dict, Counter]:
    stats = Counter({"ingest.inputs": 1})
    row = {"source_uri": record.source_uri, "raw_sha256": record.raw_sha256, "reason": record.reason,
           "authors": [], "tags": [], "section": folder_section(record.source_uri)}
    if record.reason is None:
        stats[f"ingest.{record.kind} records"] += 1
        row.update(_article_row(record, stats))
    if row["reason"] is not None:
        stats[f"rejected.{reason_kind(row['reason'])}"] += 1
    return row, stats


def _article_row(record: RawRecord, stats: Counter) -> dict:
    text, given = record.text, dict(record.fields)
    try:
        if record.kind == "html":
            page = web_page(record)
            if not page.text.strip():
                return {"reason": "a web page in which no article text was found"}
            text = page.text
            given |= {name: value for name, value in (("title", page.title), ("published_date", page.published_date),
                                                      ("url", page.url), ("outlet", page.outlet),
                                                      ("authors", page.authors), ("section", page.section),
                                                      ("tags", page.tags)) if value}
        require_words(text)  # as text files were when read: records and pages too
        clean = clean_text(text, title=given.get("title") if record.kind != "text" else None)
        stats.update({f"clean.removed {rule}": n for rule, n in clean.removed.items()})
        require_article_length(clean.body)
    except Rejected as rejection:
        return {"reason": str(rejection)}
    fields = article_fields(clean)
    fields |= {name: given[name] for name in GIVEN_FIELDS if given.get(name) not in (None, [])}
    stats.update(f"normalise.with {name}" for name in
                 ("title", "published_date", "dateline", "outlet", "url", "section") if fields.get(name) is not None)
    return fields


def folder_section(source_uri: str) -> str | None:
    """The folder an input lies in below the folder named as its source: the section of
    a collection kept one folder per section ("bbc/business/001.txt": business); None
    for an input right in it. A record's or a page's own section wins over it."""
    parts = source_uri.partition("#")[0].split("/")
    return parts[1] if len(parts) > 2 else None


def web_page(record: RawRecord):
    """The article of a web page record (see flows.stages.ingest.html), with the URL the crawl gave;
    raises Rejected when the page's bytes are no text."""
    from flows.stages.ingest.html import extract_web_article  # lxml and trafilatura load only for web pages

    return extract_web_article(decode(record.payload), record.fields.get("url"))


class NoUsableInput(InputError):
    """Every input was rejected: there is nothing to publish."""


def require_usable(records: pd.DataFrame) -> None:
    rejected = records["reason"].dropna()
    if len(rejected) == len(records):
        kinds = rejected.map(reason_kind).value_counts()
        summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        raise NoUsableInput(f"no usable input: all {len(records)} inputs were rejected ({summary})")


def reason_kind(reason: str) -> str:
    """The part of a rejection reason before its details, for counting."""
    return reason.split(":")[0]


def merge_stats(results: list[ShardResult]) -> dict[str, dict[str, int]]:
    """Sum shard counters into {stage: {metric: count}}, sorted for stable output."""
    return nest(sum((r.stats for r in results), Counter()))


def nest(counts: Counter) -> dict[str, dict[str, int]]:
    """{"stage.metric": n} as {stage: {metric: n}}, sorted."""
    nested: dict[str, dict[str, int]] = {}
    for key in sorted(counts):
        stage, metric = key.split(".", 1)
        nested.setdefault(stage, {})[metric] = counts[key]
    return nested
