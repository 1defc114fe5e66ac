"""Stage 3, normalise: the metadata columns of an article, read from its cleaned text.

Title comes from `clean`; here: publication date, dateline, outlet, language and
word count, each only when the text really says it.
"""

from __future__ import annotations

import datetime as dt

from flows.stages.clean import CleanText
from flows.stages.normalise.dates import leading_date, parse_date
from flows.stages.normalise.language import language_guess
from flows.stages.normalise.lead import lead_of
from flows.stages.text import count_words
from schemas import sha256_text


def article_fields(clean: CleanText) -> dict:
    """The article columns that come from one cleaned text."""
    text = clean.body
    place, outlet = lead_of(clean.paragraphs[0]) if clean.paragraphs else (None, None)
    return {
        "title": clean.title,
        "text": text,
        "published_date": published_date(clean),
        "outlet": outlet,
        "url": None,
        "dateline": place,
        **dict(zip(("language", "language_probability"), language_guess(text))),
        "word_count": count_words(text),
        "content_sha256": sha256_text(text),
    }


def published_date(clean: CleanText) -> dt.date | None:
    """A date line in the header, else a date opening the first paragraph."""
    for line in clean.date_lines:
        if found := parse_date(line):
            return found
    return leading_date(clean.paragraphs[0]) if clean.paragraphs else None
