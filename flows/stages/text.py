"""Text helpers that several stages share."""

from __future__ import annotations

import re

WORD = re.compile(r"\w+(?:['’.-]+\w+)*")


def count_words(text: str) -> int:
    """Runs of letters and digits; internal hyphens, apostrophes and dots keep a word whole."""
    return len(WORD.findall(text))
