"""Quotes on real sentences: the seeds have most of the patterns, the BBC corpus and
its gold annotations the rest."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.common import read_gold
from evaluation.quotes import GOLD_FILE, match
from flows.clean import clean_text
from flows.ingest import InputFile, read_input
from flows.quotes import quoted_spans
from schemas import ReleaseCheckFailed, validate_release

from conftest import CORPORA, SEEDS, build_tables


@pytest.fixture(scope="module")
def seeds() -> dict[str, pd.DataFrame]:
    return build_tables(SEEDS)


def quote(tables, opening: str) -> pd.Series:
    rows = tables["quotes"][tables["quotes"]["text"].str.startswith(opening)]
    assert len(rows) == 1, (opening, rows[["text", "kind"]])
    return rows.iloc[0]


def who(row: pd.Series) -> tuple:
    return row["kind"], row["speaker"], row["cue"], row["speaker_name"]


def test_seed_tables_pass_the_release_checks(seeds):
    validate_release(seeds, 5)
    assert len(seeds["quotes"]) >= 20


def test_said_after_and_adding(seeds):
    assert who(quote(seeds, "Russia has been very helpful")) == (
        "direct", "Jeff Davis", "said", "Jeff Davis")
    assert who(quote(seeds, "The ease we see today")) == ("direct", "Jeff Davis", "adding", "Jeff Davis")


def test_said_before_with_a_colon_and_a_short_name(seeds):
    assert who(quote(seeds, "They (the Russians) are trying")) == (
        "direct", "Davis", "asserted", "Jeff Davis")


def test_x_said_after_a_quote(seeds):
    assert who(quote(seeds, "We see that as a threat,")) == ("direct", "Dillon", "said", "Ryan Dillon")
    assert who(quote(seeds, "We have increased our presence")) == (
        "direct", "Ryan Dillon", "said", "Ryan Dillon")


def test_inverted_cues_and_outlets(seeds):
    assert who(quote(seeds, "[Syrian] Rebels said")) == ("direct", "Reuters", "reveals", "Reuters")
    assert who(quote(seeds, "Syrian rebels say the United States")) == (
        "direct", "Reuters", "reports", "Reuters")
    row = quote(seeds, "This has coincided with a march")
    assert who(row) == ("direct", "the news outlet", "adds", "Reuters")
    assert who(quote(seeds, "The stakes are high")) == ("direct", "it", "adds", "Reuters")


def test_told_and_statement_from_an_office(seeds):
    assert who(quote(seeds, "The Americans will not be allowed")) == (
        "direct", "Hadi al-Amiri", "told", "Hadi al-Amiri")
    assert who(quote(seeds, "This constitutes a threat")) == (
        "direct", "Masoud Barzani", "read", "Masoud Barzani")


def test_posted_that(seeds):
    assert who(quote(seeds, "USA will have to leave al-Tanf.")) == (
        "direct", "Elijah J. Magnier", "posted", "Elijah J. Magnier")


def test_partial_quotes_inside_reported_speech(seeds):
    assert who(quote(seeds, "very useful")) == ("partial", "Washington", "said", "Washington")
    row = quote(seeds, "ridiculous justifications")
    assert row["kind"] == "partial" and row["cue"] == "described"
    assert row["speaker"].endswith("official") and pd.isna(row["speaker_name"])  # unnamed


def test_indirect_speech(seeds):
    row = quote(seeds, "the Americans cannot stay there")
    assert who(row) == ("indirect", "He", "said", "Elijah J. Magnier")
    according = quote(seeds, "citing the American armed forces")
    assert (according["kind"], according["cue"], according["speaker"]) == (
        "indirect", "According to", "Amnesty International")
    assert not any(text.startswith("that ") for text in seeds["quotes"]["text"])


def test_nested_quotes_belong_to_the_outer_one(seeds):
    texts = list(seeds["quotes"]["text"])
    assert not any(t.startswith(("Shi’ite crescent", "‘Shi")) for t in texts)
    assert any("‘Shi’ite crescent’" in t for t in texts)


def test_spans_and_speaker_spans_are_exact(seeds):
    texts = dict(zip(seeds["articles"]["article_id"], seeds["articles"]["text"]))
    for row in seeds["quotes"].itertuples():
        text = texts[row.article_id]
        assert text[row.start:row.end] == row.text
        assert text[row.start - 1] not in "“”\"" or row.kind == "indirect" or text[row.start - 1] == "“"
        if isinstance(row.speaker, str):
            assert text[row.speaker_start:row.speaker_end] == row.speaker


def test_validation_catches_a_speaker_span_that_does_not_match(seeds):
    broken = {name: df.copy() for name, df in seeds.items()}
    broken["quotes"].loc[broken["quotes"]["speaker"].notna().idxmax(), "speaker_start"] += 1
    with pytest.raises(ReleaseCheckFailed, match="speaker equals articles.text"):
        validate_release(broken, 5)


def bbc_text(path: str) -> str:
    full = CORPORA / path
    if not full.is_file():
        pytest.skip("BBC corpus absent")
    return clean_text(read_input(InputFile(full, path)).text).body


def test_multi_paragraph_quotes_are_one_quote(bbc):
    multi = [(article, q) for article in read_gold(GOLD_FILE, "quotes") for q in article.items
             if q["kind"] == "direct" and "\n\n" in bbc_text(article.source_uri)[q["start"]:q["end"]]]
    assert len(multi) >= 10
    for article, gold in multi:
        spans = [{"start": s, "end": e} for s, e in quoted_spans(bbc_text(article.source_uri))]
        assert match([gold], spans, 0.8), (article.source_uri, gold["prefix"])


def test_scare_quotes_and_terms_are_not_quotes(bbc):
    tables = build_tables(bbc / "politics" / "339.txt", bbc / "business" / "023.txt")
    texts = set(tables["quotes"]["text"])
    assert "affordable" not in texts  # 'new "affordable" homes'
    assert "flash estimate" not in texts  # 'a so-called "flash estimate"'
