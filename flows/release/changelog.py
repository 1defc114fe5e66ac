"""What changed between two releases, per table: rows added, removed and changed by
key, and columns added, removed or retyped. The same report is every release's
CHANGELOG.md (newest entry first) and what `newscorpus diff vA vB` prints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from schemas import PRIMARY_KEYS

EXAMPLE_KEYS = 5
DIGEST_BATCH_ROWS = 10_000
CHANGELOG = "CHANGELOG.md"


def diff_releases(old: Path, new: Path) -> dict:
    """{"from", "to", "tables": {table: counts and example keys}, "schema": {table:
    column changes}} between two release folders."""
    old_manifest, new_manifest = (_manifest(p) for p in (old, new))
    tables = sorted(set(old_manifest["counts"]) | set(new_manifest["counts"]))
    return {
        "from": old_manifest.get("version", old.name),
        "to": new_manifest.get("version", new.name),
        "tables": {name: diff_table(old / f"{name}.parquet", new / f"{name}.parquet", PRIMARY_KEYS[name])
                   for name in tables},
        "schema": {name: change for name in tables
                   if (change := diff_schema(old_manifest["schema"].get(name, []),
                                             new_manifest["schema"].get(name, [])))},
    }


def diff_table(old: Path, new: Path, key: str) -> dict:
    """Counts of rows added, removed, changed and unchanged between two Parquet files
    of a table (either may be missing), matched by `key`. The files are read a batch of
    rows at a time: what is held is each row's key and hash, not the rows."""
    old_columns, new_columns = _columns(old), _columns(new)
    # Rows are compared on the columns both versions have: a new column alone does
    # not make every row "changed" (the schema changes say it was added).
    common = [c for c in new_columns if c in old_columns]
    old_rows, new_rows = (_digests(path, common, key) if key in common else _keys_only(path, columns, key)
                          for path, columns in ((old, old_columns), (new, new_columns)))
    added = new_rows.index.difference(old_rows.index)
    removed = old_rows.index.difference(new_rows.index)
    common = new_rows.index.intersection(old_rows.index)
    changed = common[(new_rows[common] != old_rows[common]).to_numpy()]
    return {
        "added": len(added), "removed": len(removed), "changed": len(changed),
        "unchanged": len(common) - len(changed),
        "examples": {kind: sorted(map(str, keys))[:EXAMPLE_KEYS]
                     for kind, keys in (("added", added), ("removed", removed), ("changed", changed))
                     if len(keys)},
    }


def diff_schema(old: list[dict], new: list[dict]) -> dict:
    old_types = {c["name"]: c["type"] for c in old}
    new_types = {c["name"]: c["type"] for c in new}
    change = {
        "added columns": [c for c in new_types if c not in old_types],
        "removed columns": [c for c in old_types if c not in new_types],
        "retyped columns": [f"{c}: {old_types[c]} -> {new_types[c]}" for c in new_types
                            if c in old_types and old_types[c] != new_types[c]],
    }
    return {kind: columns for kind, columns in change.items() if columns}


def render(diff: dict) -> str:
    """The diff as a Markdown section."""
    lines = [f"## {diff['to']} (since {diff['from']})", "",
             "| table | added | removed | changed | unchanged |", "|---|---:|---:|---:|---:|"]
    for name, counts in diff["tables"].items():
        lines.append(f"| {name} | {counts['added']:,} | {counts['removed']:,} | "
                     f"{counts['changed']:,} | {counts['unchanged']:,} |")
    examples = [(name, kind, keys) for name, counts in diff["tables"].items()
                for kind, keys in counts["examples"].items()]
    if examples:
        lines += ["", "Examples, by key:", ""]
        lines += [f"- {name} {kind}: {', '.join(f'`{k}`' for k in keys)}" for name, kind, keys in examples]
    if diff["schema"]:
        lines += ["", "Schema changes:", ""]
        lines += [f"- {name}, {kind}: {', '.join(columns)}"
                  for name, change in diff["schema"].items() for kind, columns in change.items()]
    else:
        lines += ["", "No schema changes."]
    return "\n".join(lines) + "\n"


def write_changelog(release: Path, previous: Path | None, diff: dict | None = None) -> None:
    """CHANGELOG.md for `release`: its changes since `previous` (`diff`, if computed
    already), then the previous release's changelog, so each release carries the whole
    history."""
    manifest = _manifest(release)
    if previous is None:
        counts = ", ".join(f"{name} {n:,}" for name, n in sorted(manifest["counts"].items()))
        entry = f"## {manifest['version']}\n\nFirst release: {counts} rows.\n"
        history = ""
    else:
        entry = render(diff or diff_releases(previous, release))
        older = previous / CHANGELOG
        history = older.read_text(encoding="utf-8").split("\n", 2)[2] if older.is_file() else ""
    (release / CHANGELOG).write_text(f"# Changelog\n\n{entry}\n{history}".rstrip("\n") + "\n",
                                     encoding="utf-8")


def removals(diff: dict) -> dict[str, int]:
    """Rows of the old release the new one lacks, per table, when it lacks some of the
    old release's inputs (a build from other sources); empty otherwise: rows that go
    because the code changed are a changelog's business, not a lost input's."""
    if not diff["tables"].get("sources", {}).get("removed"):
        return {}
    order = ["sources", *(name for name in PRIMARY_KEYS if name != "sources")]
    removed = {name: counts["removed"] for name, counts in diff["tables"].items() if counts["removed"]}
    return dict(sorted(removed.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))


def describe_removals(removed: dict[str, int]) -> str:
    """ "1 source, 1 article, 7 mentions" """
    singular = {"entities": "entity"}
    return ", ".join(f"{n:,} {name if n != 1 else singular.get(name, name.removesuffix('s'))}"
                     for name, n in removed.items())


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8"))


def _columns(path: Path) -> list[str]:
    """The columns of a table's Parquet file; none if the release has no such table."""
    return pq.ParquetFile(path).schema_arrow.names if path.is_file() else []


def _keys_only(path: Path, columns: list[str], key: str) -> pd.Series:
    """A table on one side only: its keys, with nothing to compare."""
    if key not in columns:
        return pd.Series(dtype=object)
    return pd.Series(0, index=pq.read_table(path, columns=[key]).column(key).to_pandas().astype(str).to_numpy())


def _digests(path: Path, columns: list[str], key: str) -> pd.Series:
    """One hash per row of `columns`, indexed by key. Rows are compared as the file
    holds their values (Arrow's), never as pandas would read them: an integer column
    with a null reads as float in pandas, so 5 would differ from 5.0."""
    keys, digests = [], []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=DIGEST_BATCH_ROWS, columns=columns):
        keys += [str(value) for value in batch.column(key).to_pylist()]
        digests += [_row_digest(row) for row in zip(*(column.to_pylist() for column in batch.columns))]
    return pd.Series(digests, index=keys, dtype="uint64")


def _row_digest(values: tuple) -> int:
    text = json.dumps(values, ensure_ascii=False, default=str)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
