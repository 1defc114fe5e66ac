"""The gold annotations still fit the pipeline's texts, and the evaluation scores a
real release built from the gold's BBC articles."""

from __future__ import annotations


import pytest

from evaluation.common import EvaluationError, read_gold
from evaluation.mentions import GOLD_FILE as GOLD_MENTIONS, merge_scores
from evaluation.mentions import evaluate as evaluate_mentions
from evaluation.measure import measure
from flows.release.measured import measured_quality as recorded
from flows.stages.clean import clean_text
from flows.stages.ingest.discover import InputFile
from flows.stages.ingest.read import read_input
from schemas import sha256_text
from tests.helpers import CORPORA


@pytest.mark.parametrize("gold_file", ["mentions_bbc.jsonl", "quotes_bbc.jsonl"])
def test_gold_offsets_point_into_todays_cleaned_texts(bbc, gold_file):
    items = "mentions" if gold_file.startswith("mentions") else "quotes"
    gold = read_gold(GOLD_MENTIONS.parent / gold_file, items)
    assert len(gold) >= 20
    for article in gold:
        path = CORPORA / article.source_uri
        text = clean_text(read_input(InputFile(path, article.source_uri)).text).body
        assert sha256_text(text) == article.content_sha256, (
            f"{article.source_uri}: cleaning changed this gold article's text; "
            "re-anchor the gold offsets before changing the cleaning rules")
        for item in article.items:
            surface = text[item["start"]:item["end"]]
            assert surface.startswith(item.get("text", item.get("prefix"))), article.source_uri


@pytest.fixture(scope="module")
def measured(bbc) -> dict:
    """Every gold set scored on a fresh build of its BBC articles with this code."""
    return measure(CORPORA)


def test_scores_on_the_gold_articles(measured):
    mentions = measured["mentions"]
    assert mentions["articles"] == 24 and mentions["gold mentions"] == 879
    assert mentions["span"]["f1"] > 0.85
    assert mentions["typed"]["f1"] > 0.7
    assert mentions["entity merge"]["b_cubed"]["f1"] > 0.9
    quotes = measured["quotes"]
    assert quotes["articles"] == 32 and quotes["gold quotes"] == 281
    assert quotes["coverage 30%"]["quotes"]["f1"] >= 0.9
    assert quotes["coverage 30%"]["speaker accuracy"] >= 0.9
    assert measured["quotes, held-out"]["gold quotes"] == 120
    blind = measured["quotes, confirmation"]
    assert blind["articles"] == 25 and blind["gold quotes"] == 215
    assert blind["coverage 30%"]["quotes"]["f1"] >= 0.9


def test_the_recorded_quality_is_what_this_code_measures(measured):
    # The dataset card of every release states evaluation/quality.json: after a change
    # that moves a figure, run `newscorpus measure --record` and commit the file.
    assert measured == recorded()


def test_a_release_without_the_gold_articles_is_refused(prepared_release):
    release = prepared_release.path
    with pytest.raises(EvaluationError, match="24 missing"):
        evaluate_mentions(release)


def test_merge_scores_count_links():
    perfect = merge_scores([("Blair", "e1"), ("Blair", "e1"), ("Brown", "e2")])
    assert perfect["pairwise"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    merged = merge_scores([("Gordon Brown", "e1"), ("Dan Brown", "e1"), ("Dan Brown", "e1")])
    assert merged["pairwise"]["precision"] == pytest.approx(1 / 3)
    assert merged["pairwise"]["recall"] == 1.0
    split = merge_scores([("Blair", "e1"), ("Blair", "e2")])
    assert split["pairwise"]["recall"] == 0.0 and split["b_cubed"]["recall"] == 0.5
