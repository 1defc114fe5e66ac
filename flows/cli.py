"""The `newscorpus` command."""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
    return run_build(args.source, args.output, args.shard_size)


def run_build(sources: list[str] | None, output: str, shard_size: int) -> int:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from flows.build import build_flow

    state = build_flow(sources=sources, output=output, shard_size=shard_size, return_state=True)
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
