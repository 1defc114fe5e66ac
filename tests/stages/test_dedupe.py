"""Stage 4 on the seeds and the whole BBC corpus."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import random
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest

from flows.stages.dedupe import (NEAR_DUPLICATE_THRESHOLD, SHINGLE_WORDS, article_id_for, deduplicate_exact,
                                  deduplicate_near, exact_key, split_tables, words_of)
from flows.stages.ingest.discover import discover_inputs
from flows.stages.prepare import RECORD_COLUMNS, prepare_shard
from schemas import Sources, conform
from tests.helpers import SEEDS


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
def bbc_records(bbc):
    return deduplicate_exact(records_for(bbc))


@pytest.fixture(scope="module")
def bbc_tables(bbc_records):
    return split_tables(bbc_records)


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


# Near duplicates ----------------------------------------------------------------------

def shingle_set(text: str) -> set[tuple[bytes, ...]]:
    """The word shingles of `text`, by plain Python: what the hashed ones stand for."""
    words = words_of(text)
    if len(words) < SHINGLE_WORDS:
        return {tuple(words)}
    return set(zip(*(words[i:] for i in range(SHINGLE_WORDS))))


def jaccard_of(first: str, second: str) -> float:
    a, b = shingle_set(first), shingle_set(second)
    return len(a & b) / len(a | b)


def story(seed: str, words: int = 400) -> str:
    """A text of `words` made-up words, the same for the same seed."""
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(50_000)}" for _ in range(words))


def edited(text: str, positions, mark: str) -> str:
    """`text` with the words at `positions` replaced by new ones."""
    words = text.split()
    for position in positions:
        words[position] = f"{mark}{position}"
    return " ".join(words)


def record(uri: str, text: str, date: str | None = None, reason: str | None = None) -> dict:
    return {"source_uri": uri, "raw_sha256": hashlib.sha256(uri.encode()).hexdigest(),
            "reason": reason, "title": None if reason else f"Title of {uri}",
            "text": text,
            "published_date": dt.date.fromisoformat(date) if date else None,
            "outlet": None, "url": None, "dateline": None, "language": "en",
            "word_count": len(text.split()) if text else None, "content_sha256": None}


def near(rows: list[dict], **options) -> pd.DataFrame:
    return deduplicate_near(deduplicate_exact(pd.DataFrame(rows, columns=RECORD_COLUMNS)),
                            **options).set_index("source_uri")


def assert_consistent(records: pd.DataFrame) -> None:
    """Every duplicate points to an accepted article, and every near duplicate is at
    least the threshold similar to the article it is folded into, as measured."""
    records = records.reset_index()
    accepted = records[records["status"] == "accepted"]
    uri_of = dict(zip(accepted["article_id"], accepted["source_uri"]))
    text_of = dict(zip(records["source_uri"], records["text"]))
    duplicates = records[records["status"] == "duplicate"]
    assert duplicates["article_id"].isin(list(uri_of)).all()
    for row in duplicates.itertuples():
        if "near duplicate of" in row.reason:
            kept = uri_of[row.article_id]
            assert f"near duplicate of {kept}: " in row.reason
            assert row.similarity == pytest.approx(jaccard_of(row.text, text_of[kept]), abs=1e-12)
            assert row.similarity >= NEAR_DUPLICATE_THRESHOLD
            shared = math.floor(row.similarity * 100 + 1e-9)
            assert row.reason.endswith(f": {shared}% of word shingles shared")
        else:
            assert row.similarity == 1.0
    Sources.validate(conform("sources", records))


def test_words_are_letters_and_digits_whatever_the_punctuation():
    assert words_of("“Don’t” — said O'Neil, 5.1% of __init__ in Zürich") == [
        b"don", b"t", b"said", b"o", b"neil", b"5", b"1", b"of", b"init", b"in", "zürich".encode()]
    assert words_of("Plain ASCII, with_under-score") == [b"plain", b"ascii", b"with", b"under", b"score"]


def test_an_edited_copy_is_folded_with_its_similarity_and_reason():
    original = story("original")
    copy = edited(original, [40, 120, 200, 280, 360], "fix")
    other = story("other")
    result = near([record("a/original.txt", original, "2024-01-02"),
                   record("b/copy.txt", copy, "2024-01-03"), record("c/other.txt", other)])
    expected = jaccard_of(original, copy)
    assert 0.85 < expected < 0.9  # 5 words changed: 25 of 396 shingles of each lost
    copy_row = result.loc["b/copy.txt"]
    assert copy_row["status"] == "duplicate"
    assert copy_row["article_id"] == article_id_for("a/original.txt")
    assert copy_row["similarity"] == pytest.approx(expected)
    assert copy_row["reason"] == (f"near duplicate of a/original.txt: {math.floor(expected * 100)}% "
                                  "of word shingles shared")
    assert result.loc[["a/original.txt", "c/other.txt"], "status"].tolist() == ["accepted", "accepted"]
    assert_consistent(result)


def test_below_the_threshold_nothing_is_folded():
    original = story("original")
    rewritten = edited(original, range(10, 400, 25), "new")  # 16 words: about 0.67
    assert 0.6 < jaccard_of(original, rewritten) < NEAR_DUPLICATE_THRESHOLD
    result = near([record("a.txt", original), record("b.txt", rewritten)])
    assert (result["status"] == "accepted").all()
    # ... unless the threshold is lowered.
    lowered = near([record("a.txt", original), record("b.txt", rewritten)], threshold=0.6)
    assert lowered.loc["b.txt", "status"] == "duplicate"


def test_the_kept_article_is_the_earliest_then_the_longest_then_the_smallest_uri():
    base = story("kept")
    longer = base + " and five more words here"
    rows = [record("z/dated-late.txt", longer, "2024-03-02"),
            record("y/dated-early.txt", base, "2024-03-01"),
            record("x/undated.txt", longer + " even longer")]
    result = near(rows)
    assert result.loc["y/dated-early.txt", "status"] == "accepted"  # earliest, though shorter
    folded_into = set(result.loc[result["status"] == "duplicate", "article_id"])
    assert folded_into == {article_id_for("y/dated-early.txt")}
    # Same date: the one with most words.
    same_day = near([record("b.txt", base, "2024-03-01"), record("c.txt", longer, "2024-03-01")])
    assert same_day.loc["c.txt", "status"] == "accepted"
    # Same date and words: the smallest source URI.
    twins = near([record("q.txt", edited(base, [7], "x"), "2024-03-01"),
                  record("p.txt", edited(base, [9], "y"), "2024-03-01")])
    assert twins.loc["p.txt", "status"] == "accepted"
    assert twins.loc["q.txt", "reason"].startswith("near duplicate of p.txt: ")


def test_a_chain_of_edits_folds_only_into_an_article_it_is_close_to():
    a = story("chain")
    b = edited(a, range(20, 200, 30), "b")     # 6 words changed
    c = edited(b, range(215, 400, 30), "c")    # 7 more
    assert jaccard_of(a, b) >= 0.8 and jaccard_of(b, c) >= 0.8 and jaccard_of(a, c) < 0.8
    result = near([record("a.txt", a, "2024-01-01"), record("b.txt", b, "2024-01-02"),
                   record("c.txt", c, "2024-01-03")])
    # Visited in keep order: b is folded into a; c is close only to b, which is
    # no longer kept, so c is kept.
    assert result["status"].to_dict() == {"a.txt": "accepted", "b.txt": "duplicate", "c.txt": "accepted"}
    assert result.loc["b.txt", "article_id"] == article_id_for("a.txt")
    assert_consistent(result)


def test_a_text_close_to_two_kept_articles_goes_to_the_closer():
    a = story("chain")
    first, second = list(range(20, 200, 30)), list(range(215, 400, 30))
    c = edited(edited(a, first, "b"), second, "c")               # 13 words changed: not close to a
    d = edited(edited(a, first[:1], "b"), second, "c")           # 8 changed from a, 5 from c
    assert jaccard_of(a, c) < 0.8 <= jaccard_of(a, d) < jaccard_of(c, d)
    result = near([record("a.txt", a, "2024-01-01"), record("c.txt", c, "2024-01-03"),
                   record("d.txt", d, "2024-01-04")])
    assert result["status"].to_dict() == {"a.txt": "accepted", "c.txt": "accepted", "d.txt": "duplicate"}
    assert result.loc["d.txt", "article_id"] == article_id_for("c.txt")
    assert result.loc["d.txt", "similarity"] == pytest.approx(jaccard_of(c, d))
    assert_consistent(result)


def test_rejected_rows_and_exact_duplicates_are_left_alone_or_follow_their_article():
    a = story("kept")
    b = edited(a, [50, 150, 250], "b")
    rows = [record("a.txt", a, "2024-01-01"),
            record("b.txt", b, "2024-01-02"),
            record("b-copy.txt", b.upper(), "2024-01-03"),      # exact duplicate of b
            record("a-copy.txt", "  " + a, "2024-01-04"),        # exact duplicate of a
            record("rejected.txt", None, reason="nothing left after removing boilerplate: 3 words")]
    exact = deduplicate_exact(pd.DataFrame(rows, columns=RECORD_COLUMNS)).set_index("source_uri")
    stats = Counter()
    result = deduplicate_near(exact.reset_index(), stats=stats).set_index("source_uri")
    assert result.loc["rejected.txt"].equals(exact.loc["rejected.txt"])
    assert result.loc["a-copy.txt"].equals(exact.loc["a-copy.txt"])
    similarity = jaccard_of(a, b)
    moved = result.loc["b-copy.txt"]
    assert moved["status"] == "duplicate" and moved["article_id"] == article_id_for("a.txt")
    assert moved["similarity"] == pytest.approx(similarity)
    assert moved["reason"] == ("exact duplicate of b.txt (same text, other title), itself a near "
                               "duplicate of a.txt: "
                               f"{math.floor(similarity * 100)}% of word shingles shared")
    assert stats == Counter({"near_dedupe.articles compared": 2, "near_dedupe.shingles": 2 * 396,
                             "near_dedupe.candidate pairs": 1, "near_dedupe.verified pairs": 1,
                             "near_dedupe.near duplicates": 1,
                             "near_dedupe.exact duplicates moved": 1})
    assert_consistent(result)


def test_short_texts_are_one_shingle():
    result = near([record("a.txt", "Rain in Spain"), record("b.txt", "rain, in SPAIN!"),
                   record("c.txt", "Rain in Spain today")])
    assert result["status"].tolist() == ["accepted", "duplicate", "accepted"]
    assert result.loc["b.txt", "reason"] == "near duplicate of a.txt: 100% of word shingles shared"


def test_the_same_input_in_any_order_gives_the_same_output():
    texts = [story(f"s{i}") for i in range(30)]
    rows = [record(f"s{i}.txt", text) for i, text in enumerate(texts)]
    rows += [record(f"e{i}.txt", edited(texts[i], [i + 3, 2 * i + 100], "e"), f"2024-01-{i % 5 + 1:02d}")
             for i in range(0, 30, 3)]
    forward = near(rows).sort_index()
    backward = near(rows[::-1]).sort_index()
    shuffled = near(random.Random(1).sample(rows, len(rows))).sort_index()
    pd.testing.assert_frame_equal(forward, backward)
    pd.testing.assert_frame_equal(forward, shuffled)
    assert (forward["status"] == "duplicate").sum() == 10
    assert_consistent(forward)


def test_hashes_do_not_depend_on_the_process():
    # Python's hash() of str and bytes is salted per process; dedupe must not use it.
    program = ("from flows.stages.dedupe import *; s, o, _ = shingles_of(['The same story, told twice.']); "
               "print(minhash_signatures(s, o).tobytes().hex())")
    outputs = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1


# The BBC corpus's near duplicates, found by running deduplicate_near and checked by eye
# (word diffs of every pair): each is one story with small corrections, the rest the
# same words. Duplicate: (the article it is folded into, similarity). All undated, so
# the kept one is the one with more words, or on a tie the smaller URI.
BBC_NEAR_DUPLICATES = {
    "bbc/tech/342.txt": ("bbc/tech/048.txt", 1.0),              # "firms" -> "firms." only
    "bbc/tech/155.txt": ("bbc/tech/294.txt", 0.988),            # one word added
    "bbc/tech/391.txt": ("bbc/tech/286.txt", 0.988),            # "pay" -> "play"
    "bbc/tech/234.txt": ("bbc/tech/389.txt", 0.986),            # "globally" added
    "bbc/tech/225.txt": ("bbc/tech/212.txt", 0.981),            # "handset maker" -> "telecom..."
    "bbc/tech/340.txt": ("bbc/tech/049.txt", 0.979),            # other headline, one word changed
    "bbc/sport/406.txt": ("bbc/sport/289.txt", 0.975),          # "insisted" -> "said"
    "bbc/tech/224.txt": ("bbc/tech/219.txt", 0.970),            # "promise" -> "promises"
    "bbc/tech/338.txt": ("bbc/tech/064.txt", 0.969),            # "£9.4" -> "£94", "Jupiter" -> "Juniper"
    "bbc/tech/045.txt": ("bbc/tech/341.txt", 0.965),            # "UK" added
    "bbc/tech/380.txt": ("bbc/tech/022.txt", 0.965),            # "hour's" -> "hours'"
    "bbc/tech/095.txt": ("bbc/tech/311.txt", 0.964),            # a closing "part two follows" note added
    "bbc/sport/433.txt": ("bbc/sport/425.txt", 0.961),          # "for five sets" -> "all the way"
    "bbc/tech/335.txt": ("bbc/tech/032.txt", 0.958),            # acronym expanded, two typos fixed
    "bbc/entertainment/341.txt": ("bbc/entertainment/102.txt", 0.954),  # "Hurosawa" -> "Kurosawa"
    "bbc/entertainment/331.txt": ("bbc/entertainment/079.txt", 0.921),  # a sentence shortened
    "bbc/tech/019.txt": ("bbc/tech/329.txt", 0.916),            # the lead sentence rewritten
    "bbc/entertainment/216.txt": ("bbc/entertainment/179.txt", 0.839),  # "BBC Two" -> "BBC2", two edits
    "bbc/entertainment/229.txt": ("bbc/entertainment/142.txt", 0.818),  # a quoted source replaced
    "bbc/politics/226.txt": ("bbc/politics/265.txt", 0.807),    # 265 adds a paragraph of rebuttal
}


@pytest.fixture(scope="module")
def bbc_near(bbc_records):
    stats = Counter()
    return deduplicate_near(bbc_records, stats=stats), stats


def test_bbc_near_duplicates_that_exact_matching_misses(bbc_records, bbc_near):
    near_records, stats = bbc_near
    rows = near_records.set_index("source_uri")
    folded = rows[rows["reason"].fillna("").str.startswith("near duplicate of ")]
    assert set(folded.index) == set(BBC_NEAR_DUPLICATES)
    exact = bbc_records.set_index("source_uri")["status"]
    for uri, (kept, similarity) in BBC_NEAR_DUPLICATES.items():
        assert exact[uri] == exact[kept] == "accepted"  # exact matching kept both
        assert rows.loc[uri, "status"] == "duplicate"
        assert rows.loc[uri, "article_id"] == article_id_for(kept)
        assert rows.loc[uri, "reason"].startswith(f"near duplicate of {kept}: ")
        assert rows.loc[uri, "similarity"] == pytest.approx(similarity, abs=0.005)
        assert rows.loc[kept, "status"] == "accepted"
    assert 0.8 <= folded["similarity"].min() < 0.81 and folded["similarity"].max() == 1.0
    assert stats["near_dedupe.articles compared"] == 2225 - 137
    assert stats["near_dedupe.verified pairs"] == stats["near_dedupe.near duplicates"] == 20
    assert stats["near_dedupe.exact duplicates moved"] == 0
    assert_consistent(near_records)
    tables = split_tables(near_records)
    assert len(tables["articles"]) == 2225 - 137 - 20
    assert tables["articles"]["duplicates"].sum() == 137 + 20


def test_bbc_two_articles_on_one_story_are_not_folded(bbc_records, bbc_near):
    # The attorney general on Iraq, two days' reports: the same background
    # paragraphs, but different articles.
    near_records = bbc_near[0].set_index("source_uri")
    first, second = "bbc/politics/327.txt", "bbc/politics/328.txt"
    texts = bbc_records.set_index("source_uri")["text"]
    assert 0.4 < jaccard_of(texts[first], texts[second]) < 0.5
    assert near_records.loc[[first, second], "status"].tolist() == ["accepted", "accepted"]


def test_bbc_an_edited_copy_of_a_real_article_is_folded(bbc, tmp_path):
    wire = tmp_path / "wire"
    wire.mkdir()
    raw = (bbc / "tech" / "001.txt").read_text(encoding="utf-8")
    tokens = raw.split(" ")
    plain = [i for i, token in enumerate(tokens) if token.isalpha() and i > 20]
    for i in plain[40:400:120]:  # 3 words of the body
        tokens[i] = "redacted"
    (wire / "a-original.txt").write_text(raw, encoding="utf-8")
    (wire / "b-edited.txt").write_text(" ".join(tokens), encoding="utf-8")
    records = deduplicate_near(deduplicate_exact(records_for(wire))).set_index("source_uri")
    expected = jaccard_of(*records.loc[["wire/a-original.txt", "wire/b-edited.txt"], "text"])
    assert 0.95 < expected < 0.97  # 3 of about 470 words: 15 shingles of each lost
    edited_row = records.loc["wire/b-edited.txt"]
    assert edited_row["status"] == "duplicate"
    assert edited_row["article_id"] == article_id_for("wire/a-original.txt")
    assert edited_row["similarity"] == pytest.approx(expected)
    assert edited_row["reason"] == (f"near duplicate of wire/a-original.txt: "
                                    f"{math.floor(expected * 100)}% of word shingles shared")
    assert records.loc["wire/a-original.txt", "status"] == "accepted"


def test_bbc_near_dedupe_does_not_depend_on_row_order(bbc_records, bbc_near):
    shuffled = bbc_records.sample(frac=1, random_state=7)
    again = deduplicate_near(shuffled).set_index("source_uri").sort_index()
    pd.testing.assert_frame_equal(again, bbc_near[0].set_index("source_uri").sort_index())
