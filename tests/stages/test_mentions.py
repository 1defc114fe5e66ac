"""Mention spans: the model's entity spans mended to the name, and the names it missed,
on made-up sentences, the seeds and real BBC articles, with the real spaCy English model."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.stages.mentions import mend_span
from tests.helpers import articles_of, entity_tables


def mentions_in(articles, mentions, seed: str) -> pd.DataFrame:
    article_id = articles.loc[articles["source_uri"].str.contains(f"/{seed}_"), "article_id"].item()
    return mentions[mentions["article_id"] == article_id]


@pytest.mark.parametrize(("sentence", "model_span", "label", "expected"), [
    ("U.S. President Donald Trump’s administration", "U.S. President Donald Trump’s", "PERSON",
     "Donald Trump"),
    ("said US Army Colonel Ryan Dillon, a spokesman", "US Army Colonel Ryan Dillon", "PERSON",
     "Ryan Dillon"),
    ("Mr Blair told MPs", "Mr Blair", "PERSON", "Blair"),
    ("Iranian Major General Qasem Soleimani, the head", "Iranian Major General Qasem Soleimani",
     "PERSON", "Qasem Soleimani"),
    ("Prime Minister Tony Blair said", "Prime Minister Tony Blair", "PERSON", "Tony Blair"),
    ("fighters of the Free Syrian Army said", "the Free Syrian Army", "ORG", "Free Syrian Army"),
    ("the Assad regime's allies", "the Assad regime's", "ORG", "Assad regime"),
    ("drawing pro-Assad forces", "pro-Assad", "ORG", "Assad"),
    ("viewed by some Sunni Arabs as", "some Sunni Arabs", "NORP", "Sunni Arabs"),
    ("Egyptian Mohamed Salah scored", "Mohamed Salah", "PERSON", "Mohamed Salah"),
    ("the World Health Organisation (WHO) said", "World Health Organisation (WHO", "ORG",
     "World Health Organisation"),
    ("at the World Social Forum - the rival meeting", "World Social Forum - the", "EVENT",
     "World Social Forum"),
])
def test_spans_are_mended(sentence, model_span, label, expected):
    start = sentence.index(model_span)
    start, end = mend_span(sentence, start, start + len(model_span), label)
    assert sentence[start:end] == expected


def test_titles_alone_are_no_mention():
    assert mend_span("the Rt Rev Dr said", 4, 14, "PERSON") is None


def test_surnames_the_model_missed_after_the_full_name(bbc):
    articles = articles_of(bbc / "business" / "106.txt")
    mentions, _ = entity_tables(articles)
    text = articles["text"].item()
    uses = text.count("Balls")
    assert uses >= 3 and (mentions["text"] == "Balls").sum() == uses - 1  # plus "Ed Balls"


def test_arabic_article_prefix_joins_the_name():
    text = "The presence of US forces in al- Tanf, near al-Tanf, and Bashar al-Assad."
    tanf = text.index("Tanf")
    assert text[slice(*mend_span(text, tanf, tanf + 4, "GPE"))] == "al- Tanf"
    bashar = text.index("Bashar")
    assert text[slice(*mend_span(text, bashar, bashar + 9, "PERSON"))] == "Bashar al-Assad"
    iraq = "the Syria-Iraq border"
    assert mend_span(iraq, 4, 9, "GPE") == (4, 9)  # a hyphen between two names joins nothing


def test_seed_mentions_are_exact_named_spans(seed_tables):
    articles, mentions = seed_tables["articles"], seed_tables["mentions"]
    texts = dict(zip(articles["article_id"], articles["text"]))
    for row in mentions.itertuples():
        assert texts[row.article_id][row.start:row.end] == row.text
    assert not set(mentions["label"]) & {"DATE", "CARDINAL", "MONEY", "PERCENT", "TIME"}
    davis = mentions_in(articles, mentions, "001")
    assert {"Jeff Davis", "Davis", "Pentagon"} <= set(davis["text"])
    assert not any(t.endswith(("’s", "'s")) for t in mentions["text"])
    assert not any(t.startswith(("the ", "The ", "Mr ", "President ")) for t in mentions["text"])


def test_sentence_numbers(seed_tables):
    articles, mentions = seed_tables["articles"], seed_tables["mentions"]
    seed_004 = mentions_in(articles, mentions, "004").sort_values("start")
    assert seed_004["sentence"].is_monotonic_increasing
    text = articles.set_index("article_id").loc[seed_004["article_id"].iloc[0], "text"]
    barzani = seed_004[seed_004["text"] == "Masoud Barzani"].iloc[0]
    dillon = seed_004[seed_004["text"] == "Ryan Dillon"].iloc[0]
    # Sentence ends before each: the lead, the ISIS paragraph, ...
    assert barzani["sentence"] >= text[:barzani["start"]].count(". ") > 0
    assert dillon["sentence"] > barzani["sentence"]


def test_acronym_uses_the_model_missed_are_mentions(seed_tables):
    articles, mentions = seed_tables["articles"], seed_tables["mentions"]
    seed_003 = mentions_in(articles, mentions, "003")
    # The model tagged none of the five: the definition "(PMU)" and four uses.
    assert (seed_003["text"] == "PMU").sum() == 5
