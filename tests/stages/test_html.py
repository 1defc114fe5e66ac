"""flows.stages.ingest.html: main-article extraction, on real pages of the ScrapingHub
article-extraction benchmark (read in place; skipped when ../shared/corpora is absent)
and on made-up or broken HTML."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import socket
from functools import cache

import pytest
import trafilatura

from flows.stages.ingest.html import WebArticle, extract_web_article
from tests.helpers import PROJECT, corpus

PAGES = 20  # the first pages by name: about a second and a half for both methods
# Measured on those 20 pages (benchmarks/html_extraction.py --pages 20): flows.stages.ingest.html
# 0.989 AEB F1, plain trafilatura.extract 0.967.
F1_FLOOR = 0.98


def _load_benchmark():
    """benchmarks/html_extraction.py, whose scoring the tests share: benchmarks/ is no package."""
    spec = importlib.util.spec_from_file_location("html_extraction", PROJECT / "benchmarks" / "html_extraction.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark = _load_benchmark()


@cache
def _corpus() -> tuple[dict[str, tuple[str, str]], dict]:
    """Every page as (html, gold body) by its sha256 name, and the ground truth."""
    path = corpus("scrapinghub-aeb")
    pages = {key: (html, gold) for key, html, gold in benchmark.load_pages(path)}
    return pages, json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))


def _page(key: str) -> tuple[str, str]:
    return _corpus()[0][key]


def _gold_url(key: str) -> str:
    return _corpus()[1][key]["url"]


@cache
def _extracted(key: str) -> WebArticle:
    return extract_web_article(_page(key)[0])


def test_token_f1_beats_plain_trafilatura():
    pages = list(_corpus()[0].values())[:PAGES]  # sorted by name
    ours = [extract_web_article(html).text for html, _gold in pages]
    plain = [trafilatura.extract(html) for html, _gold in pages]
    for unit in (benchmark.SHINGLE, 1):  # AEB's shingles, and a bag of words
        ours_scores = benchmark.summarise([benchmark.counts(gold, text, unit) for (_h, gold), text in zip(pages, ours)])
        plain_scores = benchmark.summarise([benchmark.counts(gold, text, unit)
                                            for (_h, gold), text in zip(pages, plain)])
        assert ours_scores["f1"] > plain_scores["f1"]
        assert ours_scores["mean_page_f1"] > plain_scores["mean_page_f1"]
        assert ours_scores["f1"] >= F1_FLOOR


def test_paragraphs_are_separated_by_blank_lines_and_the_headline_is_not_repeated():
    key = "05844573ca7e1fba714d715bb11ca08c26e25328999c74a1cb3bc8a0e4399f0f"
    article, (_html, gold) = _extracted(key), _page(key)
    paragraphs = article.text.split("\n\n")
    assert article.title == "New SUVs and electric vehicles highlight L.A. Auto Show"
    assert paragraphs[0] == gold.split("\n\n")[0]  # trafilatura's text opens with the headline
    assert len(paragraphs) > 10 and all(p.strip() == p and p for p in paragraphs)


def test_metadata_of_a_page_with_json_ld():
    key = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856"  # WSJ
    article = _extracted(key)
    assert article.title == "Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play…and Pay"
    assert article.authors == ["Sarah E. Needleman"]  # as written: trafilatura's own says "Sarah E Needleman"
    assert article.published_date == dt.date(2019, 11, 19)
    # og:url lacks the article id; the canonical link has it
    assert article.url == _gold_url(key)
    assert article.outlet == "WSJ"
    assert article.language == "en"


def test_metadata_of_a_page_without_json_ld():
    key = "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34"  # NYT opinion
    article = _extracted(key)
    assert article.title == "Republicans Are Following Trump to Nowhere"  # og:title says "Opinion | ..."
    assert article.authors == ["Jamelle Bouie"]
    assert article.published_date == dt.date(2019, 11, 19)
    assert article.url == _gold_url(key)
    assert article.outlet == "The New York Times"  # what <title> adds after the headline
    assert article.language == "en"


def test_syndicated_wire_story():
    key = "05844573ca7e1fba714d715bb11ca08c26e25328999c74a1cb3bc8a0e4399f0f"  # AP story on ctpost.com
    article = _extracted(key)
    assert article.authors == ["TOM KRISHER"]  # JSON-LD: "By TOM KRISHER, AP Auto Writer"
    assert article.outlet == "Connecticut Post"  # JSON-LD's publisher is the Associated Press
    assert article.published_date == dt.date(2019, 11, 20)
    assert article.url == _gold_url(key)
    assert article.language is None  # the page declares none


def test_published_date_is_the_local_day_not_json_ld_utc():
    # JSON-LD and article:published_time say 2019-11-20T01:50Z; the URL and the page, 19 November
    key = "098bb3e96c0acdf36efdcde45fb9cca3f8c82c7cb2071b76097a1b96155f1eb2"
    assert _extracted(key).published_date == dt.date(2019, 11, 19)
    assert "/2019-11-19/" in _extracted(key).url


def test_json_ld_placeholder_date_is_ignored():
    key = "65ce3a4577a0306994efa190a0d96e84014f9d4257ad54753e807ede518f02c0"  # datePublished 0001-01-01
    assert _extracted(key).published_date == dt.date(2019, 11, 19)


def test_json_ld_author_list_of_names():
    key = "a1fca19b884e0e946ad3fbe2a7f5031e5e3b23372702a76db302b6143c77cb31"  # New York Post
    article = _extracted(key)
    assert article.authors == ["Lia Eustachewich", "Yaron Steinbuch"]
    assert article.outlet == "New York Post"


def test_canonical_link_wins_over_og_url():
    key = "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892"  # og:url is social.techcrunch.com
    assert _extracted(key).url == _gold_url(key)


def test_deterministic_and_never_fetches(monkeypatch):
    key = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856"

    def refuse(*args, **kwargs):
        raise AssertionError("flows.stages.ingest.html tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = _page(key)[0]
    first = extract_web_article(html, url=_gold_url(key))
    assert extract_web_article(html, url=_gold_url(key)) == first
    assert first == _extracted(key)


GRAPH_PAGE = """<!doctype html><html lang="de-AT"><head><title>Ein Titel | Der Bote</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "@id": "https://bote.example/#site", "name": "Der Bote"},
  {"@type": "NewsArticle", "headline": "Ein Titel", "author": [{"@id": "https://bote.example/#p1"},
    {"@type": "Organization", "name": "Bote Online"}, "By Anna Muster and Max Beispiel, Redaktion"],
   "articleBody": "<p>Erster Absatz mit Worten.</p><p>Zweiter &amp; letzter Absatz.</p>",
   "mainEntityOfPage": {"@id": "https://bote.example/artikel/1"}},
  {"@type": ["Person"], "@id": "https://bote.example/#p1", "name": "Eva Beispiel"}]}</script>
<link rel="canonical" href="/artikel/1"></head><body><script>var x = 1;</script></body></html>"""


def test_json_ld_graph_fallback_body_and_people():
    article = extract_web_article(GRAPH_PAGE, url="https://bote.example/artikel/1?ref=feed")
    # trafilatura finds no text on the page, so the body comes from JSON-LD, its paragraphs kept
    assert article.text == "Erster Absatz mit Worten.\n\nZweiter & letzter Absatz."
    assert article.title == "Ein Titel"
    assert article.authors == ["Eva Beispiel", "Anna Muster", "Max Beispiel"]
    assert article.url == "https://bote.example/artikel/1"
    assert article.outlet == "Der Bote"
    assert article.language == "de"


@pytest.mark.parametrize("html", [
    "", "   ", "\x00\x01\x02\x7f", "<<<>>>", "<html></html>", "<html><body></body></html>",
    "\ufffd" * 500, "<div>" * 20000,
    '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "author": 42, '
    '"headline": [1], "publisher": [], "inLanguage": {"name": "en"}, "articleBody": 7}</script>'
    '<script type="application/ld+json">' + "[" * 5000 + "</script></head><body></body></html>",
])
def test_garbage_gives_an_empty_article(html):
    article = extract_web_article(html, url="https://example.com/a")
    assert article.text == ""
    assert article.authors == [] and article.published_date is None


def test_benchmark_scores_as_aeb():
    # AEB (evaluate.py): normalised tp/fp/fn over multisets of 4-token shingles
    assert benchmark.counts("a b c d e", "a b c d") == (0.5, 0.0, 0.5)
    assert benchmark.counts("a b c d e", "") == (0.0, 0.0, 1.0)
    assert benchmark.counts("a b", "a b") == (1.0, 0.0, 0.0)  # shorter than 4 tokens: one shingle
    assert benchmark.counts("x, y! z w", "x y z w") == (1.0, 0.0, 0.0)  # \w+ tokens
    scores = benchmark.summarise([(0.5, 0.0, 0.5), (0.0, 0.0, 1.0)])
    assert scores["precision"] == 1.0  # only pages with a prediction
    assert scores["recall"] == 0.25
    assert scores["f1"] == pytest.approx(0.4)


def test_section_and_tags_of_a_page():
    article = _extracted("042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856")  # WSJ
    assert article.section == "Tech"  # JSON-LD articleSection
    assert article.tags[:4] == ["Electronic Arts", "EA", "Microsoft", "MSFT"]  # its keywords, in order
    nyt = _extracted("04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34")  # no JSON-LD
    assert nyt.section == "Opinion" and "Impeachment" in nyt.tags  # article:section and article:tag
