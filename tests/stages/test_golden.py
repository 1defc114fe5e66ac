"""The seeds' reviewed output, kept in tests/golden/ as real input paired with expected
output: cleaning and normalising (seeds.json), mentions, entities and quotes. A change
of behaviour fails here as the rows it changes; when the change is intended, run
tests/golden/update_seeds.py and review the diff of the golden files."""

from __future__ import annotations

import json

import pytest

from flows.stages.clean import clean_text
from flows.stages.ingest.discover import discover_inputs
from flows.stages.ingest.read import read_input
from flows.stages.normalise.fields import article_fields
from tests.golden.update_seeds import HERE as GOLDEN_FOLDER
from tests.golden.update_seeds import analysis_files, as_json
from tests.helpers import SEEDS

GOLDEN = json.loads((GOLDEN_FOLDER / "seeds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("uri", sorted(GOLDEN))
def test_seed_matches_golden_output(uri):
    item = next(i for i in discover_inputs([str(SEEDS)]) if i.source_uri == uri)
    clean = clean_text(read_input(item).text)
    fields = article_fields(clean)
    expected = GOLDEN[uri]
    assert clean.paragraphs == expected["paragraphs"]
    assert {k: fields[k] for k in ("title", "dateline", "outlet", "language", "word_count")} == {
        k: expected[k] for k in ("title", "dateline", "outlet", "language", "word_count")}
    assert (fields["published_date"] and fields["published_date"].isoformat()) == expected["published_date"]


@pytest.mark.parametrize("name", ["seeds_mentions.json", "seeds_entities.json", "seeds_quotes.json"])
def test_seed_analysis_matches_golden_file(name, seed_tables):
    current = analysis_files(seed_tables)[name]
    written = (GOLDEN_FOLDER / name).read_text(encoding="utf-8")
    differences = row_differences(json.loads(written), current)
    if differences:
        pytest.fail(f"{name}: the rows that differ (- golden only, + now only, else the fields "
                    "changed):\n" + "\n".join(differences), pytrace=False)
    assert as_json(current) == written  # the same rows in the same order, as update_seeds writes them


def keyed_rows(data) -> dict[tuple, dict]:
    """Rows by what names them: (source_uri, start, end) of a span, (label, name) of an entity."""
    if isinstance(data, dict):
        return {(uri, row["start"], row["end"]): row for uri, rows in data.items() for row in rows}
    return {(row["label"], row["name"]): row for row in data}


def row_differences(golden, current) -> list[str]:
    """One line per row gone, new or changed (with the fields that changed)."""
    before, after = keyed_rows(golden), keyed_rows(current)
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        where = f"{key[0]} [{key[1]}:{key[2]}]" if len(key) == 3 else f"{key[1]} ({key[0]})"
        if new is None:
            lines.append(f"- {where}: {old}")
        elif old is None:
            lines.append(f"+ {where}: {new}")
        else:
            changed = "; ".join(f"{field} {old.get(field)!r} -> {new.get(field)!r}"
                                for field in dict.fromkeys([*old, *new]) if old.get(field) != new.get(field))
            lines.append(f"  {where}: {changed}")
    return lines
