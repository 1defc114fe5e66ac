"""What every evaluation needs: the gold file, the release, and matching of articles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

GOLD = Path(__file__).resolve().parent / "gold"


class EvaluationError(Exception):
    """The gold and the release cannot be compared (missing articles, changed texts)."""


@dataclass(frozen=True)
class GoldArticle:
    source_uri: str
    content_sha256: str
    items: list[dict]


def read_gold(path: Path, items: str) -> list[GoldArticle]:
    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
               if line.strip()]
    return [GoldArticle(r["source_uri"], r["content_sha256"], r[items]) for r in records]


def gold_article_ids(gold: list[GoldArticle], articles: pd.DataFrame) -> dict[str, str]:
    """article_id of every gold article in the release: {source_uri: article_id}.

    The gold's offsets point into the cleaned text it was annotated on, so a changed
    text (new cleaning rules) is an error, not a silent mismatch.
    """
    by_uri = articles.set_index("source_uri")
    found, missing, changed = {}, [], []
    for article in gold:
        if article.source_uri not in by_uri.index:
            missing.append(article.source_uri)
        elif by_uri.loc[article.source_uri, "content_sha256"] != article.content_sha256:
            changed.append(article.source_uri)
        else:
            found[article.source_uri] = by_uri.loc[article.source_uri, "article_id"]
    if missing or changed:
        raise EvaluationError(
            "the release does not hold the gold articles as annotated: "
            + (f"{len(missing)} missing (e.g. {missing[0]}; build from the corpus the gold "
               "names) " if missing else "")
            + (f"{len(changed)} with a different cleaned text (e.g. {changed[0]})" if changed else ""))
    return found


def prf(true_positives: int, predicted: int, expected: int) -> dict[str, float]:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
