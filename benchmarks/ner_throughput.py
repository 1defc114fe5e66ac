"""NER throughput of the mentions + entities stage next to bare spaCy `nlp.pipe`.

Both run on the same cleaned BBC articles, with the same model, batch size and
number of processes, in the same run; each is timed twice and the faster kept.
The stage's overhead (span mending, acronym uses, canonical entities) should stay
under 10% of bare parsing.

    .venv/bin/python benchmarks/ner_throughput.py [--articles N] [--processes 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from flows.runtime.executors import local_executor
from flows.stages.dedupe import deduplicate_exact, split_tables
from flows.stages.entities.aliases import load_aliases
from flows.stages.entities.linker import canonicalise
from flows.stages.ingest.discover import discover_inputs
from flows.stages.mentions import extract_mentions
from flows.stages.parse import BATCH_SIZE, DEFAULT_MODEL, analyse_articles, load_pipeline
from flows.stages.prepare import prepare_shard

BBC = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc"


def bare_parse(texts: list[str], model: str, processes: int) -> float:
    nlp = load_pipeline(model)
    started = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=BATCH_SIZE, n_process=processes):
        pass
    return time.perf_counter() - started


def stage(articles: pd.DataFrame, model: str, processes: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    with local_executor(processes) as executor:
        rows = analyse_articles(articles, {"mentions": extract_mentions}, model, executor.map)["mentions"]
    mentions, entities = canonicalise(pd.DataFrame(rows), articles, load_aliases())
    return time.perf_counter() - started, len(mentions), len(entities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=0, help="how many (default: all of BBC)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    if not BBC.is_dir():
        raise SystemExit(f"the BBC corpus is not at {BBC}")
    articles = split_tables(deduplicate_exact(prepare_shard(discover_inputs([str(BBC)])).records))["articles"]
    if args.articles:
        articles = articles.head(args.articles)
    texts = articles["text"].tolist()
    words = int(articles["word_count"].sum())
    load_pipeline(args.model)
    bare = min(bare_parse(texts, args.model, args.processes) for _ in range(2))
    runs = [stage(articles, args.model, args.processes) for _ in range(2)]
    staged, mentions, entities = min(runs)
    print(f"{len(texts)} articles, {words} words, model {args.model}, {args.processes} processes")
    print(f"bare nlp.pipe        {bare:7.1f} s  {words / bare:8.0f} words/s")
    print(f"mentions + entities  {staged:7.1f} s  {words / staged:8.0f} words/s  "
          f"({mentions} mentions, {entities} entities)")
    print(f"stage overhead       {100 * (staged - bare) / bare:+6.1f} %")


if __name__ == "__main__":
    main()
