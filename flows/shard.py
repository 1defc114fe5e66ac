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


def prepare_shard(inputs: list[InputFile]) -> ShardResult:
    rows, stats = [], Counter()
    for item in inputs:
        record = read_input(item)
        stats["ingest.inputs"] += 1
        row = {"source_uri": record.source_uri, "raw_sha256": record.raw_sha256,
               "reason": record.reason}
        if record.text is not None:
            row.update(_article_row(record.text, stats))
        if row["reason"] is not None:
            stats[f"rejected.{reason_kind(row['reason'])}"] += 1
        rows.append(row)
    return ShardResult(pd.DataFrame(rows, columns=RECORD_COLUMNS), stats)


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
