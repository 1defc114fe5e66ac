"""The quality figures every release's dataset card states: data, not code.

`newscorpus measure --record` (evaluation.measure) scores a fresh build against each
gold set and writes the figures, with the role each gold set played while the rules
were written, into measured_quality.json beside this module; releases read them here.
"""

from __future__ import annotations

import json
from pathlib import Path

MEASURED_FILE = Path(__file__).resolve().with_name("measured_quality.json")
BLIND = "blind set"  # the role of the quote set nobody looked at while writing the rules


def measured_quality() -> dict:
    """The figures recorded in measured_quality.json."""
    return json.loads(MEASURED_FILE.read_text(encoding="utf-8"))


def quote_sets(quality: dict) -> list[tuple[str, str]]:
    """(key, role) of each quote gold set in `quality`, in the order measured."""
    return [(key, scores["role"]) for key, scores in quality.items()
            if isinstance(scores, dict) and "role" in scores and "coverage 30%" in scores]


def blind_quotes(quality: dict) -> str:
    """The key of the quote set scored blind: the figures to expect on other news."""
    return next(key for key, role in quote_sets(quality) if role == BLIND)
