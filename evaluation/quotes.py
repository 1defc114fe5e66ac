"""Quote precision/recall/F1, speaker and cue accuracy of a release, against
evaluation/gold/quotes_bbc.jsonl (32 BBC articles annotated by hand).

A predicted quote matches a gold one when it covers at least 30% (and, reported
apart, 80%) of the gold span; each quote matches at most once, best coverage first.
Speaker accuracy is over matched quotes: right when the resolved speaker (its name,
any alias of its entity, or the speaker as written) names the gold speaker (the same
name; one name ending or starting the other, so "Blair" names "Tony Blair" and
"Universal" "Universal Music"; or its acronym, "NAO" for "National Audit Office"); when
a speaker with no name is described as the gold describes them (the same head word and
half the other words: "a spokesman for Apple" for "Apple spokesman"); or when both have
none. Cue accuracy is over
matched quotes whose gold has a cue.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from evaluation.common import GOLD, gold_article_ids, prf, read_gold
from flows.stages.entities.names import name_key

GOLD_FILE = GOLD / "quotes_bbc.jsonl"
COVERAGES = (0.3, 0.8)


def evaluate(release: Path, gold_path: Path = GOLD_FILE) -> dict:
    gold = read_gold(gold_path, "quotes")
    articles = pd.read_parquet(release / "articles.parquet",
                               columns=["article_id", "source_uri", "content_sha256"])
    ids = gold_article_ids(gold, articles)
    predicted = pd.read_parquet(release / "quotes.parquet")
    predicted = predicted[predicted["article_id"].isin(set(ids.values()))]
    entities = pd.read_parquet(release / "entities.parquet", columns=["entity_id", "aliases"])
    aliases = dict(zip(entities["entity_id"], entities["aliases"]))
    predicted = predicted.assign(speaker_aliases=predicted["speaker_entity_id"].map(
        lambda e: list(aliases.get(e, [])) if isinstance(e, str) else []))
    by_article = {a: group.to_dict("records") for a, group in predicted.groupby("article_id")}
    scores = {"articles": len(ids), "gold quotes": sum(len(a.items) for a in gold),
              "predicted quotes": len(predicted)}
    for coverage in COVERAGES:
        pairs = [pair for article in gold
                 for pair in match(article.items, by_article.get(ids[article.source_uri], []), coverage)]
        scores[f"coverage {coverage:.0%}"] = _scores(pairs, gold, predicted)
    return scores


def match(gold: list[dict], predicted: list[dict], coverage: float) -> list[tuple[dict, dict]]:
    """One-to-one pairs (gold, predicted) where the prediction covers enough of the gold."""
    options = []
    for g in gold:
        for p in predicted:
            overlap = min(g["end"], p["end"]) - max(g["start"], p["start"])
            share = overlap / (g["end"] - g["start"])
            if share >= coverage:
                options.append((share, g["start"], p["start"], id(g), id(p), g, p))
    pairs, used_gold, used_predicted = [], set(), set()
    for _share, _gs, _ps, gold_key, predicted_key, g, p in sorted(options, key=lambda o: (-o[0], o[1], o[2])):
        if gold_key not in used_gold and predicted_key not in used_predicted:
            used_gold.add(gold_key)
            used_predicted.add(predicted_key)
            pairs.append((g, p))
    return pairs


def same_speaker(predicted: dict, gold: dict) -> bool:
    """Does the prediction name the gold speaker? By the resolved name or the name as
    written; or, for a speaker the gold only describes ("Trafford Centre spokesman"),
    by standing at the gold speaker's place with the same head word ("a spokesman")."""
    gold_name = gold.get("speaker_name")
    description = predicted.get("speaker_description")
    names = [n for n in (predicted.get("speaker_name"), predicted.get("speaker"),
                         *predicted.get("speaker_aliases", [])) if isinstance(n, str)]
    if not gold_name:
        return not names and not isinstance(description, str)
    gold_words = _words(gold_name)
    if any(_same_name(_words(name), gold_words) for name in names):
        return True
    if isinstance(description, str) and _describes(_words(description), gold_words):
        return True
    written = predicted.get("speaker")
    if isinstance(written, str) and gold.get("speaker_start") is not None \
            and not isinstance(predicted.get("speaker_name"), str):
        overlaps = (predicted["speaker_start"] < gold["speaker_end"]
                    and gold["speaker_start"] < predicted["speaker_end"])
        return overlaps and bool(_words(written)) and _words(written)[-1] in gold_words
    return False


def _same_name(words: list[str], gold_words: list[str]) -> bool:
    """Equal; one name inside the other ("Blair" in "Tony Blair", "Universal" in
    "Universal Music"); or an acronym of the other ("NAO", "National Audit Office")."""
    if not words or not gold_words:
        return False
    shorter, longer = sorted((words, gold_words), key=len)
    if set(shorter) <= set(longer) and (shorter[-1] == longer[-1] or longer[:len(shorter)] == shorter):
        return True
    initials = "".join(w[0] for w in longer if w not in ("of", "and", "for"))
    return len(shorter) == 1 and len(shorter[0]) > 1 and shorter[0] == initials


def _describes(description: list[str], gold_words: list[str]) -> bool:
    """Does a description ("a spokesman for the British Casino Association") fit the
    gold's ("British Casino Association spokesman")? The same head word, and at least
    half of the gold's other words."""
    head, others = gold_words[-1], gold_words[:-1]
    return head in description and 2 * sum(w in description for w in others) >= len(others)


def _words(name: str) -> list[str]:
    """Name words without articles, singular ("Conservatives" = "Conservative")."""
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in name_key(name).split() if w not in ("a", "an", "the")]


def _scores(pairs: list[tuple[dict, dict]], gold, predicted: pd.DataFrame) -> dict:
    gold_count = sum(len(a.items) for a in gold)
    with_cue = [(g, p) for g, p in pairs if g.get("cue")]
    kinds = Counter((g["kind"], p["kind"]) for g, p in pairs)
    gold_kinds = Counter(q["kind"] for a in gold for q in a.items)
    predicted_kinds = Counter(predicted["kind"])
    return {
        "quotes": prf(len(pairs), len(predicted), gold_count),
        "speaker accuracy": sum(same_speaker(p, g) for g, p in pairs) / (len(pairs) or 1),
        "cue accuracy": sum(_text(p.get("cue")).lower() == g["cue"].lower() for g, p in with_cue)
        / (len(with_cue) or 1),
        "kind accuracy": sum(n for (g, p), n in kinds.items() if g == p) / (len(pairs) or 1),
        "by kind": {kind: prf(sum(n for (g, p), n in kinds.items() if g == kind and p == kind),
                              predicted_kinds.get(kind, 0), gold_kinds[kind])
                    for kind in ("direct", "partial", "indirect")},
    }


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def format_report(scores: dict) -> str:
    lines = [f"{scores['articles']} gold articles: {scores['gold quotes']} gold quotes, "
             f"{scores['predicted quotes']} predicted"]
    for coverage in COVERAGES:
        s = scores[f"coverage {coverage:.0%}"]
        q = s["quotes"]
        lines.append(f"coverage >= {coverage:.0%}: quotes P {q['precision']:.3f} R {q['recall']:.3f} "
                     f"F1 {q['f1']:.3f}; speaker accuracy {s['speaker accuracy']:.3f}; "
                     f"cue accuracy {s['cue accuracy']:.3f}; kind accuracy {s['kind accuracy']:.3f}")
        for kind, k in s["by kind"].items():
            lines.append(f"    {kind:9} P {k['precision']:.3f} R {k['recall']:.3f} F1 {k['f1']:.3f}")
    return "\n".join(lines)
