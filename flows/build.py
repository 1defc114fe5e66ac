"""The build flow: raw article files in, a validated, versioned release out.

Stage logic lives in the stage modules as plain functions; the tasks here are thin
wrappers so Prefect can schedule, retry and show them. Per-article stages run as
one task per shard of inputs, never one task per article.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, deque
from contextlib import closing
from importlib import metadata
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from prefect.utilities.annotations import unmapped

from evaluation.measure import recorded as recorded_quality
from flows.cache import ResultCache, cache_key, result_store
from flows.dedupe import NEAR_DUPLICATE_THRESHOLD, deduplicate_exact, deduplicate_near, split_tables
from flows import workers
from flows.entities import (CURATED_ALIASES, Alias, EntityLinker, LinkCounts, canonicalise, link_entities,
                            load_aliases, mention_rows)
from flows.ingest import InputError, discover_inputs
from flows.mentions import extract_mentions
from flows.nlp import (BATCHES_PER_WORKER, DEFAULT_MODEL, ModelNotFound, analyse_articles, load_pipeline,
                       model_description)
from flows.publish import (PublishResult, TableWriter, csv_text, point_latest, publish_staged, read_manifest,
                           releases, staging, to_arrow, version_name)
from flows.quotes import attach_speakers, extract_quotes
from flows.records import FIELD_KEYS
from flows.report import record_run
from flows.shard import ShardResult, merge_stats, nest, prepare_shard, reason_kind, shard_result
from schemas import MODELS, PRIMARY_KEYS, ReleaseCheckFailed, ReleaseChecks, SpanChecks, arrow_schema, conform

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
DEFAULT_OUTPUT = Path("output")
DEFAULT_SHARD_SIZE = 1000
CACHE_FILE = Path(".cache") / "results.sqlite"
NLP_EXTRACTORS = {"mentions": extract_mentions, "quotes": extract_quotes}
# The columns of each extractor's rows.
NLP_COLUMNS = {
    "mentions": ["mention_id", "article_id", "start", "end", "text", "label", "sentence"],
    "quotes": ["quote_id", "article_id", "start", "end", "text", "kind", "speaker", "speaker_start",
               "speaker_end", "cue", "speaker_description", "referent_start", "referent_end"],
}


class NoUsableInput(InputError):
    """Every input was rejected: there is nothing to publish."""


@task(name="prepare-shard", cache_policy=NO_CACHE)
def prepare_shard_task(inputs, keys: dict[str, list[str]]) -> ShardResult:
    return workers.call(prepare_shard, inputs, keys)


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate_task(records: pd.DataFrame, near_threshold: float) -> tuple[dict[str, pd.DataFrame], Counter]:
    return deduplicate(records, near_threshold)


def deduplicate(records: pd.DataFrame, near_threshold: float = NEAR_DUPLICATE_THRESHOLD
                ) -> tuple[dict[str, pd.DataFrame], Counter]:
    """articles and sources: exact, then near duplicates folded; and near dedupe's counts."""
    stats = Counter()
    return split_tables(deduplicate_near(deduplicate_exact(records), near_threshold, stats)), stats


@task(name="analyse-shard", cache_policy=NO_CACHE)
def analyse_shard_task(articles: pd.DataFrame, model: str) -> dict[str, list[dict]]:
    return analyse_articles(articles, NLP_EXTRACTORS, model, processes=1)


@task(name="canonicalise-entities", cache_policy=NO_CACHE)
def entities_task(parsed: list[str], store: ResultCache, articles: pd.DataFrame, aliases: list[Alias],
                  shard_size: int, processes: int) -> EntityLinker:
    """Dataset-wide: every mention's entity, from two passes over the stored rows, a
    shard at a time, on `processes` forked workers."""
    return link_entities(range(0, len(parsed), shard_size),
                         lambda start: [(mention_rows(rows["mentions"]), text) for _, text, rows in
                                        stored_shard(parsed, store, articles, start, shard_size)],
                         aliases, processes)


@task(name="write-mentions-and-quotes", cache_policy=NO_CACHE)
def write_spans_task(parsed: list[str], store: ResultCache, articles: pd.DataFrame, linker: EntityLinker,
                     checks: ReleaseChecks, folder: Path, shard_size: int,
                     processes: int) -> tuple[dict[str, int], LinkCounts]:
    """The mentions and quotes tables, a shard of articles at a time, so the flow never
    holds more than a few shards of them: each shard linked to its entities, checked
    and made into rows in one of `processes` forked workers, and written here in
    article order. Returns the rows written per table and what was linked."""
    counts = LinkCounts()
    shards = workers.each_forked(
        lambda start: linked_shard(linker, stored_shard(parsed, store, articles, start, shard_size)),
        range(0, len(parsed), shard_size), processes)
    with TableWriter("mentions", folder) as mentions_file, TableWriter("quotes", folder) as quotes_file, \
            closing(shards):
        for linked in shards:
            counts.update(linked.counts)
            checks.add_spans(linked.checks)
            for name, writer in (("mentions", mentions_file), ("quotes", quotes_file)):
                writer.write_table(*linked.rows[name])
    for name in ("mentions", "quotes"):
        checks.unique_across_chunks(name, pq.read_table(folder / f"{name}.parquet",
                                                        columns=[PRIMARY_KEYS[name]]).column(0))
    return {"mentions": mentions_file.rows, "quotes": quotes_file.rows}, counts


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(checks: ReleaseChecks, entities: pd.DataFrame) -> None:
    checks.entities(entities)
    checks.raise_if_failed()


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(folder: Path, tables: dict[str, pd.DataFrame], output: Path, provenance: dict) -> PublishResult:
    return publish_staged(folder, tables, output, provenance)


@flow(name="newscorpus-build")
def build_flow(sources: list[str] | None = None, output: str = str(DEFAULT_OUTPUT),
               shard_size: int = DEFAULT_SHARD_SIZE, model: str = DEFAULT_MODEL,
               aliases: list[str] | None = None, cache: bool = True,
               fields: dict[str, str] | None = None,
               near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD):
    """Build a release of the dataset from `sources` (default: the embedded seeds).
    With `cache`, per-article results are kept in OUTPUT/.cache and reused for inputs
    that have not changed since an earlier run with the same code and model, and a run
    whose inputs, code and model made the newest release stops at once. Without it,
    everything is done again. `fields` names the JSON keys of article fields that the
    usual names (flows.records.FIELD_KEYS) do not cover: {"text": "content"}.
    Articles whose word shingles overlap by `near_duplicate_threshold` (Jaccard) or
    more are one story: all but one become duplicates (1.0: only identical shingles)."""
    logger = get_run_logger()
    try:
        alias_files = [Path(a) for a in aliases or []]
        inputs = discover_inputs(sources or [str(SEEDS)])
        if not inputs:
            raise NoUsableInput(f"no input files found in {', '.join(sources or [str(SEEDS)])}")
        keys = field_keys(fields)
        digests = {item.source_uri: raw_digest(item.path) for item in inputs}
        fingerprint = build_fingerprint(digests, model, [CURATED_ALIASES, *alias_files], keys,
                                        near_duplicate_threshold)
        newest = release_built_from(Path(output), fingerprint) if cache else None
        if newest is not None:
            # The same inputs, code, model and aliases make the same release.
            logger.info("no change; newest is %s (the same inputs, code and model)", newest.path)
            record_run(read_manifest(newest.path)["stages"], newest, recorded_quality())
            return newest
        alias_table = load_aliases(alias_files)
        model_info = model_description(model)
        pipeline = code_version()["source_sha256"]
        # On Dask, each shard task has a worker process of its own.
        processes = 1 if on_dask() else workers.local_processes()
        with result_store(Path(output) / CACHE_FILE if cache else None) as store:
            with workers.local_workers(processes):
                prepared = prepare_inputs(inputs, digests, shard_size, store, pipeline, keys)
            require_usable(prepared.records)
            input_records, stats = len(prepared.records), merge_stats([prepared])
            tables, near_stats = deduplicate_task(prepared.records, near_duplicate_threshold)
            del prepared  # the parsing workers fork from this process: less for them to inherit
            articles = tables["articles"]
            with workers.local_workers(processes, tasks_per_worker=BATCHES_PER_WORKER):
                parsed = analyse(articles, shard_size, model, store,
                                 f"{pipeline}/{model_info['name']}/{model_info['version']}")
            # From here the rows are read from the store a shard at a time, once the workers have exited.
            linker = entities_task(parsed, store, articles, alias_table, shard_size, processes)
            with staging(Path(output)) as folder:
                checks = ReleaseChecks(articles, tables["sources"], input_records)
                counts, linked = write_spans_task(parsed, store, articles, linker, checks, folder, shard_size,
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
                    logger.info("%s: %s", stage, figures)
                stats["validate"] = {"tables": len(counts), "rows": sum(counts.values())}
                info = provenance(tables, stats) | {
                    "model": model_info, "aliases": alias_digests([CURATED_ALIASES, *alias_files]),
                    "quality": recorded_quality(), "near_duplicate_threshold": near_duplicate_threshold,
                    "build_fingerprint": fingerprint}
                result = publish_task(folder, tables, Path(output), info)
    except (InputError, ReleaseCheckFailed, ModelNotFound) as error:
        logger.error("%s", error)
        return Failed(message=str(error))
    logger.info("%s %s", "published" if result.changed else "no change; newest is", result.path)
    record_run(stats, result, info["quality"])
    return result


def build_tables(sources: list[str], model: str = DEFAULT_MODEL, alias_files: list[Path] = (),
                 processes: int = 1) -> dict[str, pd.DataFrame]:
    """Every table of a release for `sources`, by the same stage functions the flow
    chains, in this process and without Prefect: for tests and quality measurement."""
    shard = prepare_shard(discover_inputs([str(source) for source in sources]))
    tables, _stats = deduplicate(shard.records)
    return tables | analyse_tables(tables["articles"], model, alias_files, processes)


def analyse_tables(articles: pd.DataFrame, model: str = DEFAULT_MODEL, alias_files: list[Path] = (),
                   processes: int = 1) -> dict[str, pd.DataFrame]:
    """mentions, entities and quotes of `articles`, in this process."""
    rows = analyse_articles(articles, NLP_EXTRACTORS, model, processes)
    analysed = {name: pd.DataFrame(rows[name], columns=NLP_COLUMNS[name]) for name in NLP_EXTRACTORS}
    mentions, entities = canonicalise(analysed["mentions"], articles, load_aliases(list(alias_files)))
    quotes = attach_speakers(analysed["quotes"], mentions, dict(zip(entities["entity_id"], entities["name"])))
    return {"mentions": conform("mentions", mentions), "entities": conform("entities", entities),
            "quotes": conform("quotes", quotes)}


def prepare_inputs(inputs: list, digests: dict[str, str | None], shard_size: int,
                   store: ResultCache, pipeline: str, keys: dict[str, list[str]]) -> ShardResult:
    """Records of all inputs, in order: from `store` for inputs read before with the
    same bytes (`digests`, by source_uri), code and JSON field names (`keys`), from one
    prepare-shard task per shard of the others (kept in `store` as each finishes)."""
    logger = get_run_logger()
    reading = f"{pipeline}/{json.dumps(keys, sort_keys=True)}"
    cache_keys = {uri: cache_key(reading, uri, digest) for uri, digest in digests.items() if digest is not None}
    cached = store.get_many("prepare", cache_keys.values())
    missing = [item for item in inputs if cache_keys.get(item.source_uri) not in cached]
    shards = chunks(missing, shard_size)
    logger.info("%d inputs: %d prepared before, %d to prepare in %d shards of up to %d",
                len(inputs), len(inputs) - len(missing), len(missing), len(shards), shard_size)
    fresh = {}
    for future in prepare_shard_task.map(shards, keys=unmapped(keys)) if shards else []:
        done = future.result().by_input()
        # At once: a run stopped part-way resumes from the shards that finished.
        store.put_many("prepare", {cache_keys[uri]: value for uri, value in done.items() if uri in cache_keys})
        fresh.update(done)
    ordered = [pair for item in inputs for pair in (fresh.get(item.source_uri)
                                                    or cached[cache_keys[item.source_uri]])]
    return shard_result([row for row, _ in ordered], [stats for _, stats in ordered])


def analyse(articles: pd.DataFrame, shard_size: int, model: str, store: ResultCache,
            pipeline: str) -> list[str]:
    """Parse the articles that `store` has no mention and quote rows for (with the same
    text, code and model), one analyse-shard task per shard, each shard's rows going
    into `store` as it finishes: a run stopped part-way resumes from there, and the
    flow process holds none of them while its workers parse. Returns every article's
    key in `store`, in article order."""
    keys = dict(zip(articles["article_id"], (cache_key(pipeline, a, c) for a, c in
                                              zip(articles["article_id"], articles["content_sha256"]))))
    parsed_before = store.present("nlp", keys.values())
    missing = articles[~articles["article_id"].map(keys).isin(parsed_before)]
    get_run_logger().info("%d articles: %d parsed before, %d to parse", len(articles),
                          len(articles) - len(missing), len(missing))
    # All shards at once: a shard's batches queue behind the earlier shards' batches.
    running = deque((shard, analyse_shard_task.submit(shard, model)) for shard in chunks(missing, shard_size))
    while running:
        shard, future = running.popleft()  # and let go of it: a finished task's state holds its rows
        done = {article_id: {name: [] for name in NLP_EXTRACTORS} for article_id in shard["article_id"]}
        for name, rows in future.result().items():
            for row in rows:
                done[row["article_id"]][name].append(row)
        store.put_many("nlp", {keys[article_id]: value for article_id, value in done.items()})
    return list(keys.values())


def stored_shard(keys: list[str], store: ResultCache, articles: pd.DataFrame, start: int,
                 size: int) -> list[tuple[str, str, dict[str, list[dict]]]]:
    """(article_id, text, each extractor's rows) of `size` articles from `start` of
    `articles`, whose keys in `store` are `keys`."""
    part = keys[start:start + size]
    found = store.get_many("nlp", part)
    shard = articles.iloc[start:start + size]
    return [(article_id, text, found[key]) for article_id, text, key in
            zip(shard["article_id"].tolist(), shard["text"].tolist(), part)]


class LinkedShard(NamedTuple):
    counts: LinkCounts  # of the entities its mentions link to
    checks: SpanChecks
    rows: dict[str, tuple[pyarrow.Table, str]]  # mentions and quotes: rows to write, and as CSV


def linked_shard(linker: EntityLinker, chunk: list[tuple[str, str, dict[str, list[dict]]]]) -> LinkedShard:
    """The mentions and quotes of a chunk of whole articles, linked to their entities,
    checked, and as the release's files hold them."""
    tables, counts = linked_tables(linker, chunk)
    texts = {article_id: text for article_id, text, _ in chunk}
    checks, rows = SpanChecks(), {}
    for name, df in tables.items():
        checks.check(name, df, texts)
        table = to_arrow(name, df)
        rows[name] = (table, csv_text(table))
    return LinkedShard(counts, checks, rows)


def linked_tables(linker: EntityLinker, chunk: list[tuple[str, str, dict[str, list[dict]]]]
                  ) -> tuple[dict[str, pd.DataFrame], LinkCounts]:
    """The mentions and quotes of a chunk of whole articles, linked to their entities,
    as the release holds them, and what was linked."""
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


def on_dask() -> bool:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return context is not None and type(context.task_runner).__name__ == "DaskTaskRunner"


def flow_on(workers: int | None = None, dask_address: str | None = None):
    """The build flow with its shards on an existing Dask cluster (`dask_address`,
    e.g. tcp://scheduler:8786), on a local one of `workers` processes, or, with
    neither, on threads of this process."""
    if not workers and not dask_address:
        return build_flow
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=dask_address) if dask_address else DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                        "dashboard_address": None})
    return build_flow.with_options(task_runner=runner)


def load_for_build(model: str) -> None:
    """Load, once per process, what a build would otherwise load on first use: the
    spaCy model (a missing one is reported by the build itself) and the tables' Arrow
    schemas (Pandera imports dask.dataframe, when installed, to build the first: 1 s).
    The CLI does it while Prefect's temporary server starts."""
    for model_class in MODELS.values():
        arrow_schema(model_class)
    try:
        load_pipeline(model)
    except ModelNotFound:
        pass


def raw_digest(path: Path) -> str | None:
    """sha256 of a file's bytes; None if it cannot be read (it is then prepared, and
    rejected with the reason, every time)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def field_keys(fields: dict[str, str] | None) -> dict[str, list[str]]:
    """The JSON keys each article field is read from: the user's first, then the usual."""
    return {name: list(dict.fromkeys([*([fields[name]] if fields and name in fields else []), *keys]))
            for name, keys in FIELD_KEYS.items()}


def build_fingerprint(digests: dict[str, str | None], model: str, alias_files: list[Path],
                      keys: dict[str, list[str]], near_threshold: float) -> str:
    """What a release is made from: every input's bytes, the pipeline's code, the model,
    the alias files, JSON field names and near-duplicate threshold, and the quality
    figures its card states. A build with the fingerprint of the newest release would
    write the same release again."""
    try:
        model_id = f"{model} {metadata.version(model)}"
    except metadata.PackageNotFoundError:  # a model folder, not an installed package
        description = model_description(model)
        model_id = f"{description['name']} {description['version']}"
    made_of = {"inputs": sorted(digests.items()), "code": code_version(), "model": model_id,
               "aliases": alias_digests(alias_files), "fields": keys, "near duplicates": near_threshold,
               "quality": hashlib.sha256(json.dumps(recorded_quality(), sort_keys=True).encode()).hexdigest()}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def release_built_from(output: Path, fingerprint: str) -> PublishResult | None:
    """The newest release in `output`, if it was built with this fingerprint."""
    history = releases(output)
    if not history:
        return None
    version = version_name(history[-1])
    if read_manifest(output / version).get("build_fingerprint") != fingerprint:
        return None
    point_latest(output, version)
    return PublishResult(version, output / version, changed=False, change="none")


def chunks(items, size: int) -> list:
    """Consecutive slices of a list or DataFrame, `size` rows each."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def alias_digests(paths: list[Path]) -> list[dict]:
    return [{"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            for path in paths]


def require_usable(records: pd.DataFrame) -> None:
    rejected = records["reason"].dropna()
    if len(rejected) == len(records):
        kinds = rejected.map(reason_kind).value_counts()
        summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        raise NoUsableInput(f"no usable input: all {len(records)} inputs were rejected ({summary})")


def provenance(tables: dict[str, pd.DataFrame], stats: dict) -> dict:
    """How the release was made: inputs, code and what each stage did. No clock time."""
    sources = tables["sources"]
    snapshot = "".join(f"{uri}\t{digest}\n" for uri, digest in
                       zip(sources["source_uri"], sources["raw_sha256"]))
    return {
        "inputs": len(sources),
        "input_snapshot_sha256": hashlib.sha256(snapshot.encode("utf-8")).hexdigest(),
        "code_version": code_version(),
        "stages": stats,
    }


def code_version() -> dict:
    """The package version and a digest of the pipeline's source files."""
    digest = hashlib.sha256()
    for path in sorted(PROJECT_ROOT.glob("*/*.py")):
        if path.parent.name in ("flows", "schemas"):
            digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return {"newscorpus": metadata.version("newscorpus"), "source_sha256": digest.hexdigest()}
