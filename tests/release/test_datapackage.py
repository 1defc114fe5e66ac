"""datapackage.json: the real frictionless validator, as a command and through its
Python API, accepts a published release and catches a broken one."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from frictionless import validate

from flows.release.datapackage import datapackage
from flows.release.layout import read_manifest
from schemas import MODELS, PRIMARY_KEYS, arrow_schema

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def published_descriptor(release: Path) -> dict:
    return json.loads((release / "datapackage.json").read_text(encoding="utf-8"))


def validate_with_command(release: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(FRICTIONLESS), "validate", "datapackage.json"], cwd=release,
                          capture_output=True, text=True)


def errors(release: Path) -> set[tuple[str, str]]:
    """(resource, error type) of everything the Python API finds wrong."""
    report = validate(str(release / "datapackage.json"))
    return {(task.name, error.type) for task in report.tasks for error in task.errors}


@pytest.fixture
def full_release(built_release) -> Path:
    """A release of every table, built from the seeds."""
    return built_release.path


@pytest.fixture
def broken(full_release, tmp_path) -> Path:
    """A copy of the full release to damage."""
    return Path(shutil.copytree(full_release, tmp_path / "release"))


def test_release_of_articles_and_sources_validates(prepared_release):
    release = prepared_release.path
    descriptor = published_descriptor(release)
    assert [r["name"] for r in descriptor["resources"]] == [
        "articles", "sources", "articles-parquet", "sources-parquet"]
    checked = validate_with_command(release)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert errors(release) == set()


def test_full_release_validates_by_command_and_api(full_release):
    checked = validate_with_command(full_release)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = validate(str(full_release / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    counts = read_manifest(full_release)["counts"]
    rows = {task.name: task.stats["rows"] for task in report.tasks if task.type == "table"}
    assert rows == counts


def test_descriptor_follows_the_schemas_and_the_manifest(full_release):
    manifest = read_manifest(full_release)
    descriptor = published_descriptor(full_release)
    assert descriptor == datapackage(manifest["files"], manifest["counts"], manifest["version"])
    assert descriptor["version"] == manifest["version"].removeprefix("v")
    resources = {r["name"]: r for r in descriptor["resources"]}
    for name in MODELS:
        table, parquet = resources[name], resources[f"{name}-parquet"]
        assert (table["path"], parquet["path"]) == (f"csv/{name}.csv", f"{name}.parquet")
        for resource in (table, parquet):
            facts = manifest["files"][resource["path"]]
            assert resource["hash"] == f"sha256:{facts['sha256']}"
            assert resource["bytes"] == facts["bytes"]
        schema = table["schema"]
        assert schema["primaryKey"] == [PRIMARY_KEYS[name]]
        arrow = arrow_schema(MODELS[name])
        assert [f["name"] for f in schema["fields"]] == arrow.names
        for field in schema["fields"]:
            column = arrow.field(field["name"])
            assert field["description"] == column.metadata[b"description"].decode()
            assert field.get("constraints", {}).get("required", False) is not column.nullable
    fields = {(name, f["name"]): f for name in MODELS for f in resources[name]["schema"]["fields"]}
    assert fields["entities", "aliases"]["type"] == "array"
    assert fields["entities", "aliases"]["arrayItem"] == {"type": "string"}
    assert fields["articles", "published_date"]["type"] == "date"
    assert fields["quotes", "speaker_start"]["type"] == "integer"
    assert fields["quotes", "kind"]["constraints"]["enum"] == ["direct", "partial", "indirect"]
    assert fields["mentions", "mention_id"]["constraints"]["pattern"] == "[0-9a-f]{16}"
    foreign_keys = {(name, key["fields"][0], key["reference"]["resource"],
                     key["reference"]["fields"][0])
                    for name in MODELS for key in resources[name]["schema"].get("foreignKeys", [])}
    assert foreign_keys == {
        ("articles", "source_uri", "sources", "source_uri"),
        ("sources", "article_id", "articles", "article_id"),
        ("mentions", "article_id", "articles", "article_id"),
        ("mentions", "entity_id", "entities", "entity_id"),
        ("quotes", "article_id", "articles", "article_id"),
        ("quotes", "speaker_entity_id", "entities", "entity_id"),
    }


def test_a_value_outside_its_constraint_is_reported(broken):
    edit_csv(broken / "csv" / "quotes.csv", "kind", "shouted")
    assert ("quotes", "constraint-error") in errors(broken)
    assert validate_with_command(broken).returncode != 0


def test_a_dangling_foreign_key_is_reported(broken):
    edit_csv(broken / "csv" / "mentions.csv", "entity_id", "0" * 16)
    assert ("mentions", "foreign-key") in errors(broken)


def test_a_changed_byte_in_a_parquet_file_is_reported(broken):
    path = broken / "entities.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert errors(broken) == {("entities-parquet", "hash-count")}
    assert validate_with_command(broken).returncode != 0


def edit_csv(path: Path, column: str, value: str) -> None:
    """Set `column` of the first data row to `value`, writing the CSV as publish does."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
