"""Stages 2 and 3 on the seeds: golden expectations (tests/golden/seeds.json, the
reviewed output for each seed) and the rules behind them."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import numpy as np
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from flows.stages.clean import clean_text, looks_like_title, split_paragraphs
from flows.stages.normalise.dates import is_date_line, parse_date
from flows.stages.ingest.discover import discover_inputs
from flows.stages.ingest.read import read_input
from flows.stages.normalise.lead import lead_of
from flows.stages.normalise.fields import article_fields
from flows.stages.normalise.language import LANGID_WINDOW, _language_identifier, detect_language
from flows.stages.text import count_words

from conftest import SEEDS, corpus

GOLDEN = json.loads((Path(__file__).parent / "golden" / "seeds.json").read_text(encoding="utf-8"))
BOILERPLATE = ["Post a Comment", "Comments", "Related Articles", "Post your comments",
               "Your email address will not be published", "File photo", "(Reuters)",
               "Sunday 04/06/2017"]


@pytest.fixture(scope="module")
def seeds() -> dict:
    result = {}
    for item in discover_inputs([str(SEEDS)]):
        clean = clean_text(read_input(item).text)
        result[item.path.name[:3]] = (clean, article_fields(clean))
    return result


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


def test_titles(seeds):
    assert seeds["000"][0].title is None  # a long first paragraph is body, not title
    assert seeds["000"][0].paragraphs[0].startswith("Iranian Major General Qasem Soleimani")
    assert seeds["001"][0].title == "Iranian militias led by Soleimani approach Syrian-Iraqi border despite US warnings"
    assert seeds["003"][0].title is None
    assert seeds["004"][0].title == "Iran-backed militias near Iraq-Syria border ring alarms"


def test_repeated_headline_is_kept_once_as_title(seeds):
    clean, _ = seeds["002"]
    assert clean.title == "Syrian, Iraqi forces close to major win after reaching border"
    assert clean.title not in clean.body
    assert clean.removed["repeated headline"] == 1


def test_bodies_have_no_boilerplate(seeds):
    for key, (clean, _) in seeds.items():
        for phrase in BOILERPLATE:
            assert phrase not in clean.body, (key, phrase)
    assert seeds["000"][0].body.endswith("or its Russian ally.")
    assert seeds["002"][0].body.endswith("cannot stay there for a long time.")
    assert seeds["001"][0].removed["photo caption"] == 1
    assert seeds["004"][0].removed["photo caption"] == 1


def test_paragraphs_are_kept_and_whitespace_normalised(seeds):
    for clean, _ in seeds.values():
        for paragraph in clean.paragraphs:
            assert paragraph == paragraph.strip() and "  " not in paragraph and "\n" not in paragraph
    assert len(seeds["001"][0].paragraphs) == 8
    assert len(seeds["003"][0].paragraphs) == 19  # one line, one paragraph
    assert "\n\n" in seeds["003"][0].body


def test_seed_004_metadata(seeds):
    clean, fields = seeds["004"]
    assert fields["published_date"] == dt.date(2017, 6, 4)  # Sunday 04/06/2017
    assert fields["dateline"] == "London"
    assert clean.paragraphs[0].startswith("London- The approach")


def test_seed_002_outlet(seeds):
    assert seeds["002"][1]["outlet"] == "AhlulBayt News Agency"
    assert seeds["002"][1]["dateline"] is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Sunday 04/06/2017", dt.date(2017, 6, 4)),
    ("Thursday 04/06/2017", dt.date(2017, 4, 6)),
    ("Tuesday 04/06/2017", None),  # neither reading is a Tuesday
    ("04/06/2017", None),  # ambiguous without a weekday
    ("13/06/2017", dt.date(2017, 6, 13)),
    ("06/13/2017", dt.date(2017, 6, 13)),
    ("Published: 2017-06-04 10:21", dt.date(2017, 6, 4)),
    ("Sunday, June 4, 2017", dt.date(2017, 6, 4)),
    ("4 June 2017 14:02 GMT", dt.date(2017, 6, 4)),
    ("Sept. 30th, 2016", dt.date(2016, 9, 30)),
    ("31/02/2017", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


def test_date_lines_are_only_dates():
    assert is_date_line("Sunday 04/06/2017")
    assert is_date_line("Updated: June 4, 2017 at 10:22 am EDT")
    assert not is_date_line("On June 4, 2017 the militias reached the border.")


@pytest.mark.parametrize(("lead", "expected"), [
    ("London- The approach of Iranian-backed militias", ("London", None)),
    ("LONDON (Reuters) - Shares rose", ("London", "Reuters")),
    ("WASHINGTON, June 4 (AP) — The Pentagon said", ("Washington", "AP")),
    ("NEW YORK - Stocks fell", ("New York", None)),
    ("HAYWARD, Calif. (AP) — The Latest on a stabbing", ("Hayward", "AP")),
    ("(AhlulBayt News Agency) - Syrian forces reached", (None, "AhlulBayt News Agency")),
    ("Iran-backed militias near the border", (None, None)),
    ("The United States and its allies are expected", (None, None)),
    ("The US - which leads the coalition - said", (None, None)),
    ("David Blunkett - who has resigned as home secretary - built", (None, None)),
    ("PARIS - The president - who spoke briefly - said", ("Paris", None)),
])
def test_dateline_and_outlet(lead, expected):
    assert lead_of(lead) == expected


def test_title_heuristic():
    assert looks_like_title("Ad sales boost Time Warner profit")
    assert looks_like_title("Is this the end of the U.S.")
    assert not looks_like_title("The firm said profits rose.")
    assert not looks_like_title(" ".join(["word"] * 30))
    assert looks_like_title("Rivals of the £400 Apple...")
    assert not looks_like_title("Your success mindset matters. Here's why:")
    assert not looks_like_title("HAYWARD, Calif. (AP) — The Latest on a deadly stabbing")


def test_hard_wrapped_lines_are_joined_but_short_lines_stay_paragraphs():
    wrapped = ("The Iranian Tasnim agency on Monday published pictures of\n"
               "Soleimani between the Afghani Fatimiyoun militias, which is\n"
               "fighting alongside the Assad regime.\n\nNext paragraph.")
    assert split_paragraphs(wrapped) == [
        "The Iranian Tasnim agency on Monday published pictures of Soleimani between the "
        "Afghani Fatimiyoun militias, which is fighting alongside the Assad regime.",
        "Next paragraph."]
    assert split_paragraphs("Headline\nSunday 04/06/2017\n") == ["Headline", "Sunday 04/06/2017"]


def test_bulleted_lists_stay_one_item_per_paragraph():
    items = ("- Increased spending on primary education to 71bn rupees ($1.6bn)\n"
             "- Increased spending on health care across the rural districts\n"
             "- A new tax on services that were exempt until this year")
    assert len(split_paragraphs(items)) == 3


@pytest.mark.parametrize("sentence", [
    "Register offices in Scotland will open on Sundays from April.",
    "Read more slowly, the teacher said, and the pupils did.",
    "Click here to get more information or download this game.",
    "The union said it had been left with no choice (ePA).",
])
def test_sentences_that_start_like_boilerplate_are_kept(sentence):
    text = f"Headline of the story\n\n{sentence}\n\nA second paragraph of the story follows here."
    assert sentence in clean_text(text).paragraphs


def test_a_related_heading_followed_by_article_text_cuts_nothing():
    body = [f"Paragraph {i} of the article tells the story at some length." for i in range(4)]
    text = "\n\n".join(["A headline", *body[:2], "Recommended.", *body[2:]])
    assert clean_text(text).paragraphs == [*body[:2], "Recommended.", *body[2:]]
    linked = "\n\n".join(["A headline", *body, "Related Articles", "Iran says border is open",
                           "Militias reach Tanf"])
    assert clean_text(linked).paragraphs == body


def test_word_count():
    assert count_words("U.S.-backed forces' 55-kilometer zone, Russia’s moves") == 6


def test_languages_are_two_letter_codes_on_real_newswires():
    # The language model's full set answers "pcm" for tables of figures, which the
    # contract's language column cannot hold (a whole build failed on Reuters).
    wires = json.loads((corpus("reuters21578") / "json-data" / "reut2-000.json").read_text(encoding="utf-8"))
    languages = [detect_language(html.unescape(w["body"])) for w in wires if w.get("body")]
    assert len(languages) > 900
    assert all(len(code) == 2 and code.isalpha() for code in languages)
    assert languages.count("en") / len(languages) > 0.97


def test_language_automaton_forgets_its_start_after_the_window():
    # What WindowedIdentifier relies on: from every pair of states, every byte sequence
    # of LANGID_WINDOW bytes leads both to one state (checked over all pairs it can reach).
    identifier = _language_identifier()
    moves = np.frombuffer(identifier.tk_nextmove, dtype=np.dtype(identifier.tk_nextmove.typecode)).astype(np.int64)
    rows = np.asarray(identifier._rowbase, dtype=np.int64)
    states = len(rows)
    first, second = np.arange(1, states, dtype=np.int64), np.zeros(states - 1, dtype=np.int64)
    for step in range(LANGID_WINDOW):
        assert len(first), f"the automaton forgets its start after {step} bytes already"
        after_first = moves[(rows[first][:, None] + np.arange(256)).ravel()]
        after_second = moves[(rows[second][:, None] + np.arange(256)).ravel()]
        apart = after_first != after_second
        pairs = np.unique(after_first[apart] * states + after_second[apart])
        first, second = pairs // states, pairs % states
    assert len(first) == 0


def test_language_scores_are_py3langids_on_real_articles(bbc):
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(_language_identifier().nb_classes)
    wires = json.loads((corpus("reuters21578") / "json-data" / "reut2-001.json").read_text(encoding="utf-8"))
    texts = [html.unescape(w["body"]) for w in wires if w.get("body")]
    texts += [path.read_text(encoding="latin-1") for path in sorted(bbc.rglob("*.txt"))[::10]]
    texts += ["", "a", "Ab", "12 345", "ÉTÉ À PARIS", "Москва", "東京", b"\xff\xfe", b"caf\xc3\xa9 \xc3"]
    assert len(texts) > 1100
    for text in texts:
        assert _language_identifier().rank(text) == reference.rank(text), text
