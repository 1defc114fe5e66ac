"""Deduplication speed: exact and near-duplicate detection on a large corpus.

The corpus is the one `build_scaling.py` makes (its functions, imported): the BBC
articles, then the Reuters-21578 articles with a body, then seeded perturbations of
real articles (paragraphs shuffled, two sentences replaced by sentences of another
article of the same collection), so a size always gives the same corpus. Most of
the perturbed articles are near duplicates of the article they were made from, or
of each other, which is what the near-duplicate stage has to find.

The records are built directly as a DataFrame with the columns of
`flows.stages.prepare.RECORD_COLUMNS`, WITHOUT running ingest, clean and normalise on 100,000
files (that is the build benchmark's job, and would take far longer than what is
timed here): `text` is the article's paragraphs as the corpus has them, joined by
blank lines (not cleaned: Reuters' closing "Reuter" stays), `title` its title,
`word_count` and `content_sha256` as normalise computes them; the corpus files carry
no date, outlet, dateline or URL, and language is not detected (None). Building the
records is not timed.

Timed, one after the other in this process: `deduplicate_exact` on all records, then
`deduplicate_near` on its output. Memory is the resident set (RSS) of this process,
sampled with psutil every 0.05 s while they run: the peak, and how much of it is
above the RSS before they start (the records themselves).

Target: under 60 s for both at 100,000 articles on the 2-core machine.

    .venv/bin/python benchmarks/dedupe_speed.py [--articles 100000] [--threshold 0.8] [--json PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import psutil

from build_scaling import BBC, REUTERS, CORPORA, perturbed_articles, real_articles
from flows.stages.dedupe import (BANDS, NEAR_DUPLICATE_THRESHOLD, PERMUTATIONS, SHINGLE_WORDS, deduplicate_exact,
                                 deduplicate_near)
from flows.stages.text import count_words
from flows.stages.prepare import RECORD_COLUMNS
from schemas import sha256_text

TARGET_SECONDS = 60
SAMPLE_SECONDS = 0.05
MB = 2 ** 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000,
                        help="corpus size in articles (default: %(default)s)")
    parser.add_argument("--threshold", type=float, default=NEAR_DUPLICATE_THRESHOLD,
                        help="near-duplicate Jaccard threshold (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    if not (BBC.is_dir() and REUTERS.is_dir()):
        raise SystemExit(f"the BBC and Reuters-21578 corpora are not in {CORPORA}")
    started = time.perf_counter()
    records = corpus_records(args.articles)
    print(f"{len(records):,} records built in {time.perf_counter() - started:.1f} s (not timed)",
          flush=True)
    figures = measure(records, args.threshold)
    print(summary(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def corpus_records(size: int) -> pd.DataFrame:
    """`size` articles of build_scaling's corpus as records, as prepare_shard makes them."""
    real = real_articles()
    taken = {article.body_key for article in real}
    articles = real[:size] + perturbed_articles(real, max(0, size - len(real)), "corpus",
                                                "perturbed", taken)
    rows = []
    for article in articles:
        text = "\n\n".join(article.paragraphs)
        rows.append({"source_uri": article.name, "raw_sha256": hashlib.sha256(article.raw).hexdigest(),
                     "reason": None, "title": article.title or None, "text": text,
                     "published_date": None, "outlet": None, "url": None, "dateline": None,
                     "language": None, "word_count": count_words(text),
                     "content_sha256": sha256_text(text)})
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def measure(records: pd.DataFrame, threshold: float) -> dict:
    stats = Counter()
    with PeakMemory() as memory:
        started = time.perf_counter()
        exact = deduplicate_exact(records)
        exact_seconds = time.perf_counter() - started
        started = time.perf_counter()
        near = deduplicate_near(exact, threshold, stats=stats)
        near_seconds = time.perf_counter() - started
    seconds = exact_seconds + near_seconds
    return {
        "articles": len(records), "words": int(records["word_count"].sum()),
        "threshold": threshold, "shingle words": SHINGLE_WORDS, "permutations": PERMUTATIONS,
        "bands": BANDS,
        "exact seconds": exact_seconds, "near seconds": near_seconds, "total seconds": seconds,
        "articles/s": len(records) / seconds,
        "exact duplicates": int((exact["status"] == "duplicate").sum()),
        "articles compared": stats["near_dedupe.articles compared"],
        "shingles": stats["near_dedupe.shingles"],
        "candidate pairs": stats["near_dedupe.candidate pairs"],
        "verified pairs": stats["near_dedupe.verified pairs"],
        "near duplicates": stats["near_dedupe.near duplicates"],
        "exact duplicates moved": stats["near_dedupe.exact duplicates moved"],
        "accepted": int((near["status"] == "accepted").sum()),
        "rss before MB": memory.before / MB, "peak rss MB": memory.peak / MB,
    }


class PeakMemory:
    """The largest RSS of this process, sampled every SAMPLE_SECONDS while inside."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = 0
        self._done = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def summary(f: dict) -> str:
    verdict = "under" if f["total seconds"] < TARGET_SECONDS else "OVER"
    return "\n".join([
        f"articles            {f['articles']:,} ({f['words']:,} words)",
        f"exact dedupe        {f['exact seconds']:.1f} s: {f['exact duplicates']:,} exact duplicates",
        f"near dedupe         {f['near seconds']:.1f} s: {f['articles compared']:,} articles, "
        f"{f['shingles']:,} shingles of {f['shingle words']} words, "
        f"{f['permutations']} permutations in {f['bands']} bands",
        f"candidate pairs     {f['candidate pairs']:,}",
        f"verified pairs      {f['verified pairs']:,} (Jaccard >= {f['threshold']})",
        f"near duplicates     {f['near duplicates']:,} folded "
        f"(+{f['exact duplicates moved']:,} exact duplicates moved with them); "
        f"{f['accepted']:,} articles left",
        f"total               {f['total seconds']:.1f} s, {f['articles/s']:,.0f} articles/s "
        f"({verdict} the {TARGET_SECONDS} s target)",
        f"peak memory         {f['peak rss MB']:,.0f} MB RSS "
        f"({f['peak rss MB'] - f['rss before MB']:,.0f} MB above the {f['rss before MB']:,.0f} MB "
        f"before dedupe)",
    ])


if __name__ == "__main__":
    main()
