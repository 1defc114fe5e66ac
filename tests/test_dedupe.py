"""Stage 4 on the seeds and the whole BBC corpus."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from flows.dedupe import deduplicate_exact, exact_key, split_tables
from flows.ingest import discover_inputs
from flows.shard import prepare_shard

from conftest import SEEDS


def records_for(*sources) -> pd.DataFrame:
    return prepare_shard(discover_inputs([str(s) for s in sources])).records


def test_case_whitespace_and_quote_style_do_not_make_a_new_article():
    text = "“Russia has been very helpful,” said Jeff Davis.\n\nHe added more."
    variant = '"RUSSIA has been   very helpful," said Jeff Davis.\n He added more.'
    assert exact_key(text) == exact_key(variant)
    assert exact_key(text) != exact_key(text.replace("helpful", "unhelpful"))


def test_copies_of_a_seed_fold_into_the_dated_one(tmp_path):
    copies = tmp_path / "mirror"
    copies.mkdir()
    original = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")
    title, body = original.split("\n", 1)
    (copies / "a-copy.txt").write_text(original.replace("“", '"').replace("”", '"').upper())
    # Same text with a date line: the earliest dated input is the one kept.
    (copies / "z-copy.txt").write_text(f"{title}\nMonday 05/06/2017\n{body}", encoding="utf-16")
    tables = split_tables(deduplicate_exact(records_for(SEEDS, copies)))
    sources = tables["sources"].set_index("source_uri")
    kept = "mirror/z-copy.txt"
    assert len(tables["articles"]) == 5
    assert sources.loc[kept, "status"] == "accepted"
    assert sources.loc["seeds/001_3a4f165f839e8a51.txt", "reason"] == f"exact duplicate of {kept}"
    assert sources.loc["mirror/a-copy.txt", "reason"] == (
        f"exact duplicate of {kept} (same text, other title)")
    assert sources.loc["mirror/a-copy.txt", "similarity"] == 1.0
    article = tables["articles"].set_index("source_uri").loc[kept]
    assert article["duplicates"] == 2
    assert str(article["published_date"]) == "2017-06-05"
    assert sources.loc["mirror/a-copy.txt", "article_id"] == article["article_id"]


def test_the_kept_article_does_not_depend_on_input_order():
    records = records_for(SEEDS)
    doubled = pd.concat([records, records.assign(source_uri="copy/" + records["source_uri"])])
    forward = split_tables(deduplicate_exact(doubled.reset_index(drop=True)))
    backward = split_tables(deduplicate_exact(doubled.iloc[::-1].reset_index(drop=True)))
    pd.testing.assert_frame_equal(forward["articles"], backward["articles"])
    pd.testing.assert_frame_equal(forward["sources"], backward["sources"])
    # Undated and equally complete: the smallest source URI is kept.
    assert set(forward["articles"]["source_uri"]) == set("copy/" + records["source_uri"])


@pytest.fixture(scope="module")
def bbc_tables(bbc):
    return split_tables(deduplicate_exact(records_for(bbc)))


def test_bbc_every_input_is_accounted_for(bbc, bbc_tables):
    sources = bbc_tables["sources"]
    files = sorted(p.relative_to(bbc.parent).as_posix() for p in bbc.rglob("*") if p.is_file())
    assert sorted(sources["source_uri"]) == files
    assert len(files) == 2226  # 2,225 articles and the corpus README
    articles = sources[sources["source_uri"] != "bbc/README.TXT"]
    assert len(articles) == 2225
    assert (articles["status"] != "rejected").all()
    assert sources.set_index("source_uri").loc["bbc/README.TXT", "status"] == "rejected"


def test_bbc_exact_duplicates(bbc, bbc_tables):
    sources = bbc_tables["sources"]
    by_bytes: dict[str, list[str]] = {}
    for path in sorted(bbc.glob("*/*.txt")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        by_bytes.setdefault(digest, []).append(path.relative_to(bbc.parent).as_posix())
    byte_copies = {uri for uris in by_bytes.values() for uri in uris[1:]}
    duplicates = sources[sources["status"] == "duplicate"]
    assert len(byte_copies) == 98
    assert byte_copies <= set(duplicates["source_uri"])
    # Same story under another headline (business/365 vs 267) is found too.
    assert len(duplicates) == 137
    assert (duplicates["reason"].str.contains("other title")).sum() == 36  # the other 3 differ in whitespace only
    assert len(bbc_tables["articles"]) == 2225 - 137
    assert bbc_tables["articles"]["duplicates"].sum() == 137
