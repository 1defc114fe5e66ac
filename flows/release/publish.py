"""Publish: write a validated set of tables as the next immutable, versioned release.

The release is written into a staging folder (flows.release.layout) and renamed into
place only when complete; a build equal to the newest release writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.parquet as pq

from flows.release.card import render_card
from flows.release.changelog import describe_removals, diff_releases, removals, write_changelog
from flows.release.datapackage import datapackage
from flows.release.expectations import REPORT_FOLDER, ExpectationsFailed, check_expectations, checked_columns
from flows.release.layout import (CARD, CHECKSUMS, DATAPACKAGE, FAILED_REPORT, FIRST_VERSION, MANIFEST, PublishResult,
                                  point_latest, read_manifest, releases, staging, version_name)
from flows.release.plots import PLOTTED_COLUMNS, write_plots
from flows.release.writer import file_facts, sha256_file, write_tables
from schemas import MODELS, arrow_schema


@contextmanager
def run_now(function: Callable, *args):
    """function(*args), here and now, as a `beside` for publish_staged: yields a
    callable that returns its result or raises its error."""
    try:
        value, error = function(*args), None
    except Exception as failure:
        value, error = None, failure

    def result():
        if error is not None:
            raise error
        return value

    yield result


class RemovalsRefused(Exception):
    """The release would lack inputs the previous one had, and removals were not allowed."""

    ADVICE = "pass --allow-removals to publish it anyway"


def publish_release(tables: dict[str, pd.DataFrame], output: Path, provenance: dict,
                    beside: Callable = run_now, allow_removals: bool = False) -> PublishResult:
    """Write `tables` as the next release in `output`, unless nothing changed.

    `provenance` goes into the manifest as is (input snapshot, code version, stage
    statistics): deterministic facts about how the data was made, never clock time.
    """
    with staging(output) as folder:
        return publish_staged(folder, tables, output, provenance, beside, allow_removals)


def publish_staged(folder: Path, tables: dict[str, pd.DataFrame], output: Path,
                   provenance: dict, beside: Callable = run_now, allow_removals: bool = False) -> PublishResult:
    """Write `tables` into the staging `folder`, beside any tables written there
    already (by TableWriter, as the build links them), and publish all as the next
    release in `output`, unless nothing changed. The quality report and plots read the
    columns they need of the tables already written from their files. `beside(function,
    *args)` runs the quality report while the tables are written (a context manager
    yielding a callable that waits for its result: flows.runtime.executors.aside runs
    it on another core; by default it runs first, here). A release that lacks inputs
    the previous one had is refused (RemovalsRefused, naming what it would remove)
    unless `allow_removals`."""
    history = releases(output)
    previous = version_name(history[-1]) if history else None
    previous_manifest = read_manifest(output / previous) if previous else None
    previous_counts = previous_manifest["counts"] if previous_manifest else None
    staged = {path.stem: path for path in folder.glob("*.parquet")}
    with beside(_expectations_report, tables, staged, previous_counts, folder,
                provenance.get("input_snapshot_sha256")) as expectations:
        write_tables(tables, folder)
        names = sorted(staged.keys() | tables.keys())
        manifest = {
            "counts": {name: pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows for name in names},
            "schema": {name: describe_schema(arrow_schema(MODELS[name])) for name in names},
            **provenance,
        }
        manifest["schema_fingerprint"] = _sha256_bytes(_canonical_json(manifest["schema"]))
        manifest["files"] = {path: file_facts(folder / path) for path in sorted(
            [f"{name}.parquet" for name in names] + [f"csv/{name}.csv" for name in names])}
        change = classify_change(previous_manifest, manifest)
        if change == "none":
            point_latest(output, previous)
            return PublishResult(previous, output / previous, changed=False, change=change)

        version = version_name(bump(history[-1] if history else None, change))
        manifest = {"name": "newscorpus", "version": version, "previous_version": previous, **manifest}
        (folder / MANIFEST).write_text(_canonical_json(manifest, indent=2) + "\n", encoding="utf-8")
        diff = diff_releases(output / previous, folder) if previous else None
        plotted = tables | {name: read_columns(staged[name], columns)
                            for name, columns in PLOTTED_COLUMNS.items() if name in staged}
        write_documents(folder, manifest, plotted, output / previous if previous else None, expectations, diff)
    # After the checks: broken data says so first.
    removed = removals(diff) if diff else {}
    if removed and not allow_removals:
        raise RemovalsRefused(f"{version} would remove {describe_removals(removed)} that {previous} had: its "
                              f"inputs lack some of {previous}'s (e.g. "
                              f"{', '.join(diff['tables']['sources']['examples']['removed'][:3])}); build from "
                              f"all of the earlier sources, or {RemovalsRefused.ADVICE}")
    write_checksums(folder, manifest["files"])
    os.chmod(folder, 0o755)
    final = output / version
    folder.rename(final)
    point_latest(output, version)
    shutil.rmtree(output / FAILED_REPORT, ignore_errors=True)  # about a build since superseded
    return PublishResult(version, final, changed=True, change=change, removals=removed)


def read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Some columns of a table's Parquet file, with the Arrow dtypes of its model."""
    return pq.read_table(path, columns=columns).to_pandas(types_mapper=pd.ArrowDtype)


def write_documents(folder: Path, manifest: dict, tables: dict[str, pd.DataFrame], previous: Path | None,
                    expectations: Callable[[], tuple[dict, Path | None]], diff: dict | None = None) -> None:
    """What a reader needs beside the data: the data package descriptor, the changelog,
    plots, the quality report (`expectations` waits for _expectations_report's outcome; a failed
    critical expectation raises, so nothing is published) and the dataset card."""
    try:
        package = datapackage(manifest["files"], manifest["counts"], manifest["version"])
        (folder / DATAPACKAGE).write_text(_canonical_json(package, indent=2) + "\n", encoding="utf-8")
        write_changelog(folder, previous, diff)
        plots = write_plots(tables, folder)
    except Exception:
        _expectation_summary(folder, expectations)  # a blocked release says so, not what else its data broke
        raise
    (folder / CARD).write_text(render_card(manifest, tables, plots, _expectation_summary(folder, expectations)),
                               encoding="utf-8")


def _expectation_summary(folder: Path, expectations: Callable[[], tuple[dict, Path | None]]) -> dict:
    """The quality report's summary; ExpectationsFailed, with the report kept where a
    person can read it, if a critical expectation failed."""
    checks, failed_report = expectations()
    if failed_report is not None:
        failure = ExpectationsFailed(checks, failed_report)
        _keep_failed_report(folder, failure)
        raise failure
    return checks


def _expectations_report(tables: dict[str, pd.DataFrame], staged: dict[str, Path],
                    previous_counts: dict[str, int] | None, folder: Path,
                    snapshot: str | None) -> tuple[dict, Path | None]:
    """check_expectations's summary of `tables` and of the columns it checks of the `staged`
    tables, and the report's path if a critical expectation failed (then the summary
    is the failure's: the exception itself cannot be pickled back)."""
    checked = tables | {name: read_columns(path, checked_columns(name)) for name, path in staged.items()}
    try:
        return check_expectations(checked, previous_counts, folder, snapshot), None
    except ExpectationsFailed as failure:
        return failure.summary, failure.report


def _keep_failed_report(folder: Path, failure: ExpectationsFailed) -> None:
    """Move the report of a blocked release beside the releases, where a person can
    read it (the staging folder is about to go)."""
    kept = folder.parent / FAILED_REPORT
    shutil.rmtree(kept, ignore_errors=True)
    shutil.move(str(folder / REPORT_FOLDER), kept)
    report = kept / "index.html"
    failure.args = (failure.args[0].replace(str(failure.report), str(report)),)
    failure.report = report


def write_checksums(folder: Path, known: dict[str, dict]) -> None:
    """SHA256SUMS in `sha256sum` format for every file, so `sha256sum -c` works inside.
    Files already hashed for the manifest (`known`) are not read again."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != CHECKSUMS)
    lines = [f"{known[f]['sha256'] if f in known else sha256_file(folder / f)}  {f}\n" for f in files]
    (folder / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def describe_schema(schema: pyarrow.Schema) -> list[dict]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def classify_change(previous: dict | None, manifest: dict) -> str:
    """Semantic versioning for data: what kind of release `manifest` would be."""
    if previous is None:
        return "first"
    old_schema, new_schema = previous["schema"], manifest["schema"]
    for table, columns in old_schema.items():
        new_columns = {c["name"]: c["type"] for c in new_schema.get(table, [])}
        if table not in new_schema or any(new_columns.get(c["name"]) != c["type"] for c in columns):
            return "major"
    if old_schema != new_schema or _data_files(previous) != _data_files(manifest):
        return "minor"
    comparable = [{k: v for k, v in m.items() if k not in ("name", "version", "previous_version")}
                  for m in (previous, manifest)]
    return "patch" if comparable[0] != comparable[1] else "none"


def bump(version: tuple[int, int, int] | None, change: str) -> tuple[int, int, int]:
    if version is None:
        return FIRST_VERSION
    major, minor, patch = version
    return {"major": (major + 1, 0, 0), "minor": (major, minor + 1, 0),
            "patch": (major, minor, patch + 1)}[change]


def _data_files(manifest: dict) -> dict:
    return {path: facts for path, facts in manifest["files"].items()
            if path.endswith(".parquet") or path.startswith("csv/")}


def _canonical_json(value, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent, default=str)


def _sha256_bytes(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
