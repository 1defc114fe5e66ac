"""Mentions and canonical entities on the seeds and real BBC articles, with the real
spaCy English model."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.stages.dedupe import deduplicate_exact, split_tables
from flows.stages.entities.aliases import AliasFileError, load_aliases
from flows.stages.entities.names import ALSO_KNOWN_AS, _may_say_also_known_as, name_key
from flows.stages.ingest.discover import discover_inputs
from flows.stages.mentions import mend_span
from flows.stages.parse import load_pipeline
from flows.stages.prepare import prepare_shard

from conftest import SEEDS, analysed_tables

BBC_PEOPLE = ["business/106.txt", "entertainment/009.txt", "sport/123.txt", "politics/262.txt",
              "business/326.txt", "entertainment/068.txt"]


def articles_of(*sources) -> pd.DataFrame:
    shard = prepare_shard(discover_inputs([str(s) for s in sources]))
    return split_tables(deduplicate_exact(shard.records))["articles"]


def entity_tables(articles: pd.DataFrame, alias_files=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = analysed_tables(articles, alias_files)
    return tables["mentions"], tables["entities"]


@pytest.fixture(scope="module")
def seeds():
    articles = articles_of(SEEDS)
    mentions, entities = entity_tables(articles)
    return articles, mentions, entities


def entity_of(entities: pd.DataFrame, surface: str) -> pd.Series:
    rows = entities[entities["aliases"].map(lambda aliases: surface in list(aliases))]
    assert len(rows) == 1, (surface, rows[["name", "label"]])
    return rows.iloc[0]


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


def test_seed_mentions_are_exact_named_spans(seeds):
    articles, mentions, _ = seeds
    texts = dict(zip(articles["article_id"], articles["text"]))
    for row in mentions.itertuples():
        assert texts[row.article_id][row.start:row.end] == row.text
    assert not set(mentions["label"]) & {"DATE", "CARDINAL", "MONEY", "PERCENT", "TIME"}
    davis = mentions_in(articles, mentions, "001")
    assert {"Jeff Davis", "Davis", "Pentagon"} <= set(davis["text"])
    assert not any(t.endswith(("’s", "'s")) for t in mentions["text"])
    assert not any(t.startswith(("the ", "The ", "Mr ", "President ")) for t in mentions["text"])


def test_sentence_numbers(seeds):
    articles, mentions, _ = seeds
    seed_004 = mentions_in(articles, mentions, "004").sort_values("start")
    assert seed_004["sentence"].is_monotonic_increasing
    text = articles.set_index("article_id").loc[seed_004["article_id"].iloc[0], "text"]
    barzani = seed_004[seed_004["text"] == "Masoud Barzani"].iloc[0]
    dillon = seed_004[seed_004["text"] == "Ryan Dillon"].iloc[0]
    # Sentence ends before each: the lead, the ISIS paragraph, ...
    assert barzani["sentence"] >= text[:barzani["start"]].count(". ") > 0
    assert dillon["sentence"] > barzani["sentence"]


def test_acronym_uses_the_model_missed_are_mentions(seeds):
    articles, mentions, _ = seeds
    seed_003 = mentions_in(articles, mentions, "003")
    # The model tagged none of the five: the definition "(PMU)" and four uses.
    assert (seed_003["text"] == "PMU").sum() == 5


def test_short_names_resolve_to_the_full_name_in_the_article(seeds):
    _, _, entities = seeds
    assert entity_of(entities, "Davis")["name"] == "Jeff Davis"
    assert entity_of(entities, "Dillon")["name"] == "Ryan Dillon"
    assert entity_of(entities, "Dillon")["label"] == "PERSON"  # the model said ORG
    assert entity_of(entities, "Assad")["name"] == "Bashar al-Assad"


def test_variants_meet_across_the_dataset(seeds):
    _, _, entities = seeds
    soleimani = entity_of(entities, "Qasem Soleimani")
    assert set(soleimani["aliases"]) >= {"Qasem Soleimani", "Qasim Soleimani", "Soleimani"}
    assert soleimani["articles"] == 2
    tanf = entity_of(entities, "al-Tanf")
    assert set(tanf["aliases"]) >= {"al-Tanf", "al- Tanf", "Al-Tanf", "Tanf"}
    assert tanf["name"] == "al-Tanf"
    pmf = entity_of(entities, "PMF")
    assert set(pmf["aliases"]) >= {"PMF", "PMU", "Popular Mobilization Forces",
                                   "Popular Mobilization Units", "Hashd al-Shaabi"}
    us = entity_of(entities, "U.S.")
    assert us["name"] == "United States" and set(us["aliases"]) >= {"US", "U.S.", "United States"}
    assert entity_of(entities, "SDF")["name"] == "Syrian Democratic Forces"


def test_distinct_entities_stay_distinct(seeds):
    _, _, entities = seeds
    assert entity_of(entities, "Iran")["entity_id"] != entity_of(entities, "Iraq")["entity_id"]
    assert entity_of(entities, "Syria")["entity_id"] != entity_of(entities, "SDF")["entity_id"]
    assert entity_of(entities, "Syria")["entity_id"] != entity_of(entities, "Syrian")["entity_id"]


def test_people_sharing_a_surname_stay_apart(bbc):
    articles = articles_of(*(bbc / path for path in BBC_PEOPLE))
    mentions, entities = entity_tables(articles)
    names = set(entities.loc[entities["label"] == "PERSON", "name"])
    assert {"Gordon Brown", "Dan Brown", "Wes Brown"} <= names
    assert {"Michael Howard", "Tim Howard", "Ron Howard"} <= names
    gordon = entities[entities["name"] == "Gordon Brown"].iloc[0]
    assert gordon["articles"] == 2 and "Brown" in list(gordon["aliases"])
    # Every bare "Brown" joined the Brown of its own article.
    browns = mentions[mentions["text"] == "Brown"].merge(
        articles[["article_id", "source_uri"]], on="article_id").merge(
        entities[["entity_id", "name"]], on="entity_id")
    expected = {"106.txt": "Gordon Brown", "262.txt": "Gordon Brown", "009.txt": "Dan Brown",
                "123.txt": "Wes Brown"}
    for uri, name in zip(browns["source_uri"], browns["name"]):
        assert expected[uri] == name, uri


def test_users_extend_the_alias_file(tmp_path, seeds):
    articles, _, entities = seeds
    assert entity_of(entities, "Washington")["name"] == "Washington"
    extra = tmp_path / "metonymy.tsv"
    extra.write_text("# Washington, the capital, for the US government\n"
                     "United States\tGPE\tWashington\n", encoding="utf-8")
    _, extended = entity_tables(articles, [extra])
    assert entity_of(extended, "Washington")["name"] == "United States"


def test_malformed_alias_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("United States,GPE,US\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="entry 1: expected name, label and alias"):
        load_aliases([bad])
    with pytest.raises(AliasFileError, match="absent.tsv"):
        load_aliases([tmp_path / "absent.tsv"])


def test_entity_ids_are_stable_when_the_dataset_grows(seeds, bbc):
    _, _, entities = seeds
    articles = pd.concat([articles_of(SEEDS), articles_of(bbc / "politics" / "262.txt")])
    _, grown = entity_tables(articles.reset_index(drop=True))
    for name in ("Jeff Davis", "Qasem Soleimani", "United States", "Popular Mobilization Forces"):
        before = entities.loc[entities["name"] == name, "entity_id"].item()
        assert grown.loc[grown["name"] == name, "entity_id"].item() == before


def test_name_keys():
    assert name_key("al- Tanf") == name_key("Al-Tanf") == name_key("Tanf") == "tanf"
    assert name_key("U.S.") == name_key("US")
    assert name_key("Bashar al-Assad") == name_key("Bashar Assad")
    assert name_key("Iran") != name_key("Iraq")


def test_model_by_name_and_clear_error_for_a_missing_one():
    from flows.stages.parse import ModelNotFound

    assert load_pipeline().meta["version"] == "3.8.0"
    with pytest.raises(ModelNotFound, match="not installed"):
        load_pipeline("xx_no_such_model")


@pytest.mark.parametrize("phrase", [", also known as ", " (otherwise called as ", ", better referred to as ",
                                    ", whose real name is ", " a.k.a. ", " AKA ", " a.ka ", ", Sometimes Known As "])
def test_the_quick_check_before_the_also_known_as_search_lets_every_phrasing_through(phrase):
    text = f"fighters of the Popular Mobilization Forces{phrase}Hashd al-Shaabi"
    assert ALSO_KNOWN_AS.search(text) and _may_say_also_known_as(text)
    assert not _may_say_also_known_as("fighters of the Popular Mobilization Forces and Hashd al-Shaabi")
