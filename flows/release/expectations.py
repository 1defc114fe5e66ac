"""Data quality of a release: a Great Expectations suite over the five tables.

`schemas/` enforces the contract row by row; this checks what a consumer of the
dataset cares about in aggregate (unique keys, known codes, row counts against the
previous release, how much is missing or unresolved) and leaves a report a person can
read: `quality/index.html` (flows.release.quality_page, one page that needs nothing
from the network) and GX's results, `quality/results.json`.

Every expectation is critical or not. A failed critical expectation means the data is
broken and raises `ExpectationsFailed` once the report is written; the others are
reported and do not block. The same tables give a byte-identical report, because it
goes into a release, whose files are hashed and rebuild byte-identically.

Great Expectations takes seconds to import, so only `check_expectations` imports it: code
that merely imports this module (the CLI, the publish step) stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd
import pyarrow.types as pa_types

from flows.release.quality_page import describe, observed, render_page
from flows.stages.ingest.decode import MAX_WORDS, MIN_WORDS
from schemas import PRIMARY_KEYS, ReleaseCheckFailed
from schemas.tables import MODELS, NAMED_LABELS, QUOTE_KINDS, SOURCE_STATUSES

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

REPORT_FOLDER = "quality"
RESULTS_FILE = "results.json"
PAGE_FILE = "index.html"
# GX stamps a run name and time on every result; pinned so that a run gives the same
# results as any other (the results file leaves them out; the manifest records
# provenance, never clock time).
RUN_NAME = "release"
RUN_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# A table shrinking below this share of the previous release means broken input.
COLLAPSE_SHARE = 0.5
# Bounds of the non-critical expectations; see expectation_specs for the figures behind them.
MIN_TITLED = 0.5
MIN_DATED = 0.1
MIN_RESOLVED = 0.5


class ExpectationsFailed(ReleaseCheckFailed):
    """A critical quality expectation failed.

    `failures` has the columns of ReleaseCheckFailed, one row per failed critical
    expectation (`key` is empty: these are facts about a whole column or table);
    `summary` is what check_expectations would have returned; `report` is the report's page.
    """

    def __init__(self, summary: dict, report: Path):
        critical = [failure for failure in summary["failed"] if failure["critical"]]
        super().__init__(pd.DataFrame({
            "table": [f["table"] for f in critical],
            "check": [f["expectation"] for f in critical],
            "column": [f["column"] for f in critical],
            "key": [None] * len(critical),
            "failure_case": [describe(f["observed"]) for f in critical],
        }, dtype=object))
        self.summary = summary
        self.report = report
        # ReleaseCheckFailed words its message per failing row; say per expectation instead.
        self.args = (_failure_message(critical, report),)


class Spec(NamedTuple):
    """One expectation: GX class name and arguments, the same in words, and why a
    consumer cares."""

    table: str
    expectation: str
    kwargs: dict
    critical: bool
    expected: str
    why: str


def expectation_specs(previous_counts: dict[str, int] | None) -> list[Spec]:
    """The suite, in report order: per table, critical expectations first."""
    specs = []
    for table, key in PRIMARY_KEYS.items():
        specs += [
            Spec(table, "ExpectColumnValuesToNotBeNull", {"column": key}, True,
                 f"{key} is never null", f"{key} is the key of {table}: every row needs one."),
            Spec(table, "ExpectColumnValuesToBeUnique", {"column": key}, True,
                 f"{key} is unique", f"{key} is the key of {table}: joins and lookups need "
                 "exactly one row per value."),
        ]
        specs += _row_count_specs(table, (previous_counts or {}).get(table))
    # GX's value-set and regex expectations let nulls pass, so each coded column also
    # gets a not-null expectation.
    coded = [
        ("articles", "language", "ExpectColumnValuesToMatchRegex", {"regex": r"^[a-z]{2}$"},
         "language is two lower-case letters",
         "an ISO 639-1 code, so readers can select articles by language."),
        ("sources", "status", "ExpectColumnValuesToBeInSet", {"value_set": SOURCE_STATUSES},
         f"status is one of {', '.join(SOURCE_STATUSES)}",
         "the statuses must account for every input, nothing lost silently."),
        ("mentions", "label", "ExpectColumnValuesToBeInSet", {"value_set": sorted(NAMED_LABELS)},
         "label is a named-entity label", "named (not numeric or temporal) OntoNotes 5 "
         "labels only; anything else means the NER stage changed."),
        ("entities", "label", "ExpectColumnValuesToBeInSet", {"value_set": sorted(NAMED_LABELS)},
         "label is a named-entity label", "as in mentions."),
        ("quotes", "kind", "ExpectColumnValuesToBeInSet", {"value_set": QUOTE_KINDS},
         f"kind is one of {', '.join(QUOTE_KINDS)}", "the three kinds the contract defines."),
    ]
    for table, column, expectation, kwargs, expected, why in coded:
        specs += [
            Spec(table, "ExpectColumnValuesToNotBeNull", {"column": column}, True,
                 f"{column} is never null", "the contract requires a value in every row."),
            Spec(table, expectation, {"column": column, **kwargs}, True, expected, why),
        ]
    specs += [
        Spec("articles", "ExpectColumnProportionOfNonNullValuesToBeBetween",
             {"column": "title", "min_value": MIN_TITLED}, False,
             f"at least {MIN_TITLED:.0%} of articles have a title",
             "most inputs carry a headline (seeds: 3 of 5, BBC: all); below half, "
             "title extraction has probably broken."),
        # BBC inputs state no date, so BBC releases report this as failed: what a
        # consumer planning an analysis over time needs to know.
        Spec("articles", "ExpectColumnProportionOfNonNullValuesToBeBetween",
             {"column": "published_date", "min_value": MIN_DATED}, False,
             f"at least {MIN_DATED:.0%} of articles have a publication date",
             "dates come only from inputs that state one (seeds: 1 of 5, BBC: none); "
             "with fewer the dataset cannot be analysed over time."),
        Spec("articles", "ExpectColumnValuesToBeBetween",
             {"column": "word_count", "min_value": MIN_WORDS, "max_value": MAX_WORDS}, False,
             f"word_count is between {MIN_WORDS} and {MAX_WORDS:,}",
             "news articles run from about a hundred to a few thousand words (seeds: "
             "297-594, 198 BBC articles: 121-1,217); fewer is a stub or a caption, more "
             "is several articles or a non-article file read as one (preparing rejects both; "
             "this checks that none got through)."),
        Spec("quotes", "ExpectColumnProportionOfNonNullValuesToBeBetween",
             {"column": "speaker_entity_id", "min_value": MIN_RESOLVED}, False,
             f"at least {MIN_RESOLVED:.0%} of quotes have a resolved speaker",
             "measured: seeds 20 of 29 (69%), 198 BBC articles from all sections 80%, "
             "500 BBC business articles 74%; below half, speaker resolution has regressed."),
    ]
    return specs


def checked_columns(table: str) -> list[str]:
    """The columns of `table` the suite looks at, in the table's order."""
    looked_at = {spec.kwargs["column"] for spec in expectation_specs(None)
                 if spec.table == table and "column" in spec.kwargs}
    return [column for column in MODELS[table].to_schema().columns if column in looked_at]


def _row_count_specs(table: str, previous: int | None) -> list[Spec]:
    if previous is not None:
        floor = math.ceil(previous * COLLAPSE_SHARE)
        # Only articles block: the derived tables can shrink on purpose when a stage is
        # made stricter, but a consumer should still see it.
        return [Spec(table, "ExpectTableRowCountToBeBetween", {"min_value": floor},
                     table == "articles", f"at least {floor:,} rows",
                     f"{COLLAPSE_SHARE:.0%} of the previous release's {previous:,}: a collapse "
                     "means broken input. No upper bound: adding a corpus can multiply it.")]
    if table == "articles":
        return [Spec(table, "ExpectTableRowCountToBeBetween", {"min_value": 1}, True,
                     "at least 1 row", "a first release without articles read no input.")]
    return []


def check_expectations(tables: dict[str, pd.DataFrame], previous_counts: dict[str, int] | None,
                  folder: Path, snapshot: str | None = None) -> dict:
    """Validate `tables` (those of the contract that are present), write the report
    into `folder/quality/`, return a summary.

    The summary is {"expectations": n, "passed": n, "failed": [{table, expectation,
    column, expected, critical, observed}, ...]}, failures in contract table order, then
    suite order. `previous_counts` (rows per table of the previous release, None for the
    first) sets the row-count floors; `snapshot`, the inputs' snapshot hash, is stated
    on the page. Raises ExpectationsFailed, after writing the report, if a critical
    expectation failed.
    """
    report = Path(folder) / REPORT_FOLDER
    if report.exists():
        shutil.rmtree(report)
    report.mkdir(parents=True)
    # A share of an empty table is no evidence of anything (a release with no quotes).
    specs = [spec for spec in expectation_specs(previous_counts)
             if not (spec.expectation.startswith("ExpectColumnProportion") and tables.get(spec.table) is not None
                     and tables[spec.table].empty)]
    context = _ephemeral_context()
    results = {table: _validate(context, table, tables[table],
                                [spec for spec in specs if spec.table == table])
               for table in PRIMARY_KEYS if table in tables}
    results_json = json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (report / RESULTS_FILE).write_text(results_json, encoding="utf-8")
    # From the JSON written, so the summary and the page agree with it and hold plain Python values.
    written = json.loads(results_json)
    summary = summarise_results(written)
    (report / PAGE_FILE).write_text(render_page(written, summary, snapshot), encoding="utf-8")
    if any(failure["critical"] for failure in summary["failed"]):
        raise ExpectationsFailed(summary, report / PAGE_FILE)
    return summary


def _ephemeral_context() -> AbstractDataContext:
    # Set before the import: the GX releases that send usage statistics (1.24.1 has no
    # such code left) read it then, and an ephemeral context persists no setting.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        # Without init_temp_docs_sites there is no default site in a temporary folder.
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites={},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas("newscorpus")
    return context


def _hashable(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with list columns as JSON text, as in the CSV files: GX fingerprints the
    data it validates, and lists (articles.authors) hash differently in every run."""
    lists = [name for name, dtype in df.dtypes.items()
             if isinstance(dtype, pd.ArrowDtype) and pa_types.is_list(dtype.pyarrow_dtype)]
    return df.assign(**{name: df[name].map(lambda v: json.dumps(list(v), ensure_ascii=False)) for name in lists})


def _validate(context: AbstractDataContext, table: str, df: pd.DataFrame,
              specs: list[Spec]) -> dict:
    """Run `specs` over `df`; the result as normalised JSON, results in suite order."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier

    suite = context.suites.add(gx.ExpectationSuite(name=table))
    for spec in specs:
        suite.add_expectation(getattr(gxe, spec.expectation)(
            **spec.kwargs,
            severity="critical" if spec.critical else "warning",
            meta={"critical": spec.critical, "expected": spec.expected, "why": spec.why},
            # In results.json beside GX's own wording: what blocks a release and why.
            description=f"{'CRITICAL' if spec.critical else 'WARNING'}: {spec.expected}. "
                        f"Why: {spec.why}",
        ))
    batch = context.data_sources.get("newscorpus").add_dataframe_asset(name=table) \
        .add_batch_definition_whole_dataframe("whole table")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": _hashable(df)},
                            run_id=RunIdentifier(run_name=RUN_NAME, run_time=RUN_TIME))
    return _normalised(result.to_json_dict(), [e.id for e in suite.expectations])


def _normalised(result: dict, expectation_ids: list[str]) -> dict:
    """`result` without what changes from run to run or machine to machine: run ids
    and times, random ids, the batch's load time and fingerprint (a pickle of the frame
    for list columns, so it follows memory layout, not content), tracebacks (GX's
    absolute paths); results in suite order."""
    for field in ("id", "result_url"):
        result.pop(field, None)
    for field in ("run_id", "validation_time", "validation_id", "checkpoint_id", "batch_markers"):
        result["meta"].pop(field, None)
    by_id = {r["expectation_config"]["id"]: r for r in result["results"]}
    result["results"] = [by_id[i] for i in expectation_ids]
    for expectation in result["results"]:
        expectation["expectation_config"].pop("id", None)
        expectation["exception_info"] = _exception(expectation["exception_info"])
    return result


def _exception(info: dict) -> dict:
    """GX's exception_info without tracebacks, always flat: GX gives it flat, or keyed
    by metric when a metric failed (a missing column, say)."""
    if "raised_exception" in info:
        return {"raised_exception": info["raised_exception"],
                "exception_message": info["exception_message"]}
    messages = sorted({metric["exception_message"] for metric in info.values()})
    return {"raised_exception": True, "exception_message": "; ".join(messages)}


def summarise_results(results: dict[str, dict]) -> dict:
    outcomes = [(table, r) for table in PRIMARY_KEYS if table in results for r in results[table]["results"]]
    return {
        "expectations": len(outcomes),
        "passed": sum(r["success"] for _, r in outcomes),
        "failed": [_failure(table, r) for table, r in outcomes if not r["success"]],
    }


def _failure(table: str, outcome: dict) -> dict:
    config = outcome["expectation_config"]
    return {
        "table": table,
        "expectation": config["type"],
        "column": config["kwargs"].get("column"),
        "expected": config["meta"]["expected"],
        "critical": config["meta"]["critical"],
        "observed": observed(outcome),
    }


def _failure_message(critical: list[dict], report: Path) -> str:
    count = f"{len(critical)} critical quality expectation" + ("s" if len(critical) > 1 else "")
    lines = [f"{count} failed; see {report}:"]
    for failure in critical:
        where = failure["table"] + (f".{failure['column']}" if failure["column"] else "")
        lines.append(f"- {where}: expected {failure['expected']} ({failure['expectation']}); "
                     f"observed {describe(failure['observed'])}")
    return "\n".join(lines)
