"""Quotes on real sentences: the seeds have most of the patterns, the BBC corpus and
its gold annotations the rest."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from evaluation.common import read_gold
from evaluation.quotes import GOLD_FILE, match
from flows.stages.clean import clean_text
from flows.stages.ingest.discover import InputFile
from flows.stages.ingest.read import read_input
from flows.stages.quotes.marks import quoted_spans
from schemas import ReleaseCheckFailed, validate_release
from tests.helpers import CORPORA, build_tables


def quote(tables, opening: str) -> pd.Series:
    rows = tables["quotes"][tables["quotes"]["text"].str.startswith(opening)]
    assert len(rows) == 1, (opening, rows[["text", "kind"]])
    return rows.iloc[0]


def fields(row: pd.Series, *names: str) -> tuple:
    """The row's values, None for null."""
    return tuple(None if pd.isna(row[name]) else row[name] for name in names)


def who(row: pd.Series) -> tuple:
    return fields(row, "kind", "speaker", "cue", "speaker_name")


def test_seed_tables_pass_the_release_checks(seed_tables):
    validate_release(seed_tables, 5)
    assert len(seed_tables["quotes"]) >= 20


def test_said_after_and_adding(seed_tables):
    assert who(quote(seed_tables, "Russia has been very helpful")) == (
        "direct", "Jeff Davis", "said", "Jeff Davis")
    assert who(quote(seed_tables, "The ease we see today")) == ("direct", "Jeff Davis", "adding", "Jeff Davis")


def test_said_before_with_a_colon_and_a_short_name(seed_tables):
    assert who(quote(seed_tables, "They (the Russians) are trying")) == (
        "direct", "Davis", "asserted", "Jeff Davis")


def test_x_said_after_a_quote(seed_tables):
    assert who(quote(seed_tables, "We see that as a threat,")) == ("direct", "Dillon", "said", "Ryan Dillon")
    assert who(quote(seed_tables, "We have increased our presence")) == (
        "direct", "Ryan Dillon", "said", "Ryan Dillon")


def test_inverted_cues_and_outlets(seed_tables):
    assert who(quote(seed_tables, "[Syrian] Rebels said")) == ("direct", "Reuters", "reveals", "Reuters")
    assert who(quote(seed_tables, "Syrian rebels say the United States")) == (
        "direct", "Reuters", "reports", "Reuters")
    row = quote(seed_tables, "This has coincided with a march")
    assert who(row) == ("direct", "the news outlet", "adds", "Reuters")
    assert who(quote(seed_tables, "The stakes are high")) == ("direct", "it", "adds", "Reuters")


def test_told_and_statement_from_an_office(seed_tables):
    assert who(quote(seed_tables, "The Americans will not be allowed")) == (
        "direct", "Hadi al-Amiri", "told", "Hadi al-Amiri")
    assert who(quote(seed_tables, "This constitutes a threat")) == (
        "direct", "Masoud Barzani", "read", "Masoud Barzani")


def test_posted_that(seed_tables):
    assert who(quote(seed_tables, "USA will have to leave al-Tanf.")) == (
        "direct", "Elijah J. Magnier", "posted", "Elijah J. Magnier")


def test_partial_quotes_inside_reported_speech(seed_tables):
    assert who(quote(seed_tables, "very useful")) == ("partial", "Washington", "said", "Washington")
    row = quote(seed_tables, "ridiculous justifications")
    assert row["kind"] == "partial" and row["cue"] == "described"
    assert row["speaker"].endswith("official") and pd.isna(row["speaker_name"])  # unnamed


def test_indirect_speech(seed_tables):
    row = quote(seed_tables, "the Americans cannot stay there")
    assert who(row) == ("indirect", "He", "said", "Elijah J. Magnier")
    according = quote(seed_tables, "citing the American armed forces")
    assert (according["kind"], according["cue"], according["speaker"]) == (
        "indirect", "According to", "Amnesty International")
    assert not any(text.startswith("that ") for text in seed_tables["quotes"]["text"])


def test_nested_quotes_belong_to_the_outer_one(seed_tables):
    texts = list(seed_tables["quotes"]["text"])
    assert not any(t.startswith(("Shi’ite crescent", "‘Shi")) for t in texts)
    assert any("‘Shi’ite crescent’" in t for t in texts)


def test_spans_and_speaker_spans_are_exact(seed_tables):
    texts = dict(zip(seed_tables["articles"]["article_id"], seed_tables["articles"]["text"]))
    for row in seed_tables["quotes"].itertuples():
        text = texts[row.article_id]
        assert text[row.start:row.end] == row.text
        assert text[row.start - 1] not in "“”\"" or row.kind == "indirect" or text[row.start - 1] == "“"
        if isinstance(row.speaker, str):
            assert text[row.speaker_start:row.speaker_end] == row.speaker


def test_validation_catches_a_speaker_span_that_does_not_match(seed_tables):
    broken = {name: df.copy() for name, df in seed_tables.items()}
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


@pytest.fixture(scope="module")
def bbc_resolution(bbc, tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("resolution") / "bbc"
    for name in ["business/317.txt", "business/401.txt", "business/403.txt", "business/404.txt",
                 "politics/302.txt", "politics/303.txt", "politics/304.txt", "politics/377.txt",
                 "politics/400.txt", "politics/402.txt", "politics/403.txt", "politics/404.txt",
                 "tech/300.txt", "tech/301.txt"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bbc / name, folder / name)  # one folder: names repeat across topics
    return build_tables(folder)


def speaker_of(tables, opening: str) -> tuple:
    return fields(quote(tables, opening), "speaker", "speaker_name", "speaker_description")


def test_he_never_stands_for_a_womans_name(bbc_resolution):
    # 'When he refused to support prime minister Harold Wilson and Dame Barbara Castle
    # ..., he said: "I am not going to resign."': the pronoun chain goes back to Callaghan.
    assert speaker_of(bbc_resolution, "I am not going to resign.")[1] == "Jim Callaghan"


def test_she_is_not_an_earlier_spokesman(bbc_resolution):
    # 'A spokesman for Manchester's Trafford Centre said ...' then 'The Trafford Centre
    # spokeswoman said ... "We predict ...," she added.'
    assert speaker_of(bbc_resolution, "We predict that the next week") == (
        "she", None, "The Trafford Centre spokeswoman")


def test_the_firm_is_the_organisation_named_before(bbc_resolution):
    # 'Shares in Continental Airlines have tumbled after the firm warned it could run out of cash.'
    assert speaker_of(bbc_resolution, "it could run out of cash")[:2] == ("the firm", "Continental Airlines")
    # 'The Telegraph was sued for libel by Mr Galloway after the newspaper claimed ...'
    row = quote(bbc_resolution, "he received money from Saddam Hussein")
    assert row["speaker"] == "the newspaper" and row["speaker_name"] in ("Telegraph", "Daily Telegraph")


def test_a_short_form_of_an_organisation_is_that_organisation(bbc_resolution):
    # '"We are saddened by the development," Marsh said in a statement. The company added
    # it would continue to co-operate': the model calls this "Marsh" a person.
    marsh = quote(bbc_resolution, "We are saddened by the development")
    entity = bbc_resolution["entities"].set_index("entity_id").loc[marsh["speaker_entity_id"]]
    assert entity["label"] == "ORG"
    company = quote(bbc_resolution, "it would continue to co-operate in the case")
    assert company["speaker_entity_id"] == marsh["speaker_entity_id"]


def test_reports_and_figures_speak_for_their_source(bbc_resolution):
    assert speaker_of(bbc_resolution, "Mr Brown has been asked to take charge")[0] == (
        "A report in the Sunday Business")
    # '..., according to figures revealed by the Electoral Commission.'
    assert speaker_of(bbc_resolution, "Labour's campaign cost")[:2] == (
        "figures revealed by the Electoral Commission", "Electoral Commission")


def test_a_spokesman_for_someone_is_not_that_someone(bbc_resolution):
    # 'But, a spokesman for the prosecutor, New York State Comptroller Alan Hevesi, said
    # no formal agreement had been made.'
    speaker, name, description = speaker_of(bbc_resolution, "no formal agreement had been made")
    assert name is None and description.startswith("a spokesman for the prosecutor")


def test_an_unnamed_speaker_keeps_their_description_through_pronouns_and_continuations(bbc_resolution):
    # 'A spokesman for the British Casino Association ... said ... He said ... "...," he
    # said. "We have the lowest level of problem gambling in the world."'
    description = "A spokesman for the British Casino Association"
    assert speaker_of(bbc_resolution, "The UK industry is one of the world's") == ("he", None, description)
    assert speaker_of(bbc_resolution, "We have the lowest level of problem gambling") == (
        None, None, description)


def test_he_is_the_person_the_sentence_before_introduced(bbc_resolution):
    # 'One dissenting opinion came from Brian Gammage, vice-president of research at
    # analysts Gartner. He said: "I don't think it changes the world."'
    assert speaker_of(bbc_resolution, "I don't think it changes the world.")[1] == "Brian Gammage"


def test_said_name_after_a_quote_when_the_parse_loses_the_subject(bbc_resolution):
    # '"I think fundamentally it's a good idea ...," said Nick Ross, deputy labs editor at
    # PC Pro. Apple's work ... would also help the Mac mini win fans, he said.'
    assert speaker_of(bbc_resolution, "I think fundamentally it's a good idea")[:2] == (
        "Nick Ross", "Nick Ross")


def test_a_cue_inside_the_clause_it_reports(bbc_resolution):
    # 'Before now, he said, Apple has been seen as a premium brand. But, he said, the Mac
    # mini changed that perception.'
    for words in ("Apple has been seen as a premium brand", "the Mac mini changed that perception"):
        row = quote(bbc_resolution, words)
        assert fields(row, "text", "kind", "speaker", "cue") == (words, "indirect", "he", "said")


def test_as_x_put_it(bbc_resolution):
    row = quote(bbc_resolution, "It will be tough to obtain/build a PC")
    assert fields(row, "kind", "speaker", "cue", "speaker_name") == ("direct", "Gavin Cox", "put", "Gavin Cox")


def test_knights_are_called_by_their_first_name(bbc_resolution):
    # 'But Sir Edward said that was impossible because the Labour left was set against it'
    assert speaker_of(bbc_resolution, "that was impossible because the Labour left")[:2] == (
        "Edward", "Edward Heath")


def test_quoted_as_wanting_is_the_subject_of_the_clause_it_hangs_from(bbc_resolution):
    # 'A Conservative election challenger is quitting after being quoted as wanting a
    # "period of creative destruction in the public services".\n\nDanny Kruger, ...'
    row = quote(bbc_resolution, "period of creative destruction in the public services")
    assert fields(row, "kind", "cue", "speaker_name") == ("partial", "quoted", "Danny Kruger")


def test_poll_shares_and_fragments_without_reporting_are_not_quotes(bbc_resolution):
    texts = set(bbc_resolution["quotes"]["text"])
    # 'And 87% of the 1,000 adults quizzed by ICM for BBC News 24 said politicians did
    # not deliver what they promised.'
    assert "politicians did not deliver what they promised" not in texts
    assert "Winter of Discontent" not in texts  # 'before the "Winter of Discontent"'
