"""Stage 3: dates, datelines and outlets of the lead, and languages, on the seeds,
real newswires and the BBC corpus."""

from __future__ import annotations

import datetime as dt
import html
import json

import numpy as np
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from flows.stages.normalise.dates import is_date_line, parse_date
from flows.stages.normalise.language import LANGID_WINDOW, _language_identifier, detect_language
from flows.stages.normalise.lead import lead_of
from tests.helpers import corpus


def test_seed_004_metadata(cleaned_seeds):
    clean, fields = cleaned_seeds["004"]
    assert fields["published_date"] == dt.date(2017, 6, 4)  # Sunday 04/06/2017
    assert fields["dateline"] == "London"
    assert clean.paragraphs[0].startswith("London- The approach")


def test_seed_002_outlet(cleaned_seeds):
    assert cleaned_seeds["002"][1]["outlet"] == "AhlulBayt News Agency"
    assert cleaned_seeds["002"][1]["dateline"] is None


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
