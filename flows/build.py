"""The build flow: raw article files in, a validated, versioned release out.

The stages (flows.stages) and the release (flows.release) are plain functions; here
they are Prefect tasks and a flow, so Prefect can schedule, retry and show them. The
per-article stages run as one task per shard of inputs, never one task per article,
on the executors and result cache of flows.runtime.
"""

from __future__ import annotations

import json
from collections import deque
from contextlib import closing
from functools import partial
from operator import itemgetter
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from prefect.utilities.annotations import unmapped

from flows.pipeline import LinkedShard, NLP_EXTRACTORS, linked_shard, shards
from flows.release.layout import PublishResult, read_manifest, staging
from flows.release.measured import measured_quality
from flows.release.provenance import (alias_digests, build_fingerprint, citation, code_version, provenance,
                                      raw_digest, release_built_from)
from flows.release.publish import RemovalsRefused, publish_staged
from flows.release.writer import TableWriter
from flows.runtime.cache import ResultCache, cache_key, open_cache, parsed_shard
from flows.runtime import progress
from flows.runtime.executors import aside, fork_map, local_executor
from flows.runtime.report import record_refusal, record_run
from flows.runtime.runners import dask_task_runner, processes_per_task
from flows.stages.dedupe import NEAR_DUPLICATE_THRESHOLD, deduplicate
from flows.stages.entities.aliases import Alias, CURATED_ALIASES, load_aliases
from flows.stages.entities.linker import EntityLinker, LinkCounts, link_entities, mention_rows
from flows.stages.ingest.discover import InputError, discover_inputs
from flows.stages.ingest.formats import field_keys
from flows.stages.parse import (BATCHES_PER_PROCESS, DEFAULT_MODEL, ModelNotFound, analyse_articles,
                                model_description, model_identity)
from flows.stages.prepare import (NoUsableInput, ShardResult, merge_stats, nest, prepare_shard, require_usable,
                                  shard_result)
from schemas import PRIMARY_KEYS, ReleaseCheckFailed, ReleaseChecks, conform

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
DEFAULT_OUTPUT = Path("output")
DEFAULT_SHARD_SIZE = 1000
CACHE_FILE = Path(".cache") / "results.sqlite"
# The phases a person sees progress for (flows.runtime.progress).
PREPARING, PARSING = "reading and cleaning", "parsing"
CANONICALISING, WRITING, PUBLISHING = "canonicalising entities", "linking and writing", "publishing"


@task(name="prepare-shard", cache_policy=NO_CACHE)
def prepare_shard_task(inputs, keys: dict[str, list[str]], executor) -> ShardResult:
    return executor.call(prepare_shard, inputs, keys)


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate_task(records: pd.DataFrame, near_threshold: float):
    return deduplicate(records, near_threshold)


@task(name="analyse-shard", cache_policy=NO_CACHE)
def analyse_shard_task(articles: pd.DataFrame, model: str, executor) -> dict[str, list[dict]]:
    return analyse_articles(articles, NLP_EXTRACTORS, model,
                            progress.counted(executor.map, PARSING, units_of=itemgetter(0)))


@task(name="canonicalise-entities", cache_policy=NO_CACHE)
def entities_task(parsed: list[str], cache: ResultCache, articles: pd.DataFrame, aliases: list[Alias],
                  shard_size: int, processes: int) -> EntityLinker:
    """Dataset-wide: every mention's entity, from two passes over the stored rows, a
    shard at a time, on `processes` forked processes."""
    chunks = range(0, len(parsed), shard_size)
    progress.start(CANONICALISING, 2 * len(chunks), "shard reads")
    linker = link_entities(chunks, lambda start: [(mention_rows(rows["mentions"]), text) for _, text, rows in
                                                  parsed_shard(cache, parsed, articles, start, shard_size)],
                           aliases, progress.counted(partial(fork_map, processes=processes), CANONICALISING))
    progress.finish(CANONICALISING)
    return linker


@task(name="write-mentions-and-quotes", cache_policy=NO_CACHE)
def write_spans_task(parsed: list[str], cache: ResultCache, articles: pd.DataFrame, linker: EntityLinker,
                     checks: ReleaseChecks, folder: Path, shard_size: int,
                     processes: int) -> tuple[dict[str, int], LinkCounts]:
    """The mentions and quotes tables, a shard of articles at a time, so the flow never
    holds more than a few shards of them: each shard linked to its entities, checked
    and made into rows in one of `processes` forked processes, and written here in
    article order. Returns the rows written per table and what was linked."""
    counts = LinkCounts()
    progress.start(WRITING, len(range(0, len(parsed), shard_size)), "shards")
    linked: closing[LinkedShard] = closing(fork_map(
        lambda start: linked_shard(linker, parsed_shard(cache, parsed, articles, start, shard_size)),
        range(0, len(parsed), shard_size), processes))
    with TableWriter("mentions", folder) as mentions_file, TableWriter("quotes", folder) as quotes_file, \
            linked as results:
        for shard in results:
            counts.update(shard.counts)
            checks.add_spans(shard.checks)
            for name, writer in (("mentions", mentions_file), ("quotes", quotes_file)):
                writer.write_table(*shard.rows[name])
            progress.step(WRITING)
    progress.finish(WRITING)
    for name in ("mentions", "quotes"):
        checks.unique_across_chunks(name, pq.read_table(folder / f"{name}.parquet",
                                                        columns=[PRIMARY_KEYS[name]]).column(0))
    return {"mentions": mentions_file.rows, "quotes": quotes_file.rows}, counts


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(checks: ReleaseChecks, entities: pd.DataFrame) -> None:
    checks.entities(entities)
    checks.raise_if_failed()


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(folder: Path, tables: dict[str, pd.DataFrame], output: Path, provenance: dict,
                 allow_removals: bool) -> PublishResult:
    progress.start(PUBLISHING, None, "")
    # The quality report takes as long as writing the tables: on another core, meanwhile.
    result = publish_staged(folder, tables, output, provenance, beside=aside, allow_removals=allow_removals)
    progress.finish(PUBLISHING)
    return result


@flow(name="newscorpus-build")
def build_flow(sources: list[str] | None = None, output: str = str(DEFAULT_OUTPUT),
               shard_size: int = DEFAULT_SHARD_SIZE, model: str = DEFAULT_MODEL,
               aliases: list[str] | None = None, cache: bool = True,
               fields: dict[str, str] | None = None,
               near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD, allow_removals: bool = False,
               cite_author: str | None = None, cite_url: str | None = None):
    """Build a release of the dataset from `sources` (default: the embedded seeds).
    With `cache`, per-article results are kept in OUTPUT/.cache and reused for inputs
    that have not changed since an earlier run with the same code and model, and a run
    whose inputs, code and model made the newest release stops at once. Without it,
    everything is done again. `fields` names the JSON keys of article fields that the
    usual names (flows.stages.ingest.formats.FIELD_KEYS) do not cover: {"text": "content"}.
    Articles whose word shingles overlap by `near_duplicate_threshold` (Jaccard) or
    more are one story: all but one become duplicates (1.0: only identical shingles).
    A release that lacks inputs the newest one had is not published (the run fails,
    naming what it would remove) unless `allow_removals`. `cite_author` and `cite_url`
    (where the release will be published) go into the card's citation."""
    logger = get_run_logger()
    try:
        alias_files = [Path(a) for a in aliases or []]
        inputs = discover_inputs(sources or [str(SEEDS)])
        if not inputs:
            raise NoUsableInput(f"no input files found in {', '.join(sources or [str(SEEDS)])}")
        keys = field_keys(fields)
        digests = {item.source_uri: raw_digest(item.path) for item in inputs}
        quality = measured_quality()
        fingerprint = build_fingerprint(digests, model_identity(model), [CURATED_ALIASES, *alias_files], keys,
                                        near_duplicate_threshold, quality, {"author": cite_author, "url": cite_url})
        newest = release_built_from(Path(output), fingerprint) if cache else None
        if newest is not None:
            # The same inputs, code, model and aliases make the same release.
            logger.info("no change; newest is %s (the same inputs, code and model)", newest.path)
            record_run(read_manifest(newest.path)["stages"], newest, quality)
            return newest
        alias_table = load_aliases(alias_files)
        model_info = model_description(model)
        pipeline = code_version()["source_sha256"]
        processes = processes_per_task()
        with open_cache(Path(output) / CACHE_FILE if cache else None, Path(output)) as results:
            with local_executor(processes) as executor:
                prepared = prepare_inputs(inputs, digests, shard_size, results, pipeline, keys, executor)
            require_usable(prepared.records)
            input_records, stats = len(prepared.records), merge_stats([prepared])
            tables, near_stats = deduplicate_task(prepared.records, near_duplicate_threshold)
            del prepared  # the parsing processes fork from this one: less for them to inherit
            articles = tables["articles"]
            with local_executor(processes, BATCHES_PER_PROCESS) as executor:
                parsed = analyse(articles, shard_size, model, results,
                                 f"{pipeline}/{model_info['name']}/{model_info['version']}", executor,
                                 model_info["language"])
            # From here the rows are read from the cache a shard at a time, once the parsing has ended.
            linker = entities_task(parsed, results, articles, alias_table, shard_size, processes)
            with staging(Path(output)) as folder:
                checks = ReleaseChecks(articles, tables["sources"], input_records)
                counts, linked = write_spans_task(parsed, results, articles, linker, checks, folder, shard_size,
                                                  processes)
                tables["entities"] = conform("entities", linker.entities(linked))
                validate_task(checks, tables["entities"])
                counts |= {name: len(df) for name, df in tables.items()}
                stats |= nest(near_stats)
                stats["deduplicate"] = {status: int(n) for status, n in
                                        sorted(tables["sources"]["status"].value_counts().items())}
                stats["nlp"] = {"articles analysed": int((articles["language"] == model_info["language"]).sum()),
                                "mentions": counts["mentions"], "entities": counts["entities"],
                                "quotes": counts["quotes"]}
                for stage, figures in stats.items():
                    logger.info("%s: %s", stage, ", ".join(f"{n:,} {what}" for what, n in figures.items()))
                stats["validate"] = {"tables": len(counts), "rows": sum(counts.values())}
                info = provenance(tables, stats) | {
                    "model": model_info, "aliases": alias_digests([CURATED_ALIASES, *alias_files]),
                    "quality": quality, "near_duplicate_threshold": near_duplicate_threshold,
                    "build_fingerprint": fingerprint,
                    "citation": citation(articles, cite_author, cite_url)}
                result = publish_task(folder, tables, Path(output), info, allow_removals)
    except RemovalsRefused as error:
        logger.error("%s", error)
        record_refusal(str(error))
        return Failed(message=str(error))
    except (InputError, ReleaseCheckFailed, ModelNotFound) as error:
        logger.error("%s", error)
        return Failed(message=str(error))
    logger.info("%s %s", "published" if result.changed else "no change; newest is", result.path)
    record_run(stats, result, info["quality"])
    return result


def prepare_inputs(inputs: list, digests: dict[str, str | None], shard_size: int,
                   results: ResultCache, pipeline: str, keys: dict[str, list[str]], executor) -> ShardResult:
    """Records of all inputs, in order: from the cache `results` for inputs read before
    with the same bytes (`digests`, by source_uri), code and JSON field names (`keys`),
    from one prepare-shard task per shard of the others (cached as each finishes)."""
    logger = get_run_logger()
    reading = f"{pipeline}/{json.dumps(keys, sort_keys=True)}"
    cache_keys = {uri: cache_key(reading, uri, digest) for uri, digest in digests.items() if digest is not None}
    cached = results.get_many("prepare", cache_keys.values())
    missing = [item for item in inputs if cache_keys.get(item.source_uri) not in cached]
    parts = shards(missing, shard_size)
    logger.info("%d inputs: %d prepared before, %d to prepare in %d shards of up to %d",
                len(inputs), len(inputs) - len(missing), len(missing), len(parts), shard_size)
    progress.start(PREPARING, len(missing), "inputs")
    fresh = {}
    for future in prepare_shard_task.map(parts, keys=unmapped(keys), executor=unmapped(executor)) if parts else []:
        done = future.result().by_input()
        # At once: a run stopped part-way resumes from the shards that finished.
        results.put_many("prepare", {cache_keys[uri]: value for uri, value in done.items() if uri in cache_keys})
        fresh.update(done)
        progress.step(PREPARING, len(done))
    progress.finish(PREPARING)
    ordered = [pair for item in inputs for pair in (fresh.get(item.source_uri)
                                                    or cached[cache_keys[item.source_uri]])]
    return shard_result([row for row, _ in ordered], [stats for _, stats in ordered])


def analyse(articles: pd.DataFrame, shard_size: int, model: str, results: ResultCache,
            pipeline: str, executor, language: str) -> list[str]:
    """Parse the articles that the cache `results` has no mention and quote rows for
    (with the same text, code and model), one analyse-shard task per shard, each
    shard's rows cached as it finishes: a run stopped part-way resumes from there, and
    the flow process holds none of them while the pool parses. Returns every
    article's key in the cache, in article order. Only articles in the model's
    `language` are parsed."""
    keys = dict(zip(articles["article_id"], (cache_key(pipeline, a, c) for a, c in
                                              zip(articles["article_id"], articles["content_sha256"]))))
    parsed_before = results.present("nlp", keys.values())
    missing = articles[~articles["article_id"].map(keys).isin(parsed_before)]
    get_run_logger().info("%d articles: %d parsed before, %d to parse", len(articles),
                          len(articles) - len(missing), len(missing))
    progress.start(PARSING, len(missing[missing["language"] == language]), "articles")
    # All shards at once: a shard's batches queue behind the earlier shards' batches.
    running = deque((shard, analyse_shard_task.submit(shard, model, executor))
                    for shard in shards(missing, shard_size))
    while running:
        shard, future = running.popleft()  # and let go of it: a finished task's state holds its rows
        done = {article_id: {name: [] for name in NLP_EXTRACTORS} for article_id in shard["article_id"]}
        for name, rows in future.result().items():
            for row in rows:
                done[row["article_id"]][name].append(row)
        results.put_many("nlp", {keys[article_id]: value for article_id, value in done.items()})
    progress.finish(PARSING)
    return list(keys.values())


def flow_on(workers: int | None = None, dask_address: str | None = None):
    """The build flow with its shards on an existing Dask cluster (`dask_address`,
    e.g. tcp://scheduler:8786), on a local one of `workers` processes, or, with
    neither, on threads of this process."""
    runner = dask_task_runner(workers, dask_address)
    return build_flow if runner is None else build_flow.with_options(task_runner=runner)
