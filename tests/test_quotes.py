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


def fields(row: pd.Series, *names: str) -> tuple:
    """The row's values, None for null."""
    return tuple(None if pd.isna(row[name]) else row[name] for name in names)


def who(row: pd.Series) -> tuple:
    return fields(row, "kind", "speaker", "cue", "speaker_name")


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


@pytest.fixture(scope="module")
def bbc_speakers(bbc) -> dict[str, pd.DataFrame]:
    files = ["business/089.txt", "business/135.txt", "business/190.txt", "business/318.txt",
             "entertainment/117.txt", "politics/012.txt", "politics/138.txt", "politics/165.txt",
             "politics/199.txt"]
    return build_tables(*(bbc / f for f in files))


def test_a_following_paragraph_does_not_attribute_a_finished_quote(bbc_speakers):
    # '"It would cost millions ...," Mr Kristiansen said. "That is just one of the
    # costs."' and then a paragraph with "Judy Bell ... said": still Kristiansen.
    row = quote(bbc_speakers, "That is just one of the costs.")
    assert fields(row, "cue", "speaker_name") == (None, "Hans Arne Kristiansen")


def test_a_quote_continues_the_speaker_of_reported_speech_before_it(bbc_speakers):
    # 'Mr Fox said being able to close premises ... "If it's 12.30 on a Saturday ..."'
    assert quote(bbc_speakers, "If it's 12.30 on a Saturday")["speaker_name"] == "Chris Fox"


def test_said_name_set_off_by_commas(bbc_speakers):
    # 'The European ministers' comments, said Junya Tanase of JPMorgan Chase bank in
    # Tokyo, were "generally too weak to produce a market reaction".'
    assert who(quote(bbc_speakers, "generally too weak")) == (
        "partial", "Junya Tanase", "said", "Junya Tanase")


def test_who_said_refers_to_the_name_before_it(bbc_speakers):
    # 'backed by Culture, Media and Sport Secretary Tessa Jowell who said: "..."'
    assert who(quote(bbc_speakers, "You wouldn't let your child")) == (
        "direct", "Tessa Jowell", "said", "Tessa Jowell")


def test_quoted_as_saying(bbc_speakers):
    # '"...," the Interfax news agency quoted Mr Khodorkovsky as saying'
    row = quote(bbc_speakers, "Yuganskneftegas has been sold")
    assert (row["speaker"], row["speaker_name"]) == ("Khodorkovsky", "Mikhail Khodorkovsky")


def test_adding_belongs_to_the_reporting_verb_not_the_reported_clause(bbc_speakers):
    # 'He said Mr Blair had spoken with "such sincerity", adding: "He went beyond ..."'
    row = quote(bbc_speakers, "He went beyond what we thought")
    assert (row["speaker"], row["cue"], row["speaker_name"]) == ("He", "adding", "Gerry Conlon")


def test_a_lead_describes_the_speaker_the_next_sentence_names(bbc_speakers):
    # '..., the trade and industry secretary has said.\n\nPatricia Hewitt is expected ...'
    row = quote(bbc_speakers, "Violent video games should carry")
    assert (row["speaker"], row["speaker_name"]) == ("the trade and industry secretary", "Patricia Hewitt")
    # '..., the UK's public spending watchdog has said.\n\nThe National Audit Office said ...'
    assert quote(bbc_speakers, "EU member states are failing")["speaker_name"] == "National Audit Office"


def test_made_it_clear_reports_the_clause_after_clear(bbc_speakers):
    # 'And the European Union's monetary affairs commissioner, made it clear that action
    # was necessary.'
    row = quote(bbc_speakers, "action was necessary")
    assert fields(row, "text", "kind", "cue") == ("action was necessary", "indirect", "made")


def test_a_name_right_after_a_description_is_the_speaker(bbc_speakers):
    # '..., the statistical office INSEE said.'
    row = quote(bbc_speakers, "Gross domestic product (GDP) rose")
    assert (row["speaker"], row["speaker_name"]) == ("INSEE", "INSEE")


def test_real_name_joins_a_stage_name(bbc_speakers):
    # 'Jay-Z, real name Shawn Carter, said: "I have inherited ..."'
    row = quote(bbc_speakers, "I have inherited two of the most important")
    entity = bbc_speakers["entities"].set_index("entity_id").loc[row["speaker_entity_id"]]
    assert {"Jay-Z", "Shawn Carter"} <= set(entity["aliases"])


def test_a_name_after_an_organisations_verb_is_not_its_title(tmp_path):
    # Only titles join an organisation to the person after it ("Usdaw general secretary
    # John Hannett"); "Microsoft told Steve Ballmer" is Microsoft speaking to him.
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(
        'Microsoft said Bill Gates would step down from the board next year, a move long '
        'expected by investors and analysts in the technology industry.\n\n"We will miss him," '
        'Microsoft told Steve Ballmer in a statement released on Monday to the press and staff.\n',
        encoding="utf-8")
    tables = build_tables(tmp_path / "in")
    assert fields(quote(tables, "We will miss him"), "speaker", "speaker_name") == ("Microsoft", "Microsoft")
    assert fields(quote(tables, "Bill Gates would step down"), "speaker", "speaker_name") == (
        "Microsoft", "Microsoft")
