"""Stage 6, publish: write a validated set of tables as an immutable, versioned release.

The release is written into a hidden folder beside the others and renamed into
place only when complete, so a crash never leaves half a release, and LATEST is
replaced atomically after that. A build equal to the newest release writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows import workers
from flows.card import render_card
from flows.changelog import write_changelog
from flows.datapackage import datapackage
from flows.plots import PLOTTED_COLUMNS, write_plots
from flows.quality import QualityCheckFailed, check_quality, checked_columns
from schemas import MODELS, arrow_schema

ROW_GROUP_ROWS = 10_000
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "write_statistics": True,
                   "use_dictionary": True}
VERSION_FOLDER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
FIRST_VERSION = (1, 0, 0)
MANIFEST, CHECKSUMS, LATEST, CARD = "manifest.json", "SHA256SUMS", "LATEST", "README.md"
DATAPACKAGE = "datapackage.json"
FAILED_REPORT = "quality-of-blocked-build"


@dataclass(frozen=True)
class PublishResult:
    version: str
    path: Path
    changed: bool
    change: str  # "first", "major", "minor", "patch" or "none"


def version_name(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def releases(output: Path) -> list[tuple[int, int, int]]:
    """Complete releases in `output`, oldest first (a folder counts once it has a manifest)."""
    if not output.is_dir():
        return []
    found = [VERSION_FOLDER.match(p.name) for p in output.iterdir() if (p / MANIFEST).is_file()]
    return sorted(tuple(int(g) for g in m.groups()) for m in found if m)


def read_manifest(release: Path) -> dict:
    return json.loads((release / MANIFEST).read_text(encoding="utf-8"))


def publish_release(tables: dict[str, pd.DataFrame], output: Path, provenance: dict) -> PublishResult:
    """Write `tables` as the next release in `output`, unless nothing changed.

    `provenance` goes into the manifest as is (input snapshot, code version, stage
    statistics): deterministic facts about how the data was made, never clock time.
    """
    with staging(output) as folder:
        return publish_staged(folder, tables, output, provenance)


@contextmanager
def staging(output: Path) -> Iterator[Path]:
    """A hidden folder in `output` to write a release into, removed on leaving (a
    published release has been renamed into place by then, so a crash or a failed check
    never leaves half a release); one build at a time writes into `output`."""
    output.mkdir(parents=True, exist_ok=True)
    with _exclusive(output):
        remove_incomplete(output)
        folder = Path(tempfile.mkdtemp(prefix=".building-", dir=output))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def publish_staged(staging: Path, tables: dict[str, pd.DataFrame], output: Path,
                   provenance: dict) -> PublishResult:
    """Write `tables` into `staging`, beside any tables written there already (by
    TableWriter, as the build links them), and publish all as the next release in
    `output`, unless nothing changed. The quality report and plots read the columns
    they need of the tables already written from their files."""
    history = releases(output)
    previous = version_name(history[-1]) if history else None
    previous_manifest = read_manifest(output / previous) if previous else None
    previous_counts = previous_manifest["counts"] if previous_manifest else None
    staged = {path.stem: path for path in staging.glob("*.parquet")}
    # The quality report takes as long as writing the tables: on another core, meanwhile.
    with workers.aside(_quality_report, tables, staged, previous_counts, staging) as quality:
        write_tables(tables, staging)
        names = sorted(staged.keys() | tables.keys())
        manifest = {
            "counts": {name: pq.ParquetFile(staging / f"{name}.parquet").metadata.num_rows for name in names},
            "schema": {name: describe_schema(arrow_schema(MODELS[name])) for name in names},
            **provenance,
        }
        manifest["schema_fingerprint"] = _sha256_bytes(_canonical_json(manifest["schema"]))
        manifest["files"] = {path: file_facts(staging / path) for path in sorted(
            [f"{name}.parquet" for name in names] + [f"csv/{name}.csv" for name in names])}
        change = classify_change(previous_manifest, manifest)
        if change == "none":
            point_latest(output, previous)
            return PublishResult(previous, output / previous, changed=False, change=change)

        version = version_name(bump(history[-1] if history else None, change))
        manifest = {"name": "newscorpus", "version": version, "previous_version": previous, **manifest}
        (staging / MANIFEST).write_text(_canonical_json(manifest, indent=2) + "\n", encoding="utf-8")
        plotted = tables | {name: read_columns(staged[name], columns)
                            for name, columns in PLOTTED_COLUMNS.items() if name in staged}
        write_documents(staging, manifest, plotted, output / previous if previous else None, quality)
    write_checksums(staging, manifest["files"])
    os.chmod(staging, 0o755)
    final = output / version
    staging.rename(final)
    point_latest(output, version)
    shutil.rmtree(output / FAILED_REPORT, ignore_errors=True)  # about a build since superseded
    return PublishResult(version, final, changed=True, change=change)


def read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Some columns of a table's Parquet file, with the Arrow dtypes of its model."""
    return pq.read_table(path, columns=columns).to_pandas(types_mapper=pd.ArrowDtype)


def write_documents(folder: Path, manifest: dict, tables: dict[str, pd.DataFrame],
                    previous: Path | None, quality: Callable[[], tuple[dict, Path | None]]) -> None:
    """What a reader needs beside the data: the data package descriptor, the changelog,
    plots, the quality report (`quality` waits for _quality_report's outcome; a failed
    critical expectation raises, so nothing is published) and the dataset card."""
    try:
        package = datapackage(manifest["files"], manifest["counts"], manifest["version"])
        (folder / DATAPACKAGE).write_text(_canonical_json(package, indent=2) + "\n", encoding="utf-8")
        write_changelog(folder, previous)
        plots = write_plots(tables, folder)
    except Exception:
        _quality_checks(folder, quality)  # a blocked release says so, not what else its data broke
        raise
    (folder / CARD).write_text(render_card(manifest, tables, plots, _quality_checks(folder, quality)),
                               encoding="utf-8")


def _quality_checks(folder: Path, quality: Callable[[], tuple[dict, Path | None]]) -> dict:
    """The quality report's summary; QualityCheckFailed, with the report kept where a
    person can read it, if a critical expectation failed."""
    checks, failed_report = quality()
    if failed_report is not None:
        failure = QualityCheckFailed(checks, failed_report)
        _keep_failed_report(folder, failure)
        raise failure
    # Data Docs' index lists results with JavaScript from CDNs; link the pages too.
    checks["pages"] = sorted(p.relative_to(folder).as_posix()
                             for p in (folder / "quality" / "validations").rglob("*.html"))
    return checks


def _quality_report(tables: dict[str, pd.DataFrame], staged: dict[str, Path],
                    previous_counts: dict[str, int] | None, folder: Path) -> tuple[dict, Path | None]:
    """check_quality's summary of `tables` and of the columns it checks of the `staged`
    tables, and the report's path if a critical expectation failed (then the summary
    is the failure's: the exception itself cannot be pickled back)."""
    checked = tables | {name: read_columns(path, checked_columns(name)) for name, path in staged.items()}
    try:
        return check_quality(checked, previous_counts, folder), None
    except QualityCheckFailed as failure:
        return failure.summary, failure.report


def _keep_failed_report(folder: Path, failure: QualityCheckFailed) -> None:
    """Move the report of a blocked release beside the releases, where a person can
    read it (the staging folder is about to go)."""
    kept = folder.parent / FAILED_REPORT
    shutil.rmtree(kept, ignore_errors=True)
    shutil.move(str(folder / "quality"), kept)
    report = kept / "index.html"
    failure.args = (failure.args[0].replace(str(failure.report), str(report)),)
    failure.report = report


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Parquet and CSV for every table."""
    for name, df in sorted(tables.items()):
        with TableWriter(name, folder) as writer:
            writer.write(df)


class TableWriter:
    """One table's Parquet and CSV files, written a chunk of rows at a time. Parquet
    row groups hold `row_group_rows` rows each (the last one the rest), whatever the
    chunks, so the files are the same however the rows came."""

    def __init__(self, name: str, folder: Path, row_group_rows: int = ROW_GROUP_ROWS):
        self.name, self.rows, self._group_rows = name, 0, row_group_rows
        self._schema = arrow_schema(MODELS[name]).with_metadata(table_metadata(name))
        (folder / "csv").mkdir(parents=True, exist_ok=True)
        self._parquet = pq.ParquetWriter(folder / f"{name}.parquet", self._schema, **PARQUET_OPTIONS)
        self._csv_file = (folder / "csv" / f"{name}.csv").open("w", encoding="utf-8", newline="")
        csv.writer(self._csv_file, lineterminator="\r\n").writerow(self._schema.names)
        self._pending: list[pyarrow.Table] = []  # rows not yet in a row group
        self._written = 0

    def write(self, df: pd.DataFrame) -> None:
        self.write_table(to_arrow(self.name, df))

    def write_table(self, table: pyarrow.Table, csv_rows: str | None = None) -> None:
        """Append rows as to_arrow makes them; `csv_rows` is csv_text(table), when it
        was made elsewhere (in a worker process)."""
        self._csv_file.write(csv_text(table) if csv_rows is None else csv_rows)
        self._pending.append(table)
        self.rows += len(table)
        pending = self.rows - self._written
        if pending >= self._group_rows:
            whole = pending - pending % self._group_rows
            rows = pyarrow.concat_tables(self._pending)
            self._parquet.write_table(rows.slice(0, whole), row_group_size=self._group_rows)
            self._pending, self._written = [rows.slice(whole)], self._written + whole

    def close(self) -> None:
        rest = pyarrow.concat_tables(self._pending or [self._schema.empty_table()])
        if len(rest) or not self.rows:  # a table with no rows has one empty row group
            self._parquet.write_table(rest, row_group_size=self._group_rows)
        self._parquet.close()
        self._csv_file.close()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def to_arrow(name: str, df: pd.DataFrame) -> pyarrow.Table:
    table = pyarrow.Table.from_pandas(df, schema=arrow_schema(MODELS[name]), preserve_index=False)
    # Drop pandas' own metadata (it names the pandas version) for byte-stable files.
    return table.replace_schema_metadata(table_metadata(name))


def table_metadata(name: str) -> dict[str, str]:
    return {"newscorpus.table": name}


def csv_text(table: pyarrow.Table) -> str:
    """The rows of a table as its CSV file holds them (RFC 4180, lists as JSON arrays)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(zip(*(csv_column(column) for column in table.columns)))
    return out.getvalue()


def csv_column(column: pyarrow.ChunkedArray) -> list[str]:
    """One column's CSV fields, a column at a time: per value, in Python, only where
    Arrow's text differs from Python's (floats: "1" for 1.0; lists)."""
    if pyarrow.types.is_string(column.type):
        return pc.fill_null(column, "").to_pylist()
    if pyarrow.types.is_integer(column.type) or pyarrow.types.is_date32(column.type):
        return pc.fill_null(column.cast(pyarrow.string()), "").to_pylist()
    return [csv_value(value) for value in column.to_pylist()]


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def file_facts(path: Path) -> dict:
    return {"sha256": _sha256_file(path), "bytes": path.stat().st_size}


def write_checksums(folder: Path, known: dict[str, dict]) -> None:
    """SHA256SUMS in `sha256sum` format for every file, so `sha256sum -c` works inside.
    Files already hashed for the manifest (`known`) are not read again."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != CHECKSUMS)
    lines = [f"{known[f]['sha256'] if f in known else _sha256_file(folder / f)}  {f}\n" for f in files]
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


def point_latest(output: Path, version: str) -> None:
    pointer = output / LATEST
    if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == version:
        return
    temporary = output / f".{LATEST}.{os.getpid()}"
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, pointer)


@contextmanager
def _exclusive(output: Path):
    """One publisher at a time per output folder (scheduled runs may overlap)."""
    with (output / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _canonical_json(value, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent, default=str)


def _sha256_bytes(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_incomplete(output: Path) -> None:
    """Clear staging folders a killed process left behind (never a published release)."""
    for leftover in output.glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)
