"""Stage 2 on the seeds and on made-up texts: titles, boilerplate and paragraphs
(tests/stages/test_golden.py holds each seed's whole expected output)."""

from __future__ import annotations

import pytest

from flows.stages.clean import clean_text, looks_like_title, split_paragraphs
from flows.stages.text import count_words

BOILERPLATE = ["Post a Comment", "Comments", "Related Articles", "Post your comments",
               "Your email address will not be published", "File photo", "(Reuters)",
               "Sunday 04/06/2017"]


def test_titles(cleaned_seeds):
    assert cleaned_seeds["000"][0].title is None  # a long first paragraph is body, not title
    assert cleaned_seeds["000"][0].paragraphs[0].startswith("Iranian Major General Qasem Soleimani")
    assert cleaned_seeds["001"][0].title == "Iranian militias led by Soleimani approach Syrian-Iraqi border despite US warnings"
    assert cleaned_seeds["003"][0].title is None
    assert cleaned_seeds["004"][0].title == "Iran-backed militias near Iraq-Syria border ring alarms"


def test_repeated_headline_is_kept_once_as_title(cleaned_seeds):
    clean, _ = cleaned_seeds["002"]
    assert clean.title == "Syrian, Iraqi forces close to major win after reaching border"
    assert clean.title not in clean.body
    assert clean.removed["repeated headline"] == 1


def test_bodies_have_no_boilerplate(cleaned_seeds):
    for key, (clean, _) in cleaned_seeds.items():
        for phrase in BOILERPLATE:
            assert phrase not in clean.body, (key, phrase)
    assert cleaned_seeds["000"][0].body.endswith("or its Russian ally.")
    assert cleaned_seeds["002"][0].body.endswith("cannot stay there for a long time.")
    assert cleaned_seeds["001"][0].removed["photo caption"] == 1
    assert cleaned_seeds["004"][0].removed["photo caption"] == 1


def test_paragraphs_are_kept_and_whitespace_normalised(cleaned_seeds):
    for clean, _ in cleaned_seeds.values():
        for paragraph in clean.paragraphs:
            assert paragraph == paragraph.strip() and "  " not in paragraph and "\n" not in paragraph
    assert len(cleaned_seeds["001"][0].paragraphs) == 8
    assert len(cleaned_seeds["003"][0].paragraphs) == 19  # one line, one paragraph
    assert "\n\n" in cleaned_seeds["003"][0].body


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
