"""Canonical entities on the seeds and real BBC articles, with the real spaCy English
model: names that meet, names that stay apart, the alias files."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.stages.entities.aliases import AliasFileError, load_aliases
from flows.stages.entities.names import ALSO_KNOWN_AS, _may_say_also_known_as, name_key
from tests.helpers import SEEDS, articles_of, entity_tables

BBC_PEOPLE = ["business/106.txt", "entertainment/009.txt", "sport/123.txt", "politics/262.txt",
              "business/326.txt", "entertainment/068.txt"]


def entity_of(entities: pd.DataFrame, surface: str) -> pd.Series:
    rows = entities[entities["aliases"].map(lambda aliases: surface in list(aliases))]
    assert len(rows) == 1, (surface, rows[["name", "label"]])
    return rows.iloc[0]


def test_short_names_resolve_to_the_full_name_in_the_article(seed_tables):
    entities = seed_tables["entities"]
    assert entity_of(entities, "Davis")["name"] == "Jeff Davis"
    assert entity_of(entities, "Dillon")["name"] == "Ryan Dillon"
    assert entity_of(entities, "Dillon")["label"] == "PERSON"  # the model said ORG
    assert entity_of(entities, "Assad")["name"] == "Bashar al-Assad"


def test_variants_meet_across_the_dataset(seed_tables):
    entities = seed_tables["entities"]
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


def test_distinct_entities_stay_distinct(seed_tables):
    entities = seed_tables["entities"]
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
    expected = {"business/106.txt": "Gordon Brown", "politics/262.txt": "Gordon Brown",
                "entertainment/009.txt": "Dan Brown", "sport/123.txt": "Wes Brown"}
    for uri, name in zip(browns["source_uri"], browns["name"]):
        assert expected[uri] == name, uri


def test_users_extend_the_alias_file(tmp_path, seed_tables):
    articles, entities = seed_tables["articles"], seed_tables["entities"]
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


def test_entity_ids_are_stable_when_the_dataset_grows(seed_tables, bbc):
    entities = seed_tables["entities"]
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


@pytest.mark.parametrize("phrase", [", also known as ", " (otherwise called as ", ", better referred to as ",
                                    ", whose real name is ", " a.k.a. ", " AKA ", " a.ka ", ", Sometimes Known As "])
def test_the_quick_check_before_the_also_known_as_search_lets_every_phrasing_through(phrase):
    text = f"fighters of the Popular Mobilization Forces{phrase}Hashd al-Shaabi"
    assert ALSO_KNOWN_AS.search(text) and _may_say_also_known_as(text)
    assert not _may_say_also_known_as("fighters of the Popular Mobilization Forces and Hashd al-Shaabi")
