"""Mention precision/recall/F1 and entity-merge quality of a release, against
evaluation/gold/mentions_bbc.jsonl (24 BBC articles annotated by hand).

A predicted mention matches a gold one when the spans are identical; "typed" also
needs the same label. Entity merging is scored over the mentions that match: two
mentions are linked when they belong to one entity; links are compared pairwise
(precision: predicted links that are right; recall: gold links found) and with B³.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pandas as pd

from evaluation.common import GOLD, gold_article_ids, prf, read_gold

GOLD_FILE = GOLD / "mentions_bbc.jsonl"


def evaluate(release: Path, gold_path: Path = GOLD_FILE) -> dict:
    gold = read_gold(gold_path, "mentions")
    articles = pd.read_parquet(release / "articles.parquet", columns=["article_id", "source_uri",
                                                                       "content_sha256"])
    ids = gold_article_ids(gold, articles)
    predicted = pd.read_parquet(release / "mentions.parquet")
    predicted = predicted[predicted["article_id"].isin(set(ids.values()))]
    predicted_at = {(a, s, e): (label, entity) for a, s, e, label, entity in zip(
        predicted["article_id"], predicted["start"], predicted["end"],
        predicted["label"], predicted["entity_id"])}

    expected = [(ids[article.source_uri], m["start"], m["end"], m["label"], m["entity"])
                for article in gold for m in article.items]
    by_label: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, predicted, gold
    span_hits = typed_hits = 0
    matched = []  # (gold entity, predicted entity)
    for article_id, start, end, label, entity in expected:
        by_label[label][2] += 1
        hit = predicted_at.get((article_id, start, end))
        if hit:
            span_hits += 1
            matched.append((entity, hit[1]))
            if hit[0] == label:
                typed_hits += 1
                by_label[label][0] += 1
    for label in predicted["label"]:
        by_label[label][1] += 1
    return {
        "articles": len(ids),
        "gold mentions": len(expected),
        "predicted mentions": len(predicted),
        "span": prf(span_hits, len(predicted), len(expected)),
        "typed": prf(typed_hits, len(predicted), len(expected)),
        "by label": {label: prf(*counts) | {"gold": counts[2]}
                     for label, counts in sorted(by_label.items())},
        "entity merge": merge_scores(matched),
    }


def merge_scores(matched: list[tuple[str, str]]) -> dict:
    """Pairwise link and B³ scores of the predicted entities over matched mentions."""
    gold_links = predicted_links = right_links = 0
    for (gold_a, pred_a), (gold_b, pred_b) in combinations(matched, 2):
        same_gold, same_pred = gold_a == gold_b, pred_a == pred_b
        gold_links += same_gold
        predicted_links += same_pred
        right_links += same_gold and same_pred
    gold_cluster, pred_cluster = defaultdict(set), defaultdict(set)
    for i, (gold, pred) in enumerate(matched):
        gold_cluster[gold].add(i)
        pred_cluster[pred].add(i)
    b3_precision = b3_recall = 0.0
    for gold, pred in matched:
        overlap = len(gold_cluster[gold] & pred_cluster[pred])
        b3_precision += overlap / len(pred_cluster[pred])
        b3_recall += overlap / len(gold_cluster[gold])
    n = len(matched) or 1
    b3 = {"precision": b3_precision / n, "recall": b3_recall / n}
    b3["f1"] = (2 * b3["precision"] * b3["recall"] / (b3["precision"] + b3["recall"])
                if b3["precision"] + b3["recall"] else 0.0)
    return {"mentions": len(matched),
            "pairwise": prf(right_links, predicted_links, gold_links),
            "b_cubed": b3}


def format_report(scores: dict) -> str:
    lines = [f"{scores['articles']} gold articles: {scores['gold mentions']} gold mentions, "
             f"{scores['predicted mentions']} predicted",
             "                      precision  recall     F1"]
    for name in ("span", "typed"):
        s = scores[name]
        lines.append(f"mentions ({name:5})     {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f}")
    merge = scores["entity merge"]
    for name in ("pairwise", "b_cubed"):
        s = merge[name]
        lines.append(f"entity merge ({name:8}) {s['precision']:6.3f} {s['recall']:7.3f} {s['f1']:6.3f}")
    lines.append("by label (typed):")
    for label, s in scores["by label"].items():
        lines.append(f"  {label:12} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f}"
                     f"   ({s['gold']} gold)")
    return "\n".join(lines)
