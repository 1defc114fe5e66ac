"""The build flow: raw article files in, a validated, versioned release out.

Stage logic lives in the stage modules as plain functions; the tasks here are thin
wrappers so Prefect can schedule, retry and show them. Per-article stages run as
one task per shard of inputs, never one task per article.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from evaluation.measure import recorded as recorded_quality
from flows.dedupe import deduplicate_exact, split_tables
from flows.entities import CURATED_ALIASES, Alias, canonicalise, load_aliases
from flows.ingest import InputError, discover_inputs
from flows.mentions import extract_mentions
from flows.nlp import DEFAULT_MODEL, ModelNotFound, analyse_articles, model_description
from flows.publish import PublishResult, publish_release
from flows.quotes import attach_speakers, extract_quotes
from flows.shard import ShardResult, merge_stats, prepare_shard, reason_kind
from schemas import ReleaseCheckFailed, conform, validate_release

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
DEFAULT_OUTPUT = Path("output")
DEFAULT_SHARD_SIZE = 1000
NLP_EXTRACTORS = {"mentions": extract_mentions, "quotes": extract_quotes}
MENTION_COLUMNS = ["mention_id", "article_id", "start", "end", "text", "label", "sentence"]
QUOTE_COLUMNS = ["quote_id", "article_id", "start", "end", "text", "kind", "speaker",
                 "speaker_start", "speaker_end", "cue", "referent_start", "referent_end"]


class NoUsableInput(InputError):
    """Every input was rejected: there is nothing to publish."""


@task(name="prepare-shard", cache_policy=NO_CACHE)
def prepare_shard_task(inputs) -> ShardResult:
    return prepare_shard(inputs)


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate_task(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return split_tables(deduplicate_exact(records))


@task(name="analyse-shard", cache_policy=NO_CACHE)
def analyse_shard_task(articles: pd.DataFrame, model: str) -> dict[str, list[dict]]:
    return analyse_articles(articles, NLP_EXTRACTORS, model)


@task(name="canonicalise-entities", cache_policy=NO_CACHE)
def entities_task(analysed: list[dict[str, list[dict]]], articles: pd.DataFrame,
                  aliases: list[Alias]) -> dict[str, pd.DataFrame]:
    """Dataset-wide: canonical entities for all mentions, then quote speakers."""
    rows = {name: [row for shard in analysed for row in shard[name]] for name in NLP_EXTRACTORS}
    mentions, entities = canonicalise(pd.DataFrame(rows["mentions"], columns=MENTION_COLUMNS),
                                      articles, aliases)
    quotes = attach_speakers(pd.DataFrame(rows["quotes"], columns=QUOTE_COLUMNS), mentions, entities)
    return {"mentions": conform("mentions", mentions), "entities": conform("entities", entities),
            "quotes": conform("quotes", quotes)}


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(tables: dict[str, pd.DataFrame], input_records: int) -> None:
    validate_release(tables, input_records)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(tables: dict[str, pd.DataFrame], output: Path, provenance: dict) -> PublishResult:
    return publish_release(tables, output, provenance)


@flow(name="newscorpus-build")
def build_flow(sources: list[str] | None = None, output: str = str(DEFAULT_OUTPUT),
               shard_size: int = DEFAULT_SHARD_SIZE, model: str = DEFAULT_MODEL,
               aliases: list[str] | None = None):
    """Build a release of the dataset from `sources` (default: the embedded seeds)."""
    logger = get_run_logger()
    try:
        alias_files = [Path(a) for a in aliases or []]
        alias_table = load_aliases(alias_files)
        model_info = model_description(model)
        inputs = discover_inputs(sources or [str(SEEDS)])
        if not inputs:
            raise NoUsableInput(f"no input files found in {', '.join(sources or [str(SEEDS)])}")
        shards = chunks(inputs, shard_size)
        logger.info("%d inputs in %d shards of up to %d", len(inputs), len(shards), shard_size)
        results = prepare_shard_task.map(shards).result()
        records = pd.concat([r.records for r in results], ignore_index=True)
        require_usable(records)
        tables = deduplicate_task(records)
        articles = tables["articles"]
        # One shard at a time: each already parses on every core (nlp.pipe processes).
        analysed = [analyse_shard_task(shard, model) for shard in chunks(articles, shard_size)]
        tables |= entities_task(analysed, articles, alias_table)
        stats = merge_stats(results)
        stats["deduplicate"] = {status: int(n) for status, n in
                                sorted(tables["sources"]["status"].value_counts().items())}
        stats["nlp"] = {"articles analysed": int((articles["language"] == model_info["language"]).sum()),
                        "mentions": len(tables["mentions"]), "entities": len(tables["entities"]),
                        "quotes": len(tables["quotes"])}
        for stage, counts in stats.items():
            logger.info("%s: %s", stage, counts)
        validate_task(tables, len(records))
        stats["validate"] = {"tables": len(tables), "rows": sum(len(t) for t in tables.values())}
        info = provenance(tables, stats) | {"model": model_info,
                                            "aliases": alias_digests([CURATED_ALIASES, *alias_files]),
                                            "quality": recorded_quality()}
        result = publish_task(tables, Path(output), info)
    except (InputError, ReleaseCheckFailed, ModelNotFound) as error:
        logger.error("%s", error)
        return Failed(message=str(error))
    logger.info("%s %s", "published" if result.changed else "no change; newest is", result.path)
    return result


def build_tables(sources: list[str], model: str = DEFAULT_MODEL, alias_files: list[Path] = (),
                 processes: int = 1) -> dict[str, pd.DataFrame]:
    """Every table of a release for `sources`, by the same stage functions the flow
    chains, in this process and without Prefect: for tests and quality measurement."""
    shard = prepare_shard(discover_inputs([str(source) for source in sources]))
    tables = split_tables(deduplicate_exact(shard.records))
    return tables | analyse_tables(tables["articles"], model, alias_files, processes)


def analyse_tables(articles: pd.DataFrame, model: str = DEFAULT_MODEL, alias_files: list[Path] = (),
                   processes: int = 1) -> dict[str, pd.DataFrame]:
    """mentions, entities and quotes of `articles`, in this process."""
    analysed = [analyse_articles(articles, NLP_EXTRACTORS, model, processes)]
    return entities_task.fn(analysed, articles, load_aliases(list(alias_files)))


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
