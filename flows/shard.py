"""The per-article stages (ingest, clean, normalise) run over one shard of inputs.

A shard is the unit of work the flow hands to one task: a list of input files in,
one record per input out, plus counts of what every stage did (datatrove-style
statistics, kept in the manifest).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from flows.clean import clean_text
from flows.ingest import MIN_WORDS, InputFile, read_input
from flows.normalise import article_fields, count_words

RECORD_COLUMNS = ["source_uri", "raw_sha256", "reason", "title", "text", "published_date",
                  "outlet", "url", "dateline", "language", "word_count", "content_sha256"]


@dataclass
class ShardResult:
    records: pd.DataFrame
    stats: Counter = field(default_factory=Counter)
    # What the stages did for each input, in the order of `records` (kept in the cache).
    input_stats: list[Counter] = field(default_factory=list)


def prepare_shard(inputs: list[InputFile]) -> ShardResult:
    prepared = [prepare_input(item) for item in inputs]
    return shard_result([row for row, _ in prepared], [stats for _, stats in prepared])


def shard_result(rows: list[dict], input_stats: list[Counter]) -> ShardResult:
    return ShardResult(pd.DataFrame(rows, columns=RECORD_COLUMNS), sum(input_stats, Counter()),
                       input_stats)


def prepare_input(item: InputFile) -> tuple[dict, Counter]:
    """One input's record (an article's fields, or the reason it was rejected) and
    what each stage did to it."""
    stats = Counter()
    record = read_input(item)
    stats["ingest.inputs"] += 1
    row = {"source_uri": record.source_uri, "raw_sha256": record.raw_sha256, "reason": record.reason}
    if record.text is not None:
        row.update(_article_row(record.text, stats))
    if row["reason"] is not None:
        stats[f"rejected.{reason_kind(row['reason'])}"] += 1
    return row, stats


def _article_row(text: str, stats: Counter) -> dict:
    clean = clean_text(text)
    stats.update({f"clean.removed {rule}": n for rule, n in clean.removed.items()})
    words = count_words(clean.body)
    if words < MIN_WORDS:
        return {"reason": f"nothing left after removing boilerplate: {words} words of article text"}
    fields = article_fields(clean)
    stats.update(f"normalise.with {name}" for name in
                 ("title", "published_date", "dateline", "outlet") if fields[name] is not None)
    stats[f"normalise.language {fields['language']}"] += 1
    return fields


def reason_kind(reason: str) -> str:
    """The part of a rejection reason before its details, for counting."""
    return reason.split(":")[0]


def merge_stats(results: list[ShardResult]) -> dict[str, dict[str, int]]:
    """Sum shard counters into {stage: {metric: count}}, sorted for stable output."""
    total = sum((r.stats for r in results), Counter())
    nested: dict[str, dict[str, int]] = {}
    for key in sorted(total):
        stage, metric = key.split(".", 1)
        nested.setdefault(stage, {})[metric] = total[key]
    return nested
