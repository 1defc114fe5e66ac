"""Run artifacts: what a build did and what it left, on its flow run in the Prefect UI.

A scheduled build runs unattended; its artifacts let a person check it from the UI
without opening the output folder: a table of counts per stage, and a summary of the
release written (or found up to date), its measured quality and its data checks.
The keys are fixed, so the UI's Artifacts page also shows each as a history over runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from flows.release.changelog import describe_removals
from flows.release.expectations import REPORT_FOLDER, RESULTS_FILE, summarise_results
from flows.release.layout import PublishResult
from flows.release.measured import blind_quotes

STAGE_COUNTS_KEY = "newscorpus-stage-counts"
SUMMARY_KEY = "newscorpus-release-summary"


def record_run(stats: dict, result: PublishResult, quality: dict | None) -> None:
    """Attach both artifacts to the current flow run. `stats` are the flow's counts per
    stage, `quality` the recorded quality figures (flows/release/measured_quality.json)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact  # the rest is plain text

    create_table_artifact(stage_counts(stats), key=STAGE_COUNTS_KEY,
                          description="What each stage of this build counted")
    create_markdown_artifact(release_summary(result, quality, data_checks(result.path)),
                             key=SUMMARY_KEY,
                             description="The release this build wrote or found up to date")


def record_refusal(message: str) -> None:
    """The summary artifact of a run that published nothing because the release would
    have lost inputs: what it would have removed, and how to publish it anyway."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(f"# Not published\n\n{message}\n", key=SUMMARY_KEY,
                             description="The release this build wrote or found up to date")


def stage_counts(stats: dict) -> list[dict]:
    """One row per count, from inputs read to quotes found. A status no input had is
    absent from `stats`: it counts 0."""
    ingest, deduplicate, nlp = (stats.get(stage, {}) for stage in ("ingest", "deduplicate", "nlp"))
    rows = [
        ("ingest", "inputs", ingest.get("inputs", 0)),
        ("deduplicate", "rejected", deduplicate.get("rejected", 0)),
        ("deduplicate", "duplicates", deduplicate.get("duplicate", 0)),
        ("deduplicate", "articles", deduplicate.get("accepted", 0)),
        ("nlp", "mentions", nlp.get("mentions", 0)),
        ("nlp", "entities", nlp.get("entities", 0)),
        ("nlp", "quotes", nlp.get("quotes", 0)),
    ]
    return [{"stage": stage, "what": what, "count": count} for stage, what, count in rows]


def data_checks(release: Path) -> dict | None:
    """The Great Expectations summary of a release, as its dataset card states it; None
    for a release made before the quality report existed."""
    results = release / REPORT_FOLDER / RESULTS_FILE
    if not results.is_file():
        return None
    return summarise_results(json.loads(results.read_text(encoding="utf-8")))


def release_summary(result: PublishResult, quality: dict | None, checks: dict | None) -> str:
    sections = [_outcome(result), _quality(quality), _checks(result.path, checks)]
    return "\n\n".join(section for section in sections if section) + "\n"


def _outcome(result: PublishResult) -> str:
    if not result.changed:
        return f"# No change: {result.version} is up to date\n\n`{result.path}`"
    change = "first release" if result.change == "first" else f"{result.change} change"
    outcome = f"# Published {result.version} ({change})\n\n`{result.path}`"
    if result.removals:
        outcome += (f"\n\nIt removes {describe_removals(result.removals)} that the previous release had "
                    "(its inputs lack some of the previous release's; allowed by allow_removals).")
    return outcome


def _quality(quality: dict | None) -> str:
    if not quality:
        return "## Measured quality\n\nNo figures recorded (flows/release/measured_quality.json)."
    tuning = quality["quotes"]["coverage 30%"]
    blind = quality[blind_quotes(quality)]["coverage 30%"]
    return "\n".join([
        "## Measured quality",
        "",
        f"Scored against the hand-made gold on a build with {quality['model']} "
        "(a quote counts as found when 30% of its span is covered):",
        "",
        "| quotes | tuning set | blind set |",
        "|---|---:|---:|",
        f"| F1 | {tuning['quotes']['f1']:.3f} | {blind['quotes']['f1']:.3f} |",
        f"| speaker accuracy | {tuning['speaker accuracy']:.3f} | {blind['speaker accuracy']:.3f} |",
        "",
        f"Entity mention spans: F1 {quality['mentions']['span']['f1']:.3f}.",
    ])


def _checks(release: Path, checks: dict | None) -> str | None:
    if checks is None:
        return None
    lines = ["## Data checks", "",
             f"{checks['passed']} of {checks['expectations']} Great Expectations checks passed; "
             f"report: `{release / REPORT_FOLDER / 'index.html'}`."]
    if checks["failed"]:
        lines += ["", "Warnings (not blocking):", ""]
        lines += [f"- {f['table']}.{f['column'] or '*'}: {f['expectation']} (observed {f['observed']})"
                  for f in checks["failed"]]
    return "\n".join(lines)
